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
    /// The latest energy register reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_last: Option<WattHours>,
    /// Energy delivered so far.
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
            energy: WattHours::ZERO,
            power: None,
            soc: None,
            state: SessionState::Active,
            start_reason: None,
            stop_reason: None,
            offline: false,
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
    /// so a whole lifetime register never counts as one session's energy. A reading below the
    /// last one (a meter reset or a wrong unit) is ignored.
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
            self.meter_start = Some(reading);
            self.meter_last = Some(reading);
            return RegisterOutcome::Baseline;
        };
        let last = self.meter_last.unwrap_or(start);
        if reading < last {
            return RegisterOutcome::Backwards;
        }
        if start.0 == 0.0 && last.0 == 0.0 && reading.0 > 0.0 {
            let hours = (at - self.started_at).num_milliseconds().max(0) as f64 / 3_600_000.0;
            // 20 % and 1 kWh of slack for clock skew and meters that run ahead.
            let plausible = max_power.over_hours(hours) * 1.2 + WattHours(1000.0);
            if reading > plausible {
                self.meter_start = Some(reading);
                self.meter_last = Some(reading);
                self.energy = WattHours::ZERO;
                return RegisterOutcome::Rebased;
            }
        }
        self.meter_last = Some(reading);
        self.energy = reading - start;
        RegisterOutcome::Counted
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
    /// It was lower than the last reading and was ignored.
    Backwards,
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
}
