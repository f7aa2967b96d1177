//! The car's own loads while it charges (heating, cooling, pumps): the charger's DC current
//! feeds them as well as the cells, so a session that counts all of it reads a larger capacity.
//! A session whose current varied separates them itself (`features::capacity`); one charged at
//! a constant current cannot (charge and time are collinear), and in the cold, where heating
//! draws most, that is the usual case. Such a session borrows the load from the vehicle's own
//! sessions at a similar battery temperature that did separate it, else from its model's
//! (the fleet's [`aux_references`]); with neither, nothing is borrowed and its figure stays as
//! measured.

use super::spec::VehicleSpec;
use super::summary::SessionSummary;
use crate::stats::{Bin, add_to_bin, binned_medians, median};
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

/// One temperature bin of a model's auxiliary load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AuxBin {
    /// Battery temperature bin (°C / 5, floored).
    pub t_bin: i32,
    /// Median auxiliary current of the sessions in it, A.
    pub aux_current_a: f64,
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
    /// The model's auxiliary current at battery temperature `t`, when its bin has one.
    fn get(&self, t: f64) -> Option<f64> {
        self.bins
            .binary_search_by_key(&t_bin(t), |b| b.t_bin)
            .ok()
            .map(|k| self.bins[k].aux_current_a)
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
            if let (Some(a), Some(t)) = (s.aux_current_a, s.battery_temperature_c) {
                add_to_bin(bins, t_bin(t), a, v);
            }
        }
    }
    by_model
        .into_iter()
        .map(|(model, bins)| {
            let bins = binned_medians(bins, BIN_MIN_SESSIONS, BIN_MIN_VEHICLES)
                .into_iter()
                .map(|(t_bin, aux_current_a)| AuxBin {
                    t_bin,
                    aux_current_a,
                })
                .collect();
            (model.to_string(), AuxReference { bins })
        })
        .collect()
}

/// The share of session `s`'s DC current to take off as the car's own load: 0 when it separated
/// its own (its figure is already net) or nothing can be borrowed.
pub(crate) fn borrowed_aux_share(
    s: &SessionSummary,
    own: &[SessionSummary],
    reference: Option<&AuxReference>,
) -> f64 {
    if s.aux_current_a.is_some() {
        return 0.0;
    }
    let (Some(t), Some(i)) = (s.battery_temperature_c, s.mean_current_a) else {
        return 0.0;
    };
    if i <= 0.0 {
        return 0.0;
    }
    let near: Vec<f64> = own
        .iter()
        .filter(|o| {
            o.battery_temperature_c
                .is_some_and(|to| (to - t).abs() <= OWN_BAND_C)
        })
        .filter_map(|o| o.aux_current_a)
        .collect();
    let aux = if near.len() >= OWN_MIN_SESSIONS {
        median(&near)
    } else {
        reference.and_then(|r| r.get(t))
    };
    aux.map_or(0.0, |a| (a / i).clamp(0.0, MAX_SHARE))
}
