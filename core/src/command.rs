//! The version-neutral command set: what any part of chargegrid (API, scheduler, operators)
//! can ask a charger to do. The OCPP adapters render each as a 1.6 or 2.0.1 CALL; the command
//! bus carries them to whichever node holds the charger's socket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ConnectorId, EvseId, IdTag};

/// The unit a charging limit is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateUnit {
    /// Amperes per phase.
    A,
    /// Watts, total.
    W,
}

/// What a charging profile is for (OCPP `ChargingProfilePurpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfilePurpose {
    /// Applies to the whole charger (site-level cap).
    ChargePointMax,
    /// Default for any transaction on the EVSE (our failsafe).
    TxDefault,
    /// For one running transaction.
    Tx,
}

/// One period of a limit schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SchedulePeriod {
    /// Seconds after the schedule start.
    pub start_offset_s: u32,
    /// The limit, in the schedule's unit.
    pub limit: f64,
    /// Phases to use, if restricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<u8>,
}

/// A charging limit over time, expressed once and rendered per OCPP version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingLimit {
    /// Profile id on the charger (we reuse ids so a new profile replaces the old one).
    pub profile_id: i32,
    /// Stack level (higher wins among same purpose).
    pub stack_level: u32,
    /// What it is for.
    pub purpose: ProfilePurpose,
    /// The transaction it applies to, for `Tx` profiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Absolute start (UTC); `None` means "from now".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// Unit of the periods' limits.
    pub unit: RateUnit,
    /// Periods, by ascending start offset; the first starts at 0.
    pub periods: Vec<SchedulePeriod>,
    /// Until when the limit is valid, if bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<DateTime<Utc>>,
}

/// Reset kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResetKind {
    /// Restart software, finishing transactions gracefully.
    Soft,
    /// Restart now.
    Hard,
}

