//! Charging sessions: who charged where, when, how much, and why it stopped. A session is
//! chargegrid's record; the OCPP transaction id is one of its attributes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::meter::register::{RegisterCount, RegisterOutcome};
use crate::{
    Amperes, ChargerId, ConnectorId, DriverId, EvseId, FleetId, IdTag, SessionId, SiteId,
    VehicleId, WattHours, Watts,
};

crate::text_enum!(
    /// Why a session ended (1.6 `Reason` and 2.0.1 `stoppedReason` values).
    StopReason {
        /// The driver stopped it on the charger (card or button).
        Local = "Local",
        /// Stopped by a remote command.
        Remote = "Remote",
        /// The EV was unplugged.
        EvDisconnected = "EVDisconnected",
        /// Emergency stop pressed.
        EmergencyStop = "EmergencyStop",
        /// Charger rebooted after a hard reset.
        HardReset = "HardReset",
        /// Charger rebooted after a soft reset.
        SoftReset = "SoftReset",
        /// Charger restarted on its own.
        Reboot = "Reboot",
        /// Power was lost.
        PowerLoss = "PowerLoss",
        /// Unlock command ended it.
        UnlockCommand = "UnlockCommand",
        /// The id tag was no longer authorised.
        DeAuthorized = "DeAuthorized",
        /// An energy limit was reached.
        EnergyLimitReached = "EnergyLimitReached",
        /// A ground fault.
        GroundFault = "GroundFault",
        /// The EV's own (BMS) decision or fault (2.0.1 `EVNotCharging`-like vendor values map to Other).
        EvAbort = "EVAbort",
        /// Over-current protection.
        OvercurrentFault = "OvercurrentFault",
        /// A time limit was reached.
        TimeLimitReached = "TimeLimitReached",
        /// Stopped for another reason.
        OtherReason = "Other",
    }
);

/// Whether a session is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    /// Energy may still flow.
    Active,
    /// Ended; no more energy will be counted.
    Ended,
}

/// A charging session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// chargegrid's id.
    pub id: SessionId,
    /// The OCPP transaction id (1.6: the integer we assigned, as text; 2.0.1: the charger's).
    pub transaction_id: String,
    /// Where.
    pub site: SiteId,
    /// Which charger.
    pub charger: ChargerId,
    /// Which EVSE.
    pub evse: EvseId,
    /// Which connector.
    pub connector: ConnectorId,
    /// The token used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_tag: Option<IdTag>,
    /// The driver the token belongs to, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<DriverId>,
    /// The fleet the driver or vehicle belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// The vehicle, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleId>,
    /// When charging started, per the charger (UTC).
    pub started_at: DateTime<Utc>,
    /// When it ended, per the charger (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// The energy register at start, once a trustworthy reading exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_start: Option<WattHours>,
    /// The latest energy register reading that was counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_last: Option<WattHours>,
    /// When [`meter_last`](Self::meter_last) was read (absent in sessions stored before this
    /// field: the start time stands in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_last_at: Option<DateTime<Utc>>,
    /// The counted reading before [`meter_last`](Self::meter_last), kept so that a step which
    /// the next reading contradicts (the register comes back down) can be taken back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_prev: Option<WattHours>,
    /// A reading that did not follow from the last counted one (it went backwards, or jumped
    /// further than the charger could deliver), held until the next reading tells which: if
    /// that one continues from the counted register, this was a glitch and is dropped; if it
    /// continues from this one, the register was reset and the session bridges the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_held: Option<(WattHours, DateTime<Utc>)>,
    /// Energy delivered so far: the sum of the plausible steps of the register.
    pub energy: WattHours,
    /// Last metered active power.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<Watts>,
    /// The largest per-phase current at the reading that gave [`power`](Self::power), where
    /// the charger reports currents per phase: what the vehicle draws per phase, whatever
    /// phases it uses (the power alone cannot tell a single-phase car from a three-phase one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_current: Option<Amperes>,
    /// Last reported state of charge, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soc: Option<f64>,
    /// Running or ended.
    pub state: SessionState,
    /// Why it started (2.0.1 trigger reason, or "Authorized"/"RemoteStart").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_reason: Option<String>,
    /// Why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    /// Whether any of it happened while the charger was offline.
    #[serde(default)]
    pub offline: bool,
    /// The tariff in force when it started (the charger's, else its site's), which its charge
    /// detail record is priced on even if the operator changes prices meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff: Option<crate::tariff::Tariff>,
}

