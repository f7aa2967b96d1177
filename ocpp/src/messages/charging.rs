//! The smart-charging actions, SetChargingProfile, ClearChargingProfile and
//! GetCompositeSchedule, in both versions, and what they share: the rate unit, schedule periods
//! (whose limits are rounded *down* to 0.1, 1.6's `multipleOf`, kept for 2.0.1 too, so rounding
//! can never raise a limit), the profile built from a version-neutral [`ChargingLimit`], and the
//! composite schedule a charger reports (1.6 `chargingSchedule`, 2.0.1 `schedule`).

use chargegrid_core::EvseId;
use chargegrid_core::command::{
    ChargingLimit, CompositeSchedule, ProfilePurpose, RateUnit, SchedulePeriod,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RenderError;
use crate::OcppVersion;

/// `ChargingRateUnitType`: the same two words in both versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargingRateUnit {
    /// Amperes per phase.
    A,
    /// Watts.
    W,
}

impl From<RateUnit> for ChargingRateUnit {
    fn from(u: RateUnit) -> Self {
        match u {
            RateUnit::A => ChargingRateUnit::A,
            RateUnit::W => ChargingRateUnit::W,
        }
    }
}

impl From<ChargingRateUnit> for RateUnit {
    fn from(u: ChargingRateUnit) -> Self {
        match u {
            ChargingRateUnit::A => RateUnit::A,
            ChargingRateUnit::W => RateUnit::W,
        }
    }
}

/// `ChargingSchedulePeriodType`, the same in both versions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingSchedulePeriod {
    /// Seconds after the schedule's start.
    pub start_period: u32,
    /// The limit, in the schedule's unit.
    pub limit: f64,
    /// Phases to use, if restricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_phases: Option<u8>,
}

impl From<ChargingSchedulePeriod> for SchedulePeriod {
    fn from(p: ChargingSchedulePeriod) -> Self {
        SchedulePeriod {
            start_offset_s: p.start_period,
            limit: p.limit,
            phases: p.number_phases,
        }
    }
}

/// GetCompositeSchedule's answer in either version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCompositeScheduleResponse {
    /// Accepted or Rejected.
    pub status: String,
    /// 1.6: the connector the schedule is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
    /// 1.6: when the schedule starts (the answer's own field).
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule_start: Option<DateTime<Utc>>,
    /// 1.6: the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_schedule: Option<ChargingSchedule>,
    /// 2.0.1: the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ChargingSchedule>,
}

impl GetCompositeScheduleResponse {
    /// The version-neutral schedule, when the answer has one.
    pub fn composite(&self) -> Option<CompositeSchedule> {
        let s = self.charging_schedule.as_ref().or(self.schedule.as_ref())?;
        Some(CompositeSchedule {
            start: s
                .start_schedule
                .or(s.schedule_start)
                .or(self.schedule_start),
            duration_s: s.duration,
            unit: s.charging_rate_unit.into(),
            periods: s
                .charging_schedule_period
                .iter()
                .map(|&p| p.into())
                .collect(),
        })
    }
}

/// A limit rounded down to one decimal.
fn tenth_floor(v: f64) -> f64 {
    ((v * 10.0) + 1e-9).floor() / 10.0
}

/// `ChargingProfilePurposeType`: the charger-wide purpose has a name per version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargingProfilePurpose {
    /// 1.6: a cap on the whole charge point.
    ChargePointMaxProfile,
    /// 2.0.1: a cap on the whole charging station.
    ChargingStationMaxProfile,
    /// 2.0.1: a cap on the whole station set by an external system (e.g. the grid operator).
    ChargingStationExternalConstraints,
    /// Default for any transaction.
    TxDefaultProfile,
    /// For one transaction.
    TxProfile,
}

impl ChargingProfilePurpose {
    /// The purpose's name in `version`.
    pub fn of(purpose: ProfilePurpose, version: OcppVersion) -> Self {
        match (purpose, version) {
            (ProfilePurpose::ChargePointMax, OcppVersion::V16) => Self::ChargePointMaxProfile,
            (ProfilePurpose::ChargePointMax, OcppVersion::V201) => Self::ChargingStationMaxProfile,
            (ProfilePurpose::TxDefault, _) => Self::TxDefaultProfile,
            (ProfilePurpose::Tx, _) => Self::TxProfile,
        }
    }
}

