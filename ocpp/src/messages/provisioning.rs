//! BootNotification's and Heartbeat's answers: the same fields in 1.6 and 2.0.1.

use chargegrid_core::network::Registration;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `RegistrationStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationStatus {
    /// May talk.
    Accepted,
    /// Boot again after the interval; the central system may configure it meanwhile.
    Pending,
    /// Boot again after the interval.
    Rejected,
}

impl From<Registration> for RegistrationStatus {
    fn from(r: Registration) -> Self {
        match r {
            Registration::Accepted => RegistrationStatus::Accepted,
            Registration::Pending => RegistrationStatus::Pending,
            Registration::Rejected => RegistrationStatus::Rejected,
        }
    }
}

/// BootNotification's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotificationResponse {
    /// The registration.
    pub status: RegistrationStatus,
    /// The central system's time.
    #[serde(with = "crate::timestamp")]
    pub current_time: DateTime<Utc>,
    /// Heartbeat interval when accepted, retry interval otherwise, in seconds.
    pub interval: u64,
}

/// Heartbeat's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatResponse {
    /// The central system's time.
    #[serde(with = "crate::timestamp")]
    pub current_time: DateTime<Utc>,
}
