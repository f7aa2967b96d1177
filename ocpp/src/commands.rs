//! Renders version-neutral [`ChargerCommand`]s as OCPP CALLs (action and payload) for the
//! charger's version, through the typed messages of [`crate::messages`]. In 1.6 an EVSE is
//! addressed by its connector number, so chargegrid's EVSE id is sent as `connectorId`.

use chargegrid_core::command::{ChargerCommand, ProfilePurpose, ResetKind};
use serde_json::Value;

use crate::OcppVersion;
pub use crate::messages::RenderError;
use crate::messages::charging::{
    ChargingProfile, ChargingProfilePurpose, ClearChargingProfile16, ClearChargingProfile201,
    ClearCriteria, GetCompositeSchedule, SetChargingProfile16, SetChargingProfile201,
    TransactionRef,
};
use crate::messages::common::{Evse, IdToken};
use crate::messages::configuration::{
    ChangeConfiguration, GetConfiguration, GetVariableData, GetVariables, SetVariableData,
    SetVariables, component_variable,
};
use crate::messages::data::{DataTransfer, Empty};
use crate::messages::maintenance::{
    AuthorizationData16, AuthorizationData201, Firmware, GetDiagnostics, GetLog, ListStatus,
    LogParameters, SendLocalList16, SendLocalList201, UpdateFirmware16, UpdateFirmware201,
};
use crate::messages::operations::{
    Availability, CancelReservation, ChangeAvailability16, ChangeAvailability201, ReserveNow16,
    ReserveNow201, Reset, TRIGGERABLE_16, TRIGGERABLE_201, TriggerMessage, UnlockConnector,
};
use crate::messages::payload as to_value;
use crate::messages::remote::{
    RemoteStartTransaction, RemoteStopTransaction, RequestStartTransaction, RequestStopTransaction,
};