/// A command for one charger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ChargerCommand {
    /// Start charging for a token (RemoteStartTransaction / RequestStartTransaction).
    RemoteStart {
        /// EVSE (2.0.1) or connector (1.6) to use; the charger picks when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evse: Option<EvseId>,
        /// The token to charge for.
        id_tag: IdTag,
        /// An initial limit for the transaction.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<ChargingLimit>,
        /// Correlates the resulting transaction with this request (2.0.1 `remoteStartId`).
        remote_start_id: i32,
    },
    /// Stop a transaction.
    RemoteStop {
        /// The OCPP transaction id.
        transaction_id: String,
    },
    /// Install a charging limit.
    SetChargingLimit {
        /// EVSE (0 = whole charger).
        evse: EvseId,
        /// The limit.
        limit: ChargingLimit,
    },
    /// Remove charging limits.
    ClearChargingLimit {
        /// A specific profile, or all matching the rest.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profile_id: Option<i32>,
        /// EVSE filter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evse: Option<EvseId>,
        /// Purpose filter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<ProfilePurpose>,
    },
    /// Ask the charger for its effective schedule.
    GetCompositeSchedule {
        /// EVSE (0 = whole charger).
        evse: EvseId,
        /// Seconds from now.
        duration_s: u32,
        /// Preferred unit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<RateUnit>,
    },
    /// Reset the charger.
    Reset {
        /// Soft or hard.
        kind: ResetKind,
    },
    /// Make an EVSE (or the charger, with 0) operative or not.
    ChangeAvailability {
        /// EVSE (0 = whole charger).
        evse: EvseId,
        /// Operative (true) or inoperative.
        operative: bool,
    },
    /// Unlock a connector.
    UnlockConnector {
        /// EVSE.
        evse: EvseId,
        /// Connector.
        connector: ConnectorId,
    },
    /// Reserve an EVSE for a token.
    ReserveNow {
        /// Reservation id.
        reservation_id: i32,
        /// EVSE (0 = any, 1.6).
        evse: EvseId,
        /// Token.
        id_tag: IdTag,
        /// Expiry (UTC).
        expires_at: DateTime<Utc>,
    },
    /// Cancel a reservation.
    CancelReservation {
        /// Reservation id.
        reservation_id: i32,
    },
    /// Ask the charger to send a message now.
    TriggerMessage {
        /// The version-neutral message name (e.g. "StatusNotification", "MeterValues").
        message: String,
        /// EVSE, if relevant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evse: Option<EvseId>,
    },
    /// Read configuration values: 1.6 GetConfiguration (keys are 1.6 key names; none asks for
    /// all), 2.0.1 GetVariables (keys are `Component.Variable`, e.g.
    /// `OCPPCommCtrlr.HeartbeatInterval`; at least one).
    GetConfiguration {
        /// The keys wanted.
        #[serde(default)]
        keys: Vec<String>,
    },
    /// Change one configuration value: 1.6 ChangeConfiguration, 2.0.1 SetVariables (the key as
    /// for [`ChargerCommand::GetConfiguration`]).
    SetConfiguration {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Clear the charger's authorisation cache.
    ClearCache,
    /// A version-specific OCPP call sent verbatim (operators' console, rarely used actions).
    Raw {
        /// OCPP action name.
        action: String,
        /// Payload, validated against the charger's version schema before sending.
        payload: serde_json::Value,
    },
    /// Download and install firmware: 1.6 and 2.0.1 UpdateFirmware. Progress comes back as
    /// firmware status notifications (kept as the charger's device state).
    UpdateFirmware {
        /// Request id (2.0.1; ties the status notifications to this request).
        request_id: i32,
        /// Where the charger downloads it (URI).
        location: String,
        /// When to download it (UTC).
        retrieve_at: DateTime<Utc>,
        /// How many times to try downloading.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retries: Option<u32>,
        /// Seconds between tries.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_interval_s: Option<u32>,
    },
    /// Upload diagnostics to `location`: 1.6 GetDiagnostics, 2.0.1 GetLog (DiagnosticsLog).
    /// Progress comes back as diagnostics or log status notifications.
    UploadDiagnostics {
        /// Request id (2.0.1).
        request_id: i32,
        /// Where the charger uploads them (URI).
        location: String,
        /// Oldest entries wanted (UTC).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<DateTime<Utc>>,
        /// Newest entries wanted (UTC).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<DateTime<Utc>>,
    },
    /// Install a local authorisation list: 1.6 and 2.0.1 SendLocalList.
    SendLocalList {
        /// The list's version after this update.
        version: i32,
        /// The whole list (true) or changes to it.
        full: bool,
        /// The tokens; in a change, one without a status is removed.
        entries: Vec<LocalListEntry>,
    },
    /// The version of the charger's local authorisation list: GetLocalListVersion.
    GetLocalListVersion,
    /// Vendor-specific data: DataTransfer (the same in both versions).
    DataTransfer {
        /// The vendor.
        vendor_id: String,
        /// The vendor's message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
        /// Its data, as text.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        data: Option<String>,
    },
    /// Not sent to the charger: the gateway node holding its connection re-reads the charger's
    /// configuration from the store (an operator changed it through the API).
    ReloadConfiguration,
    /// Not sent to the charger: the gateway node holding its connection closes it (an operator
    /// deleted the charger from the network).
    Disconnect,
}

impl ChargerCommand {
    /// A short name for logs and metrics.
    pub fn name(&self) -> &str {
        match self {
            ChargerCommand::RemoteStart { .. } => "remote_start",
            ChargerCommand::RemoteStop { .. } => "remote_stop",
            ChargerCommand::SetChargingLimit { .. } => "set_charging_limit",
            ChargerCommand::ClearChargingLimit { .. } => "clear_charging_limit",
            ChargerCommand::GetCompositeSchedule { .. } => "get_composite_schedule",
            ChargerCommand::Reset { .. } => "reset",
            ChargerCommand::ChangeAvailability { .. } => "change_availability",
            ChargerCommand::UnlockConnector { .. } => "unlock_connector",
            ChargerCommand::ReserveNow { .. } => "reserve_now",
            ChargerCommand::CancelReservation { .. } => "cancel_reservation",
            ChargerCommand::TriggerMessage { .. } => "trigger_message",
            ChargerCommand::GetConfiguration { .. } => "get_configuration",
            ChargerCommand::SetConfiguration { .. } => "set_configuration",
            ChargerCommand::ClearCache => "clear_cache",
            ChargerCommand::Raw { .. } => "raw",
            ChargerCommand::UpdateFirmware { .. } => "update_firmware",
            ChargerCommand::UploadDiagnostics { .. } => "upload_diagnostics",
            ChargerCommand::SendLocalList { .. } => "send_local_list",
            ChargerCommand::GetLocalListVersion => "get_local_list_version",
            ChargerCommand::DataTransfer { .. } => "data_transfer",
            ChargerCommand::ReloadConfiguration => "reload_configuration",
            ChargerCommand::Disconnect => "disconnect",
        }
    }
}