impl Session {
    /// A session that started at `started_at` on `charger`'s `evse`/`connector`: active, no
    /// energy yet, nobody attached (the caller fills in what it knows).
    pub fn new(
        id: SessionId,
        transaction_id: String,
        site: SiteId,
        charger: ChargerId,
        (evse, connector): (EvseId, ConnectorId),
        started_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            transaction_id,
            site,
            charger,
            evse,
            connector,
            id_tag: None,
            driver: None,
            fleet: None,
            vehicle: None,
            started_at,
            ended_at: None,
            meter_start: None,
            meter_last: None,
            meter_last_at: None,
            meter_prev: None,
            meter_held: None,
            energy: WattHours::ZERO,
            power: None,
            line_current: None,
            soc: None,
            state: SessionState::Active,
            start_reason: None,
            stop_reason: None,
            offline: false,
            tariff: None,
        }
    }

    /// Whether energy may still flow.
    pub fn is_active(&self) -> bool {
        self.state == SessionState::Active
    }

    /// Records a new energy-register reading (already normalised to Wh) taken at `at`, for a
    /// charger that can deliver at most `max_power`, by the one counting rule
    /// ([`RegisterCount::record`]: baselines, lifetime registers, glitches and resets).
    pub fn record_register(
        &mut self,
        reading: WattHours,
        at: DateTime<Utc>,
        max_power: Watts,
    ) -> RegisterOutcome {
        let mut count = RegisterCount {
            start: self.meter_start,
            last: self.meter_last,
            last_at: self.meter_last_at,
            prev: self.meter_prev,
            held: self.meter_held,
            energy: self.energy,
        };
        let outcome = count.record(reading, at, self.started_at, max_power);
        self.meter_start = count.start;
        self.meter_last = count.last;
        self.meter_last_at = count.last_at;
        self.meter_prev = count.prev;
        self.meter_held = count.held;
        self.energy = count.energy;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(
            SessionId::new("s").unwrap(),
            "1".into(),
            SiteId::new("site").unwrap(),
            ChargerId::new("c").unwrap(),
            (EvseId(1), ConnectorId(1)),
            DateTime::<Utc>::UNIX_EPOCH,
        )
    }

    use chrono::Duration;

    const MAX: Watts = Watts(22_000.0);

    #[test]
    fn first_reading_becomes_baseline_and_energy_counts_from_it() {
        let mut s = session();
        let t = s.started_at;
        assert_eq!(
            s.record_register(WattHours(1_000_000.0), t, MAX),
            RegisterOutcome::Baseline
        );
        assert_eq!(s.energy, WattHours::ZERO);
        let r = s.record_register(WattHours(1_002_500.0), t + Duration::hours(1), MAX);
        assert_eq!(r, RegisterOutcome::Counted);
        assert_eq!(s.energy, WattHours(2_500.0));
    }

    #[test]
    fn zero_baseline_is_replaced_by_an_implausible_lifetime_register() {
        let mut s = session();
        let t = s.started_at;
        s.record_register(WattHours(0.0), t, MAX);
        let r = s.record_register(WattHours(5_000_000.0), t + Duration::minutes(1), MAX);
        assert_eq!(r, RegisterOutcome::Rebased);
        assert_eq!(s.energy, WattHours::ZERO);
        s.record_register(WattHours(5_000_300.0), t + Duration::minutes(2), MAX);
        assert_eq!(s.energy, WattHours(300.0));
    }

    #[test]
    fn zero_baseline_is_kept_for_per_session_registers() {
        let mut s = session();
        let t = s.started_at;
        s.record_register(WattHours(0.0), t, MAX);
        let r = s.record_register(WattHours(350.0), t + Duration::minutes(1), MAX);
        assert_eq!(r, RegisterOutcome::Counted);
        assert_eq!(s.energy, WattHours(350.0));
    }

    #[test]
    fn backwards_or_invalid_readings_are_ignored() {
        let mut s = session();
        let t = s.started_at;
        s.record_register(WattHours(500.0), t, MAX);
        s.record_register(WattHours(800.0), t, MAX);
        assert_eq!(
            s.record_register(WattHours(100.0), t, MAX),
            RegisterOutcome::Backwards
        );
        assert_eq!(
            s.record_register(WattHours(f64::NAN), t, MAX),
            RegisterOutcome::Invalid
        );
        assert_eq!(
            s.record_register(WattHours(-1.0), t, MAX),
            RegisterOutcome::Invalid
        );
        assert_eq!(s.energy, WattHours(300.0));
    }

    /// A session's readings every 30 s at 11 kW (≈ 92 Wh a step) from a 1 MWh register.
    fn feed(s: &mut Session, readings: &[f64]) -> Vec<RegisterOutcome> {
        let t = s.started_at;
        readings
            .iter()
            .enumerate()
            .map(|(i, wh)| {
                s.record_register(WattHours(*wh), t + Duration::seconds(30 * i as i64), MAX)
            })
            .collect()
    }

    #[test]
    fn one_glitched_reading_does_not_inflate_the_session() {
        use RegisterOutcome::*;
        // A 1,000× jump (kWh sent as Wh), then the true register again.
        let mut s = session();
        let out = feed(
            &mut s,
            &[
                1_000_000.0,
                1_000_092.0,
                1_000_184_000.0,
                1_000_276.0,
                1_000_368.0,
            ],
        );
        assert_eq!(out, [Baseline, Counted, Held, Counted, Counted]);
        assert_eq!(s.energy, WattHours(368.0));
        assert_eq!(s.meter_held, None);
        // A spurious zero in the middle.
        let mut s = session();
        let out = feed(&mut s, &[1_000_000.0, 1_000_092.0, 0.0, 1_000_276.0]);
        assert_eq!(out, [Baseline, Counted, Backwards, Counted]);
        assert_eq!(s.energy, WattHours(276.0));
        // A smaller jump that could be real counts at first, and is taken back when the
        // register comes back down.
        let mut s = session();
        let out = feed(
            &mut s,
            &[1_000_000.0, 1_000_092.0, 1_005_000.0, 1_000_276.0],
        );
        assert_eq!(out, [Baseline, Counted, Counted, Corrected]);
        assert_eq!(s.energy, WattHours(276.0));
        // A glitch in the very last reading (the stop value) is not billed.
        let mut s = session();
        feed(&mut s, &[1_000_000.0, 1_000_092.0, 9_000_000.0]);
        assert_eq!(s.energy, WattHours(92.0));
    }

    #[test]
    fn a_register_reset_is_bridged_and_energy_keeps_counting() {
        use RegisterOutcome::*;
        let mut s = session();
        let out = feed(
            &mut s,
            &[1_000_000.0, 1_000_092.0, 1_000_184.0, 10.0, 100.0, 190.0],
        );
        assert_eq!(
            out,
            [Baseline, Counted, Counted, Backwards, Bridged, Counted]
        );
        // 184 before the reset, the 10 the restarted register shows, 90 + 90 after it.
        assert_eq!(s.energy, WattHours(374.0));
    }

    #[test]
    fn late_readings_change_nothing() {
        let mut s = session();
        feed(&mut s, &[40_000.0, 44_000.0]);
        let t = s.started_at;
        let late = s.record_register(WattHours(42_000.0), t + Duration::seconds(10), MAX);
        assert_eq!(late, RegisterOutcome::Late);
        assert_eq!(s.energy, WattHours(4_000.0));
        assert_eq!(s.meter_held, None);
    }

    #[test]
    fn a_long_gap_allows_a_large_step() {
        let mut s = session();
        let t = s.started_at;
        s.record_register(WattHours(1_000_000.0), t, MAX);
        // Offline for two hours at full power: 44 kWh is plausible.
        let r = s.record_register(WattHours(1_044_000.0), t + Duration::hours(2), MAX);
        assert_eq!(r, RegisterOutcome::Counted);
        assert_eq!(s.energy, WattHours(44_000.0));
    }
}
