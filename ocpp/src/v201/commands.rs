//! Version-neutral commands rendered as OCPP 2.0.1 CALLs. The same [`ChargingLimit`] that
//! becomes a 1.6 `csChargingProfiles` becomes a 2.0.1 `chargingProfile` here; limits are
//! rounded down to 0.1 as in 1.6, so rounding can never raise a limit.

use chargegrid_core::IdTag;
use chargegrid_core::command::{ChargerCommand, ChargingLimit, ProfilePurpose, ResetKind};
use serde_json::{Map, Value, json};

use crate::schedule::{self, unit_name};
use crate::timestamp;

/// The 2.0.1 action and payload for a command, or why it has no 2.0.1 form.
pub fn render(command: &ChargerCommand) -> Result<(String, Value), String> {
    let (action, payload) = match command {
        ChargerCommand::RemoteStart {
            evse,
            id_tag,
            limit,
            remote_start_id,
        } => {
            let mut p = Map::new();
            p.insert("idToken".into(), id_token(id_tag));
            p.insert("remoteStartId".into(), json!(remote_start_id));
            if let Some(evse) = evse {
                p.insert("evseId".into(), json!(evse.0));
            }
            if let Some(limit) = limit {
                if limit.purpose != ProfilePurpose::Tx {
                    return Err("a remote start profile must have purpose Tx".into());
                }
                p.insert("chargingProfile".into(), profile(limit, false)?);
            }
            ("RequestStartTransaction", Value::Object(p))
        }
        ChargerCommand::RemoteStop { transaction_id } => (
            "RequestStopTransaction",
            json!({ "transactionId": transaction_id }),
        ),
        ChargerCommand::SetChargingLimit { evse, limit } => (
            "SetChargingProfile",
            json!({ "evseId": evse.0, "chargingProfile": profile(limit, true)? }),
        ),
        ChargerCommand::ClearChargingLimit {
            profile_id,
            evse,
            purpose,
        } => {
            let mut p = Map::new();
            if let Some(id) = profile_id {
                p.insert("chargingProfileId".into(), json!(id));
            }
            let mut criteria = Map::new();
            if let Some(evse) = evse {
                criteria.insert("evseId".into(), json!(evse.0));
            }
            if let Some(purpose) = purpose {
                criteria.insert(
                    "chargingProfilePurpose".into(),
                    json!(purpose_name(*purpose)),
                );
            }
            if !criteria.is_empty() {
                p.insert("chargingProfileCriteria".into(), Value::Object(criteria));
            }
            ("ClearChargingProfile", Value::Object(p))
        }
        ChargerCommand::GetCompositeSchedule {
            evse,
            duration_s,
            unit,
        } => {
            let mut p = json!({ "evseId": evse.0, "duration": duration_s });
            if let Some(unit) = unit {
                p["chargingRateUnit"] = json!(unit_name(*unit));
            }
            ("GetCompositeSchedule", p)
        }
        ChargerCommand::Reset { kind } => (
            "Reset",
            json!({ "type": match kind { ResetKind::Soft => "OnIdle", ResetKind::Hard => "Immediate" } }),
        ),
        ChargerCommand::ChangeAvailability { evse, operative } => {
            let mut p = json!({ "operationalStatus": if *operative { "Operative" } else { "Inoperative" } });
            if evse.0 != 0 {
                p["evse"] = json!({ "id": evse.0 });
            }
            ("ChangeAvailability", p)
        }
        ChargerCommand::UnlockConnector { evse, connector } => (
            "UnlockConnector",
            json!({ "evseId": evse.0, "connectorId": connector.0 }),
        ),
        ChargerCommand::ReserveNow {
            reservation_id,
            evse,
            id_tag,
            expires_at,
        } => {
            let mut p = json!({
                "id": reservation_id,
                "expiryDateTime": timestamp::format(*expires_at),
                "idToken": id_token(id_tag),
            });
            if evse.0 != 0 {
                p["evseId"] = json!(evse.0);
            }
            ("ReserveNow", p)
        }
        ChargerCommand::CancelReservation { reservation_id } => (
            "CancelReservation",
            json!({ "reservationId": reservation_id }),
        ),
        ChargerCommand::TriggerMessage { message, evse } => {
            let known = [
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
            if !known.contains(&message.as_str()) {
                return Err(format!("2.0.1 cannot trigger {message}"));
            }
            let mut p = json!({ "requestedMessage": message });
            if let Some(evse) = evse {
                p["evse"] = json!({ "id": evse.0 });
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

/// An `IdTokenType`. Tokens that look like an RFID UID (hex, 8/14/20 digits) are ISO14443; any
/// other is Central (issued by the CSMS, e.g. the app's remote start).
fn id_token(tag: &IdTag) -> Value {
    let text = tag.as_str();
    let rfid = matches!(text.len(), 8 | 14 | 20) && text.chars().all(|c| c.is_ascii_hexdigit());
    json!({ "idToken": text, "type": if rfid { "ISO14443" } else { "Central" } })
}

fn purpose_name(p: ProfilePurpose) -> &'static str {
    match p {
        ProfilePurpose::ChargePointMax => "ChargingStationMaxProfile",
        ProfilePurpose::TxDefault => "TxDefaultProfile",
        ProfilePurpose::Tx => "TxProfile",
    }
}

/// A 2.0.1 `ChargingProfileType`.
fn profile(limit: &ChargingLimit, with_transaction: bool) -> Result<Value, String> {
    let periods = schedule::periods(limit)?;
    let mut schedule = json!({
        "id": limit.profile_id,
        "chargingRateUnit": unit_name(limit.unit),
        "chargingSchedulePeriod": periods,
    });
    if let Some(start) = limit.start {
        schedule["startSchedule"] = json!(timestamp::format(start));
    }
    let mut p = json!({
        "id": limit.profile_id,
        "stackLevel": limit.stack_level,
        "chargingProfilePurpose": purpose_name(limit.purpose),
        "chargingProfileKind": if limit.start.is_some() { "Absolute" } else { "Relative" },
        "chargingSchedule": [schedule],
    });
    if let Some(to) = limit.valid_to {
        p["validTo"] = json!(timestamp::format(to));
    }
    if with_transaction && limit.purpose == ProfilePurpose::Tx {
        let tx = limit
            .transaction_id
            .as_deref()
            .ok_or("a Tx profile needs the transaction id")?;
        p["transactionId"] = json!(tx);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::EvseId;
    use chargegrid_core::command::RateUnit;
    use chargegrid_core::command::SchedulePeriod;

    #[test]
    fn the_same_limit_renders_as_a_201_profile() {
        let limit = ChargingLimit {
            profile_id: 3,
            stack_level: 1,
            purpose: ProfilePurpose::Tx,
            transaction_id: Some("tx-abc".into()),
            start: None,
            unit: RateUnit::W,
            periods: vec![SchedulePeriod {
                start_offset_s: 0,
                limit: 7399.97,
                phases: None,
            }],
            valid_to: None,
        };
        let (action, p) = render(&ChargerCommand::SetChargingLimit {
            evse: EvseId(2),
            limit,
        })
        .unwrap();
        assert_eq!(action, "SetChargingProfile");
        assert_eq!(p["evseId"], 2);
        let cp = &p["chargingProfile"];
        assert_eq!(cp["transactionId"], "tx-abc");
        assert_eq!(cp["chargingProfilePurpose"], "TxProfile");
        assert_eq!(
            cp["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"],
            7399.9
        );
        assert_eq!(cp["chargingSchedule"][0]["chargingRateUnit"], "W");
    }

    #[test]
    fn tokens_get_a_plausible_type() {
        assert_eq!(
            id_token(&IdTag::new("04E91C2A").unwrap())["type"],
            "ISO14443"
        );
        assert_eq!(
            id_token(&IdTag::new("app-driver-17").unwrap())["type"],
            "Central"
        );
    }
}