/// One token of a local authorisation list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalListEntry {
    /// The token.
    pub id_tag: IdTag,
    /// Accepted, Blocked, Expired or Invalid; absent removes it (in a change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A charger's answer to a command, decoded by the OCPP layer: no crate above `ocpp` reads an
/// OCPP payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CommandReply {
    /// The charger answered with a CALLRESULT.
    Result {
        /// The `status` of the answer when there is one (Accepted, Rejected, Unlocked, ...; the
        /// same words in OCPP 1.6 and 2.0.1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        /// What the answer carries beyond its status, for the commands whose answer has more.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        details: Option<ReplyDetails>,
    },
    /// The charger answered with a CALLERROR.
    CallError {
        /// OCPP error code.
        code: String,
        /// Error description.
        description: String,
    },
    /// The charger did not answer in time.
    Timeout,
    /// No node holds a socket for this charger.
    Offline,
    /// The command cannot be expressed for this charger's OCPP version or config.
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// The part of an answer beyond its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplyDetails {
    /// The answer to [`ChargerCommand::GetCompositeSchedule`]: the limits the charger will
    /// apply.
    CompositeSchedule(CompositeSchedule),
    /// The answer to [`ChargerCommand::GetConfiguration`].
    Configuration(ConfigurationReport),
    /// The answer to [`ChargerCommand::GetLocalListVersion`].
    LocalListVersion(i32),
    /// The answer to [`ChargerCommand::UploadDiagnostics`]: the file it will upload, if named.
    Upload {
        /// The file name.
        file_name: Option<String>,
    },
    /// The answer to [`ChargerCommand::DataTransfer`]: the vendor's data, as text.
    DataTransfer {
        /// The data.
        data: Option<String>,
    },
    /// The answer to a [`ChargerCommand::Raw`] call, verbatim: shown to the operator who sent
    /// it, read by nothing in chargegrid.
    Raw {
        /// The answer payload.
        payload: serde_json::Value,
    },
}

/// Configuration values a charger reported, in one shape for both versions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationReport {
    /// The values it has.
    pub values: Vec<ConfigurationValue>,
    /// Keys it does not know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}

/// One configuration value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigurationValue {
    /// The key (1.6 name, or 2.0.1 `Component.Variable`).
    pub key: String,
    /// Its value, when it has one to show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Whether it cannot be changed, when the charger said (1.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
}

/// A charger's composite schedule: the limits it will apply on one EVSE, all profiles combined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeSchedule {
    /// When the first period starts (UTC), when the charger said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// How long the schedule covers, in seconds, when the charger said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<u32>,
    /// Unit of the periods' limits.
    pub unit: RateUnit,
    /// Periods, by ascending start offset.
    pub periods: Vec<SchedulePeriod>,
}

impl CommandReply {
    /// A CALLRESULT with only a status.
    pub fn status(status: &str) -> Self {
        CommandReply::Result {
            status: Some(status.to_string()),
            details: None,
        }
    }

    /// What a CALLRESULT carried beyond its status.
    pub fn details(&self) -> Option<&ReplyDetails> {
        match self {
            CommandReply::Result { details, .. } => details.as_ref(),
            _ => None,
        }
    }

    /// Whether the charger accepted (a result with status `Accepted`, or a result without status).
    pub fn is_accepted(&self) -> bool {
        match self {
            CommandReply::Result { status, .. } => {
                status.as_deref().is_none_or(|s| s == "Accepted")
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_through_json() {
        let cmd = ChargerCommand::RemoteStart {
            evse: Some(EvseId(1)),
            id_tag: IdTag::new("TAG1").unwrap(),
            limit: None,
            remote_start_id: 7,
        };
        let text = serde_json::to_string(&cmd).unwrap();
        assert!(text.contains("\"command\":\"remote_start\""));
        let back: ChargerCommand = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cmd);
    }

    #[test]
    fn accepted_means_status_accepted() {
        let ok = CommandReply::status("Accepted");
        let no = CommandReply::status("Rejected");
        assert!(ok.is_accepted());
        assert!(!no.is_accepted());
        assert!(!CommandReply::Timeout.is_accepted());
    }
}
