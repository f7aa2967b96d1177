//! Charging profiles as a charger keeps them: decoded from 1.6 `csChargingProfiles` or 2.0.1
//! `chargingProfile` (through the typed messages of `chargegrid_ocpp`), stacked, and evaluated into the limit in force at any simulated instant.
//!
//! Rules followed (OCPP 1.6 §3.13, 2.0.1 K01): a profile with the same id, or the same purpose,
//! stack level and EVSE, replaces the old one; for an EVSE a TxProfile of the running
//! transaction beats TxDefaultProfiles (EVSE-specific beats EVSE 0); the highest stack level
//! valid at the instant wins; ChargePointMax (2.0.1 ChargingStationMax and
//! ExternalConstraints) caps the whole charger. `Relative` Tx/TxDefault schedules start when
//! the transaction started (the spec's reading), other relative ones when received;
//! `Recurring` repeats daily or weekly from `startSchedule`.

use chargegrid_core::command::RateUnit;
use chargegrid_ocpp::messages::charging::{
    ChargingProfile, ChargingProfileKind, ChargingProfilePurpose, RecurrencyKind, TransactionRef,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

/// What a profile is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// The whole charger (1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile or
    /// ChargingStationExternalConstraints).
    ChargerMax,
    /// Default for transactions.
    TxDefault,
    /// One transaction.
    Tx,
}

/// How the schedule is anchored in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// From `startSchedule`.
    Absolute,
    /// From the transaction start (Tx, TxDefault) or the receipt.
    Relative,
    /// Repeats every day from `startSchedule`.
    Daily,
    /// Repeats every week from `startSchedule`.
    Weekly,
}

/// One period of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Period {
    /// Seconds from the schedule start.
    pub start_s: u32,
    /// The limit, in the profile's unit.
    pub limit: f64,
    /// Phases, if given.
    pub phases: Option<u8>,
}

/// An installed charging profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Profile id.
    pub id: i64,
    /// EVSE (0 = whole charger).
    pub evse: u32,
    /// Purpose.
    pub purpose: Purpose,
    /// Stack level.
    pub stack_level: u32,
    /// The transaction of a TxProfile.
    pub transaction_id: Option<String>,
    /// Anchoring.
    pub kind: Kind,
    /// `startSchedule`.
    pub start_schedule: Option<DateTime<Utc>>,
    /// `validFrom`.
    pub valid_from: Option<DateTime<Utc>>,
    /// `validTo`.
    pub valid_to: Option<DateTime<Utc>>,
    /// Schedule duration, seconds.
    pub duration_s: Option<u32>,
    /// Unit of the limits.
    pub unit: RateUnit,
    /// Periods by start.
    pub periods: Vec<Period>,
    /// When the charger received it (simulated time).
    pub received_at: DateTime<Utc>,
}

/// The typed profile in `v` (the OCPP crate's, shared with the gateway that sends it).
fn decode(v: &Value) -> Result<ChargingProfile, ProfileError> {
    ChargingProfile::deserialize(v).map_err(|e| ProfileError::Unreadable(e.to_string()))
}

/// Why a received profile cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProfileError {
    /// The payload is not a charging profile of the version.
    #[error("unreadable profile: {0}")]
    Unreadable(String),
    /// A purpose of the other version.
    #[error("{purpose:?} is not a purpose of OCPP {version}")]
    Purpose {
        /// The purpose sent.
        purpose: ChargingProfilePurpose,
        /// The charger's version.
        version: &'static str,
    },
    /// The version's id field is missing.
    #[error("the profile has no id")]
    NoId,
    /// No schedule, or one without periods.
    #[error("the profile has no schedule periods")]
    NoPeriods,
    /// The EVSE (1.6 connector) addressed does not exist.
    #[error("no EVSE or connector {0}")]
    NoEvse(u32),
}

