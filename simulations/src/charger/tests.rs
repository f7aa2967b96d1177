//! The simulated charger against a scripted CSMS on a real socket: boot, a transaction with
//! meter values, a charging profile obeyed from the next step, a dropped connection with the
//! transaction messages replayed in order, and every payload checked against the official
//! OCPP schemas when the Python `ocpp` package (which ships them) is installed.

#![allow(clippy::result_large_err)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chargegrid_core::network::OcppVersion;
use chargegrid_core::{Amperes, ChargerId, ConnectorId, EvseId, IdTag, SiteId, WattHours, Watts};
use chargegrid_ocpp::schema::Schemas;
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use super::*;
use crate::clock::SimClock;
use crate::ev::{EvPlan, VehicleKind};

fn schemas() -> Option<Schemas> {
    let python = std::env::var_os("CG_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py/bin/python")
        });
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import ocpp, os; print(os.path.dirname(ocpp.__file__))",
        ])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Schemas::load(&dir).ok()
}

/// What the fake CSMS saw: (action, payload) of every CALL, and our answers' payloads.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// A CSMS that accepts everything, sends `after_start` once the first transaction starts,
/// and drops the first connection after `drop_after_meter` MeterValues.
async fn fake_csms(
    version: OcppVersion,
    after_start: Value,
    drop_after_meter: usize,
) -> (String, Seen, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ocpp", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let answers: Seen = Arc::default();
    let (s2, a2) = (seen.clone(), answers.clone());
    tokio::spawn(async move {
        let mut connection = 0;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            connection += 1;
            let proto = version.subprotocol();
            let ws = tokio_tungstenite::accept_hdr_async(tcp, |_: &Request, mut r: Response| {
                r.headers_mut()
                    .insert("Sec-WebSocket-Protocol", proto.parse().unwrap());
                Ok(r)
            })
            .await
            .unwrap();
            let (mut tx, mut rx) = ws.split();
            let mut meters = 0;
            let mut sent_profile = false;
            while let Some(Ok(Message::Text(t))) = rx.next().await {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v[0] == 3 || v[0] == 4 {
                    a2.lock().unwrap().push(("answer".into(), v.clone()));
                    continue;
                }
                let (id, action, payload) = (
                    v[1].clone(),
                    v[2].as_str().unwrap().to_string(),
                    v[3].clone(),
                );
                s2.lock().unwrap().push((action.clone(), payload.clone()));
                let reply = match action.as_str() {
                    "BootNotification" => {
                        json!({"status": "Accepted", "currentTime": "2026-05-01T00:00:00.000Z", "interval": 300})
                    }
                    "StartTransaction" => {
                        json!({"transactionId": 7, "idTagInfo": {"status": "Accepted"}})
                    }
                    "TransactionEvent" if payload["eventType"] == "Started" => {
                        json!({"idTokenInfo": {"status": "Accepted"}})
                    }
                    "Heartbeat" => json!({"currentTime": "2026-05-01T00:00:00.000Z"}),
                    _ => json!({}),
                };
                tx.send(Message::Text(json!([3, id, reply]).to_string().into()))
                    .await
                    .unwrap();
                let started = action == "StartTransaction"
                    || (action == "TransactionEvent" && payload["eventType"] == "Started");
                if started && !sent_profile {
                    sent_profile = true;
                    tx.send(Message::Text(after_start.to_string().into()))
                        .await
                        .unwrap();
                }
                if action == "MeterValues"
                    || (action == "TransactionEvent" && payload["eventType"] == "Updated")
                {
                    meters += 1;
                    if connection == 1 && meters == drop_after_meter {
                        break;
                    }
                }
            }
        }
    });
    (url, seen, answers)
}

fn spec(version: OcppVersion) -> ChargerSpec {
    ChargerSpec {
        id: ChargerId::new("SIM-T1").unwrap(),
        site: SiteId::new("s").unwrap(),
        version,
        vendor: "V".into(),
        model: "M".into(),
        phases: 3,
        max_power: Watts(22_000.0),
        evses: vec![EvseSpec {
            id: EvseId(1),
            connector: ConnectorId(1),
            max_power: Watts(11_000.0),
            max_current: Amperes(16.0),
            dc: false,
        }],
        password: None,
        quirks: Quirks::default(),
    }
}