/// The action and payload for `command` on a charger speaking `version`, or why it cannot be
/// expressed.
pub fn render(
    version: OcppVersion,
    command: &ChargerCommand,
) -> Result<(String, Value), RenderError> {
    let v16 = version == OcppVersion::V16;
    let (action, payload) = match command {
        ChargerCommand::RemoteStart {
            evse,
            id_tag,
            limit,
            remote_start_id,
        } => {
            if limit
                .as_ref()
                .is_some_and(|l| l.purpose != ProfilePurpose::Tx)
            {
                return Err(RenderError::RemoteStartNotTx);
            }
            let profile = limit
                .as_ref()
                .map(|l| ChargingProfile::of(l, version, false))
                .transpose()?;
            if v16 {
                let req = RemoteStartTransaction {
                    connector_id: evse.map(|e| e.0),
                    id_tag: id_tag.as_str().to_string(),
                    charging_profile: profile,
                };
                ("RemoteStartTransaction", to_value(req))
            } else {
                let req = RequestStartTransaction {
                    evse_id: evse.map(|e| e.0),
                    remote_start_id: *remote_start_id,
                    id_token: IdToken::of(id_tag),
                    charging_profile: profile,
                };
                ("RequestStartTransaction", to_value(req))
            }
        }
        ChargerCommand::RemoteStop { transaction_id } => {
            match TransactionRef::of(transaction_id, version)? {
                TransactionRef::Integer(id) => (
                    "RemoteStopTransaction",
                    to_value(RemoteStopTransaction { transaction_id: id }),
                ),
                TransactionRef::Text(id) => (
                    "RequestStopTransaction",
                    to_value(RequestStopTransaction { transaction_id: id }),
                ),
            }
        }
        ChargerCommand::SetChargingLimit { evse, limit } => {
            let profile = ChargingProfile::of(limit, version, true)?;
            let payload = if v16 {
                to_value(SetChargingProfile16 {
                    connector_id: evse.0,
                    cs_charging_profiles: profile,
                })
            } else {
                to_value(SetChargingProfile201 {
                    evse_id: evse.0,
                    charging_profile: profile,
                })
            };
            ("SetChargingProfile", payload)
        }
        ChargerCommand::ClearChargingLimit {
            profile_id,
            evse,
            purpose,
        } => {
            let purpose = purpose.map(|p| ChargingProfilePurpose::of(p, version));
            let payload = if v16 {
                to_value(ClearChargingProfile16 {
                    id: *profile_id,
                    connector_id: evse.map(|e| e.0),
                    charging_profile_purpose: purpose,
                    stack_level: None,
                })
            } else {
                let criteria = (evse.is_some() || purpose.is_some()).then(|| ClearCriteria {
                    evse_id: evse.map(|e| e.0),
                    charging_profile_purpose: purpose,
                    stack_level: None,
                });
                to_value(ClearChargingProfile201 {
                    charging_profile_id: *profile_id,
                    charging_profile_criteria: criteria,
                })
            };
            ("ClearChargingProfile", payload)
        }
        ChargerCommand::GetCompositeSchedule {
            evse,
            duration_s,
            unit,
        } => (
            "GetCompositeSchedule",
            to_value(GetCompositeSchedule::of(*evse, *duration_s, *unit, version)),
        ),
        ChargerCommand::Reset { kind } => {
            let kind = match (kind, v16) {
                (ResetKind::Soft, true) => "Soft",
                (ResetKind::Hard, true) => "Hard",
                (ResetKind::Soft, false) => "OnIdle",
                (ResetKind::Hard, false) => "Immediate",
            };
            (
                "Reset",
                to_value(Reset {
                    kind: kind.to_string(),
                }),
            )
        }
        ChargerCommand::ChangeAvailability { evse, operative } => {
            let availability = if *operative {
                Availability::Operative
            } else {
                Availability::Inoperative
            };
            let payload = if v16 {
                to_value(ChangeAvailability16 {
                    connector_id: evse.0,
                    kind: availability,
                })
            } else {
                to_value(ChangeAvailability201 {
                    operational_status: availability,
                    evse: (evse.0 != 0).then_some(Evse {
                        id: evse.0,
                        connector_id: None,
                    }),
                })
            };
            ("ChangeAvailability", payload)
        }
        ChargerCommand::UnlockConnector { evse, connector } => (
            "UnlockConnector",
            to_value(UnlockConnector {
                evse_id: (!v16).then_some(evse.0),
                connector_id: connector.0,
            }),
        ),
        ChargerCommand::ReserveNow {
            reservation_id,
            evse,
            id_tag,
            expires_at,
        } => {
            let payload = if v16 {
                to_value(ReserveNow16 {
                    connector_id: evse.0,
                    expiry_date: *expires_at,
                    id_tag: id_tag.as_str().to_string(),
                    reservation_id: *reservation_id,
                })
            } else {
                to_value(ReserveNow201 {
                    id: *reservation_id,
                    expiry_date_time: *expires_at,
                    id_token: IdToken::of(id_tag),
                    evse_id: (evse.0 != 0).then_some(evse.0),
                })
            };
            ("ReserveNow", payload)
        }
        ChargerCommand::CancelReservation { reservation_id } => (
            "CancelReservation",
            to_value(CancelReservation {
                reservation_id: *reservation_id,
            }),
        ),
        ChargerCommand::TriggerMessage { message, evse } => {
            let known = if v16 { TRIGGERABLE_16 } else { TRIGGERABLE_201 };
            if !known.contains(&message.as_str()) {
                return Err(RenderError::NotTriggerable {
                    version,
                    message: message.clone(),
                });
            }
            let req = TriggerMessage {
                requested_message: message.clone(),
                connector_id: evse.filter(|_| v16).map(|e| e.0),
                evse: evse.filter(|_| !v16).map(|e| Evse {
                    id: e.0,
                    connector_id: None,
                }),
            };
            ("TriggerMessage", to_value(req))
        }
        ChargerCommand::GetConfiguration { keys } => {
            if v16 {
                let key = (!keys.is_empty()).then(|| keys.clone());
                ("GetConfiguration", to_value(GetConfiguration { key }))
            } else {
                if keys.is_empty() {
                    return Err(RenderError::NoVariables);
                }
                let get_variable_data = keys
                    .iter()
                    .map(|k| {
                        let (component, variable) = component_variable(k)?;
                        Ok(GetVariableData {
                            component,
                            variable,
                        })
                    })
                    .collect::<Result<_, RenderError>>()?;
                ("GetVariables", to_value(GetVariables { get_variable_data }))
            }
        }
        ChargerCommand::SetConfiguration { key, value } => {
            if v16 {
                let req = ChangeConfiguration {
                    key: key.clone(),
                    value: value.clone(),
                };
                ("ChangeConfiguration", to_value(req))
            } else {
                let (component, variable) = component_variable(key)?;
                let data = SetVariableData {
                    attribute_value: value.clone(),
                    component,
                    variable,
                };
                let req = SetVariables {
                    set_variable_data: vec![data],
                };
                ("SetVariables", to_value(req))
            }
        }
        ChargerCommand::ClearCache => ("ClearCache", to_value(Empty {})),
        ChargerCommand::Raw { action, payload } => {
            if crate::actions::known(action).is_none() {
                return Err(RenderError::UnknownAction(action.clone()));
            }
            return Ok((action.clone(), payload.clone()));
        }
        ChargerCommand::UpdateFirmware {
            request_id,
            location,
            retrieve_at,
            retries,
            retry_interval_s,
        } => {
            let payload = if v16 {
                to_value(UpdateFirmware16 {
                    location: location.clone(),
                    retrieve_date: *retrieve_at,
                    retries: *retries,
                    retry_interval: *retry_interval_s,
                })
            } else {
                to_value(UpdateFirmware201 {
                    request_id: *request_id,
                    firmware: Firmware {
                        location: location.clone(),
                        retrieve_date_time: *retrieve_at,
                    },
                    retries: *retries,
                    retry_interval: *retry_interval_s,
                })
            };
            ("UpdateFirmware", payload)
        }
        ChargerCommand::UploadDiagnostics {
            request_id,
            location,
            since,
            until,
        } => {
            if v16 {
                let req = GetDiagnostics {
                    location: location.clone(),
                    start_time: *since,
                    stop_time: *until,
                };
                ("GetDiagnostics", to_value(req))
            } else {
                let req = GetLog {
                    log_type: "DiagnosticsLog".into(),
                    request_id: *request_id,
                    log: LogParameters {
                        remote_location: location.clone(),
                        oldest_timestamp: *since,
                        latest_timestamp: *until,
                    },
                };
                ("GetLog", to_value(req))
            }
        }
        ChargerCommand::SendLocalList {
            version,
            full,
            entries,
        } => {
            let update_type = if *full { "Full" } else { "Differential" }.to_string();
            let status = |e: &chargegrid_core::command::LocalListEntry| {
                e.status.clone().map(|status| ListStatus { status })
            };
            let payload = if v16 {
                to_value(SendLocalList16 {
                    list_version: *version,
                    update_type,
                    local_authorization_list: entries
                        .iter()
                        .map(|e| AuthorizationData16 {
                            id_tag: e.id_tag.as_str().to_string(),
                            id_tag_info: status(e),
                        })
                        .collect(),
                })
            } else {
                to_value(SendLocalList201 {
                    version_number: *version,
                    update_type,
                    local_authorization_list: entries
                        .iter()
                        .map(|e| AuthorizationData201 {
                            id_token: IdToken::of(&e.id_tag),
                            id_token_info: status(e),
                        })
                        .collect(),
                })
            };
            ("SendLocalList", payload)
        }
        ChargerCommand::GetLocalListVersion => ("GetLocalListVersion", to_value(Empty {})),
        ChargerCommand::DataTransfer {
            vendor_id,
            message_id,
            data,
        } => (
            "DataTransfer",
            to_value(DataTransfer {
                vendor_id: vendor_id.clone(),
                message_id: message_id.clone(),
                data: data.clone().map(Value::String),
            }),
        ),
        ChargerCommand::ReloadConfiguration | ChargerCommand::Disconnect => {
            return Err(RenderError::NotForTheCharger(command.name().to_string()));
        }
    };
    Ok((action.to_string(), payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::command::{ChargingLimit, RateUnit, SchedulePeriod};
    use chargegrid_core::{EvseId, IdTag};
    use serde_json::json;

    fn limit(purpose: ProfilePurpose, unit: RateUnit, value: f64, tx: &str) -> ChargingLimit {
        ChargingLimit {
            profile_id: 7,
            stack_level: 2,
            purpose,
            transaction_id: Some(tx.into()),
            start: None,
            unit,
            periods: vec![SchedulePeriod {
                start_offset_s: 0,
                limit: value,
                phases: Some(3),
            }],
            valid_to: None,
        }
    }

    #[test]
    fn set_charging_limit_renders_a_16_tx_profile_rounded_down() {
        let (action, p) = render(
            OcppVersion::V16,
            &ChargerCommand::SetChargingLimit {
                evse: EvseId(1),
                limit: limit(ProfilePurpose::Tx, RateUnit::A, 16.19, "42"),
            },
        )
        .unwrap();
        assert_eq!(action, "SetChargingProfile");
        let cp = &p["csChargingProfiles"];
        assert_eq!(cp["transactionId"], 42);
        assert_eq!(cp["chargingProfileId"], 7);
        assert_eq!(cp["chargingProfilePurpose"], "TxProfile");
        assert_eq!(cp["chargingProfileKind"], "Relative");
        assert_eq!(
            cp["chargingSchedule"]["chargingSchedulePeriod"][0],
            json!({ "startPeriod": 0, "limit": 16.1, "numberPhases": 3 })
        );
        assert_eq!(p["connectorId"], 1);
    }

    #[test]
    fn the_same_limit_renders_as_a_201_profile() {
        let (action, p) = render(
            OcppVersion::V201,
            &ChargerCommand::SetChargingLimit {
                evse: EvseId(2),
                limit: limit(ProfilePurpose::Tx, RateUnit::W, 7399.97, "tx-abc"),
            },
        )
        .unwrap();
        assert_eq!(action, "SetChargingProfile");
        assert_eq!(p["evseId"], 2);
        let cp = &p["chargingProfile"];
        assert_eq!(cp["id"], 7);
        assert_eq!(cp["transactionId"], "tx-abc");
        assert_eq!(cp["chargingProfilePurpose"], "TxProfile");
        assert_eq!(cp["chargingSchedule"][0]["id"], 7);
        assert_eq!(
            cp["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"],
            7399.9
        );
        assert_eq!(cp["chargingSchedule"][0]["chargingRateUnit"], "W");
    }

    #[test]
    fn the_charger_wide_purpose_has_each_versions_name() {
        let clear = ChargerCommand::ClearChargingLimit {
            profile_id: None,
            evse: Some(EvseId(0)),
            purpose: Some(ProfilePurpose::ChargePointMax),
        };
        let (_, p16) = render(OcppVersion::V16, &clear).unwrap();
        assert_eq!(
            p16,
            json!({ "connectorId": 0, "chargingProfilePurpose": "ChargePointMaxProfile" })
        );
        let (_, p201) = render(OcppVersion::V201, &clear).unwrap();
        assert_eq!(
            p201,
            json!({ "chargingProfileCriteria": { "evseId": 0, "chargingProfilePurpose": "ChargingStationMaxProfile" } })
        );
    }

    #[test]
    fn commands_without_a_form_are_refused() {
        let stop = ChargerCommand::RemoteStop {
            transaction_id: "abc".into(),
        };
        assert_eq!(
            render(OcppVersion::V16, &stop),
            Err(RenderError::TransactionIdNotInteger("abc".into()))
        );
        assert!(render(OcppVersion::V201, &stop).is_ok());
        let trigger = ChargerCommand::TriggerMessage {
            message: "NotifyReport".into(),
            evse: None,
        };
        assert!(render(OcppVersion::V16, &trigger).is_err());
        let raw = ChargerCommand::Raw {
            action: "Bogus".into(),
            payload: json!({}),
        };
        assert_eq!(
            render(OcppVersion::V201, &raw),
            Err(RenderError::UnknownAction("Bogus".into()))
        );
        let start = ChargerCommand::RemoteStart {
            evse: Some(EvseId(1)),
            id_tag: IdTag::new("T").unwrap(),
            limit: Some(limit(ProfilePurpose::TxDefault, RateUnit::A, 10.0, "1")),
            remote_start_id: 1,
        };
        for version in [OcppVersion::V16, OcppVersion::V201] {
            assert_eq!(render(version, &start), Err(RenderError::RemoteStartNotTx));
        }
        let mut empty = limit(ProfilePurpose::Tx, RateUnit::A, 10.0, "1");
        empty.periods.clear();
        let set = ChargerCommand::SetChargingLimit {
            evse: EvseId(1),
            limit: empty,
        };
        assert_eq!(render(OcppVersion::V16, &set), Err(RenderError::NoPeriods));
    }

    #[test]
    fn every_command_renders_schema_valid_in_both_versions() {
        use chargegrid_core::ConnectorId;
        let at = chrono::DateTime::parse_from_rfc3339("2026-05-01T08:00:00Z")
            .unwrap()
            .to_utc();
        let mut absolute = limit(ProfilePurpose::Tx, RateUnit::A, 16.0, "42");
        absolute.start = Some(at);
        absolute.valid_to = Some(at + chrono::Duration::hours(1));
        let tag = IdTag::new("04E91C2A").unwrap();
        let commands = [
            ChargerCommand::RemoteStart {
                evse: Some(EvseId(1)),
                id_tag: tag.clone(),
                limit: Some(limit(ProfilePurpose::Tx, RateUnit::A, 16.0, "42")),
                remote_start_id: 9,
            },
            ChargerCommand::RemoteStart {
                evse: None,
                id_tag: tag.clone(),
                limit: None,
                remote_start_id: 9,
            },
            ChargerCommand::RemoteStop {
                transaction_id: "42".into(),
            },
            ChargerCommand::SetChargingLimit {
                evse: EvseId(1),
                limit: absolute,
            },
            ChargerCommand::SetChargingLimit {
                evse: EvseId(0),
                limit: limit(ProfilePurpose::ChargePointMax, RateUnit::W, 22000.0, "42"),
            },
            ChargerCommand::ClearChargingLimit {
                profile_id: Some(7),
                evse: Some(EvseId(1)),
                purpose: Some(ProfilePurpose::TxDefault),
            },
            ChargerCommand::ClearChargingLimit {
                profile_id: None,
                evse: None,
                purpose: None,
            },
            ChargerCommand::GetCompositeSchedule {
                evse: EvseId(1),
                duration_s: 60,
                unit: Some(RateUnit::W),
            },
            ChargerCommand::Reset {
                kind: ResetKind::Hard,
            },
            ChargerCommand::ChangeAvailability {
                evse: EvseId(0),
                operative: false,
            },
            ChargerCommand::ChangeAvailability {
                evse: EvseId(2),
                operative: true,
            },
            ChargerCommand::UnlockConnector {
                evse: EvseId(1),
                connector: ConnectorId(1),
            },
            ChargerCommand::ReserveNow {
                reservation_id: 3,
                evse: EvseId(1),
                id_tag: tag.clone(),
                expires_at: at,
            },
            ChargerCommand::CancelReservation { reservation_id: 3 },
            ChargerCommand::TriggerMessage {
                message: "StatusNotification".into(),
                evse: Some(EvseId(1)),
            },
            ChargerCommand::GetConfiguration {
                keys: vec!["OCPPCommCtrlr.HeartbeatInterval".into()],
            },
            ChargerCommand::SetConfiguration {
                key: "SampledDataCtrlr.TxUpdatedInterval".into(),
                value: "60".into(),
            },
            ChargerCommand::ClearCache,
            ChargerCommand::UpdateFirmware {
                request_id: 11,
                location: "https://firmware.example.com/v2.bin".into(),
                retrieve_at: at,
                retries: Some(3),
                retry_interval_s: Some(60),
            },
            ChargerCommand::UploadDiagnostics {
                request_id: 12,
                location: "ftp://logs.example.com/up".into(),
                since: Some(at),
                until: None,
            },
            ChargerCommand::SendLocalList {
                version: 4,
                full: false,
                entries: vec![
                    chargegrid_core::command::LocalListEntry {
                        id_tag: tag.clone(),
                        status: Some("Blocked".into()),
                    },
                    chargegrid_core::command::LocalListEntry {
                        id_tag: IdTag::new("04E91C2A").unwrap(),
                        status: None,
                    },
                ],
            },
            ChargerCommand::GetLocalListVersion,
            ChargerCommand::DataTransfer {
                vendor_id: "com.example".into(),
                message_id: Some("ping".into()),
                data: Some("hello".into()),
            },
        ];
        let schemas = crate::schema::Schemas::embedded().unwrap();
        for version in [OcppVersion::V16, OcppVersion::V201] {
            let set = schemas.for_version(version).unwrap();
            for command in &commands {
                let (action, payload) = render(version, command).unwrap();
                let violations = set.check_request(&action, &payload).unwrap();
                assert!(
                    violations.is_empty(),
                    "{} {action}: {violations:?} in {payload}",
                    version.label()
                );
            }
        }
    }
}