/// `ChargingProfileKindType` (chargegrid sends Absolute and Relative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChargingProfileKind {
    /// Starts at `startSchedule`.
    Absolute,
    /// Starts when the transaction does (or now).
    Relative,
    /// Repeats daily or weekly.
    Recurring,
}

/// `RecurrencyKindType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecurrencyKind {
    /// Every day from `startSchedule`.
    Daily,
    /// Every week from `startSchedule`.
    Weekly,
}

/// `ChargingScheduleType` as sent in a profile (1.6, and 2.0.1 with its `id`), and the
/// schedule a charger reports in GetCompositeSchedule's answer (1.6 `chargingSchedule`; 2.0.1
/// `CompositeScheduleType` with `evseId` and `scheduleStart`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingSchedule {
    /// 2.0.1, in a profile: the schedule's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    /// 2.0.1, in a composite schedule: the EVSE it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// How long the schedule lasts, seconds (open-ended when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// Absolute start.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_schedule: Option<DateTime<Utc>>,
    /// 2.0.1, in a composite schedule: when it starts.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub schedule_start: Option<DateTime<Utc>>,
    /// Unit of the limits.
    pub charging_rate_unit: ChargingRateUnit,
    /// Periods by ascending start.
    pub charging_schedule_period: Vec<ChargingSchedulePeriod>,
}

/// `ChargingProfileType` in either version: 1.6 names the id `chargingProfileId`, takes one
/// schedule and an integer transaction id; 2.0.1 names it `id`, takes a list of schedules and a
/// text transaction id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfile {
    /// 1.6: the profile's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile_id: Option<i32>,
    /// 2.0.1: the profile's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    /// The transaction of a TxProfile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionRef>,
    /// Stack level.
    pub stack_level: u32,
    /// Purpose.
    pub charging_profile_purpose: ChargingProfilePurpose,
    /// Kind.
    pub charging_profile_kind: ChargingProfileKind,
    /// How a Recurring profile repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrency_kind: Option<RecurrencyKind>,
    /// Valid from.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_from: Option<DateTime<Utc>>,
    /// Valid until.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_to: Option<DateTime<Utc>>,
    /// The schedule: one in 1.6, a list in 2.0.1.
    pub charging_schedule: Schedules,
}

/// A transaction id as the version has it: 1.6 integer, 2.0.1 text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TransactionRef {
    /// 1.6.
    Integer(i64),
    /// 2.0.1.
    Text(String),
}

impl TransactionRef {
    /// The reference to transaction `id` in `version`; 1.6 ids must be integers.
    pub fn of(id: &str, version: OcppVersion) -> Result<Self, RenderError> {
        match version {
            OcppVersion::V16 => id
                .parse()
                .map(TransactionRef::Integer)
                .map_err(|_| RenderError::TransactionIdNotInteger(id.to_string())),
            OcppVersion::V201 => Ok(TransactionRef::Text(id.to_string())),
        }
    }
}

/// A profile's schedule: one in 1.6, a list in 2.0.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Schedules {
    /// 1.6.
    One(ChargingSchedule),
    /// 2.0.1.
    List(Vec<ChargingSchedule>),
}

impl ChargingProfile {
    /// The profile's id, wherever its version puts it.
    pub fn profile_id(&self) -> Option<i32> {
        self.charging_profile_id.or(self.id)
    }

    /// The first (in 1.6 the only) schedule.
    pub fn schedule(&self) -> Option<&ChargingSchedule> {
        match &self.charging_schedule {
            Schedules::One(s) => Some(s),
            Schedules::List(list) => list.first(),
        }
    }

