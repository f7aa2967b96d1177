//! The top of the charge: what the battery's current, voltage and displayed SoC were once the
//! SoC passed 60 %. Where the pack sits at its maximum voltage (constant-voltage phase) the
//! current it accepts is set by how full it truly is, so the displayed SoC at a given current
//! and temperature is the same for every healthy pack of a model; a BMS whose SoC scale or
//! offset is off shows a different one. The vehicle and fleet stages, which know the pack's
//! cell count and limits, make that comparison (`vehicle::cv_check`).

use chargegrid_core::meter::MeterSeries;
use serde::{Deserialize, Serialize};

/// Lowest displayed SoC kept.
const FROM_SOC: f64 = 60.0;
/// At most this many points are kept per session (evenly thinned).
const MAX_POINTS: usize = 32;

/// One sample near the top of a charge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TopPoint {
    /// Displayed SoC, percent.
    pub soc: f64,
    /// DC current, A.
    pub current_a: f64,
    /// DC voltage at the charger, V.
    pub voltage_v: f64,
    /// Battery temperature reported by the EV, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature_c: Option<f64>,
}

/// The session's samples at or above 60 % SoC with current and voltage, at most 32.
pub(crate) fn top_of_charge(series: &MeterSeries, dc: bool) -> Vec<TopPoint> {
    if !dc {
        return Vec::new();
    }
    let all: Vec<TopPoint> = series
        .points
        .iter()
        .filter_map(|p| {
            let soc = p.soc.filter(|s| *s >= FROM_SOC)?;
            Some(TopPoint {
                soc,
                current_a: p.current.filter(|c| c.0 > 0.0)?.0,
                voltage_v: p.voltage.filter(|v| v.0 > 0.0)?.0,
                temperature_c: p.ev_temperature,
            })
        })
        .collect();
    if all.len() <= MAX_POINTS {
        return all;
    }
    // Keep the last point (the lowest current) and thin the rest evenly.
    let n = all.len();
    (0..MAX_POINTS)
        .map(|i| all[(i * (n - 1)) / (MAX_POINTS - 1)])
        .collect()
}
