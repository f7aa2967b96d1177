//! Version-neutral commands rendered as OCPP 1.6 CALLs. In 1.6 an EVSE is addressed by its
//! connector number, so chargegrid's EVSE id is sent as `connectorId`. Charging limits are
//! rounded *down* to 0.1 (the 1.6 schema's `multipleOf`), so rounding can never raise a limit.

use chargegrid_core::command::{ChargerCommand, ChargingLimit, ProfilePurpose, ResetKind};
use serde_json::{Map, Value, json};

use crate::schedule::{self, unit_name};
use crate::timestamp;

/// The 1.6 action and payload for a command, or why it has no 1.6 form.
pub fn render(command: &ChargerCommand) -> Result<(String, Value), String> {
    let (action, payload) = match command {
        ChargerCommand::RemoteStart {
            evse,
            id_tag,
            limit,
            ..
        } => {
            let mut p = Map::new();
            p.insert("idTag".into(), json!(id_tag.as_str()));
            if let Some(evse) = evse {
                p.insert("connectorId".into(), json!(evse.0));
            }
            if let Some(limit) = limit {
                if limit.purpose != ProfilePurpose::Tx {
                    return Err("a remote start profile must have purpose Tx".into());
                }
                p.insert("chargingProfile".into(), profile(limit, false)?);
            }
            ("RemoteStartTransaction", Value::Object(p))
        }
        ChargerCommand::RemoteStop { transaction_id } => {
            let id: i64 = transaction_id
                .parse()
                .map_err(|_| format!("1.6 transaction ids are integers, not {transaction_id:?}"))?;
            ("RemoteStopTransaction", json!({ "transactionId": id }))
        }
        ChargerCommand::SetChargingLimit { evse, limit } => (
            "SetChargingProfile",
            json!({ "connectorId": evse.0, "csChargingProfiles": profile(limit, true)? }),
        ),
        ChargerCommand::ClearChargingLimit {
            profile_id,
            evse,
            purpose,
        } => {
            let mut p = Map::new();
            if let Some(id) = profile_id {
                p.insert("id".into(), json!(id));
            }
            if let Some(evse) = evse {
                p.insert("connectorId".into(), json!(evse.0));
            }
            if let Some(purpose) = purpose {
                p.insert(
                    "chargingProfilePurpose".into(),
                    json!(purpose_name(*purpose)),
                );
            }
            ("ClearChargingProfile", Value::Object(p))
        }
        ChargerCommand::GetCompositeSchedule {
            evse,
            duration_s,
            unit,
        } => {
            let mut p = json!({ "connectorId": evse.0, "duration": duration_s });
            if let Some(unit) = unit {
                p["chargingRateUnit"] = json!(unit_name(*unit));
            }
            ("GetCompositeSchedule", p)
        }
        ChargerCommand::Reset { kind } => (
            "Reset",
            json!({ "type": match kind { ResetKind::Soft => "Soft", ResetKind::Hard => "Hard" } }),
        ),
        ChargerCommand::ChangeAvailability { evse, operative } => (
            "ChangeAvailability",
            json!({
                "connectorId": evse.0,
                "type": if *operative { "Operative" } else { "Inoperative" },
            }),
        ),
        ChargerCommand::UnlockConnector { connector, .. } => {
            ("UnlockConnector", json!({ "connectorId": connector.0 }))
        }
        ChargerCommand::ReserveNow {
            reservation_id,
            evse,
            id_tag,
            expires_at,
        } => (
            "ReserveNow",
            json!({
                "connectorId": evse.0,
                "expiryDate": timestamp::format(*expires_at),
                "idTag": id_tag.as_str(),
                "reservationId": reservation_id,
            }),
        ),
        ChargerCommand::CancelReservation { reservation_id } => (
            "CancelReservation",
            json!({ "reservationId": reservation_id }),
        ),
        ChargerCommand::TriggerMessage { message, evse } => {
            let known = [
                "BootNotification",
                "DiagnosticsStatusNotification",
                "FirmwareStatusNotification",
                "Heartbeat",
                "MeterValues",
                "StatusNotification",
            ];
            if !known.contains(&message.as_str()) {
                return Err(format!("1.6 cannot trigger {message}"));
            }
            let mut p = json!({ "requestedMessage": message });
            if let Some(evse) = evse {
                p["connectorId"] = json!(evse.0);
            }
            ("TriggerMessage", p)
        }
        ChargerCommand::Raw { action, payload } => {
            if crate::actions::known(action).is_none() {
                return Err(format!("unknown action {action}"));
            }
            return Ok((action.clone(), payload.clone()));
        }
    };
    Ok((action.to_string(), payload))
}