    /// The profile for `limit` in `version`, after checking it; `for_transaction` adds the
    /// transaction id of a TxProfile (RemoteStart's profile has none: the transaction does not
    /// exist yet).
    pub fn of(
        limit: &ChargingLimit,
        version: OcppVersion,
        for_transaction: bool,
    ) -> Result<Self, RenderError> {
        if limit.periods.is_empty() {
            return Err(RenderError::NoPeriods);
        }
        if limit.periods[0].start_offset_s != 0 {
            return Err(RenderError::FirstPeriodNotAtZero);
        }
        let transaction_id = if for_transaction && limit.purpose == ProfilePurpose::Tx {
            let id = limit
                .transaction_id
                .as_deref()
                .ok_or(RenderError::MissingTransactionId)?;
            Some(TransactionRef::of(id, version)?)
        } else {
            None
        };
        let v16 = version == OcppVersion::V16;
        let schedule = ChargingSchedule {
            id: (!v16).then_some(limit.profile_id),
            evse_id: None,
            schedule_start: None,
            duration: None,
            start_schedule: limit.start,
            charging_rate_unit: limit.unit.into(),
            charging_schedule_period: limit
                .periods
                .iter()
                .map(|p| ChargingSchedulePeriod {
                    start_period: p.start_offset_s,
                    limit: tenth_floor(p.limit.max(0.0)),
                    number_phases: p.phases,
                })
                .collect(),
        };
        Ok(ChargingProfile {
            charging_profile_id: v16.then_some(limit.profile_id),
            id: (!v16).then_some(limit.profile_id),
            transaction_id,
            stack_level: limit.stack_level,
            charging_profile_purpose: ChargingProfilePurpose::of(limit.purpose, version),
            charging_profile_kind: if limit.start.is_some() {
                ChargingProfileKind::Absolute
            } else {
                ChargingProfileKind::Relative
            },
            recurrency_kind: None,
            valid_from: None,
            valid_to: limit.valid_to,
            charging_schedule: if v16 {
                Schedules::One(schedule)
            } else {
                Schedules::List(vec![schedule])
            },
        })
    }
}

/// 1.6 SetChargingProfile.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetChargingProfile16 {
    /// Connector (0 = the charge point).
    pub connector_id: u32,
    /// The profile.
    pub cs_charging_profiles: ChargingProfile,
}

/// 2.0.1 SetChargingProfileRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetChargingProfile201 {
    /// EVSE (0 = the station).
    pub evse_id: u32,
    /// The profile.
    pub charging_profile: ChargingProfile,
}

/// 1.6 ClearChargingProfile.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearChargingProfile16 {
    /// A profile id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i32>,
    /// Connector filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
    /// Purpose filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile_purpose: Option<ChargingProfilePurpose>,
    /// Stack level filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_level: Option<u32>,
}

/// 2.0.1 `ClearChargingProfileType` (the filter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearCriteria {
    /// EVSE filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// Purpose filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile_purpose: Option<ChargingProfilePurpose>,
    /// Stack level filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_level: Option<u32>,
}

/// 2.0.1 ClearChargingProfileRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearChargingProfile201 {
    /// A profile id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile_id: Option<i32>,
    /// The filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile_criteria: Option<ClearCriteria>,
}

/// GetCompositeSchedule's request: 1.6 addresses a `connectorId`, 2.0.1 an `evseId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCompositeSchedule {
    /// 1.6: the connector (0 = the charge point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
    /// 2.0.1: the EVSE (0 = the station).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// Seconds from now.
    pub duration: u32,
    /// Preferred unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_rate_unit: Option<ChargingRateUnit>,
}

impl GetCompositeSchedule {
    /// The request for `evse` in `version`.
    pub fn of(evse: EvseId, duration_s: u32, unit: Option<RateUnit>, version: OcppVersion) -> Self {
        let v16 = version == OcppVersion::V16;
        GetCompositeSchedule {
            connector_id: v16.then_some(evse.0),
            evse_id: (!v16).then_some(evse.0),
            duration: duration_s,
            charging_rate_unit: unit.map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_down_never_up() {
        assert_eq!(tenth_floor(16.19), 16.1);
        assert_eq!(tenth_floor(16.1), 16.1);
        assert_eq!(tenth_floor(7399.97), 7399.9);
        assert_eq!(tenth_floor(0.0), 0.0);
    }
}
