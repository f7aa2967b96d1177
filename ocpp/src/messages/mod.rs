//! OCPP messages as typed payloads, one module per action (or per family of actions that share
//! their types), each holding the 1.6 and 2.0.1 forms side by side with what they share. The
//! types serialise *and* deserialise, so the gateway (which reads requests and writes answers)
//! and the simulated chargers (which do the opposite) use the same definitions, and a payload
//! is checked against the official schemas by the same code path either way
//! ([`crate::schema::SchemaSet`]).
//!
//! Reading is lenient where the field demands it (timestamps, see [`crate::timestamp`]; unknown
//! fields are ignored, the schema check is what refuses them); writing follows the schemas.

pub mod authorization;
pub mod charging;
pub mod common;
pub mod configuration;
pub mod data;
pub mod maintenance;
pub mod meter;
pub mod operations;
pub mod provisioning;
pub mod remote;
pub mod reply;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::OcppVersion;

/// Why a command has no form for a charger.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RenderError {
    /// A command the gateway carries out itself (reload, disconnect): no OCPP message.
    #[error("{0} is carried out by the gateway, not sent to the charger")]
    NotForTheCharger(String),
    /// RemoteStart's profile is for the transaction it starts.
    #[error("a remote start profile must have purpose Tx")]
    RemoteStartNotTx,
    /// 1.6 transaction ids are integers.
    #[error("1.6 transaction ids are integers, not {0:?}")]
    TransactionIdNotInteger(String),
    /// A TxProfile names its transaction.
    #[error("a Tx profile needs the transaction id")]
    MissingTransactionId,
    /// A limit has at least one period.
    #[error("a charging limit needs at least one period")]
    NoPeriods,
    /// A schedule's first period starts at its start.
    #[error("the first period must start at offset 0")]
    FirstPeriodNotAtZero,
    /// The version cannot trigger that message.
    #[error("{} cannot trigger {message}", version.label())]
    NotTriggerable {
        /// The charger's version.
        version: OcppVersion,
        /// The message asked for.
        message: String,
    },
    /// A 2.0.1 configuration key must name a component and a variable.
    #[error(
        "{0:?} is not a 2.0.1 variable: write Component.Variable (e.g. OCPPCommCtrlr.HeartbeatInterval)"
    )]
    NotAVariable(String),
    /// 2.0.1 reads named variables only.
    #[error("2.0.1 reads named variables only: give at least one Component.Variable")]
    NoVariables,
    /// A raw call names an action OCPP does not have.
    #[error("unknown action {0}")]
    UnknownAction(String),
}

/// A message as a payload. Serialising these types cannot fail: they hold only strings,
/// numbers, enums, timestamps and JSON values.
pub fn payload(message: impl Serialize) -> Value {
    serde_json::to_value(message).expect("OCPP messages serialise")
}

#[cfg(test)]
mod tests {
    use super::authorization::*;
    use super::data::*;
    use super::provisioning::*;
    use super::*;
    use crate::OcppVersion::{V16, V201};
    use chargegrid_core::IdTag;
    use chargegrid_core::driver::IdTagStatus;

    #[test]
    fn the_central_systems_answers_keep_to_the_official_schemas() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-01T08:00:00.123Z")
            .unwrap()
            .to_utc();
        let verdict = Verdict {
            status: IdTagStatus::ConcurrentTx,
            expiry: Some(now),
            parent: Some(IdTag::new("FLEET-1").unwrap()),
        };
        let boot = payload(BootNotificationResponse {
            status: RegistrationStatus::Pending,
            current_time: now,
            interval: 60,
        });
        assert_eq!(boot["currentTime"], "2026-05-01T08:00:00.123Z");
        let heartbeat = payload(HeartbeatResponse { current_time: now });
        let status = payload(StatusResponse {
            status: "Rejected".into(),
            status_info: Some(StatusInfo {
                reason_code: "NotSupported".into(),
                additional_info: Some("no CA".into()),
            }),
        });
        let answers = [
            (V16, "BootNotification", boot.clone()),
            (V201, "BootNotification", boot),
            (V16, "Heartbeat", heartbeat.clone()),
            (V201, "Heartbeat", heartbeat),
            (
                V16,
                "Authorize",
                payload(AuthorizeResponse16 {
                    id_tag_info: IdTagInfo::from(&verdict),
                }),
            ),
            (
                V201,
                "Authorize",
                payload(AuthorizeResponse201 {
                    id_token_info: IdTokenInfo::from(&verdict),
                }),
            ),
            (
                V16,
                "StartTransaction",
                payload(StartTransactionResponse {
                    transaction_id: 7,
                    id_tag_info: IdTagInfo::from(&verdict),
                }),
            ),
            (
                V16,
                "StopTransaction",
                payload(StopTransactionResponse { id_tag_info: None }),
            ),
            (
                V201,
                "TransactionEvent",
                payload(TransactionEventResponse {
                    id_token_info: Some(IdTokenInfo::from(&verdict)),
                }),
            ),
            (V16, "MeterValues", payload(Empty {})),
            (V201, "StatusNotification", payload(Empty {})),
            (
                V16,
                "DataTransfer",
                payload(StatusResponse::of("UnknownVendorId")),
            ),
            (
                V201,
                "DataTransfer",
                payload(StatusResponse::of("UnknownVendorId")),
            ),
            (V201, "SignCertificate", status),
            (
                V201,
                "NotifyEVChargingNeeds",
                payload(StatusResponse::of("Accepted")),
            ),
        ];
        let schemas = crate::schema::Schemas::embedded().unwrap();
        for (version, action, answer) in answers {
            let violations = schemas
                .for_version(version)
                .unwrap()
                .check_response(action, &answer)
                .unwrap();
            assert!(
                violations.is_empty(),
                "{action}: {violations:?} in {answer}"
            );
        }
    }
}
