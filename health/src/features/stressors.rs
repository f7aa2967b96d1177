//! Per-session usage stressors: high power and time spent at high SoC, both of which age
//! batteries faster.

use super::series::secs;
use chargegrid_core::meter::MeterSeries;
use chargegrid_core::{WattHours, Watts};
use serde::{Deserialize, Serialize};

/// Power above which charging counts as high-power.
pub const HIGH_POWER: Watts = Watts(100_000.0);

/// A session's stressors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStressors {
    /// Highest power drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_power: Option<Watts>,
    /// Energy delivered in intervals averaging above 100 kW.
    pub energy_above_100kw: WattHours,
    /// Seconds spent plugged in at or above 90 % SoC.
    pub seconds_above_90_soc: f64,
}

/// Stressors of a session with cumulative energy `energy_cum`.
pub(crate) fn stressors(series: &MeterSeries, energy_cum: &[f64]) -> SessionStressors {
    let pts = &series.points;
    let mut peak: Option<f64> = None;
    let mut high = 0.0;
    let mut above_90 = 0.0;
    for i in 0..pts.len() {
        let p = series.power_at(i).map(|w| w.0);
        if let Some(p) = p {
            peak = Some(peak.map_or(p, |q: f64| q.max(p)));
        }
        if i == 0 {
            continue;
        }
        let dt = secs(pts[i - 1].at, pts[i].at);
        let de = energy_cum[i] - energy_cum[i - 1];
        if dt > 0.0 && de / (dt / 3600.0) > HIGH_POWER.0 {
            high += de;
        }
        if pts[i - 1].soc.is_some_and(|s| s >= 90.0) {
            above_90 += dt;
        }
    }
    SessionStressors {
        peak_power: peak.map(Watts),
        energy_above_100kw: WattHours(high),
        seconds_above_90_soc: above_90,
    }
}
