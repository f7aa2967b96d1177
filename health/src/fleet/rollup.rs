//! The fleet report: vehicle reports with their cohort comparison and cohort alerts, and flat
//! rows to sort and filter.

use super::chargers::ChargerEffect;
use super::cohort::{CohortStats, cohort_stats};
use crate::config::HealthConfig;
use crate::vehicle::{
    Alert, AlertKind, AssessContext, CohortComparison, ConfidenceGrade, EstimateStatus, Severity,
    SohMethod, VehicleReport,
};
use chargegrid_core::{FleetId, VehicleId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One vehicle in the fleet table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetRow {
    /// The vehicle.
    pub vehicle: VehicleId,
    /// Plate or number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Model.
    pub model: String,
    /// Shown or withheld.
    pub soh_status: EstimateStatus,
    /// Method.
    pub soh_method: SohMethod,
    /// SoH, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_pct: Option<f64>,
    /// 90 % interval low.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_low_pct: Option<f64>,
    /// 90 % interval high.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_high_pct: Option<f64>,
    /// Grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<ConfidenceGrade>,
    /// Trend, points per month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_pct_per_month: Option<f64>,
    /// Resistance index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resistance_index: Option<f64>,
    /// DC share of energy.
    pub dc_energy_share: f64,
    /// Sessions counted.
    pub sessions: usize,
    /// Wide-window DC sessions.
    pub dc_wide_window_sessions: usize,
    /// Active alert kinds.
    pub alerts: Vec<AlertKind>,
    /// Worst active severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst_severity: Option<Severity>,
}

impl FleetRow {
    fn from_report(r: &VehicleReport) -> Self {
        Self {
            vehicle: r.vehicle.clone(),
            label: r.label.clone(),
            model: r.model.clone(),
            soh_status: r.soh.status,
            soh_method: r.soh.method,
            soh_pct: r.soh.value(),
            soh_low_pct: r.soh.low_pct,
            soh_high_pct: r.soh.high_pct,
            grade: r.soh.grade,
            trend_pct_per_month: r.trend.pct_per_month.map(|t| t.value),
            resistance_index: r.resistance.index,
            dc_energy_share: r.stressors.dc_energy_share,
            sessions: r.sessions.total,
            dc_wide_window_sessions: r.sessions.dc_wide_window,
            alerts: r.alerts.iter().map(|a| a.kind).collect(),
            worst_severity: r.worst_severity(),
        }
    }
}

/// What to sort the rows by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Vehicle id.
    Vehicle,
    /// SoH (withheld last).
    Soh,
    /// Trend (missing last).
    Trend,
    /// Resistance index (missing last).
    ResistanceIndex,
    /// Worst severity, then alert count.
    Severity,
}

/// Which rows to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetFilter {
    /// Only vehicles with this alert.
    #[serde(default)]
    pub alert: Option<AlertKind>,
    /// Only vehicles with an alert at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only this model.
    #[serde(default)]
    pub model: Option<String>,
    /// Only withheld (true) or only estimated (false) SoH.
    #[serde(default)]
    pub withheld: Option<bool>,
}

impl FleetFilter {
    /// Whether `row` passes.
    pub fn keeps(&self, row: &FleetRow) -> bool {
        self.alert.is_none_or(|k| row.alerts.contains(&k))
            && self
                .min_severity
                .is_none_or(|s| row.worst_severity.is_some_and(|w| w >= s))
            && self.model.as_ref().is_none_or(|m| &row.model == m)
            && self
                .withheld
                .is_none_or(|w| w == (row.soh_status == EstimateStatus::Withheld))
    }
}

/// A fleet's health roll-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetReport {
    /// The fleet, when the roll-up is for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// When it was built.
    pub generated_at: DateTime<Utc>,
    /// Vehicle reports, with cohort comparison and cohort alerts.
    pub vehicles: Vec<VehicleReport>,
    /// Cohorts.
    pub cohorts: Vec<CohortStats>,
    /// Chargers whose DC current reads off by more than the tolerance, estimated jointly from
    /// every vehicle charged there: a finding for the operator (check the meter), already
    /// corrected for in the vehicles' figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charger_findings: Vec<ChargerEffect>,
    /// "An estimate from charging data, not a certificate."
    pub disclaimer: String,
}