fn purpose_name(p: ProfilePurpose) -> &'static str {
    match p {
        ProfilePurpose::ChargePointMax => "ChargePointMaxProfile",
        ProfilePurpose::TxDefault => "TxDefaultProfile",
        ProfilePurpose::Tx => "TxProfile",
    }
}

/// A 1.6 `ChargingProfile`.
fn profile(limit: &ChargingLimit, with_transaction: bool) -> Result<Value, String> {
    let periods = schedule::periods(limit)?;
    let mut schedule = json!({
        "chargingRateUnit": unit_name(limit.unit),
        "chargingSchedulePeriod": periods,
    });
    let mut p = json!({
        "chargingProfileId": limit.profile_id,
        "stackLevel": limit.stack_level,
        "chargingProfilePurpose": purpose_name(limit.purpose),
        "chargingProfileKind": if limit.start.is_some() { "Absolute" } else { "Relative" },
    });
    if let Some(start) = limit.start {
        schedule["startSchedule"] = json!(timestamp::format(start));
    }
    if let Some(to) = limit.valid_to {
        p["validTo"] = json!(timestamp::format(to));
    }
    if with_transaction && limit.purpose == ProfilePurpose::Tx {
        let tx = limit
            .transaction_id
            .as_deref()
            .ok_or("a Tx profile needs the transaction id")?;
        let id: i64 = tx
            .parse()
            .map_err(|_| format!("1.6 transaction ids are integers, not {tx:?}"))?;
        p["transactionId"] = json!(id);
    }
    p["chargingSchedule"] = schedule;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::command::RateUnit;
    use chargegrid_core::command::SchedulePeriod;
    use chargegrid_core::{EvseId, IdTag};

    fn limit(purpose: ProfilePurpose, amps: f64) -> ChargingLimit {
        ChargingLimit {
            profile_id: 7,
            stack_level: 2,
            purpose,
            transaction_id: Some("42".into()),
            start: None,
            unit: RateUnit::A,
            periods: vec![SchedulePeriod {
                start_offset_s: 0,
                limit: amps,
                phases: Some(3),
            }],
            valid_to: None,
        }
    }

    #[test]
    fn set_charging_limit_renders_a_tx_profile_rounded_down() {
        let (action, p) = render(&ChargerCommand::SetChargingLimit {
            evse: EvseId(1),
            limit: limit(ProfilePurpose::Tx, 16.19),
        })
        .unwrap();
        assert_eq!(action, "SetChargingProfile");
        let cp = &p["csChargingProfiles"];
        assert_eq!(cp["transactionId"], 42);
        assert_eq!(cp["chargingProfilePurpose"], "TxProfile");
        assert_eq!(cp["chargingProfileKind"], "Relative");
        assert_eq!(
            cp["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"],
            16.1
        );
        assert_eq!(p["connectorId"], 1);
    }

    #[test]
    fn commands_without_a_16_form_are_refused() {
        assert!(
            render(&ChargerCommand::RemoteStop {
                transaction_id: "abc".into()
            })
            .is_err()
        );
        assert!(
            render(&ChargerCommand::TriggerMessage {
                message: "NotifyReport".into(),
                evse: None
            })
            .is_err()
        );
        assert!(
            render(&ChargerCommand::Raw {
                action: "Bogus".into(),
                payload: json!({})
            })
            .is_err()
        );
        let start = ChargerCommand::RemoteStart {
            evse: Some(EvseId(1)),
            id_tag: IdTag::new("T").unwrap(),
            limit: Some(limit(ProfilePurpose::TxDefault, 10.0)),
            remote_start_id: 1,
        };
        assert!(render(&start).is_err());
    }
}
