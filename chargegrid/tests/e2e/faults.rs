//! Faults with real processes' parts: a gateway node dies and its chargers carry on through
//! another node on the same Redis, commands still reach them; Redis restarts (AOF) under load
//! and chargers see delays, not errors, and nothing accepted is lost.

use std::time::Duration;

use chargegrid::Role;
use chargegrid_core::command::{ChargerCommand, ResetKind};
use chargegrid_core::session::SessionState;
use chargegrid_core::{ChargerId, SystemClock, WattHours};
use chargegrid_test_support::RedisServer;
use serde_json::json;

use crate::harness::{RawCharger, add_tag, test_config, ts};

async fn start(config: &chargegrid::Config, role: Role) -> chargegrid::App {
    chargegrid::App::start(config, role, std::sync::Arc::new(SystemClock))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_gateway_node_loses_nothing_and_commands_follow_the_charger() {
    let redis = RedisServer::start();
    let mut a = test_config(&redis.url());
    a.node_id = chargegrid_core::NodeId::new("gw-a").unwrap();
    let mut b = a.clone();
    b.node_id = chargegrid_core::NodeId::new("gw-b").unwrap();
    let mut api = a.clone();
    api.node_id = chargegrid_core::NodeId::new("api-1").unwrap();
    let gw_a = start(&a, Role::Gateway).await;
    let gw_b = start(&b, Role::Gateway).await;
    let api_node = start(&api, Role::Api).await;
    add_tag(&api_node, "FAIL-1").await;

    // A session starts on node A.
    let mut cp = RawCharger::connect(&gw_a, "QD-HD-AC01", "ocpp1.6").await;
    cp.call(
        "b",
        "BootNotification",
        json!({"chargePointVendor": "V", "chargePointModel": "M"}),
    )
    .await;
    let started = cp
        .call(
            "s",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "FAIL-1", "meterStart": 1000, "timestamp": ts(-60)}),
        )
        .await;
    let tx = started[2]["transactionId"].as_i64().unwrap();
    cp.call("m", "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(-30), "sampledValue": [{"value": "1800"}]}]})).await;

    // Node A dies (its sockets close); the charger reconnects to node B and carries on.
    gw_a.shutdown().await.unwrap();
    drop(cp);
    let mut cp = RawCharger::connect(&gw_b, "QD-HD-AC01", "ocpp1.6").await;
    let charger = ChargerId::new("QD-HD-AC01").unwrap();
    assert_eq!(
        api_node
            .store
            .locate(&charger)
            .await
            .unwrap()
            .map(|n| n.to_string())
            .as_deref(),
        Some("gw-b")
    );
    cp.call("m2", "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(-10), "sampledValue": [{"value": "2500"}]}]})).await;

    // A command from the API node reaches the charger on node B.
    let sending = tokio::spawn({
        let store = api_node.store.clone();
        let charger = charger.clone();
        async move {
            store
                .send_command(
                    &charger,
                    ChargerCommand::Reset {
                        kind: ResetKind::Soft,
                    },
                    Duration::from_secs(10),
                )
                .await
                .unwrap()
        }
    });
    let call = cp.recv().await;
    assert_eq!(call[2], "Reset");
    cp.send_text(&json!([3, call[1], {"status": "Accepted"}]).to_string())
        .await;
    assert!(sending.await.unwrap().is_accepted());

    cp.call(
        "x",
        "StopTransaction",
        json!({"transactionId": tx, "meterStop": 3000, "timestamp": ts(0)}),
    )
    .await;
    let s = api_node
        .store
        .find_by_transaction(&charger, &tx.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.state, SessionState::Ended);
    assert_eq!(
        s.energy,
        WattHours(2000.0),
        "energy accepted on both nodes is all there"
    );
    assert_eq!(api_node.store.samples(&s.id).await.unwrap().len(), 2);
    gw_b.shutdown().await.unwrap();
    api_node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_under_load_is_a_delay_not_an_error() {
    let mut redis = RedisServer::start_with_aof();
    {
        // Every write durable before it is acknowledged: the restart below is a crash.
        let client = redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("appendfsync")
            .arg("always")
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    let config = test_config(&redis.url());
    let app = start(&config, Role::All).await;
    add_tag(&app, "RR-1").await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC02", "ocpp1.6").await;
    cp.call(
        "b",
        "BootNotification",
        json!({"chargePointVendor": "V", "chargePointModel": "M"}),
    )
    .await;
    let started = cp
        .call(
            "s",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "RR-1", "meterStart": 0, "timestamp": ts(-600)}),
        )
        .await;
    let tx = started[2]["transactionId"].as_i64().unwrap();
    let mut errors = 0;
    for i in 1..=40 {
        if i == 10 {
            redis.restart();
        }
        let answer = cp
            .call(&format!("m{i}"), "MeterValues", json!({"connectorId": 1, "transactionId": tx,
                "meterValue": [{"timestamp": ts(-600 + i * 10), "sampledValue": [{"value": (i * 100).to_string()}]}]}))
            .await;
        if answer[0] != 3 {
            errors += 1;
        }
    }
    assert_eq!(
        errors, 0,
        "chargers see delays, not errors, while Redis restarts"
    );
    let charger = ChargerId::new("QD-HD-AC02").unwrap();
    let s = app
        .store
        .find_by_transaction(&charger, &tx.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.energy, WattHours(4000.0), "no accepted meter energy lost");
    assert_eq!(app.store.samples(&s.id).await.unwrap().len(), 40);
    app.shutdown().await.unwrap();
}