impl Profile {
    /// A 1.6 `csChargingProfiles` for connector `evse`.
    pub fn from_v16(v: &Value, evse: u32, at: DateTime<Utc>) -> Result<Profile, ProfileError> {
        Self::from_message(&decode(v)?, true, evse, at)
    }

    /// A 2.0.1 `chargingProfile` for `evse`.
    pub fn from_v201(v: &Value, evse: u32, at: DateTime<Utc>) -> Result<Profile, ProfileError> {
        Self::from_message(&decode(v)?, false, evse, at)
    }

    /// A received profile for `evse`; `v16` says which version's purposes and id field apply.
    pub fn from_message(
        m: &ChargingProfile,
        v16: bool,
        evse: u32,
        at: DateTime<Utc>,
    ) -> Result<Profile, ProfileError> {
        use ChargingProfilePurpose as P;
        let purpose = match (m.charging_profile_purpose, v16) {
            (P::ChargePointMaxProfile, true) => Purpose::ChargerMax,
            (P::ChargingStationMaxProfile | P::ChargingStationExternalConstraints, false) => {
                Purpose::ChargerMax
            }
            (P::TxDefaultProfile, _) => Purpose::TxDefault,
            (P::TxProfile, _) => Purpose::Tx,
            (other, _) => {
                return Err(ProfileError::Purpose {
                    purpose: other,
                    version: if v16 { "1.6" } else { "2.0.1" },
                });
            }
        };
        let id = if v16 { m.charging_profile_id } else { m.id }.ok_or(ProfileError::NoId)?;
        let schedule = m.schedule().ok_or(ProfileError::NoPeriods)?;
        let mut periods: Vec<Period> = schedule
            .charging_schedule_period
            .iter()
            .map(|p| Period {
                start_s: p.start_period,
                limit: p.limit,
                phases: p.number_phases,
            })
            .collect();
        if periods.is_empty() {
            return Err(ProfileError::NoPeriods);
        }
        periods.sort_by_key(|p| p.start_s);
        Ok(Profile {
            id: i64::from(id),
            evse,
            purpose,
            stack_level: m.stack_level,
            transaction_id: m.transaction_id.as_ref().map(|t| match t {
                TransactionRef::Integer(n) => n.to_string(),
                TransactionRef::Text(s) => s.clone(),
            }),
            kind: match (m.charging_profile_kind, m.recurrency_kind) {
                (ChargingProfileKind::Absolute, _) => Kind::Absolute,
                (ChargingProfileKind::Relative, _) => Kind::Relative,
                (ChargingProfileKind::Recurring, Some(RecurrencyKind::Weekly)) => Kind::Weekly,
                (ChargingProfileKind::Recurring, _) => Kind::Daily,
            },
            start_schedule: schedule.start_schedule,
            valid_from: m.valid_from,
            valid_to: m.valid_to,
            duration_s: schedule.duration,
            unit: schedule.charging_rate_unit.into(),
            periods,
            received_at: at,
        })
    }

    /// The limit `(value, unit, phases)` in force at `t`, given the running transaction's start.
    pub fn limit_at(
        &self,
        t: DateTime<Utc>,
        tx_start: Option<DateTime<Utc>>,
    ) -> Option<(f64, RateUnit, Option<u8>)> {
        if self.valid_from.is_some_and(|f| t < f) || self.valid_to.is_some_and(|to| t >= to) {
            return None;
        }
        let start = self.schedule_start(t, tx_start)?;
        let offset = (t - start).num_milliseconds();
        if offset < 0 {
            return None;
        }
        let offset_s = (offset / 1000) as u64;
        if self.duration_s.is_some_and(|d| offset_s >= u64::from(d)) {
            return None;
        }
        self.periods
            .iter()
            .rev()
            .find(|p| u64::from(p.start_s) <= offset_s)
            .map(|p| (p.limit, self.unit, p.phases))
    }

