//! What is known about a session besides its meter samples: where, which vehicle, DC or AC,
//! why it stopped, connector status changes and EV error codes seen during it.

use chargegrid_core::network::ConnectorStatus;
use chargegrid_core::session::{Session, StopReason};
use chargegrid_core::{ChargerId, SessionId, VehicleId, WattHours, Watts};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A connector status change reported during the session (StatusNotification).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The new status.
    pub status: ConnectorStatus,
}

/// An error code attributed to the EV (ISO 15118 / DIN 70121 `DC_EVErrorCode`, CHAdeMO fault
/// flags, or a vendor code), as the gateway received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvErrorReport {
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// The code or text as received.
    pub code: String,
}

/// Context of one session for feature extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionContext {
    /// The session.
    pub session: SessionId,
    /// The vehicle, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleId>,
    /// The charger.
    pub charger: ChargerId,
    /// Whether the connector is DC (then current and voltage are the battery's).
    pub dc: bool,
    /// Start (UTC).
    pub started_at: DateTime<Utc>,
    /// End (UTC), when ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    /// The vehicle's nominal usable capacity, when known (plausibility checks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nominal_capacity: Option<WattHours>,
    /// The charger's (or connector's) largest power, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charger_max_power: Option<Watts>,
    /// Odometer at plug-in (km), when the vehicle or fleet reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odometer_km: Option<f64>,
    /// Connector status changes during the session, in any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_changes: Vec<StatusChange>,
    /// EV error codes seen during the session.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ev_errors: Vec<EvErrorReport>,
}

impl SessionContext {
    /// The context of a stored session; optional parts (nominal capacity, status changes,
    /// errors, odometer) start empty.
    pub fn from_session(session: &Session, dc: bool) -> Self {
        Self {
            session: session.id.clone(),
            vehicle: session.vehicle.clone(),
            charger: session.charger.clone(),
            dc,
            started_at: session.started_at,
            ended_at: session.ended_at,
            stop_reason: session.stop_reason.clone(),
            nominal_capacity: None,
            charger_max_power: None,
            odometer_km: None,
            status_changes: Vec::new(),
            ev_errors: Vec::new(),
        }
    }

    /// Whether the session was ended by the EV (its BMS), not the driver or the charger.
    pub fn ev_side_abort(&self) -> bool {
        matches!(self.stop_reason, Some(StopReason::EvAbort))
    }
}
