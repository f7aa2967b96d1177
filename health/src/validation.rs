//! Accuracy of the estimators against known truth (a synthetic fleet, or vehicles whose
//! capacity was measured on a bench): SoH mean absolute error, 90 % interval coverage, trend
//! error, alert precision and recall, time to detect, and the share of withheld figures.
//! Generic inputs, so any generator or field study can feed it.

use crate::error::HealthError;
use crate::vehicle::{AlertKind, SohEstimate};
use chargegrid_core::VehicleId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A condition that truly holds for a vehicle, and since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrueCondition {
    /// The alert that should be raised.
    pub kind: AlertKind,
    /// When it became true.
    pub onset: DateTime<Utc>,
}

/// What is truly the case for a vehicle at the evaluation time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleTruth {
    /// The vehicle.
    pub vehicle: VehicleId,
    /// True SoH, percent, at the evaluation time.
    pub soh_pct: f64,
    /// True trend over the estimation window, points per month.
    #[serde(default)]
    pub trend_pct_per_month: Option<f64>,
    /// Conditions that hold.
    #[serde(default)]
    pub conditions: Vec<TrueCondition>,
}

/// What the estimators said about a vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleOutcome {
    /// The vehicle.
    pub vehicle: VehicleId,
    /// The SoH estimate at the evaluation time.
    pub soh: SohEstimate,
    /// Estimated trend, points per month.
    #[serde(default)]
    pub trend_pct_per_month: Option<f64>,
    /// Each alert kind raised, with when it was first raised.
    #[serde(default)]
    pub raised: Vec<(AlertKind, DateTime<Utc>)>,
}

/// The accuracy figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationFigures {
    /// Vehicles evaluated.
    pub vehicles: usize,
    /// Vehicles with a SoH figure.
    pub estimated: usize,
    /// Share of vehicles whose SoH was withheld.
    pub insufficient_share: f64,
    /// Mean absolute SoH error, points.
    pub soh_mae: Option<f64>,
    /// Largest absolute SoH error, points.
    pub soh_max_error: Option<f64>,
    /// Mean signed error (estimate − truth), points.
    pub soh_bias: Option<f64>,
    /// Share of 90 % intervals containing the truth.
    pub interval_coverage: Option<f64>,
    /// Mean interval width, points.
    pub mean_interval_width: Option<f64>,
    /// Mean absolute trend error, points per month.
    pub trend_mae: Option<f64>,
    /// Vehicles with both a true and an estimated trend.
    pub trend_vehicles: usize,
    /// Alert precision over (vehicle, kind) pairs of the evaluated kinds.
    pub alert_precision: Option<f64>,
    /// Alert recall over the same pairs.
    pub alert_recall: Option<f64>,
    /// True positives, false positives, false negatives.
    pub alert_counts: (usize, usize, usize),
    /// Mean days from onset to first raise, over true positives.
    pub mean_days_to_detect: Option<f64>,
    /// Longest days to detect.
    pub max_days_to_detect: Option<f64>,
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Computes the figures. `kinds` are the alert kinds scored for precision and recall (raised
/// kinds outside it are ignored). Every outcome needs exactly one truth.
pub fn evaluate(
    truths: &[VehicleTruth],
    outcomes: &[VehicleOutcome],
    kinds: &[AlertKind],
) -> Result<ValidationFigures, HealthError> {
    let mut by_id: BTreeMap<&VehicleId, &VehicleTruth> = BTreeMap::new();
    for t in truths {
        if by_id.insert(&t.vehicle, t).is_some() {
            return Err(HealthError::ValidationMismatch(format!(
                "duplicate truth for {}",
                t.vehicle
            )));
        }
    }
    let kinds: BTreeSet<AlertKind> = kinds.iter().copied().collect();
    let (mut errs, mut signed, mut widths, mut covered) = (vec![], vec![], vec![], 0usize);
    let (mut trend_errs, mut days) = (vec![], vec![]);
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    for o in outcomes {
        let t = by_id.get(&o.vehicle).ok_or_else(|| {
            HealthError::ValidationMismatch(format!("no truth for {}", o.vehicle))
        })?;
        if let Some(v) = o.soh.value() {
            errs.push((v - t.soh_pct).abs());
            signed.push(v - t.soh_pct);
            if o.soh.covers(t.soh_pct) == Some(true) {
                covered += 1;
            }
            if let (Some(lo), Some(hi)) = (o.soh.low_pct, o.soh.high_pct) {
                widths.push(hi - lo);
            }
        }
        if let (Some(e), Some(tt)) = (o.trend_pct_per_month, t.trend_pct_per_month) {
            trend_errs.push((e - tt).abs());
        }
        for k in &kinds {
            let truth = t.conditions.iter().find(|c| c.kind == *k);
            let raised = o.raised.iter().find(|r| r.0 == *k);
            match (truth, raised) {
                (Some(c), Some(r)) => {
                    tp += 1;
                    days.push(((r.1 - c.onset).num_seconds() as f64 / 86_400.0).max(0.0));
                }
                (None, Some(_)) => fp += 1,
                (Some(_), None) => fneg += 1,
                (None, None) => {}
            }
        }
    }
    let n = outcomes.len();
    let est = errs.len();
    Ok(ValidationFigures {
        vehicles: n,
        estimated: est,
        insufficient_share: if n == 0 {
            0.0
        } else {
            (n - est) as f64 / n as f64
        },
        soh_mae: mean(&errs),
        soh_max_error: errs.iter().copied().reduce(f64::max),
        soh_bias: mean(&signed),
        interval_coverage: (est > 0).then(|| covered as f64 / est as f64),
        mean_interval_width: mean(&widths),
        trend_mae: mean(&trend_errs),
        trend_vehicles: trend_errs.len(),
        alert_precision: (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64),
        alert_recall: (tp + fneg > 0).then(|| tp as f64 / (tp + fneg) as f64),
        alert_counts: (tp, fp, fneg),
        mean_days_to_detect: mean(&days),
        max_days_to_detect: days.iter().copied().reduce(f64::max),
    })
}