fn plan(at: DateTime<Utc>) -> EvPlan {
    EvPlan {
        key: 1,
        vehicle: "EV1".into(),
        kind: VehicleKind::Car,
        id_tag: IdTag::new("AABBCCDD").unwrap(),
        arrival: at,
        departure: at + chrono::Duration::hours(3),
        arrival_soc_pct: 20.0,
        target_soc_pct: 90.0,
        energy_need: WattHours(30_000.0),
        site: None,
        position: None,
        wants_dc: false,
        ambient_c: 20.0,
    }
}

async fn run_one(
    version: OcppVersion,
    profile_call: Value,
) -> (ChargerRecord, Vec<(String, Value)>, Vec<(String, Value)>) {
    let (url, seen, answers) = fake_csms(version, profile_call, 3).await;
    let start: DateTime<Utc> = "2026-05-01T20:00:00Z".parse().unwrap();
    // 1 simulated hour per wall second.
    let clock = SimClock::new(start, 3600.0);
    let (events, mut events_rx) = mpsc::unbounded_channel();
    let settings = ChargerSettings {
        meter_interval_s: 300,
        step_s: 60,
        ..ChargerSettings::default()
    };
    let h = spawn_charger(
        spec(version),
        ChargerRun {
            index: 0,
            base_url: url,
            clock,
            settings,
            seed: 1,
            start: tokio::time::Instant::now(),
        },
        events,
    );
    // Wait for the boot (an event, not a sleep), then plug a car in.
    assert_eq!(
        events_rx.recv().await,
        Some(ChargerEvent::Booted { charger: 0 })
    );
    h.control
        .send(ChargerControl::Plug {
            evse: EvseId(1),
            ev: Box::new(plan(clock.now())),
        })
        .unwrap();
    // The connection drops after the 3rd meter value; wait for the reboot, then for 2 h more.
    assert_eq!(
        events_rx.recv().await,
        Some(ChargerEvent::Booted { charger: 0 })
    );
    clock.sleep_until(start + chrono::Duration::hours(2)).await;
    h.control.send(ChargerControl::Finish).unwrap();
    let record = tokio::time::timeout(Duration::from_secs(30), h.task)
        .await
        .unwrap()
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    let answers = answers.lock().unwrap().clone();
    (record, seen, answers)
}

fn check_schemas(version: OcppVersion, seen: &[(String, Value)], answers: &[(String, Value)]) {
    let Some(schemas) = schemas() else {
        eprintln!("the Python ocpp package is not installed: schema checks skipped");
        return;
    };
    let set = schemas.for_version(version).unwrap();
    for (action, payload) in seen {
        let v = set.check_request(action, payload);
        assert!(
            v.as_ref().is_none_or(Vec::is_empty),
            "{action} {payload}: {v:?}"
        );
    }
    for (_, answer) in answers {
        let v = set.check_response("SetChargingProfile", &answer[2]);
        assert!(v.as_ref().is_none_or(Vec::is_empty), "{answer}: {v:?}");
    }
}

