//! Charging sessions: who charged where, when, how much, and why it stopped. A session is
//! chargegrid's record; the OCPP transaction id is one of its attributes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    ChargerId, ConnectorId, DriverId, EvseId, FleetId, IdTag, SessionId, SiteId, VehicleId,
    WattHours, Watts,
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
    /// charger that can deliver at most `max_power`.
    ///
    /// A missing baseline is taken from the first reading. A zero baseline (a missing or zeroed
    /// `Transaction.Begin` / `meterStart`) is only kept while later readings stay within what
    /// the charger could have delivered since the start; a first reading far above that means
    /// the charger reports a lifetime register, and that reading becomes the baseline instead,
    /// so a whole lifetime register never counts as one session's energy.
    ///
    /// After that, energy is the sum of the register's steps, robust to one bad reading:
    /// - a reading stamped before the last counted one is late (replayed out of order) and
    ///   changes nothing;
    /// - a step up that the charger could not have delivered in the time (more than twice
    ///   `max_power` over the interval plus 10 kWh: a unit mix-up, a 1,000× jump) is held, not
    ///   counted;
    /// - a step up within that bound counts at once, but if the next reading comes back down
    ///   to between the two, that step was a glitch and is taken back;
    /// - a reading below the last counted one (a reset, a spurious zero) is held; if the next
    ///   reading continues from it, the reset is bridged and energy keeps counting from there;
    ///   if the next reading continues from the counted register, it was a glitch.
    pub fn record_register(
        &mut self,
        reading: WattHours,
        at: DateTime<Utc>,
        max_power: Watts,
    ) -> RegisterOutcome {
        if !reading.is_finite() || reading.0 < 0.0 {
            return RegisterOutcome::Invalid;
        }
        let Some(start) = self.meter_start else {
            self.rebase(reading, at);
            return RegisterOutcome::Baseline;
        };
        let last = self.meter_last.unwrap_or(start);
        let last_at = self.meter_last_at.unwrap_or(self.started_at);
        if at < last_at {
            return RegisterOutcome::Late;
        }
        if start.0 == 0.0 && last.0 == 0.0 && reading.0 > 0.0 {
            let since_start = Self::deliverable(max_power, self.started_at, at);
            // 20 % and 1 kWh of slack for clock skew and meters that run ahead.
            if reading > since_start * 1.2 + WattHours(1000.0) {
                self.rebase(reading, at);
                return RegisterOutcome::Rebased;
            }
        }
        let from_held = self
            .meter_held
            .filter(|(held, held_at)| Self::possible(*held, *held_at, reading, at, max_power));
        if reading >= last {
            if Self::possible(last, last_at, reading, at, max_power) {
                self.count(last, reading, at);
                return RegisterOutcome::Counted;
            }
            if let Some((held, _)) = from_held {
                self.count(held, reading, at);
                self.meter_prev = None;
                return RegisterOutcome::Bridged;
            }
            self.meter_held = Some((reading, at));
            return RegisterOutcome::Held;
        }
        // Below the last counted reading.
        if let Some(prev) = self.meter_prev
            && reading >= prev
        {
            // The last step was a glitch: take it back and count from the reading before.
            self.energy -= last - prev;
            self.count(prev, reading, at);
            self.meter_prev = None;
            return RegisterOutcome::Corrected;
        }
        if let Some((held, _)) = from_held {
            self.count(held, reading, at);
            self.meter_prev = None;
            return RegisterOutcome::Bridged;
        }
        self.meter_held = Some((reading, at));
        RegisterOutcome::Backwards
    }

    /// Starts counting afresh from `reading`.
    fn rebase(&mut self, reading: WattHours, at: DateTime<Utc>) {
        self.meter_start = Some(reading);
        self.meter_last = Some(reading);
        self.meter_last_at = Some(at);
        self.meter_prev = None;
        self.meter_held = None;
        self.energy = WattHours::ZERO;
    }

    /// Counts the step from `from` to `reading`.
    fn count(&mut self, from: WattHours, reading: WattHours, at: DateTime<Utc>) {
        self.energy += reading - from;
        self.meter_prev = self.meter_last;
        self.meter_last = Some(reading);
        self.meter_last_at = Some(at);
        self.meter_held = None;
    }

    /// What `max_power` delivers between two instants (nothing when they are out of order).
    fn deliverable(max_power: Watts, from: DateTime<Utc>, to: DateTime<Utc>) -> WattHours {
        let hours = (to - from).num_milliseconds().max(0) as f64 / 3_600_000.0;
        max_power.over_hours(hours)
    }

    /// Whether the register can have gone from `from` to `to` in that time: not backwards, and
    /// at most twice what the charger could deliver plus 10 kWh (generous: a charger's
    /// configured power may be low, its clock coarse; what this catches are gross errors).
    fn possible(
        from: WattHours,
        from_at: DateTime<Utc>,
        to: WattHours,
        to_at: DateTime<Utc>,
        max_power: Watts,
    ) -> bool {
        to >= from
            && to - from <= Self::deliverable(max_power, from_at, to_at) * 2.0 + WattHours(10_000.0)
    }
}

/// What [`Session::record_register`] did with a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// It became the baseline (the first reading).
    Baseline,
    /// It replaced an implausible zero baseline.
    Rebased,
    /// Energy was updated from it.
    Counted,
    /// It confirmed a held reading: the register was reset or re-based, and the session's
    /// energy continues across the step.
    Bridged,
    /// It showed the last counted step was a glitch: that step was taken back.
    Corrected,
    /// It was stamped before the last counted reading (replayed late) and was ignored.
    Late,
    /// It was lower than the last counted reading: held, not counted (a reset is confirmed
    /// by the next reading; a glitch is dropped).
    Backwards,
    /// It jumped further than the charger could have delivered: held, not counted.
    Held,
    /// It was negative or not a number and was ignored.
    Invalid,
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
        // 184 before the reset, 90 + 90 after it (the step to the reset reading is lost).
        assert_eq!(s.energy, WattHours(364.0));
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
