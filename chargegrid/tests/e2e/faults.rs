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

/// The load generator (the real binary's `simulate load`, a separate process: its sockets do
/// not count against this process's file descriptors) against the app in this process, with
/// `args` after the target; its JSON report. Awaited, not blocked on: the app runs on this
/// test's two runtime threads.
async fn simulate_load(addr: std::net::SocketAddr, args: &[&str]) -> serde_json::Value {
    let json = std::env::temp_dir().join(format!(
        "cg-load-{}-{}.json",
        std::process::id(),
        NEXT_REPORT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_chargegrid"))
        .args([
            "simulate",
            "load",
            "--against",
            &format!("ws://{addr}/ocpp"),
        ])
        .args(args)
        .arg("--json")
        .arg(&json)
        .output()
        .await
        .expect("run chargegrid simulate load");
    assert!(
        out.status.success(),
        "simulate load failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    report
}

/// Numbers the reports of one test process's load runs.
static NEXT_REPORT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `chargers` idle chargers connect at 1,000/s, boot and are held for a second.
async fn load_run(addr: std::net::SocketAddr, chargers: usize) -> serde_json::Value {
    let pid = std::process::id().to_string();
    let chargers = chargers.to_string();
    simulate_load(
        addr,
        &[
            "--pid",
            &pid,
            "--idle",
            &chargers,
            "--connect-rate",
            "1000",
            "--hold-s",
            "1",
            "--meter-connections",
            "0",
            "--prefix",
            "MASS",
            // Wait for every boot however slow this build is (ends as soon as all are open).
            "--settle-s",
            "600",
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_chargers_reconnect_at_once_and_every_one_is_served() {
    const CHARGERS: usize = 10_000;
    let _storm = crate::harness::QUIET.write().await;
    let redis = RedisServer::start();
    let mut config = test_config(&redis.url());
    config.ocpp.gateway.allow_unknown_chargers = true;
    // All of them come from one address here (as from behind a carrier NAT).
    config.ocpp.gateway.max_connections_per_ip = 2 * CHARGERS;
    // An unoptimised test build on two cores shared with the generator answers a storm this
    // size slowly; the slowloris deadline is not what is tested here.
    config.ocpp.gateway.handshake_timeout = Duration::from_secs(120);
    let app = start(&config, Role::All).await;
    let addr = app.ocpp_addr.unwrap();

    // The network before the outage: every charger connects and boots, then every socket drops
    // at once when the generator exits.
    let before = load_run(addr, CHARGERS).await;
    // The mass reconnect: the same 10,000 ids within 10 s, onto the registrations left behind.
    let after = load_run(addr, CHARGERS).await;
    for (phase, report) in [("before", &before), ("reconnect", &after)] {
        let idle = &report["idle"];
        eprintln!("{phase}: {idle}");
        assert_eq!(idle["attempted"], CHARGERS, "{phase}: {idle}");
        assert_eq!(
            idle["max_open"], CHARGERS,
            "{phase}: all held open at once: {idle}"
        );
        assert_eq!(idle["failures"], 0, "{phase}: {idle}");
    }
    // Memory stays bounded: what the first 10,000 open sockets cost this process (the app and
    // the test harness; the generator runs elsewhere), per connection. The first run, because
    // the allocator keeps what it grew, so the reconnect's own growth is near 0 and proves
    // nothing.
    let per_connection = before["idle"]["rss_per_connection_kib"].as_f64().unwrap();
    assert!(
        per_connection < 100.0,
        "{per_connection} KiB per connection (about 20 measured in a release build)"
    );
    app.shutdown().await.unwrap();
}

/// The load generator's meter phase (frames rendered once, values spliced in per message:
/// #20) speaks valid OCPP in both versions: the server, schemas on, answers every message and
/// keeps every message's samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generators_meter_frames_are_accepted_in_both_versions() {
    let redis = RedisServer::start();
    let mut config = test_config(&redis.url());
    config.ocpp.gateway.allow_unknown_chargers = true;
    config.ocpp.gateway.accept_unknown_id_tags = true;
    let app = start(&config, Role::Gateway).await;
    let addr = app.ocpp_addr.unwrap();
    for (version, prefix) in [("1.6", "LG16"), ("2.0.1", "LG201")] {
        let report = simulate_load(
            addr,
            &[
                "--idle",
                "0",
                "--meter-connections",
                "3",
                "--rates",
                "30",
                "--step-s",
                "1",
                "--p99-ms",
                "60000",
                "--ocpp",
                version,
                "--prefix",
                prefix,
            ],
        )
        .await;
        let step = &report["steps"][0];
        assert_eq!(step["errors"], 0, "{version}: {report}");
        assert_eq!(step["timeouts"], 0, "{version}: {report}");
        let mut samples = 0;
        for n in 0..3 {
            let charger = ChargerId::new(format!("{prefix}-M{n:05}")).unwrap();
            let sessions = app
                .store
                .active_sessions_of_charger(&charger)
                .await
                .unwrap();
            assert_eq!(
                sessions.len(),
                1,
                "{version}: {charger} has its transaction"
            );
            samples += app.store.samples(&sessions[0].id).await.unwrap().len();
        }
        // Whole messages' samples were kept (11 per 1.6 message, 10 in 2.0.1, which has no
        // temperature), about 30 messages' worth.
        let per_message = if version == "1.6" { 11 } else { 10 };
        assert_eq!(samples % per_message, 0, "{version}: {samples} samples");
        assert!(
            samples >= 20 * per_message,
            "{version}: {samples} samples for about 30 messages"
        );
    }
    app.shutdown().await.unwrap();
}
