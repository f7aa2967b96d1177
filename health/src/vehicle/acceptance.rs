//! Charge acceptance over a vehicle's sessions: where its own taper starts and how long
//! 20 → 80 % takes, for comparison with the model's cohort.

use super::summary::SessionSummary;
use crate::stats::median;
use serde::{Deserialize, Serialize};

/// Acceptance over a vehicle's sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptanceSummary {
    /// Median SoC at which the EV (not the charger) began to taper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taper_onset_soc: Option<f64>,
    /// Sessions with an EV-limited (or not provably charger-limited) taper.
    pub taper_sessions: usize,
    /// Median minutes from 20 to 80 % on DC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_20_to_80: Option<f64>,
    /// DC sessions that covered 20 → 80 %.
    pub window_sessions: usize,
}

/// Acceptance of a vehicle.
pub(crate) fn acceptance(sessions: &[SessionSummary]) -> AcceptanceSummary {
    let tapers: Vec<f64> = sessions
        .iter()
        .filter(|s| s.dc && s.ev_limited != Some(false))
        .filter_map(|s| s.taper_onset_soc)
        .collect();
    let minutes: Vec<f64> = sessions
        .iter()
        .filter(|s| s.dc)
        .filter_map(|s| s.minutes_20_to_80)
        .collect();
    AcceptanceSummary {
        taper_onset_soc: median(&tapers),
        taper_sessions: tapers.len(),
        minutes_20_to_80: median(&minutes),
        window_sessions: minutes.len(),
    }
}
