//! OCPP 1.6J interoperability: a charge point written with the Python `ocpp` package (schema
//! validation on, both ways) runs a full session against the gateway, then answers every
//! central-system command sent through the store's command bus. Run on the memory store and
//! on a real Redis.

use std::time::Duration;

use chargegrid::App;
use chargegrid_core::command::{
    ChargerCommand, ChargingLimit, CommandReply, ProfilePurpose, RateUnit, ResetKind,
    SchedulePeriod,
};
use chargegrid_core::session::{SessionState, StopReason};
use chargegrid_core::{ChargerId, ConnectorId, EvseId, IdTag, WattHours};
use chargegrid_test_support::{RedisCluster, RedisServer};
use serde_json::json;

use crate::harness::{add_tag, start_app, test_config};
use crate::peer::Peer;

const CHARGER: &str = "QD-HD-AC01";
const TAG: &str = "04E91C2A";

/// Every CSMS → charger call of OCPP 1.6, as typed commands where chargegrid has one and as raw
/// 1.6 payloads otherwise.
fn every_command() -> Vec<(&'static str, ChargerCommand)> {
    let tag = IdTag::new(TAG).unwrap();
    let limit = ChargingLimit {
        profile_id: 11,
        stack_level: 1,
        purpose: ProfilePurpose::TxDefault,
        transaction_id: None,
        start: None,
        unit: RateUnit::A,
        periods: vec![
            SchedulePeriod {
                start_offset_s: 0,
                limit: 16.0,
                phases: Some(3),
            },
            SchedulePeriod {
                start_offset_s: 3600,
                limit: 10.5,
                phases: Some(3),
            },
        ],
        valid_to: None,
    };
    let raw = |action: &str, payload: serde_json::Value| ChargerCommand::Raw {
        action: action.into(),
        payload,
    };
    vec![
        (
            "RemoteStartTransaction",
            ChargerCommand::RemoteStart {
                evse: Some(EvseId(1)),
                id_tag: tag.clone(),
                limit: None,
                remote_start_id: 1,
            },
        ),
        (
            "RemoteStopTransaction",
            ChargerCommand::RemoteStop {
                transaction_id: "1".into(),
            },
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
                operative: false,
            },
        ),
        (
            "ChangeConfiguration",
            raw(
                "ChangeConfiguration",
                json!({"key": "MeterValueSampleInterval", "value": "60"}),
            ),
        ),
        (
            "GetConfiguration",
            raw("GetConfiguration", json!({"key": ["HeartbeatInterval"]})),
        ),
        (
            "UnlockConnector",
            ChargerCommand::UnlockConnector {
                evse: EvseId(1),
                connector: ConnectorId(1),
            },
        ),
        ("ClearCache", raw("ClearCache", json!({}))),
        (
            "TriggerMessage",
            ChargerCommand::TriggerMessage {
                message: "StatusNotification".into(),
                evse: Some(EvseId(1)),
            },
        ),
        (
            "DataTransfer",
            raw(
                "DataTransfer",
                json!({"vendorId": "com.chargegrid", "messageId": "ping", "data": "hello"}),
            ),
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
                profile_id: Some(11),
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
            "ReserveNow",
            ChargerCommand::ReserveNow {
                reservation_id: 5,
                evse: EvseId(1),
                id_tag: tag,
                expires_at: chrono::Utc::now() + chrono::Duration::minutes(15),
            },
        ),
        (
            "CancelReservation",
            ChargerCommand::CancelReservation { reservation_id: 5 },
        ),
        (
            "SendLocalList",
            raw(
                "SendLocalList",
                json!({"listVersion": 3, "updateType": "Full", "localAuthorizationList": [{"idTag": TAG, "idTagInfo": {"status": "Accepted"}}]}),
            ),
        ),
        ("GetLocalListVersion", raw("GetLocalListVersion", json!({}))),
        (
            "UpdateFirmware",
            raw(
                "UpdateFirmware",
                json!({"location": "https://fw.example.com/v2.bin", "retrieveDate": "2026-12-01T02:00:00.000Z"}),
            ),
        ),
        (
            "GetDiagnostics",
            raw(
                "GetDiagnostics",
                json!({"location": "ftp://diag.example.com/upload"}),
            ),
        ),
    ]
}

async fn full_session_and_every_command(app: App) {
    add_tag(&app, TAG).await;
    let url = format!("ws://{}/ocpp", app.ocpp_addr.unwrap());
    let mut peer = Peer::spawn("cp16.py", &[&url, CHARGER, TAG]);

    let boot = peer.expect("boot").await;
    assert_eq!(boot["status"], "Accepted");
    assert_eq!(boot["interval"], 300);
    assert_eq!(peer.expect("authorize").await["status"], "Accepted");
    let started = peer.expect("started").await;
    assert_eq!(started["status"], "Accepted");
    let tx = started["transaction_id"].as_i64().unwrap();
    assert!(tx > 0);
    peer.expect("stopped").await;
    peer.expect("ready").await;

    // The session as the store has it: energy from the registers, the charger's reason.
    let charger = ChargerId::new(CHARGER).unwrap();
    let session = app
        .store
        .find_by_transaction(&charger, &tx.to_string())
        .await
        .unwrap()
        .expect("session recorded");
    assert_eq!(session.state, SessionState::Ended);
    assert_eq!(session.energy, WattHours(3_600.0));
    assert_eq!(session.stop_reason, Some(StopReason::EvDisconnected));
    assert_eq!(session.soc, Some(51.0));
    assert_eq!(session.site.as_str(), "qd-huangdao-depot");
    let samples = app.store.samples(&session.id).await.unwrap();
    assert_eq!(
        samples.len(),
        4 * 8,
        "every sampled value of 3 MeterValues and the stop's transactionData"
    );
    let states = app.store.connector_states(&charger).await.unwrap();
    assert_eq!(states[0].status.as_str(), "Charging");
    // The site remembers the quarter-hour it arrived in and what it took, for its habit of
    // arrivals.
    let arrivals = app
        .store
        .arrivals(&session.site, session.started_at, session.started_at)
        .await
        .unwrap();
    let (day, slot) = chargegrid_core::arrivals::utc_quarter(session.started_at);
    assert_eq!(
        arrivals,
        vec![chargegrid_core::arrivals::PastArrival {
            arrived: chargegrid_core::arrivals::utc_quarter_start(day, slot),
            energy: WattHours(3_600.0),
        }]
    );

    // Every central-system call, through the command bus, answered by the peer.
    for (action, command) in every_command() {
        let reply = app
            .store
            .send_command(&charger, command, Duration::from_secs(20))
            .await
            .unwrap();
        match &reply {
            CommandReply::Result { .. } => {}
            other => panic!("{action}: {other:?}"),
        }
        if action == "GetCompositeSchedule" {
            crate::harness::assert_peers_composite_schedule(&reply);
        }
        let received = peer.expect("received").await;
        assert_eq!(received["action"], action, "{received}");
    }
    peer.finish().await;
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_charge_point_full_session_on_memory_store() {
    full_session_and_every_command(start_app(&test_config("memory://")).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_charge_point_full_session_on_redis() {
    let redis = RedisServer::start();
    full_session_and_every_command(start_app(&test_config(&redis.url())).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_charge_point_full_session_on_a_redis_cluster() {
    let cluster = RedisCluster::start(3);
    full_session_and_every_command(start_app(&test_config(&cluster.url())).await).await;
}
