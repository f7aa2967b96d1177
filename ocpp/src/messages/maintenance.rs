//! Firmware, diagnostics, the local authorisation list and vendor data, in both versions:
//! UpdateFirmware, GetDiagnostics (1.6) / GetLog (2.0.1), SendLocalList, GetLocalListVersion,
//! and the answers chargegrid reads from them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::IdToken;

/// 1.6 UpdateFirmware.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFirmware16 {
    /// Where to download it.
    pub location: String,
    /// When.
    #[serde(with = "crate::timestamp")]
    pub retrieve_date: DateTime<Utc>,
    /// Download attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Seconds between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_interval: Option<u32>,
}

/// 2.0.1 `FirmwareType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Firmware {
    /// Where to download it.
    pub location: String,
    /// When.
    #[serde(with = "crate::timestamp")]
    pub retrieve_date_time: DateTime<Utc>,
}

/// 2.0.1 UpdateFirmwareRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFirmware201 {
    /// Ties the status notifications to this request.
    pub request_id: i32,
    /// What and when.
    pub firmware: Firmware,
    /// Download attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// Seconds between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_interval: Option<u32>,
}

/// 1.6 GetDiagnostics.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetDiagnostics {
    /// Where to upload.
    pub location: String,
    /// Oldest entries wanted.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<DateTime<Utc>>,
    /// Newest entries wanted.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_time: Option<DateTime<Utc>>,
}

/// 2.0.1 `LogParametersType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogParameters {
    /// Where to upload.
    pub remote_location: String,
    /// Oldest entries wanted.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub oldest_timestamp: Option<DateTime<Utc>>,
    /// Newest entries wanted.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub latest_timestamp: Option<DateTime<Utc>>,
}

/// 2.0.1 GetLogRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetLog {
    /// DiagnosticsLog or SecurityLog.
    pub log_type: String,
    /// Ties the status notifications to this request.
    pub request_id: i32,
    /// Where and what.
    pub log: LogParameters,
}

/// The answer to an upload request: 1.6 `fileName`, 2.0.1 `filename` (and a status).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadResponse {
    /// 1.6.
    #[serde(default)]
    pub file_name: Option<String>,
    /// 2.0.1.
    #[serde(default)]
    pub filename: Option<String>,
}

/// A token's status in a local list (both versions: `idTagInfo` / `idTokenInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListStatus {
    /// Accepted, Blocked, Expired, Invalid.
    pub status: String,
}

/// 1.6 `AuthorizationData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationData16 {
    /// The token.
    pub id_tag: String,
    /// Its status; absent removes it (differential update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_tag_info: Option<ListStatus>,
}

/// 1.6 SendLocalList.req.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendLocalList16 {
    /// The version after the update.
    pub list_version: i32,
    /// Full or Differential.
    pub update_type: String,
    /// The tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_authorization_list: Vec<AuthorizationData16>,
}

/// 2.0.1 `AuthorizationData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationData201 {
    /// The token.
    pub id_token: IdToken,
    /// Its status; absent removes it (differential update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_info: Option<ListStatus>,
}

/// 2.0.1 SendLocalListRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendLocalList201 {
    /// The version after the update.
    pub version_number: i32,
    /// Full or Differential.
    pub update_type: String,
    /// The tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_authorization_list: Vec<AuthorizationData201>,
}

/// GetLocalListVersion's answer: 1.6 `listVersion`, 2.0.1 `versionNumber`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalListVersionResponse {
    /// 1.6.
    #[serde(default)]
    pub list_version: Option<i32>,
    /// 2.0.1.
    #[serde(default)]
    pub version_number: Option<i32>,
}

/// DataTransfer's answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DataTransferResponse {
    /// The vendor's data (text in 1.6, any JSON in 2.0.1).
    #[serde(default)]
    pub data: Option<Value>,
}
