//! A vehicle's health report: every estimate with its interval or the reason it is withheld,
//! the alerts, the history for charts, and the statement that it is an estimate.

use super::acceptance::AcceptanceSummary;
use super::alerts::{Alert, AlertKind, Severity};
use super::cv_check::CvCheck;
use super::resistance_index::ResistanceIndex;
use super::soh::{SohEstimate, SohPoint};
use super::stressors::UsageStressors;
use super::trend::TrendEstimate;
use chargegrid_core::{FleetId, VehicleId, WattHours};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Session counts behind a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCounts {
    /// All sessions.
    pub total: usize,
    /// DC sessions.
    pub dc: usize,
    /// DC sessions with a usable wide-window capacity estimate.
    pub dc_wide_window: usize,
    /// AC sessions with a usable wide-window energy-per-SoC figure.
    pub ac_wide_window: usize,
}

/// How the vehicle compares with vehicles of the same model (filled by the fleet roll-up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortComparison {
    /// The model.
    pub model: String,
    /// Vehicles of the model with a SoH figure by the same method.
    pub cohort_size: usize,
    /// Cohort median SoH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_median: Option<f64>,
    /// Cohort 5th percentile SoH (only for cohorts of 10 or more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_p5: Option<f64>,
    /// Share of the cohort with a lower SoH (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_rank: Option<f64>,
    /// Taper onset SoC minus the cohort median (negative: tapers earlier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taper_onset_vs_cohort: Option<f64>,
    /// Minutes 20 → 80 % over the cohort median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_20_to_80_ratio: Option<f64>,
    /// AC energy per 100 % SoC over the cohort median (AC-only vehicles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ac_energy_ratio: Option<f64>,
}

/// A vehicle's health report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleReport {
    /// The vehicle.
    pub vehicle: VehicleId,
    /// Its fleet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Its model.
    pub model: String,
    /// Plate or fleet number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Nominal usable capacity.
    pub nominal_capacity: WattHours,
    /// End of the latest session counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
    /// State of health.
    pub soh: SohEstimate,
    /// SoH trend.
    pub trend: TrendEstimate,
    /// Resistance index.
    pub resistance: ResistanceIndex,
    /// Charge acceptance.
    pub acceptance: AcceptanceSummary,
    /// Usage stressors.
    pub stressors: UsageStressors,
    /// Median AC energy per 100 % SoC (grid side), for AC cohort comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ac_energy_per_full: Option<WattHours>,
    /// Active alerts, most severe first.
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// Per-session SoH values, time-ordered (for charts).
    #[serde(default)]
    pub history: Vec<SohPoint>,
    /// The BMS SoC check against the model's healthy packs, when the registry gives the
    /// pack's series cells and cell maximum voltage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv_check: Option<CvCheck>,
    /// Cohort comparison, when built within a fleet roll-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<CohortComparison>,
    /// Session counts.
    pub sessions: SessionCounts,
    /// "An estimate from charging data, not a certificate."
    pub disclaimer: String,
}

impl VehicleReport {
    /// Whether an alert of `kind` is active.
    pub fn has_alert(&self, kind: AlertKind) -> bool {
        self.alerts.iter().any(|a| a.kind == kind)
    }

    /// The most severe active alert's severity.
    pub fn worst_severity(&self) -> Option<Severity> {
        self.alerts.iter().map(|a| a.severity).max()
    }

    pub(crate) fn sort_alerts(&mut self) {
        self.alerts
            .sort_by(|a, b| b.severity.cmp(&a.severity).then(a.kind.cmp(&b.kind)));
    }
}
