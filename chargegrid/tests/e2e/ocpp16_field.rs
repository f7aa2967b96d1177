//! Field realities of OCPP 1.6 chargers, one regression test each: retransmitted CALLs,
//! replayed starts, unknown and `-1` transaction ids, offline transactions, odd energy
//! registers, replaced and dead connections, boot storms, registration and authorisation.

use std::time::Duration;

use chargegrid_core::driver::{IdTagRecord, IdTagStatus};
use chargegrid_core::network::Registration;
use chargegrid_core::session::SessionState;
use chargegrid_core::{ChargerId, IdTag, WattHours};
use chargegrid_test_support::RedisServer;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{RawCharger, add_tag, set_charger_password, start_app, test_config, ts};

fn boot() -> Value {
    json!({"chargePointVendor": "Vendor", "chargePointModel": "Model"})
}

fn start(tag: &str, meter_start: i64, at: &str) -> Value {
    json!({"connectorId": 1, "idTag": tag, "meterStart": meter_start, "timestamp": at})
}

fn energy(wh: f64, unit: &str, at: &str) -> Value {
    json!({"timestamp": at, "sampledValue": [{"value": wh.to_string(), "measurand": "Energy.Active.Import.Register", "unit": unit}]})
}

#[tokio::test]
async fn retransmitted_and_replayed_starts_get_the_same_transaction() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "TAG-A").await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC02", "ocpp1.6").await;
    cp.call("b", "BootNotification", boot()).await;
    let at = ts(0);
    let first = cp
        .call("s-1", "StartTransaction", start("TAG-A", 500, &at))
        .await;
    let tx = first[2]["transactionId"].as_i64().unwrap();
    // Same message id again (our answer was lost): the cached answer, not a new transaction.
    let again = cp
        .call("s-1", "StartTransaction", start("TAG-A", 500, &at))
        .await;
    assert_eq!(again, first);
    // Same start under a new message id after a reconnect (replayed from the charger's queue).
    drop(cp);
    let mut cp = RawCharger::connect(&app, "QD-HD-AC02", "ocpp1.6").await;
    let replay = cp
        .call("s-2", "StartTransaction", start("TAG-A", 500, &at))
        .await;
    assert_eq!(replay[2]["transactionId"].as_i64(), Some(tx));
    assert_eq!(
        replay[2]["idTagInfo"]["status"], "Accepted",
        "not refused as its own concurrent use"
    );
    let charger = ChargerId::new("QD-HD-AC02").unwrap();
    assert_eq!(
        app.store
            .active_sessions_of_charger(&charger)
            .await
            .unwrap()
            .len(),
        1
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_and_minus_one_transaction_ids_are_answered_and_reconciled() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "TAG-B").await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC03", "ocpp1.6").await;
    cp.call("b", "BootNotification", boot()).await;
    let started = cp
        .call("s", "StartTransaction", start("TAG-B", 10_000, &ts(-60)))
        .await;
    let tx = started[2]["transactionId"].as_i64().unwrap();
    // Meter values under a transaction id we never issued land on the open session.
    let mv = cp
        .call("m", "MeterValues", json!({"connectorId": 1, "transactionId": 987654, "meterValue": [energy(10_800.0, "Wh", &ts(-30))]}))
        .await;
    assert_eq!(mv, json!([3, "m", {}]));
    // A stop with -1 is answered and closes the open session.
    let stop = cp
        .call("x", "StopTransaction", json!({"transactionId": -1, "meterStop": 11_000, "timestamp": ts(0), "reason": "Local"}))
        .await;
    assert_eq!(stop[0], 3, "{stop}");
    let charger = ChargerId::new("QD-HD-AC03").unwrap();
    let session = app
        .store
        .find_by_transaction(&charger, &tx.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.state, SessionState::Ended);
    assert_eq!(session.energy, WattHours(1_000.0));
    // A stop for a transaction nobody knows, with nothing open: recorded as an offline session.
    let orphan = cp
        .call(
            "y",
            "StopTransaction",
            json!({"transactionId": 4242, "meterStop": 2_000, "timestamp": ts(0),
            "transactionData": [energy(1_500.0, "Wh", &ts(-600))]}),
        )
        .await;
    assert_eq!(orphan, json!([3, "y", {}]));
    let offline = app
        .store
        .find_by_transaction(&charger, "4242")
        .await
        .unwrap()
        .unwrap();
    assert!(offline.offline);
    assert_eq!(offline.energy, WattHours(500.0));
    // A repeated stop changes nothing and is still answered.
    let repeat = cp
        .call(
            "x2",
            "StopTransaction",
            json!({"transactionId": tx, "meterStop": 99_999, "timestamp": ts(0)}),
        )
        .await;
    assert_eq!(repeat[0], 3);
    let unchanged = app
        .store
        .find_by_transaction(&charger, &tx.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.energy, WattHours(1_000.0));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn offline_transactions_keep_their_own_timestamps() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "TAG-C").await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC04", "ocpp1.6").await;
    cp.call("b", "BootNotification", boot()).await;
    // An hour-old transaction replayed after reconnecting, with an offset timestamp.
    let two_hours_ago = (chrono::Utc::now() - chrono::Duration::hours(2))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let started = cp
        .call(
            "s",
            "StartTransaction",
            start("TAG-C", 200, &two_hours_ago.to_rfc3339()),
        )
        .await;
    let tx = started[2]["transactionId"].as_i64().unwrap();
    cp.call("m", "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [energy(5.2, "kWh", &ts(-5400))]})).await;
    cp.call(
        "x",
        "StopTransaction",
        json!({"transactionId": tx, "meterStop": 7_200, "timestamp": ts(-3600)}),
    )
    .await;
    let charger = ChargerId::new("QD-HD-AC04").unwrap();
    let s = app
        .store
        .find_by_transaction(&charger, &tx.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(s.offline);
    assert_eq!(s.started_at, two_hours_ago.with_timezone(&chrono::Utc));
    assert_eq!(s.energy, WattHours(7_000.0));
    assert!(s.ended_at.unwrap() < chrono::Utc::now() - chrono::Duration::minutes(59));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_zero_meter_start_never_becomes_the_baseline_of_a_lifetime_register() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "TAG-D").await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC05", "ocpp1.6").await;
    cp.call("b", "BootNotification", boot()).await;
    let started = cp
        .call("s", "StartTransaction", start("TAG-D", 0, &ts(-120)))
        .await;
    let tx = started[2]["transactionId"].as_i64().unwrap();
    // The charger's register reads 48,213.4 kWh in its lifetime.
    cp.call("m1", "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [energy(48_213.4, "kWh", &ts(-60))]})).await;
    cp.call("m2", "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [energy(48_213.6, "kWh", &ts(0))]})).await;
    let charger = ChargerId::new("QD-HD-AC05").unwrap();
    let s = app
        .store
        .find_by_transaction(&charger, &tx.to_string())
        .await
        .unwrap()
        .unwrap();
    assert!(
        (s.energy.0 - 200.0).abs() < 1e-6,
        "energy {} Wh",
        s.energy.0
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_new_connection_replaces_the_old_one() {
    let app = start_app(&test_config("memory://")).await;
    let mut old = RawCharger::connect(&app, "QD-HD-AC06", "ocpp1.6").await;
    let mut new = RawCharger::connect(&app, "QD-HD-AC06", "ocpp1.6").await;
    let mut code = None;
    while let Some(Ok(msg)) = old.ws.next().await {
        if let Message::Close(Some(frame)) = msg {
            code = Some(u16::from(frame.code));
            break;
        }
    }
    assert_eq!(
        code,
        Some(1008),
        "the replaced socket is closed with policy violation"
    );
    let answer = new.call("h", "Heartbeat", json!({})).await;
    assert_eq!(answer[0], 3);
    let charger = ChargerId::new("QD-HD-AC06").unwrap();
    assert!(
        app.store.locate(&charger).await.unwrap().is_some(),
        "the new connection stays registered"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn dead_sockets_are_found_by_ping() {
    let mut config = test_config("memory://");
    config.ocpp.gateway.ping_interval = Duration::from_millis(100);
    let app = start_app(&config).await;
    // A client that never reads never answers pings: a dead peer behind a NAT looks like this.
    let silent = RawCharger::connect(&app, "QD-HD-AC07", "ocpp1.6").await;
    let charger = ChargerId::new("QD-HD-AC07").unwrap();
    let mut gone = false;
    for _ in 0..200 {
        if app.store.locate(&charger).await.unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        gone,
        "a socket that answers no ping is closed and unregistered"
    );
    let metrics = crate::harness::metrics_text(&app).await;
    assert!(
        metrics.contains(r#"chargegrid_ocpp_connections_closed_total{reason="ping_timeout"} 1"#),
        "{metrics}"
    );
    drop(silent);
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boot_storm_of_a_thousand_chargers_is_answered_on_redis() {
    let redis = RedisServer::start();
    let mut config = test_config(&redis.url());
    config.ocpp.gateway.allow_unknown_chargers = true;
    let app = start_app(&config).await;
    let addr = app.ocpp_addr.unwrap();
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            tokio::spawn(async move {
                use futures::SinkExt;
                use tokio_tungstenite::tungstenite::client::IntoClientRequest;
                let mut req = format!("ws://{addr}/ocpp/STORM-{i:04}")
                    .into_client_request()
                    .unwrap();
                req.headers_mut()
                    .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
                let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
                let frame = json!([2, "boot", "BootNotification", boot()]).to_string();
                ws.send(Message::Text(frame.into())).await.unwrap();
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) => {
                            let v: Value = serde_json::from_str(&t).unwrap();
                            return (v[0].as_i64(), v[2]["status"].as_str().map(String::from), ws);
                        }
                        Some(Ok(_)) => {}
                        other => panic!("charger {i}: {other:?}"),
                    }
                }
            })
        })
        .collect();
    let mut sockets = Vec::new();
    for task in tasks {
        let (kind, status, ws) = task.await.unwrap();
        assert_eq!(kind, Some(3), "a CALLRESULT, never an error");
        assert_eq!(status.as_deref(), Some("Accepted"));
        sockets.push(ws);
    }
    assert_eq!(sockets.len(), 1000);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn pending_and_rejected_chargers_may_only_boot() {
    let app = start_app(&test_config("memory://")).await;
    for (id, registration, status) in [
        ("QD-HD-AC08", Registration::Pending, "Pending"),
        ("QD-HD-AC09", Registration::Rejected, "Rejected"),
    ] {
        let charger = ChargerId::new(id).unwrap();
        let mut c = app.store.get_charger(&charger).await.unwrap().unwrap();
        c.registration = registration;
        app.store.put_charger(&c).await.unwrap();
        let mut cp = RawCharger::connect(&app, id, "ocpp1.6").await;
        let b = cp.call("b", "BootNotification", boot()).await;
        assert_eq!(b[2]["status"], status);
        let refused = cp
            .call("s", "StartTransaction", start("T", 0, &ts(0)))
            .await;
        assert_eq!(refused[0], 4);
        assert_eq!(refused[2], "SecurityError");
    }
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn authorize_answers_every_status() {
    let app = start_app(&test_config("memory://")).await;
    let now = chrono::Utc::now();
    for (tag, status, expires) in [
        ("OK-1", IdTagStatus::Accepted, None),
        ("BLOCKED-1", IdTagStatus::Blocked, None),
        (
            "OLD-1",
            IdTagStatus::Accepted,
            Some(now - chrono::Duration::days(1)),
        ),
    ] {
        app.store
            .put_id_tag(&IdTagRecord {
                tag: IdTag::new(tag).unwrap(),
                driver: None,
                vehicle: None,
                fleet: None,
                status,
                expires_at: expires,
                parent: None,
                allow_concurrent: false,
            })
            .await
            .unwrap();
    }
    let mut cp = RawCharger::connect(&app, "QD-HD-AC10", "ocpp1.6").await;
    cp.call("b", "BootNotification", boot()).await;
    for (tag, want) in [
        ("OK-1", "Accepted"),
        ("ok-1", "Accepted"),
        ("BLOCKED-1", "Blocked"),
        ("OLD-1", "Expired"),
        ("NOBODY", "Invalid"),
    ] {
        let a = cp
            .call(&format!("a-{tag}"), "Authorize", json!({"idTag": tag}))
            .await;
        assert_eq!(a[2]["idTagInfo"]["status"], want, "{tag}");
    }
    // While OK-1 charges here, a second charger asking for it gets ConcurrentTx.
    cp.call("s", "StartTransaction", start("OK-1", 0, &ts(0)))
        .await;
    let mut other = RawCharger::connect(&app, "QD-HD-AC01", "ocpp1.6").await;
    other.call("b", "BootNotification", boot()).await;
    let a = other.call("a", "Authorize", json!({"idTag": "OK-1"})).await;
    assert_eq!(a[2]["idTagInfo"]["status"], "ConcurrentTx");
    // Times on the wire are UTC.
    let hb = cp.call("h", "Heartbeat", json!({})).await;
    assert!(hb[2]["currentTime"].as_str().unwrap().ends_with('Z'));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn security_profile_1_basic_auth_is_enforced_per_charger() {
    use base64::Engine;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = start_app(&test_config("memory://")).await;
    set_charger_password(&app, "QD-HD-AC03", "correct-horse-battery").await;
    let attempt = |auth: Option<String>| {
        let addr = app.ocpp_addr.unwrap();
        async move {
            let mut req = format!("ws://{addr}/ocpp/QD-HD-AC03")
                .into_client_request()
                .unwrap();
            req.headers_mut()
                .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
            if let Some(a) = auth {
                req.headers_mut()
                    .insert("Authorization", a.parse().unwrap());
            }
            tokio_tungstenite::connect_async(req)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let basic = |user: &str, pass: &str| {
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
        ))
    };
    assert!(
        attempt(basic("QD-HD-AC03", "correct-horse-battery"))
            .await
            .is_ok()
    );
    for (what, auth) in [
        ("no credentials", None),
        ("wrong password", basic("QD-HD-AC03", "wrong-horse-battery")),
        (
            "another charger's name",
            basic("QD-HD-AC04", "correct-horse-battery"),
        ),
        ("not base64", Some("Basic %%%".to_string())),
    ] {
        let err = attempt(auth).await.unwrap_err();
        assert!(err.contains("401"), "{what}: {err}");
    }
    // Chargers without a password configured are not asked for one.
    let (ws, _) = crate::harness::connect_charger(&app, "QD-HD-AC04", "ocpp1.6")
        .await
        .unwrap();
    drop(ws);
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_outstanding_call_per_charger_and_silence_times_out() {
    use chargegrid_core::command::{ChargerCommand, CommandReply, ResetKind};
    let mut config = test_config("memory://");
    config.ocpp.gateway.call_timeout = Duration::from_millis(300);
    let app = start_app(&config).await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC07", "ocpp1.6").await;
    cp.call("b", "BootNotification", boot()).await;
    let charger = ChargerId::new("QD-HD-AC07").unwrap();
    let send = |kind| {
        let store = app.store.clone();
        let charger = charger.clone();
        tokio::spawn(async move {
            store
                .send_command(
                    &charger,
                    ChargerCommand::Reset { kind },
                    Duration::from_secs(10),
                )
                .await
                .unwrap()
        })
    };
    let first = send(ResetKind::Soft);
    let second = send(ResetKind::Hard);
    // Only one CALL arrives until it is answered.
    let call1 = cp.recv().await;
    assert_eq!(call1[0], 2);
    assert_eq!(call1[2], "Reset");
    cp.send_text(&json!([3, call1[1], {"status": "Accepted"}]).to_string())
        .await;
    let call2 = cp.recv().await;
    assert_eq!(call2[2], "Reset");
    assert_ne!(call2[1], call1[1], "each CALL has its own id");
    assert_ne!(call2[3]["type"], call1[3]["type"]);
    // The second is never answered: its sender gets Timeout after ocpp.call_timeout.
    let replies = [first.await.unwrap(), second.await.unwrap()];
    assert_eq!(replies.iter().filter(|r| r.is_accepted()).count(), 1);
    assert_eq!(
        replies
            .iter()
            .filter(|r| **r == CommandReply::Timeout)
            .count(),
        1
    );
    // A late answer to the timed-out call is dropped; the connection carries on.
    cp.send_text(&json!([3, call2[1], {"status": "Accepted"}]).to_string())
        .await;
    assert_eq!(cp.call("h", "Heartbeat", json!({})).await[0], 3);
    app.shutdown().await.unwrap();
}