    fn schedule_start(
        &self,
        t: DateTime<Utc>,
        tx_start: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        let anchor = self
            .start_schedule
            .or(self.valid_from)
            .unwrap_or(self.received_at);
        match self.kind {
            Kind::Absolute => Some(anchor),
            Kind::Relative => match self.purpose {
                Purpose::Tx | Purpose::TxDefault => tx_start,
                Purpose::ChargerMax => Some(self.received_at),
            },
            Kind::Daily | Kind::Weekly => {
                let period = if self.kind == Kind::Daily {
                    Duration::days(1)
                } else {
                    Duration::weeks(1)
                };
                let k = (t - anchor).num_seconds().div_euclid(period.num_seconds());
                Some(anchor + period * k as i32)
            }
        }
    }

    /// Instants in (from, to) at which this profile's limit may change.
    pub fn change_points(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tx_start: Option<DateTime<Utc>>,
    ) -> Vec<DateTime<Utc>> {
        let mut out: Vec<DateTime<Utc>> = [self.valid_from, self.valid_to]
            .into_iter()
            .flatten()
            .collect();
        if let Some(start) = self.schedule_start(from, tx_start) {
            for p in &self.periods {
                out.push(start + Duration::seconds(i64::from(p.start_s)));
            }
            if let Some(d) = self.duration_s {
                out.push(start + Duration::seconds(i64::from(d)));
            }
        }
        out.retain(|t| *t > from && *t < to);
        out
    }
}

/// Criteria of a ClearChargingProfile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClearCriteria {
    /// A profile id.
    pub id: Option<i64>,
    /// An EVSE.
    pub evse: Option<u32>,
    /// A purpose.
    pub purpose: Option<Purpose>,
    /// A stack level.
    pub stack_level: Option<u32>,
}

/// The profiles installed on one charger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileSet {
    profiles: Vec<Profile>,
}

impl ProfileSet {
    /// Installs a profile, replacing one with the same id, or the same purpose, stack level and
    /// EVSE.
    pub fn install(&mut self, p: Profile) {
        self.profiles.retain(|o| {
            o.id != p.id
                && !(o.purpose == p.purpose && o.stack_level == p.stack_level && o.evse == p.evse)
        });
        self.profiles.push(p);
    }

    /// Removes profiles matching all given criteria; whether any was removed.
    pub fn clear(&mut self, c: &ClearCriteria) -> bool {
        let before = self.profiles.len();
        self.profiles.retain(|p| {
            !(c.id.is_none_or(|id| id == p.id)
                && c.evse.is_none_or(|e| e == p.evse)
                && c.purpose.is_none_or(|u| u == p.purpose)
                && c.stack_level.is_none_or(|s| s == p.stack_level))
        });
        self.profiles.len() != before
    }

    /// Removes the TxProfiles of a finished transaction (they die with it).
    pub fn end_transaction(&mut self, evse: u32) {
        self.profiles
            .retain(|p| !(p.purpose == Purpose::Tx && p.evse == evse));
    }

    /// All installed profiles.
    pub fn all(&self) -> &[Profile] {
        &self.profiles
    }

    fn best(
        &self,
        t: DateTime<Utc>,
        tx_start: Option<DateTime<Utc>>,
        filter: impl Fn(&Profile) -> bool,
    ) -> Option<(f64, RateUnit, Option<u8>)> {
        self.profiles
            .iter()
            .filter(|p| filter(p))
            .filter_map(|p| p.limit_at(t, tx_start).map(|l| (p.stack_level, l)))
            .max_by_key(|(s, _)| *s)
            .map(|(_, l)| l)
    }

    /// The limit on one EVSE at `t` from Tx and TxDefault profiles, `(value, unit, phases)`.
    pub fn evse_limit(
        &self,
        evse: u32,
        t: DateTime<Utc>,
        tx: Option<(&str, DateTime<Utc>)>,
    ) -> Option<(f64, RateUnit, Option<u8>)> {
        let start = tx.map(|(_, s)| s);
        if let Some((id, _)) = tx
            && let Some(l) = self.best(t, start, |p| {
                p.purpose == Purpose::Tx
                    && p.evse == evse
                    && p.transaction_id.as_deref().is_none_or(|x| x == id)
            })
        {
            return Some(l);
        }
        self.best(t, start, |p| {
            p.purpose == Purpose::TxDefault && p.evse == evse
        })
        .or_else(|| self.best(t, start, |p| p.purpose == Purpose::TxDefault && p.evse == 0))
    }

