//! The small messages: DataTransfer and SecurityEventNotification (the same in 1.6's security
//! extension and 2.0.1), CertificateSigned, and the answers that are empty or a bare status
//! (with 2.0.1's optional `statusInfo`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// DataTransfer's request in either direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransfer {
    /// Vendor.
    pub vendor_id: String,
    /// Message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Data (any JSON in 2.0.1, text in 1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// SecurityEventNotification's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventNotification {
    /// Event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// When.
    #[serde(with = "crate::timestamp")]
    pub timestamp: DateTime<Utc>,
    /// Details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tech_info: Option<String>,
}

/// CertificateSigned's request: 1.6 has the chain only, 2.0.1 the certificate's type too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateSigned {
    /// PEM chain, leaf first.
    pub certificate_chain: String,
    /// 2.0.1: `ChargingStationCertificate` or `V2GCertificate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<String>,
}

/// An answer without fields (StatusNotification, MeterValues, notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// 2.0.1 `StatusInfoType`: why a status was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusInfo {
    /// A reason code (at most 20 characters).
    pub reason_code: String,
    /// Details (at most 512 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
}

/// An answer that is a status (DataTransfer, SignCertificate, NotifyEVChargingNeeds, and the
/// charger's answers to most commands).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    /// Accepted, Rejected, UnknownVendorId, ...
    pub status: String,
    /// 2.0.1: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_info: Option<StatusInfo>,
}

impl StatusResponse {
    /// A bare status.
    pub fn of(status: &str) -> Self {
        StatusResponse {
            status: status.to_string(),
            status_info: None,
        }
    }
}
