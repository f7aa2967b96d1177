//! The gateway's hot path on Redis (#20): how many Redis commands one charger message costs,
//! counted by Redis itself (`INFO commandstats`) over a few hundred messages of each kind from
//! a booted 1.6 charger in a transaction. The bounds are today's figures: a change that adds
//! commands to the hot path fails here. Measured in session 8: a MeterValues cost 8 commands
//! in 5 round trips (4 GETs, then MULTI SET RPUSH EXEC); then 4 in 1: the connection keeps its
//! charger's open sessions as it last wrote them (no read for a known transaction), the
//! transaction key names the session's document (one read, not three, when it must), and the
//! update trusts the caller's version instead of reading it again. Session 9: 2 in 1 (SET and
//! RPUSH; a meter-only update needs no MULTI/EXEC). Session 13: a StatusNotification 4 (a
//! script reading the stored time, then two HSETs) became 2 (two HSETs in one round trip): the
//! connection remembers the time it last wrote per connector; only its first report per
//! connector runs the script.

use std::collections::BTreeMap;

use serde_json::json;

use chargegrid_test_support::RedisServer;

use crate::harness::{RawCharger, add_tag, test_config};

/// Calls per command since the last reset.
async fn commandstats(conn: &mut redis::aio::MultiplexedConnection) -> BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .unwrap();
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .split(',')
                .next()?
                .strip_prefix("calls=")?
                .parse()
                .ok()?;
            Some((name.to_string(), calls))
        })
        .filter(|(name, _)| !(name.starts_with("info") || name.starts_with("config")))
        .collect()
}

async fn reset(conn: &mut redis::aio::MultiplexedConnection) {
    let () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(conn)
        .await
        .unwrap();
}

/// Sends `n` messages made by `frame(i)` and returns Redis commands per message, with the
/// commands seen.
async fn cost(
    cp: &mut RawCharger,
    conn: &mut redis::aio::MultiplexedConnection,
    n: usize,
    frame: impl Fn(usize) -> (String, serde_json::Value),
) -> (f64, BTreeMap<String, u64>) {
    reset(conn).await;
    for i in 0..n {
        let (action, payload) = frame(i);
        let answer = cp.call(&format!("m{i}"), &action, payload).await;
        assert_eq!(answer[0], 3, "{answer}");
    }
    let stats = commandstats(conn).await;
    let total: u64 = stats.values().sum();
    (total as f64 / n as f64, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_commands_per_charger_message_stay_within_todays_figures() {
    let redis = RedisServer::start();
    let config = test_config(&redis.url());
    // The gateway alone: no scheduler, pump or health worker sharing the counts.
    let app = chargegrid::App::start(
        &config,
        chargegrid::Role::Gateway,
        std::sync::Arc::new(chargegrid_core::SystemClock),
    )
    .await
    .unwrap();
    add_tag(&app, "HOT-1").await;
    let mut cp = RawCharger::booted(&app, "QD-M4-DC01", "ocpp1.6").await;
    let started = cp
        .call(
            "s",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "HOT-1", "meterStart": 0, "timestamp": crate::harness::ts(-3600)}),
        )
        .await;
    let tx = started[2]["transactionId"].clone();
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    const N: usize = 300;
    let (meter, meter_stats) = cost(&mut cp, &mut conn, N, |i| {
        (
            "MeterValues".into(),
            json!({"connectorId": 1, "transactionId": tx, "meterValue": [{
                "timestamp": crate::harness::ts(-3600 + 10 * i as i64),
                "sampledValue": [
                    {"value": (100 * i).to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "36000", "measurand": "Power.Active.Import", "unit": "W"},
                    {"value": "55", "measurand": "SoC", "unit": "Percent"}
                ]}]}),
        )
    })
    .await;
    let (status, status_stats) = cost(&mut cp, &mut conn, N, |i| {
        (
            "StatusNotification".into(),
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Charging",
                   "timestamp": crate::harness::ts(-3000 + i as i64)}),
        )
    })
    .await;
    let (heartbeat, heartbeat_stats) =
        cost(&mut cp, &mut conn, N, |_| ("Heartbeat".into(), json!({}))).await;
    eprintln!(
        "Redis commands per message: MeterValues {meter:.2} {meter_stats:?}; \
         StatusNotification {status:.2} {status_stats:?}; Heartbeat {heartbeat:.2} {heartbeat_stats:?}"
    );
    // Today's figures (2, 2 and 0), with room for a background tick of the network metrics
    // (a few dozen commands over the run).
    assert!(meter <= 2.2, "MeterValues: {meter:.2} {meter_stats:?}");
    assert!(
        meter_stats.get("multi").copied().unwrap_or(0) <= 20,
        "a meter-only update is not a transaction: {meter_stats:?}"
    );
    assert!(
        meter_stats.get("get").copied().unwrap_or(0) <= 20,
        "no reads for a MeterValues of a known transaction: {meter_stats:?}"
    );
    assert!(
        status <= 2.2,
        "StatusNotification: {status:.2} {status_stats:?}"
    );
    assert!(
        status_stats.get("evalsha").copied().unwrap_or(0) <= 5,
        "only a connector's first report reads the stored one: {status_stats:?}"
    );
    assert!(
        heartbeat <= 0.2,
        "Heartbeat: {heartbeat:.2} {heartbeat_stats:?}"
    );
    app.shutdown().await.unwrap();
}
