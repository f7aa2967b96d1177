//! Learns the fleet's cold biases (`vehicle::ColdBiases`): what per-session capacity a model's
//! cold sessions read above the same vehicles' warm sessions of the same weeks.

use crate::config::HealthConfig;
use crate::stats::{Bin, add_to_bin, median};
use crate::vehicle::cold_bias::{WARM_C, t_bin, to_bias};
use crate::vehicle::{AssessContext, ColdBiases, VehicleHealth, soh_points};
use std::collections::BTreeMap;

/// A vehicle's warm sessions within this many days either side form its level.
const LEVEL_WINDOW_DAYS: i64 = 90;
/// Fewest warm sessions that form a level.
const MIN_LEVEL: usize = 3;

/// The fleet's cold biases, from the vehicles' per-session SoH under `ctx` (which should carry
/// the chargers' effects and the auxiliary references, and no cold biases yet).
pub fn cold_biases(
    states: &[VehicleHealth],
    ctx: &AssessContext,
    cfg: &HealthConfig,
) -> ColdBiases {
    let mut by_model: BTreeMap<&str, BTreeMap<i32, Bin>> = BTreeMap::new();
    let mut fleet: BTreeMap<i32, Bin> = BTreeMap::new();
    for (v, st) in states.iter().enumerate() {
        let Some((pts, _)) = soh_points(st.sessions(), &st.spec, ctx, cfg) else {
            continue;
        };
        // (when, SoH, battery temperature).
        let rows: Vec<_> = pts
            .iter()
            .filter_map(|(p, t)| Some((p.at, p.soh_pct, (*t)?)))
            .collect();
        let bins = by_model.entry(st.spec.model.as_str()).or_default();
        for &(at, soh, t) in &rows {
            if t >= WARM_C {
                continue;
            }
            let window = chrono::Duration::days(LEVEL_WINDOW_DAYS);
            let warm: Vec<f64> = rows
                .iter()
                .filter(|r| r.2 >= WARM_C && (r.0 - at).abs() <= window)
                .map(|r| r.1)
                .collect();
            if warm.len() < MIN_LEVEL {
                continue;
            }
            let Some(level) = median(&warm) else { continue };
            add_to_bin(bins, t_bin(t), soh - level, v);
            add_to_bin(&mut fleet, t_bin(t), soh - level, v);
        }
    }
    ColdBiases {
        by_model: by_model
            .into_iter()
            .map(|(model, bins)| (model.to_string(), to_bias(bins)))
            .collect(),
        fleet: to_bias(fleet),
    }
}
