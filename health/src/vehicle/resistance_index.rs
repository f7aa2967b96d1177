//! Resistance index: the median mid-SoC resistance of the latest sessions over the vehicle's own
//! early baseline, both corrected to 25 °C with a generic Arrhenius law when the EV reports its
//! battery temperature (resistance roughly doubles from 25 °C to 0 °C).

use std::collections::BTreeMap;

use super::context::AssessContext;
use super::spec::VehicleSpec;
use super::summary::SessionSummary;
use crate::config::HealthConfig;
use crate::stats::median;
use crate::units::Ohms;
use serde::{Deserialize, Serialize};

/// The resistance index of a vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResistanceIndex {
    /// Recent median over baseline median (1.0 = as when first seen); withheld while there are
    /// not enough sessions after the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<f64>,
    /// Baseline resistance (25 °C-corrected when possible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Ohms>,
    /// Recent resistance (same correction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent: Option<Ohms>,
    /// Sessions with a resistance figure.
    pub sessions: usize,
    /// Whether every figure used was temperature-corrected.
    pub temperature_corrected: bool,
}

impl ResistanceIndex {
    /// The recent resistance when every figure behind it was corrected to 25 °C: the only one
    /// comparable across vehicles (a cohort's median, one vehicle against it).
    pub fn corrected_recent(&self) -> Option<Ohms> {
        self.recent.filter(|_| self.temperature_corrected)
    }
}

/// The index over time-ordered sessions.
/// Each charger's connector resistance (from the fleet's joint estimate) is taken off the
/// sessions measured there first.
pub(crate) fn resistance_index(
    sessions: &[SessionSummary],
    ctx: &AssessContext,
    cfg: &HealthConfig,
) -> ResistanceIndex {
    let vals: Vec<(f64, bool)> = sessions
        .iter()
        .filter(|s| s.dc)
        .filter_map(|s| {
            let (r, corrected) = s.resistance_corrected(cfg)?;
            Some((r - ctx.resistance_offset(&s.charger), corrected))
        })
        .filter(|(r, _)| *r > 0.0)
        .collect();
    let b = cfg.resistance_baseline_sessions.max(1);
    let mut out = ResistanceIndex {
        index: None,
        baseline: None,
        recent: None,
        sessions: vals.len(),
        temperature_corrected: vals.iter().all(|v| v.1),
    };
    if vals.len() < b {
        return out;
    }
    let base: Vec<f64> = vals[..b].iter().map(|v| v.0).collect();
    out.baseline = median(&base).map(Ohms);
    let after = vals.len() - b;
    if after < 3 {
        return out;
    }
    let m = cfg.resistance_recent_sessions.max(3).min(after);
    let recent: Vec<f64> = vals[vals.len() - m..].iter().map(|v| v.0).collect();
    out.recent = median(&recent).map(Ohms);
    if let (Some(bl), Some(rc)) = (out.baseline, out.recent)
        && bl.0 > 0.0
    {
        out.index = Some(rc.0 / bl.0);
    }
    out
}

/// Fewest vehicles of a model with a recent resistance before their median is a reference.
const MIN_MODEL_VEHICLES: usize = 5;

/// Each model's median recent resistance over its vehicles whose figures are all corrected to
/// 25 °C (the EV reports its battery temperature), charger connectors taken off with `ctx`'s
/// charger effects, for models with at least five such vehicles (e.g.
/// `states.iter().map(|s| (&s.spec, s.sessions()))`). Vehicles with a fault are in the median
/// too: it is the cohort's typical pack, robust to its few outliers.
pub fn resistance_medians<'a>(
    vehicles: impl IntoIterator<Item = (&'a VehicleSpec, &'a [SessionSummary])>,
    ctx: &AssessContext,
    cfg: &HealthConfig,
) -> BTreeMap<String, Ohms> {
    let mut by_model: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (spec, sessions) in vehicles {
        let ix = resistance_index(sessions, ctx, cfg);
        if let Some(r) = ix.corrected_recent() {
            by_model.entry(spec.model.as_str()).or_default().push(r.0);
        }
    }
    by_model
        .into_iter()
        .filter(|(_, rs)| rs.len() >= MIN_MODEL_VEHICLES)
        .filter_map(|(m, rs)| Some((m.to_string(), Ohms(median(&rs)?))))
        .collect()
}
