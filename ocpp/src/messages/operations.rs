//! The operator's actions on a charger: Reset, ChangeAvailability, UnlockConnector,
//! TriggerMessage, ReserveNow and CancelReservation, in both versions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::common::{Evse, IdToken};

/// Reset's request: 1.6 `type` Soft / Hard, 2.0.1 OnIdle / Immediate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reset {
    /// The reset kind in the version's words.
    #[serde(rename = "type")]
    pub kind: String,
}

/// ChangeAvailability's `type` (1.6) or `operationalStatus` (2.0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    /// In service.
    Operative,
    /// Out of service.
    Inoperative,
}

/// 1.6 ChangeAvailability.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeAvailability16 {
    /// Connector (0 = the charge point).
    pub connector_id: u32,
    /// The new availability.
    #[serde(rename = "type")]
    pub kind: Availability,
}

/// 2.0.1 ChangeAvailabilityRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeAvailability201 {
    /// The new availability.
    pub operational_status: Availability,
    /// The EVSE; the whole station when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse: Option<Evse>,
}

/// UnlockConnector's request: 1.6 has the connector only, 2.0.1 the EVSE too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockConnector {
    /// 2.0.1: the EVSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
    /// The connector.
    pub connector_id: u32,
}

/// TriggerMessage's request: 1.6 addresses a `connectorId`, 2.0.1 an `evse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerMessage {
    /// The message wanted.
    pub requested_message: String,
    /// 1.6: the connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
    /// 2.0.1: the EVSE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse: Option<Evse>,
}

/// The messages a 1.6 charger can be asked to send.
pub const TRIGGERABLE_16: &[&str] = &[
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
];

/// The messages a 2.0.1 station can be asked to send.
pub const TRIGGERABLE_201: &[&str] = &[
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "StatusNotification",
    "TransactionEvent",
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
];

/// 1.6 ReserveNow.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveNow16 {
    /// Connector (0 = any).
    pub connector_id: u32,
    /// Expiry.
    #[serde(with = "crate::timestamp")]
    pub expiry_date: DateTime<Utc>,
    /// The token.
    pub id_tag: String,
    /// Reservation id.
    pub reservation_id: i32,
}

/// 2.0.1 ReserveNowRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveNow201 {
    /// Reservation id.
    pub id: i32,
    /// Expiry.
    #[serde(with = "crate::timestamp")]
    pub expiry_date_time: DateTime<Utc>,
    /// The token.
    pub id_token: IdToken,
    /// EVSE; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_id: Option<u32>,
}

/// CancelReservation's request, the same in both versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelReservation {
    /// Reservation id.
    pub reservation_id: i32,
}