    /// The whole charger's limit at `t`.
    pub fn charger_limit(&self, t: DateTime<Utc>) -> Option<(f64, RateUnit, Option<u8>)> {
        self.best(t, None, |p| p.purpose == Purpose::ChargerMax)
    }

    /// Instants in (from, to) where any limit may change.
    pub fn change_points(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        tx_start: Option<DateTime<Utc>>,
    ) -> Vec<DateTime<Utc>> {
        let mut out: Vec<_> = self
            .profiles
            .iter()
            .flat_map(|p| p.change_points(from, to, tx_start))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000) + Duration::seconds(s)
    }

    #[test]
    fn tx_beats_default_and_relative_starts_with_the_transaction() {
        let mut set = ProfileSet::default();
        let default = json!({"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative", "chargingSchedule": {"chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}});
        set.install(Profile::from_v16(&default, 0, t(0)).unwrap());
        let tx = json!({"chargingProfileId": 2, "stackLevel": 1, "transactionId": 42, "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative", "chargingSchedule": {"chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7000.0}, {"startPeriod": 600, "limit": 3000.0}]}});
        set.install(Profile::from_v16(&tx, 1, t(100)).unwrap());
        let running = Some(("42", t(50)));
        assert_eq!(
            set.evse_limit(1, t(100), running),
            Some((7000.0, RateUnit::W, None))
        );
        assert_eq!(
            set.evse_limit(1, t(650), running),
            Some((3000.0, RateUnit::W, None))
        );
        // Another transaction only sees the default.
        assert_eq!(
            set.evse_limit(1, t(650), Some(("43", t(600)))),
            Some((16.0, RateUnit::A, None))
        );
        set.end_transaction(1);
        assert_eq!(
            set.evse_limit(1, t(650), running),
            Some((16.0, RateUnit::A, None))
        );
        assert!(set.clear(&ClearCriteria {
            id: Some(1),
            ..Default::default()
        }));
        assert_eq!(set.evse_limit(1, t(650), running), None);
    }

    #[test]
    fn absolute_recurring_and_validity_are_honoured() {
        let mut set = ProfileSet::default();
        let cp = json!({"id": 5, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
            "chargingSchedule": [{"id": 1, "startSchedule": "2024-10-04T00:00:00Z", "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 50000.0}, {"startPeriod": 3600, "limit": 20000.0}]}]});
        set.install(Profile::from_v201(&cp, 0, t(0)).unwrap());
        let day = "2024-10-09T00:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(set.charger_limit(day).map(|l| l.0), Some(50_000.0));
        assert_eq!(
            set.charger_limit(day + Duration::hours(1)).map(|l| l.0),
            Some(20_000.0)
        );
        let dr = json!({"id": 6, "stackLevel": 3, "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute", "validTo": "2024-10-09T02:00:00Z",
            "chargingSchedule": [{"id": 2, "startSchedule": "2024-10-09T01:00:00Z", "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5000.0}]}]});
        set.install(Profile::from_v201(&dr, 0, t(0)).unwrap());
        assert_eq!(
            set.charger_limit(day).map(|l| l.0),
            Some(50_000.0),
            "not yet started"
        );
        assert_eq!(
            set.charger_limit(day + Duration::hours(1)).map(|l| l.0),
            Some(5_000.0)
        );
        assert_eq!(
            set.charger_limit(day + Duration::hours(2)).map(|l| l.0),
            Some(20_000.0),
            "expired"
        );
        assert!(Profile::from_v16(&json!({"chargingProfileId": 1}), 0, t(0)).is_err());
    }
}
