//! What a charger has told the central system about itself beyond its boot: the progress of a
//! firmware update and of a diagnostics or log upload (the latest status notification of
//! each), and its settings as last read (1.6 GetConfiguration, 2.0.1 device-model reports).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A long operation a charger reports on with status notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A firmware update (1.6 FirmwareStatusNotification and the security extension's signed
    /// form, 2.0.1 FirmwareStatusNotification).
    Firmware,
    /// An upload of diagnostics or logs (1.6 DiagnosticsStatusNotification and the security
    /// extension's LogStatusNotification, 2.0.1 LogStatusNotification).
    Upload,
}

/// The latest status a charger reported for an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationStatus {
    /// Its status word as the charger sent it (Downloading, Installed, Uploaded, ...).
    pub status: String,
    /// The request it belongs to, when the version numbers them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    /// When it arrived (UTC).
    pub at: DateTime<Utc>,
}

/// One setting as the charger last reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The key (1.6 name, or 2.0.1 `Component.Variable`).
    pub key: String,
    /// Its value, when the charger shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Whether it cannot be changed, when the charger said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    /// When it was read (UTC).
    pub at: DateTime<Utc>,
}

/// Everything kept about a charger's device state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceState {
    /// The latest firmware status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<OperationStatus>,
    /// The latest diagnostics or log upload status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<OperationStatus>,
    /// Its settings as last read, in key order.
    #[serde(default)]
    pub settings: Vec<Setting>,
}