#[tokio::test]
async fn a_16_charger_obeys_profiles_and_replays_its_queue_in_order() {
    let profile = json!([2, "csms-1", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": {"chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}]}}}]);
    let (record, seen, answers) = run_one(OcppVersion::V16, profile).await;
    assert!(record.booted);
    assert_eq!(record.profiles.len(), 1);
    assert!(record.profiles[0].accepted, "{:?}", record.profiles);
    assert_eq!(answers[0].1[2]["status"], "Accepted");
    // Obeyed: every span after the profile stays under 8 A x 230 V x 3.
    let limit = 8.0 * 230.0 * 3.0;
    let after: Vec<_> = record
        .power
        .iter()
        .filter(|p| p.from >= record.profiles[0].at)
        .collect();
    assert!(!after.is_empty());
    assert!(after.iter().all(|p| p.power.0 <= limit + 1.0), "{after:?}");
    assert!(
        after.iter().any(|p| p.power.0 > 0.5 * limit),
        "it still charges"
    );
    // Transaction messages: one start, meter values with increasing timestamps, one stop, all
    // for transaction 7, each sent once though the connection dropped in between.
    let tx: Vec<_> = seen
        .iter()
        .filter(|(a, _)| {
            matches!(
                a.as_str(),
                "StartTransaction" | "MeterValues" | "StopTransaction"
            )
        })
        .collect();
    assert_eq!(tx.first().unwrap().0, "StartTransaction");
    assert_eq!(tx.last().unwrap().0, "StopTransaction");
    assert!(
        tx[1..].iter().all(|(_, p)| p["transactionId"] == 7),
        "{tx:?}"
    );
    let stamps: Vec<DateTime<Utc>> = tx
        .iter()
        .filter(|(a, _)| a == "MeterValues")
        .map(|(_, p)| {
            p["meterValue"][0]["timestamp"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    assert_eq!(
        seen.iter().filter(|(a, _)| a == "BootNotification").count(),
        2
    );
    assert!(record.stats.connects >= 2);
    assert_eq!(record.sessions.len(), 1);
    assert!(record.sessions[0].delivered.0 > 1_000.0);
    assert_eq!(record.sessions[0].transaction_id.as_deref(), Some("7"));
    check_schemas(OcppVersion::V16, &seen, &answers);
}

#[tokio::test]
async fn a_201_station_obeys_a_station_max_profile_with_gapless_seq_nos() {
    let profile = json!([2, "csms-1", "SetChargingProfile", {"evseId": 0, "chargingProfile": {
        "id": 3, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": [{"id": 1,
        "startSchedule": "2026-05-01T00:00:00Z", "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 5000.0}]}]}}]);
    let (record, seen, answers) = run_one(OcppVersion::V201, profile).await;
    assert!(record.profiles[0].accepted, "{:?}", record.profiles);
    let after: Vec<_> = record
        .power
        .iter()
        .filter(|p| p.from >= record.profiles[0].at)
        .collect();
    assert!(after.iter().all(|p| p.power.0 <= 5_001.0), "{after:?}");
    let events: Vec<_> = seen
        .iter()
        .filter(|(a, _)| a == "TransactionEvent")
        .collect();
    assert_eq!(events.first().unwrap().1["eventType"], "Started");
    assert_eq!(events.last().unwrap().1["eventType"], "Ended");
    let seq: Vec<i64> = events
        .iter()
        .map(|(_, p)| p["seqNo"].as_i64().unwrap())
        .collect();
    assert_eq!(
        seq,
        (0..seq.len() as i64).collect::<Vec<_>>(),
        "sequence numbers without gaps"
    );
    assert!(seen.iter().any(|(a, _)| a == "NotifyEVChargingNeeds"));
    check_schemas(OcppVersion::V201, &seen, &answers);
}

#[tokio::test]
async fn configuration_is_read_in_each_versions_shape() {
    let get =
        json!([2, "csms-1", "GetConfiguration", {"key": ["MeterValueSampleInterval", "Nope"]}]);
    let (_, _, answers) = run_one(OcppVersion::V16, get).await;
    let answer = &answers[0].1[2];
    assert_eq!(
        answer["configurationKey"][0],
        json!({"key": "MeterValueSampleInterval", "readonly": false, "value": "300"}),
        "{answer}"
    );
    assert_eq!(answer["unknownKey"], json!(["Nope"]));
    let get = json!([2, "csms-1", "GetVariables", {"getVariableData": [
        {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"}},
        {"component": {"name": "X"}, "variable": {"name": "Y"}}]}]);
    let (_, _, answers) = run_one(OcppVersion::V201, get).await;
    let results = &answers[0].1[2]["getVariableResult"];
    assert_eq!(results[0]["attributeStatus"], "Accepted", "{results}");
    assert_eq!(results[0]["attributeValue"], "300");
    assert_eq!(results[1]["attributeStatus"], "UnknownVariable");
    if let Some(schemas) = schemas() {
        let v = schemas
            .for_version(OcppVersion::V201)
            .unwrap()
            .check_response("GetVariables", &answers[0].1[2]);
        assert!(v.as_ref().is_none_or(Vec::is_empty), "{v:?}");
    }
}
