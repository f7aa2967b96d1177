//! The car's own loads while it charges (heating, cooling, pumps): the charger's DC current
//! feeds them as well as the cells, so a session that counts all of it reads a larger capacity.
//! A session whose current varied separates them itself (`features::capacity`); one charged at
//! a constant current cannot (charge and time are collinear), and in the cold, where heating
//! draws most, that is the usual case. Such a session borrows the load from the vehicle's own
//! sessions at a similar battery temperature that did separate it, else from its model's
//! (the fleet's [`aux_references`]); with neither, nothing is borrowed and its figure stays as
//! measured.
//!
//! A session that did separate its load did so with an uncertainty
//! ([`SessionSummary::aux_current_se_a`]): large where its current barely tapered (a power-limited session whose
//! current falls slowly as the voltage rises). There the separated figure is combined with the
//! one it would have borrowed, each weighted by the inverse of its variance (the borrowed one's
//! is the spread of the loads it is the median of): a precise separation keeps its own figure,
//! a loose one leans on its neighbours. Only separations within [`LENDER_MAX_SE_A`] lend or
//! make a reference (a session is never its own lender among the vehicle's sessions; in its
//! model's reference it is one value of at least five). On the physics fleet's development seed
//! 27 (docs/BENCHMARKS.md, session 24) the separated load was off from the truth by 0.3 A in the
//! median at a standard error under 0.5 A and by 5.8 A above 8 A; combining cut the median
//! per-session capacity error from 1.03 to 0.80 % there and from 0.92 to 0.77 % on seed 28.

use super::spec::VehicleSpec;
use super::summary::SessionSummary;
use crate::stats::{Bin, add_to_bin, binned_medians_and_scales, median, robust_scale};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A vehicle's own sessions within this many °C of battery temperature lend their load, when
/// at least this many did separate it.
const OWN_BAND_C: f64 = 5.0;
const OWN_MIN_SESSIONS: usize = 2;
/// A model's reference bins are this wide (°C) and need this many sessions from this many
/// vehicles.
const BIN_C: f64 = 5.0;
const BIN_MIN_SESSIONS: usize = 5;
const BIN_MIN_VEHICLES: usize = 3;
/// At most this share of a session's current is taken as the car's own.
const MAX_SHARE: f64 = 0.5;
/// Separated loads with a larger standard error (A) neither lend to other sessions nor make
/// a model's reference.
const LENDER_MAX_SE_A: f64 = 2.0;
/// Least spread (A) assumed for a borrowed load, however alike its lenders.
const MIN_SPREAD_A: f64 = 0.3;

/// One temperature bin of a model's auxiliary load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AuxBin {
    /// Battery temperature bin (°C / 5, floored).
    pub t_bin: i32,
    /// Median auxiliary current of the sessions in it, A.
    pub aux_current_a: f64,
    /// Their spread (robust scale), A; 0 in references kept before it was recorded.
    #[serde(default)]
    pub spread_a: f64,
}

/// A model's auxiliary load by battery temperature, bins sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuxReference {
    /// The bins.
    pub bins: Vec<AuxBin>,
}

fn t_bin(t: f64) -> i32 {
    (t / BIN_C).floor() as i32
}

impl AuxReference {
    /// The model's auxiliary current at battery temperature `t` and its spread, when its bin
    /// has one.
    fn get(&self, t: f64) -> Option<(f64, f64)> {
        self.bins
            .binary_search_by_key(&t_bin(t), |b| b.t_bin)
            .ok()
            .map(|k| (self.bins[k].aux_current_a, self.bins[k].spread_a))
    }
}

/// Each model's auxiliary load by temperature, from the sessions that separated it (e.g.
/// `states.iter().map(|s| (&s.spec, s.sessions()))`).
pub fn aux_references<'a>(
    vehicles: impl IntoIterator<Item = (&'a VehicleSpec, &'a [SessionSummary])>,
) -> BTreeMap<String, AuxReference> {
    let mut by_model: BTreeMap<&str, BTreeMap<i32, Bin>> = BTreeMap::new();
    for (v, (spec, sessions)) in vehicles.into_iter().enumerate() {
        let bins = by_model.entry(spec.model.as_str()).or_default();
        for s in sessions.iter().filter(|s| s.dc) {
            if let (Some(a), Some(t)) = (lent(s), s.battery_temperature_c) {
                add_to_bin(bins, t_bin(t), a, v);
            }
        }
    }
    by_model
        .into_iter()
        .map(|(model, bins)| {
            let bins = binned_medians_and_scales(bins, BIN_MIN_SESSIONS, BIN_MIN_VEHICLES)
                .into_iter()
                .map(|(t_bin, aux_current_a, spread_a)| AuxBin {
                    t_bin,
                    aux_current_a,
                    spread_a,
                })
                .collect();
            (model.to_string(), AuxReference { bins })
        })
        .collect()
}

/// The load a session separated, when it is precise enough to lend (summaries kept before the
/// standard error was recorded lend as they did).
fn lent(s: &SessionSummary) -> Option<f64> {
    s.aux_current_a
        .filter(|_| s.aux_current_se_a.is_none_or(|se| se <= LENDER_MAX_SE_A))
}

/// The load session `s` would borrow and its spread, A: from the vehicle's other sessions
/// (`vehicle_sessions`, which may include `s`) at a similar battery temperature that separated
/// theirs precisely, else from its model's reference.
fn borrowed(
    s: &SessionSummary,
    vehicle_sessions: &[SessionSummary],
    reference: Option<&AuxReference>,
) -> Option<(f64, f64)> {
    let t = s.battery_temperature_c?;
    let near: Vec<f64> = vehicle_sessions
        .iter()
        .filter(|o| o.session != s.session)
        .filter(|o| {
            o.battery_temperature_c
                .is_some_and(|to| (to - t).abs() <= OWN_BAND_C)
        })
        .filter_map(lent)
        .collect();
    let (aux, spread) = if near.len() >= OWN_MIN_SESSIONS {
        (median(&near)?, robust_scale(&near).unwrap_or(0.0))
    } else {
        reference?.get(t)?
    };
    Some((aux, spread.max(MIN_SPREAD_A)))
}

/// The factor to scale session `s`'s charge per full window (`ah_per_full`) by for the car's
/// own load. A session that did not separate it takes off a borrowed load (1 when nothing can
/// be borrowed); one that did, with its uncertainty recorded, trades the load it separated for
/// the inverse-variance blend of it and the borrowed one (1 when nothing can be borrowed).
pub(crate) fn aux_factor(
    s: &SessionSummary,
    vehicle_sessions: &[SessionSummary],
    reference: Option<&AuxReference>,
) -> f64 {
    let Some(i) = s.mean_current_a.filter(|i| *i > 0.0) else {
        return 1.0;
    };
    let share = |a: f64| (a / i).clamp(0.0, MAX_SHARE);
    match (s.aux_current_a, s.aux_current_se_a) {
        (Some(_), None) => 1.0,
        (Some(a), Some(se)) => {
            // `ah_per_full` is net of all of `a`, whatever its share of the current.
            let netted = a / i;
            if !(0.0..1.0).contains(&netted) {
                return 1.0;
            }
            let Some((p, spread)) = borrowed(s, vehicle_sessions, reference) else {
                return 1.0;
            };
            // Inverse-variance weights, written so that an exact separation (se 0) keeps `a`.
            let blend = (a * spread * spread + p * se * se) / (spread * spread + se * se);
            (1.0 - share(blend)) / (1.0 - netted)
        }
        (None, _) => borrowed(s, vehicle_sessions, reference).map_or(1.0, |(p, _)| 1.0 - share(p)),
    }
}
