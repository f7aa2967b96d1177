//! OCPP 1.6 requests from charger to central system, with the fields chargegrid uses. Field
//! names and optionality follow the 1.6 JSON schemas; timestamps are read leniently (see
//! [`crate::timestamp`]). Unknown fields are ignored here: the official schema check, when
//! configured, is what rejects them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::messages::data::{DataTransfer, SecurityEventNotification};
pub use crate::messages::meter::{MeterValue, SampledValue};

/// BootNotification.req
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotification {
    /// Vendor.
    pub charge_point_vendor: String,
    /// Model.
    pub charge_point_model: String,
    /// Serial number of the charge point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_point_serial_number: Option<String>,
    /// Serial number of the charge box.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_box_serial_number: Option<String>,
    /// Firmware version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// ICCID of the modem's SIM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iccid: Option<String>,
    /// IMSI of the modem's SIM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imsi: Option<String>,
    /// Main meter type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_type: Option<String>,
    /// Main meter serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_serial_number: Option<String>,
}

/// StatusNotification.req
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNotification {
    /// Connector (0 = the whole charge point).
    pub connector_id: u32,
    /// Error code (`NoError` when fine).
    pub error_code: String,
    /// Status.
    pub status: String,
    /// Free-form information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// When the status changed.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<DateTime<Utc>>,
    /// Vendor id for vendor error codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    /// Vendor error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_error_code: Option<String>,
}

/// Authorize.req
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorize {
    /// The token.
    pub id_tag: String,
}

/// StartTransaction.req
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransaction {
    /// Connector.
    pub connector_id: u32,
    /// Token.
    pub id_tag: String,
    /// Energy register at start, Wh.
    pub meter_start: i64,
    /// Reservation this transaction uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<i32>,
    /// When it started.
    #[serde(with = "crate::timestamp")]
    pub timestamp: DateTime<Utc>,
}

/// StopTransaction.req
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTransaction {
    /// Token used to stop, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_tag: Option<String>,
    /// Energy register at stop, Wh.
    pub meter_stop: i64,
    /// When it stopped.
    #[serde(with = "crate::timestamp")]
    pub timestamp: DateTime<Utc>,
    /// The transaction (as we assigned it; `-1` or unknown ones are reconciled).
    pub transaction_id: i64,
    /// Why it stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Meter values recorded during the transaction.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transaction_data: Vec<MeterValue>,
}

/// MeterValues.req
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValues {
    /// Connector (0 = main meter).
    pub connector_id: u32,
    /// Transaction, if the values belong to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    /// Samples.
    pub meter_value: Vec<MeterValue>,
}

/// DiagnosticsStatusNotification.req, FirmwareStatusNotification.req and the security
/// extension's status notifications: a status (and request id for the latter).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// The status.
    pub status: String,
    /// Request id (security extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
}

/// SignCertificate.req (security extension): the charger's certificate signing request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignCertificate {
    /// PEM-encoded PKCS#10 request.
    pub csr: String,
}
