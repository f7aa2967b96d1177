//! OCPP 2.0.1 requests from charging station to CSMS, with the fields chargegrid uses (names
//! and optionality per the 2.0.1 schemas; `customData` is accepted and ignored). Timestamps are
//! read leniently.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::messages::common::{Evse, IdToken};
pub use crate::messages::meter::{MeterValue, SampledValue, UnitOfMeasure};

/// `ChargingStationType` inside a boot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingStation {
    /// Model.
    pub model: String,
    /// Vendor.
    pub vendor_name: String,
    /// Serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Firmware version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
}

/// BootNotificationRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotification {
    /// The station.
    pub charging_station: ChargingStation,
    /// Why it booted.
    pub reason: String,
}

/// StatusNotificationRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNotification {
    /// When.
    #[serde(with = "crate::timestamp")]
    pub timestamp: DateTime<Utc>,
    /// Available, Occupied, Reserved, Unavailable, Faulted.
    pub connector_status: String,
    /// EVSE.
    pub evse_id: u32,
    /// Connector on the EVSE.
    pub connector_id: u32,
}

/// AuthorizeRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorize {
    /// The token.
    pub id_token: IdToken,
}

/// `TransactionType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionInfo {
    /// The station's transaction id.
    pub transaction_id: String,
    /// Charging, EVConnected, SuspendedEV, SuspendedEVSE, Idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_state: Option<String>,
    /// Why it stopped (on Ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_reason: Option<String>,
    /// The RequestStartTransaction this came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_start_id: Option<i64>,
}

/// TransactionEventRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionEvent {
    /// Started, Updated, Ended.
    pub event_type: String,
    /// When.
    #[serde(with = "crate::timestamp")]
    pub timestamp: DateTime<Utc>,
    /// Why this event was sent.
    pub trigger_reason: String,
    /// Sequence number, incremented per event of the station.
    pub seq_no: i64,
    /// Whether it happened while offline.
    #[serde(default)]
    pub offline: bool,
    /// Phases used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_phases_used: Option<u8>,
    /// The transaction.
    pub transaction_info: TransactionInfo,
    /// The token, when (newly) known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<IdToken>,
    /// The EVSE (required on the first event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse: Option<Evse>,
    /// Meter values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meter_value: Vec<MeterValue>,
    /// Reservation used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<i64>,
}

/// MeterValuesRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValues {
    /// EVSE (0 = main meter).
    pub evse_id: u32,
    /// Values.
    pub meter_value: Vec<MeterValue>,
}

/// `ACChargingParametersType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcParameters {
    /// Energy wanted, Wh.
    pub energy_amount: f64,
    /// Minimum current per phase, A.
    pub ev_min_current: f64,
    /// Maximum current per phase, A.
    pub ev_max_current: f64,
    /// Maximum voltage, V.
    pub ev_max_voltage: f64,
}

/// `DCChargingParametersType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DcParameters {
    /// Maximum current, A.
    pub ev_max_current: f64,
    /// Maximum voltage, V.
    pub ev_max_voltage: f64,
    /// Energy wanted, Wh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_amount: Option<f64>,
    /// Maximum power, W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ev_max_power: Option<f64>,
    /// State of charge, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_of_charge: Option<f64>,
    /// Battery capacity, Wh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ev_energy_capacity: Option<f64>,
    /// SoC considered full, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_soc: Option<f64>,
}

/// `ChargingNeedsType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingNeeds {
    /// DC, AC_single_phase, AC_two_phase, AC_three_phase.
    pub requested_energy_transfer: String,
    /// When the EV leaves.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub departure_time: Option<DateTime<Utc>>,
    /// AC parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ac_charging_parameters: Option<AcParameters>,
    /// DC parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dc_charging_parameters: Option<DcParameters>,
}

/// NotifyEVChargingNeedsRequest (ISO 15118).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyEvChargingNeeds {
    /// EVSE.
    pub evse_id: u32,
    /// The needs.
    pub charging_needs: ChargingNeeds,
}

/// SignCertificateRequest: the station's certificate signing request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignCertificate {
    /// PEM-encoded PKCS#10 request.
    pub csr: String,
    /// `ChargingStationCertificate` (the default) or `V2GCertificate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<String>,
}

/// NotifyReport.req: one part of a device-model report (after GetBaseReport or GetReport).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyReport {
    /// The request it answers.
    pub request_id: i64,
    /// When the charger made it.
    pub generated_at: String,
    /// More parts follow.
    #[serde(default)]
    pub tbc: bool,
    /// This part's number, from 0.
    pub seq_no: i64,
    /// The variables reported.
    #[serde(default)]
    pub report_data: Vec<ReportData>,
}

/// A component or a variable, by name (and instance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedPart {
    /// Its name.
    pub name: String,
    /// Its instance, when there are several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl NamedPart {
    /// `name`, or `name[instance]`.
    pub fn label(&self) -> String {
        match &self.instance {
            Some(i) => format!("{}[{i}]", self.name),
            None => self.name.clone(),
        }
    }
}

/// One variable of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportData {
    /// The component.
    pub component: NamedPart,
    /// The variable.
    pub variable: NamedPart,
    /// Its attributes (Actual, Target, MinSet, MaxSet).
    pub variable_attribute: Vec<VariableAttribute>,
}

impl ReportData {
    /// The key chargegrid uses for it, `Component.Variable` (instances in brackets).
    pub fn key(&self) -> String {
        format!("{}.{}", self.component.label(), self.variable.label())
    }

    /// The Actual attribute (the one without a type is Actual).
    pub fn actual(&self) -> Option<&VariableAttribute> {
        self.variable_attribute
            .iter()
            .find(|a| a.kind.as_deref().is_none_or(|k| k == "Actual"))
    }
}

/// One attribute of a variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariableAttribute {
    /// Actual (default), Target, MinSet or MaxSet.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its value (absent for write-only variables).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// ReadOnly, WriteOnly or ReadWrite (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutability: Option<String>,
}
