//! OCPP 2.0.1 interoperability: a charging station written with the Python `ocpp` package
//! (schema validation on, both ways) runs a full TransactionEvent session; its ISO 15118
//! charging needs reach the scheduler's inputs in the store; every CSMS call is answered; and a
//! site with a 1.6 and a 2.0.1 charger records their sessions identically.

use std::time::Duration;

use chargegrid::App;
use chargegrid_core::command::{
    ChargerCommand, ChargingLimit, CommandReply, ProfilePurpose, RateUnit, ResetKind,
    SchedulePeriod,
};
use chargegrid_core::session::{SessionState, StopReason};
use chargegrid_core::{ChargerId, ConnectorId, EvseId, IdTag, WattHours, Watts};
use chargegrid_store::NeedsSource;
use chargegrid_test_support::RedisServer;
use serde_json::json;

use crate::harness::{RawCharger, add_tag, start_app, test_config, ts};
use crate::peer::Peer;

const STATION: &str = "QD-HD-AC06";
const TOKEN: &str = "A1B2C3D4";

fn every_command() -> Vec<(&'static str, ChargerCommand)> {
    let tag = IdTag::new(TOKEN).unwrap();
    let raw = |action: &str, payload: serde_json::Value| ChargerCommand::Raw {
        action: action.into(),
        payload,
    };
    let limit = ChargingLimit {
        profile_id: 21,
        stack_level: 0,
        purpose: ProfilePurpose::TxDefault,
        transaction_id: None,
        start: None,
        unit: RateUnit::W,
        periods: vec![SchedulePeriod {
            start_offset_s: 0,
            limit: 7_400.0,
            phases: None,
        }],
        valid_to: None,
    };
    let component =
        json!({"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}});
    vec![
        (
            "RequestStartTransaction",
            ChargerCommand::RemoteStart {
                evse: Some(EvseId(1)),
                id_tag: tag.clone(),
                limit: None,
                remote_start_id: 77,
            },
        ),
        (
            "RequestStopTransaction",
            ChargerCommand::RemoteStop {
                transaction_id: "tx-201-a".into(),
            },
        ),
        (
            "SetChargingProfile",
            ChargerCommand::SetChargingLimit {
                evse: EvseId(1),
                limit,
            },
        ),
        (
            "ClearChargingProfile",
            ChargerCommand::ClearChargingLimit {
                profile_id: Some(21),
                evse: None,
                purpose: None,
            },
        ),
        (
            "GetCompositeSchedule",
            ChargerCommand::GetCompositeSchedule {
                evse: EvseId(1),
                duration_s: 3600,
                unit: Some(RateUnit::A),
            },
        ),
        (
            "GetVariables",
            raw("GetVariables", json!({"getVariableData": [component]})),
        ),
        (
            "SetVariables",
            raw(
                "SetVariables",
                json!({"setVariableData": [{"attributeValue": "120", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}),
            ),
        ),
        (
            "GetBaseReport",
            raw(
                "GetBaseReport",
                json!({"requestId": 1, "reportBase": "FullInventory"}),
            ),
        ),
        (
            "Reset",
            ChargerCommand::Reset {
                kind: ResetKind::Soft,
            },
        ),
        (
            "ChangeAvailability",
            ChargerCommand::ChangeAvailability {
                evse: EvseId(1),
                operative: true,
            },
        ),
        (
            "UnlockConnector",
            ChargerCommand::UnlockConnector {
                evse: EvseId(1),
                connector: ConnectorId(1),
            },
        ),
        (
            "TriggerMessage",
            ChargerCommand::TriggerMessage {
                message: "StatusNotification".into(),
                evse: Some(EvseId(1)),
            },
        ),
        (
            "ReserveNow",
            ChargerCommand::ReserveNow {
                reservation_id: 9,
                evse: EvseId(1),
                id_tag: tag,
                expires_at: chrono::Utc::now() + chrono::Duration::minutes(20),
            },
        ),
        (
            "CancelReservation",
            ChargerCommand::CancelReservation { reservation_id: 9 },
        ),
        (
            "SendLocalList",
            raw(
                "SendLocalList",
                json!({"versionNumber": 4, "updateType": "Full", "localAuthorizationList": [{"idToken": {"idToken": TOKEN, "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}]}),
            ),
        ),
        ("GetLocalListVersion", raw("GetLocalListVersion", json!({}))),
        (
            "UpdateFirmware",
            raw(
                "UpdateFirmware",
                json!({"requestId": 2, "firmware": {"location": "https://fw.example.com/v3.bin", "retrieveDateTime": "2026-12-01T02:00:00.000Z"}}),
            ),
        ),
        (
            "GetLog",
            raw(
                "GetLog",
                json!({"logType": "DiagnosticsLog", "requestId": 3, "log": {"remoteLocation": "https://logs.example.com/upload"}}),
            ),
        ),
        (
            "DataTransfer",
            raw(
                "DataTransfer",
                json!({"vendorId": "com.chargegrid", "messageId": "ping"}),
            ),
        ),
    ]
}

async fn full_session(app: App) {
    add_tag(&app, TOKEN).await;
    let url = format!("ws://{}/ocpp", app.ocpp_addr.unwrap());
    let mut peer = Peer::spawn("cp201.py", &[&url, STATION, TOKEN, "tx-201-a"]);
    assert_eq!(peer.expect("boot").await["status"], "Accepted");
    assert_eq!(peer.expect("authorize").await["status"], "Accepted");
    assert_eq!(peer.expect("started").await["status"], "Accepted");
    assert_eq!(peer.expect("needs").await["status"], "Accepted");

    let charger = ChargerId::new(STATION).unwrap();
    let session = app
        .store
        .find_by_transaction(&charger, "tx-201-a")
        .await
        .unwrap()
        .expect("session");
    assert_eq!(session.state, SessionState::Active);
    let needs = app
        .store
        .get_ev_needs(&session.site, &session.id)
        .await
        .unwrap()
        .expect("NotifyEVChargingNeeds reached the scheduler's inputs");
    assert_eq!(needs.source, NeedsSource::Vehicle);
    assert_eq!(needs.energy, Some(WattHours(30_000.0)));
    assert_eq!(needs.max_power, Some(Watts(16.0 * 230.0 * 3.0)));
    assert_eq!(needs.min_power, Some(Watts(6.0 * 230.0 * 3.0)));
    let departs_in = needs.departure.unwrap() - chrono::Utc::now();
    assert!(departs_in > chrono::Duration::hours(3) && departs_in < chrono::Duration::hours(5));

    peer.send_line("go").await;
    peer.expect("ended").await;
    peer.expect("ready").await;
    let session = app
        .store
        .find_by_transaction(&charger, "tx-201-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.state, SessionState::Ended);
    assert_eq!(session.energy, WattHours(8_000.0));
    assert_eq!(session.stop_reason, Some(StopReason::EvDisconnected));
    assert_eq!(session.soc, Some(33.0));
    assert_eq!(session.start_reason.as_deref(), Some("Authorized"));
    assert!(
        app.store
            .get_ev_needs(&session.site, &session.id)
            .await
            .unwrap()
            .is_none(),
        "needs end with the session"
    );

    for (action, command) in every_command() {
        let reply = app
            .store
            .send_command(&charger, command, Duration::from_secs(20))
            .await
            .unwrap();
        assert!(
            matches!(reply, CommandReply::Result { .. }),
            "{action}: {reply:?}"
        );
        if action == "GetCompositeSchedule" {
            crate::harness::assert_peers_composite_schedule(&reply);
        }
        assert_eq!(peer.expect("received").await["action"], action);
    }
    peer.finish().await;
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_station_full_session_on_memory_store() {
    full_session(start_app(&test_config("memory://")).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_station_full_session_on_redis() {
    let redis = RedisServer::start();
    full_session(start_app(&test_config(&redis.url())).await).await;
}

#[tokio::test]
async fn a_mixed_site_records_both_versions_identically() {
    let app = start_app(&test_config("memory://")).await;
    // Two drivers; each charges with their app token, one on a 1.6 and one on a 2.0.1 charger.
    let api = crate::api_client::Api::new(app.api_addr.unwrap());
    let (d16, _) = api.signup("mix16@example.com").await;
    let (d201, _) = api.signup("mix201@example.com").await;
    let tag16 = d16.get("/me").await.body["id_tags"][0]["id_tag"]
        .as_str()
        .unwrap()
        .to_string();
    let tag201 = d201.get("/me").await.body["id_tags"][0]["id_tag"]
        .as_str()
        .unwrap()
        .to_string();
    // QD-LS-AC01 (1.6) and QD-LS-AC05 (2.0.1) share the Laoshan car park.
    let mut old = RawCharger::connect(&app, "QD-LS-AC01", "ocpp1.6").await;
    let mut new = RawCharger::connect(&app, "QD-LS-AC05", "ocpp2.0.1").await;
    old.call(
        "b",
        "BootNotification",
        json!({"chargePointVendor": "V", "chargePointModel": "M"}),
    )
    .await;
    new.call(
        "b",
        "BootNotification",
        json!({"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}),
    )
    .await;
    let at = ts(-600);
    let s16 = old
        .call(
            "s",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": tag16, "meterStart": 5000, "timestamp": at}),
        )
        .await;
    assert_eq!(s16[0], 3, "{s16}");
    let s201 = new
        .call("s", "TransactionEvent", json!({
            "eventType": "Started", "timestamp": at, "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": {"transactionId": "T-1"}, "idToken": {"idToken": tag201, "type": "Central"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": at, "sampledValue": [{"value": 5000.0, "context": "Transaction.Begin"}]}]
        }))
        .await;
    assert_eq!(s201[0], 3, "{s201}");
    let later = ts(0);
    old.call("m", "MeterValues", json!({"connectorId": 1, "transactionId": s16[2]["transactionId"],
        "meterValue": [{"timestamp": later, "sampledValue": [{"value": "6.2", "unit": "kWh"}, {"value": "3600", "measurand": "Power.Active.Import"}]}]})).await;
    new.call("m", "TransactionEvent", json!({
        "eventType": "Updated", "timestamp": later, "triggerReason": "MeterValuePeriodic", "seqNo": 1,
        "transactionInfo": {"transactionId": "T-1", "chargingState": "Charging"},
        "meterValue": [{"timestamp": later, "sampledValue": [{"value": 6.2, "unitOfMeasure": {"unit": "kWh"}}, {"value": 3600.0, "measurand": "Power.Active.Import"}]}]
    })).await;
    let site = chargegrid_core::SiteId::new("qd-laoshan-park").unwrap();
    let active = app.store.active_sessions(&site).await.unwrap();
    assert_eq!(active.len(), 2);
    for s in &active {
        assert_eq!(s.energy, WattHours(1_200.0), "{}", s.charger);
        assert_eq!(s.power, Some(Watts(3_600.0)));
        assert_eq!(s.evse, EvseId(1));
        assert_eq!(s.started_at, active[0].started_at);
        assert!(s.driver.is_some() && s.is_active());
    }
    // The app sees both sessions the same way, whatever the charger's OCPP version.
    let v16 = d16.get("/sessions").await.body["sessions"][0].clone();
    let v201 = d201.get("/sessions").await.body["sessions"][0].clone();
    let fields = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(fields(&v16), fields(&v201));
    for key in [
        "state",
        "site",
        "evse",
        "started_at",
        "energy_kwh",
        "power_kw",
        "cost",
        "currency",
    ] {
        assert_eq!(v16[key], v201[key], "{key}");
    }
    assert_ne!(v16["charger"], v201["charger"]);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn offline_events_out_of_order_are_reconciled_and_gaps_counted() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "OFF-1").await;
    let mut st = RawCharger::connect(&app, "QD-HD-AC07", "ocpp2.0.1").await;
    st.call(
        "b",
        "BootNotification",
        json!({"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}),
    )
    .await;
    let event = |kind: &str, seq: i64, offset: i64, wh: f64| {
        let at = ts(offset);
        json!({
            "eventType": kind, "timestamp": at, "triggerReason": "MeterValuePeriodic", "seqNo": seq, "offline": true,
            "transactionInfo": {"transactionId": "OFF-TX", "stoppedReason": "EVDisconnected"},
            "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "OFF-1", "type": "ISO14443"},
            "meterValue": [{"timestamp": at, "sampledValue": [{"value": wh}]}]
        })
    };
    // Replayed after an outage: Started, then Ended before two Updated, and seqNo 3 missing.
    for (id, (kind, seq, offset, wh)) in [
        ("Started", 0, -7200, 40_000.0),
        ("Ended", 4, -3600, 52_000.0),
        ("Updated", 1, -6000, 44_000.0),
        ("Updated", 2, -5000, 48_000.0),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = st
            .call(
                &format!("e{id}"),
                "TransactionEvent",
                event(kind, seq, offset, wh),
            )
            .await;
        assert_eq!(answer[0], 3, "{kind} {seq}: {answer}");
    }
    let charger = ChargerId::new("QD-HD-AC07").unwrap();
    let s = app
        .store
        .find_by_transaction(&charger, "OFF-TX")
        .await
        .unwrap()
        .unwrap();
    assert!(s.offline);
    assert_eq!(s.state, SessionState::Ended);
    assert_eq!(
        s.energy,
        WattHours(12_000.0),
        "late Updated events never reduce the final energy"
    );
    assert_eq!(
        app.store.samples(&s.id).await.unwrap().len(),
        4,
        "every event's samples are kept"
    );
    let metrics = crate::harness::metrics_text(&app).await;
    assert!(
        metrics.contains(r#"chargegrid_ocpp_meter_readings_ignored_total{kind="gap"}"#),
        "{metrics}"
    );
    app.shutdown().await.unwrap();
}
