//! A charger's CALLRESULT to one of our commands, decoded into core's [`CommandReply`]: the
//! status in both versions, and the details of the answers that carry more (the composite
//! schedule). Above this crate nobody reads an answer's JSON.

use chargegrid_core::command::{ChargerCommand, CommandReply, ReplyDetails};
use serde_json::Value;

use chargegrid_core::command::ConfigurationReport;
use serde::Deserialize;

use super::charging::GetCompositeScheduleResponse;
use super::configuration::{GetConfigurationResponse, GetVariablesResponse, SetVariablesResponse};
use super::maintenance::{DataTransferResponse, LocalListVersionResponse, UploadResponse};

/// The reply for `payload`, the charger's answer to `command`. An answer whose details do not
/// decode keeps its status and loses the details (the schema check has already counted and
/// logged it).
pub fn decode(command: &ChargerCommand, payload: Value) -> CommandReply {
    let status = payload
        .get("status")
        .and_then(Value::as_str)
        .map(String::from);
    if let ChargerCommand::SetConfiguration { .. } = command
        && let Ok(set) = SetVariablesResponse::deserialize(&payload)
    {
        // 2.0.1 answers per variable: the one variable's status is the answer's.
        let status = set
            .set_variable_result
            .first()
            .map(|r| r.attribute_status.clone());
        return CommandReply::Result {
            status,
            details: None,
        };
    }
    let details =
        match command {
            ChargerCommand::Raw { .. } => Some(ReplyDetails::Raw { payload }),
            ChargerCommand::GetConfiguration { .. } => {
                let report = match GetVariablesResponse::deserialize(&payload) {
                    Ok(v201) => Some(ConfigurationReport::from(v201)),
                    Err(_) => GetConfigurationResponse::deserialize(&payload)
                        .ok()
                        .map(ConfigurationReport::from),
                };
                report.map(ReplyDetails::Configuration)
            }
            ChargerCommand::GetLocalListVersion => LocalListVersionResponse::deserialize(&payload)
                .ok()
                .and_then(|r| r.list_version.or(r.version_number))
                .map(ReplyDetails::LocalListVersion),
            ChargerCommand::UploadDiagnostics { .. } => UploadResponse::deserialize(&payload)
                .ok()
                .map(|r| ReplyDetails::Upload {
                    file_name: r.file_name.or(r.filename),
                }),
            ChargerCommand::DataTransfer { .. } => DataTransferResponse::deserialize(&payload)
                .ok()
                .map(|r| ReplyDetails::DataTransfer {
                    data: r.data.map(|d| match d {
                        Value::String(text) => text,
                        other => other.to_string(),
                    }),
                }),
            ChargerCommand::GetCompositeSchedule { .. } => {
                serde_json::from_value::<GetCompositeScheduleResponse>(payload)
                    .ok()
                    .and_then(|r| r.composite())
                    .map(ReplyDetails::CompositeSchedule)
            }
            _ => None,
        };
    CommandReply::Result { status, details }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::EvseId;
    use chargegrid_core::command::{CompositeSchedule, RateUnit, SchedulePeriod};
    use serde_json::json;

    fn schedule_of(payload: Value) -> Option<CompositeSchedule> {
        let command = ChargerCommand::GetCompositeSchedule {
            evse: EvseId(1),
            duration_s: 60,
            unit: None,
        };
        match decode(&command, payload) {
            CommandReply::Result {
                details: Some(ReplyDetails::CompositeSchedule(s)),
                ..
            } => Some(s),
            _ => None,
        }
    }

    #[test]
    fn composite_schedules_of_both_versions_read_alike() {
        let period = json!([{ "startPeriod": 0, "limit": 16.0, "numberPhases": 3 }]);
        let v16 = schedule_of(json!({
            "status": "Accepted", "connectorId": 1, "scheduleStart": "2026-05-01T08:00:00Z",
            "chargingSchedule": { "duration": 60, "chargingRateUnit": "A", "chargingSchedulePeriod": period },
        }))
        .unwrap();
        let v201 = schedule_of(json!({
            "status": "Accepted",
            "schedule": { "evseId": 1, "duration": 60, "scheduleStart": "2026-05-01T08:00:00Z",
                          "chargingRateUnit": "A", "chargingSchedulePeriod": period },
        }))
        .unwrap();
        assert_eq!(v16, v201);
        assert_eq!(v16.unit, RateUnit::A);
        assert_eq!(
            v16.periods,
            vec![SchedulePeriod {
                start_offset_s: 0,
                limit: 16.0,
                phases: Some(3)
            }]
        );
        assert!(v16.start.is_some());
        assert_eq!(v16.duration_s, Some(60));
    }

    #[test]
    fn a_rejected_or_unreadable_schedule_keeps_its_status_only() {
        assert_eq!(schedule_of(json!({ "status": "Rejected" })), None);
        assert_eq!(
            schedule_of(json!({ "status": "Accepted", "schedule": { "chargingRateUnit": "kW" } })),
            None
        );
        let reply = decode(
            &ChargerCommand::Reset {
                kind: chargegrid_core::command::ResetKind::Soft,
            },
            json!({ "status": "Scheduled" }),
        );
        assert_eq!(reply, CommandReply::status("Scheduled"));
    }

    #[test]
    fn a_raw_commands_answer_is_kept_verbatim() {
        let payload = json!({ "configurationKey": [{ "key": "HeartbeatInterval", "readonly": false, "value": "300" }] });
        let command = ChargerCommand::Raw {
            action: "GetConfiguration".into(),
            payload: json!({}),
        };
        assert_eq!(
            decode(&command, payload.clone()),
            CommandReply::Result {
                status: None,
                details: Some(ReplyDetails::Raw { payload })
            }
        );
    }

    #[test]
    fn configuration_of_both_versions_reads_alike() {
        let get = ChargerCommand::GetConfiguration {
            keys: vec!["OCPPCommCtrlr.HeartbeatInterval".into(), "X.Y".into()],
        };
        let v16 = decode(
            &get,
            json!({"configurationKey": [{"key": "HeartbeatInterval", "readonly": false, "value": "300"}],
                   "unknownKey": ["Nope"]}),
        );
        let Some(ReplyDetails::Configuration(c)) = v16.details() else {
            panic!("{v16:?}")
        };
        assert_eq!(c.values[0].value.as_deref(), Some("300"));
        assert_eq!(c.values[0].readonly, Some(false));
        assert_eq!(c.unknown, vec!["Nope".to_string()]);
        let v201 = decode(
            &get,
            json!({"getVariableResult": [
                {"attributeStatus": "Accepted", "attributeValue": "300",
                 "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"attributeStatus": "UnknownComponent", "component": {"name": "X"}, "variable": {"name": "Y"}}]}),
        );
        let Some(ReplyDetails::Configuration(c)) = v201.details() else {
            panic!("{v201:?}")
        };
        assert_eq!(c.values[0].key, "OCPPCommCtrlr.HeartbeatInterval");
        assert_eq!(c.values[0].value.as_deref(), Some("300"));
        assert_eq!(c.unknown, vec!["X.Y".to_string()]);
        let set = ChargerCommand::SetConfiguration {
            key: "A.B".into(),
            value: "1".into(),
        };
        assert_eq!(
            decode(&set, json!({"status": "RebootRequired"})),
            CommandReply::status("RebootRequired")
        );
        assert_eq!(
            decode(
                &set,
                json!({"setVariableResult": [{"attributeStatus": "Rejected",
                    "component": {"name": "A"}, "variable": {"name": "B"}}]})
            ),
            CommandReply::status("Rejected")
        );
    }
}