fn cmp_opt(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

impl FleetReport {
    /// Builds the roll-up: cohorts per model and method family, each vehicle's comparison, and
    /// an alert where a vehicle's whole 90 % interval lies below its cohort's 5th percentile.
    pub fn build(
        fleet: Option<FleetId>,
        generated_at: DateTime<Utc>,
        mut vehicles: Vec<VehicleReport>,
    ) -> Self {
        let cohorts = cohort_stats(&vehicles);
        for r in &mut vehicles {
            let key = (r.model.clone(), r.soh.method == SohMethod::AcEnergy);
            let Some(c) = cohorts.get(&key) else { continue };
            let v = r.soh.value();
            let rank = v.filter(|_| c.size > 1).map(|v| {
                c.soh_values.iter().filter(|x| **x < v).count() as f64 / (c.size - 1) as f64
            });
            r.cohort = Some(CohortComparison {
                model: c.model.clone(),
                cohort_size: c.size,
                soh_median: c.soh_median,
                soh_p5: c.soh_p5,
                soh_rank: rank,
                taper_onset_vs_cohort: r
                    .acceptance
                    .taper_onset_soc
                    .zip(c.taper_onset_median)
                    .map(|(a, b)| a - b),
                minutes_20_to_80_ratio: r
                    .acceptance
                    .minutes_20_to_80
                    .zip(c.minutes_20_to_80_median)
                    .map(|(a, b)| a / b),
                ac_energy_ratio: r
                    .ac_energy_per_full
                    .zip(c.ac_energy_median)
                    .map(|(a, b)| a.0 / b),
            });
            if let (Some(p5), Some(high), Some(at)) = (c.soh_p5, r.soh.high_pct, r.as_of)
                && r.soh.value().is_some()
                && high < p5
            {
                r.alerts.push(Alert {
                    kind: AlertKind::SohBelowCohortP5,
                    severity: Severity::Warning,
                    first_raised_at: at,
                    message: format!(
                        "state of health interval (up to {high:.1} %) lies below the 5th percentile of {} vehicles of this model ({p5:.1} %)",
                        c.size
                    ),
                    value: r.soh.value(),
                });
                r.sort_alerts();
            }
        }
        Self {
            fleet,
            generated_at,
            vehicles,
            cohorts: cohorts.into_values().collect(),
            charger_findings: Vec::new(),
            disclaimer: crate::DISCLAIMER.to_string(),
        }
    }

    /// Adds the chargers of `ctx` whose current gain is off beyond the configured tolerance.
    pub fn with_charger_findings(mut self, ctx: &AssessContext, cfg: &HealthConfig) -> Self {
        self.charger_findings = ctx
            .chargers
            .values()
            .filter(|e| e.gain_faulty(cfg.charger_gain_tolerance, cfg.charger_min_vehicles))
            .cloned()
            .collect();
        self
    }

    /// All rows, in vehicle order.
    pub fn rows(&self) -> Vec<FleetRow> {
        let mut rows: Vec<FleetRow> = self.vehicles.iter().map(FleetRow::from_report).collect();
        rows.sort_by(|a, b| a.vehicle.cmp(&b.vehicle));
        rows
    }

    /// Rows passing `filter`, sorted by `key` (see [`select`]).
    pub fn table(&self, filter: &FleetFilter, key: SortKey, descending: bool) -> Vec<FleetRow> {
        select(self.rows(), filter, key, descending)
    }
}

/// The rows passing `filter`, sorted by `key` (ascending, or descending when `descending`;
/// missing values always last; ties in vehicle order). The API applies this to a fleet's stored
/// rows, so the table a manager asks for is the one the report defines.
pub fn select(
    rows: Vec<FleetRow>,
    filter: &FleetFilter,
    key: SortKey,
    descending: bool,
) -> Vec<FleetRow> {
    let mut rows: Vec<FleetRow> = rows.into_iter().filter(|r| filter.keeps(r)).collect();
    let dir = |o: Ordering| if descending { o.reverse() } else { o };
    rows.sort_by(|a, b| {
        let missing_last = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(p), Some(q)) => dir(p.total_cmp(&q)),
            _ => cmp_opt(x, y),
        };
        match key {
            SortKey::Vehicle => dir(a.vehicle.cmp(&b.vehicle)),
            SortKey::Soh => missing_last(a.soh_pct, b.soh_pct),
            SortKey::Trend => missing_last(a.trend_pct_per_month, b.trend_pct_per_month),
            SortKey::ResistanceIndex => missing_last(a.resistance_index, b.resistance_index),
            SortKey::Severity => dir(a
                .worst_severity
                .cmp(&b.worst_severity)
                .then(a.alerts.len().cmp(&b.alerts.len()))),
        }
        .then_with(|| a.vehicle.cmp(&b.vehicle))
    });
    rows
}
