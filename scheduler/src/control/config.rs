//! How the control loop runs: timing (period, debounce, lease), safe assumptions (offline hold,
//! rejections before exclusion), defaults for sessions that say nothing, and per-charger-model
//! knobs for how a limit is rendered as a charging profile.

use std::collections::HashMap;
use std::time::Duration;

use chargegrid_core::command::RateUnit;
use chargegrid_core::{Amperes, Volts, WattHours};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::alloc::{DrawRule, Policy};

/// Which profile purpose carries a session's limit on a charger model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SessionPurpose {
    /// A TxProfile for the running transaction (OCPP's intended use); the charger-wide failsafe
    /// is a TxDefaultProfile on EVSE 0.
    #[default]
    Tx,
    /// A TxDefaultProfile on the session's EVSE, for chargers that ignore or refuse TxProfiles;
    /// the same per-EVSE profile then also carries the failsafe while the EVSE is idle.
    TxDefault,
}

/// How profiles are rendered for one charger model (matched on the network's `model`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelKnobs {
    /// Which profile carries a session's limit.
    pub purpose: SessionPurpose,
    /// Stack level of our profiles (per-EVSE defaults use one above it, so they win over the
    /// charger-wide one).
    pub stack_level: u32,
    /// Amperes per phase or watts; unset: W for chargers with a DC connector (their current is
    /// on the battery side, not the grid's), A otherwise.
    pub unit: Option<RateUnit>,
    /// The smallest current the model can signal once charging; the charger's own setting when
    /// absent.
    pub min_current: Option<Amperes>,
    /// `numberPhases` sent in each period; the charger's wiring when absent.
    pub number_phases: Option<u8>,
    /// Whole multiples of this current, for models that only take integer (or coarser) steps.
    pub current_step: Option<Amperes>,
    /// Read each accepted profile back with GetCompositeSchedule and flag differences.
    pub read_back: bool,
}

impl Default for ModelKnobs {
    fn default() -> Self {
        Self {
            purpose: SessionPurpose::Tx,
            stack_level: 1,
            unit: None,
            min_current: None,
            number_phases: None,
            current_step: None,
            read_back: false,
        }
    }
}

/// Energy assumed for a session nobody stated needs for and no history speaks for (the
/// default of [`ControlConfig::default_energy`]; the replay's `stated` inputs use it too).
pub(crate) const DEFAULT_ENERGY: WattHours = WattHours(20_000.0);

/// Stay assumed likewise (the default of [`ControlConfig::default_dwell`]).
pub(crate) const DEFAULT_DWELL: TimeDelta = TimeDelta::hours(4);

/// The control loop's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlConfig {
    /// This instance's id in leases (the node id).
    pub holder: String,
    /// Allocation policy (chargegrid in production; baselines for comparison).
    pub policy: Policy,
    /// Periodic pass, whatever happens (also the allocation horizon).
    pub period: Duration,
    /// How long to wait after a change notice for more to arrive before re-planning.
    pub debounce: Duration,
    /// Lease time to live; renewed every third of it. A standby takes over within it.
    pub lease_ttl: Duration,
    /// How long an offline charger's limits stay reserved as if it drew them in full.
    pub offline_hold: TimeDelta,
    /// How long to wait for a charger's answer to a profile.
    pub command_timeout: Duration,
    /// Phase-to-neutral voltage used to turn current into power.
    pub voltage: Volts,
    /// Energy assumed for a session whose needs nobody stated.
    pub default_energy: WattHours,
    /// Stay assumed for a session whose departure nobody stated, from its start.
    pub default_dwell: TimeDelta,
    /// Failed profile sends in a row (rejected, error, no answer) before a charger is excluded
    /// and assumed to draw its maximum.
    pub max_failures: u32,
    /// How long an excluded charger stays excluded before it is tried again (a boot also
    /// clears it).
    pub exclusion: TimeDelta,
    /// How long after a limit is accepted its metered draw is first compared with it.
    pub verify_grace: TimeDelta,
    /// Passes in a row a session must draw clearly above its limit before its charger is
    /// flagged as ignoring profiles (and excluded).
    pub ignore_passes: u32,
    /// Raises smaller than this are not worth a command (decreases are always sent).
    pub min_raise: Amperes,
    /// How a vehicle's metered draw is judged when learning what it takes.
    pub draw_rule: DrawRule,
    /// Knobs per charger model.
    pub models: HashMap<String, ModelKnobs>,
    /// Knobs for models not listed.
    pub default_model: ModelKnobs,
}

impl ControlConfig {
    /// Production defaults for an instance called `holder`.
    pub fn new(holder: impl Into<String>) -> Self {
        Self {
            holder: holder.into(),
            policy: Policy::Chargegrid,
            period: Duration::from_secs(15),
            debounce: Duration::from_millis(250),
            lease_ttl: Duration::from_secs(15),
            offline_hold: TimeDelta::minutes(15),
            command_timeout: Duration::from_secs(10),
            voltage: Volts(230.0),
            default_energy: DEFAULT_ENERGY,
            default_dwell: DEFAULT_DWELL,
            max_failures: 2,
            exclusion: TimeDelta::minutes(10),
            verify_grace: TimeDelta::seconds(90),
            ignore_passes: 3,
            min_raise: Amperes(1.0),
            draw_rule: DrawRule::default(),
            models: HashMap::new(),
            default_model: ModelKnobs::default(),
        }
    }

    /// The knobs for a charger model.
    pub fn knobs(&self, model: &str) -> &ModelKnobs {
        self.models.get(model).unwrap_or(&self.default_model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_parse_from_toml_like_json_and_fall_back_to_defaults() {
        let knobs: ModelKnobs =
            serde_json::from_value(serde_json::json!({"unit": "W", "purpose": "TxDefault"}))
                .unwrap();
        assert_eq!(knobs.unit, Some(RateUnit::W));
        assert_eq!(knobs.purpose, SessionPurpose::TxDefault);
        assert_eq!(knobs.stack_level, 1);
        let mut config = ControlConfig::new("a");
        config.models.insert("X".into(), knobs.clone());
        assert_eq!(config.knobs("X"), &knobs);
        assert_eq!(config.knobs("Y"), &ModelKnobs::default());
        assert!(serde_json::from_value::<ModelKnobs>(serde_json::json!({"colour": 1})).is_err());
    }
}
