//! Usage stressors over a vehicle's sessions: how much of its charging was DC and high-power,
//! and how long it sat at high SoC. Context for the SoH, not a verdict.

use super::summary::SessionSummary;
use serde::{Deserialize, Serialize};

/// Usage stressors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageStressors {
    /// Share of sessions that were DC.
    pub dc_session_share: f64,
    /// Share of energy delivered by DC.
    pub dc_energy_share: f64,
    /// Share of energy delivered above 100 kW.
    pub above_100kw_energy_share: f64,
    /// Hours plugged in at ≥ 90 % SoC, total.
    pub hours_above_90_soc: f64,
    /// Share of sessions ending at ≥ 90 % SoC.
    pub sessions_ending_above_90_share: f64,
}

/// Stressors of a vehicle.
pub(crate) fn stressors(sessions: &[SessionSummary]) -> UsageStressors {
    let n = sessions.len().max(1) as f64;
    let total: f64 = sessions.iter().map(|s| s.energy.0).sum();
    let dc: f64 = sessions.iter().filter(|s| s.dc).map(|s| s.energy.0).sum();
    let high: f64 = sessions.iter().map(|s| s.energy_above_100kw.0).sum();
    let share = |x: f64| if total > 0.0 { x / total } else { 0.0 };
    UsageStressors {
        dc_session_share: sessions.iter().filter(|s| s.dc).count() as f64 / n,
        dc_energy_share: share(dc),
        above_100kw_energy_share: share(high),
        hours_above_90_soc: sessions.iter().map(|s| s.seconds_above_90_soc).sum::<f64>() / 3600.0,
        sessions_ending_above_90_share: sessions
            .iter()
            .filter(|s| s.soc_end.is_some_and(|x| x >= 90.0))
            .count() as f64
            / n,
    }
}
