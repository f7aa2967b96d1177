//! The hostile-input probes of the security review (#19), each against a running chargegrid:
//! an unauthenticated charger, a password guesser, a reused message id after a reconnect, a
//! flood of made-up bearer tokens and login guesses, and a glitched meter reading.

use chargegrid::Config;
use chargegrid_core::ChargerId;
use chargegrid_core::session::SessionState;
use chargegrid_core::units::WattHours;
use chargegrid_test_support::RedisServer;
use serde_json::json;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::api_client::Api;
use crate::harness::{
    RawCharger, add_tag, connect_charger, connect_charger_as, set_charger_password, start_app,
    test_config, ts,
};

/// The HTTP status a refused handshake got.
fn refused(result: crate::harness::Handshake) -> u16 {
    match result {
        Err(WsError::Http(r)) => r.status().as_u16(),
        Ok(_) => panic!("the handshake was accepted"),
        Err(other) => panic!("not an HTTP refusal: {other}"),
    }
}

/// A config on `store_url` with the built-in sample network (no network file).
fn sample_config(store_url: &str) -> Config {
    let mut config = test_config(store_url);
    config.network.file = None;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_charger_is_refused_and_the_sample_never_lingers() {
    let redis = RedisServer::start();
    // First start on an empty store: the sample network, closed by a generated password.
    let app = start_app(&sample_config(&redis.url())).await;
    let password = app
        .sample_charger_password
        .clone()
        .expect("a generated password");
    assert_eq!(
        refused(connect_charger(&app, "QD-M4-DC01", "ocpp1.6").await),
        401
    );
    assert_eq!(
        refused(connect_charger_as(&app, "QD-M4-DC01", "ocpp1.6", Some("guess")).await),
        401
    );
    let (ws, _) = connect_charger_as(&app, "QD-M4-DC01", "ocpp1.6", Some(&password))
        .await
        .expect("the sample password opens it");
    drop(ws);
    app.shutdown().await.unwrap();

    // A restart on the same store prints no new password and keeps the hash.
    let app = start_app(&sample_config(&redis.url())).await;
    assert_eq!(app.sample_charger_password, None);
    assert_eq!(
        refused(connect_charger(&app, "QD-M4-DC01", "ocpp1.6").await),
        401
    );
    app.shutdown().await.unwrap();

    // A real network replaces the sample: its chargers are gone, and one of the new network's
    // chargers without a password (and without `security_profile = 0`) is refused.
    let dir = std::env::temp_dir().join(format!("cg-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("real.toml");
    std::fs::write(
        &file,
        "[[sites]]\nid = \"real\"\nname = \"Real\"\nlocation = { lat = 36.07, lon = 120.38 }\ntimezone = \"Asia/Shanghai\"\ngrid_limit = { max_power = 50000.0 }\n\n\
         [[chargers]]\nid = \"REAL-1\"\nsite = \"real\"\nvendor = \"V\"\nmodel = \"M\"\nocpp_version = \"1.6\"\nwiring = \"three_phase\"\nmax_power = 22000.0\n\
         evses = [{ id = 1, max_current = 32.0, max_power = 22000.0, connectors = [{ id = 1, type = \"Type2\" }] }]\n",
    )
    .unwrap();
    let mut config = test_config(&redis.url());
    config.network.file = Some(file);
    let app = start_app(&config).await;
    let gone = ChargerId::new("QD-M4-DC01").unwrap();
    assert_eq!(app.store.get_charger(&gone).await.unwrap(), None);
    assert!(app.store.list_sites().await.unwrap().len() == 1);
    assert_eq!(
        refused(connect_charger(&app, "QD-M4-DC01", "ocpp1.6").await),
        404
    );
    assert_eq!(
        refused(connect_charger(&app, "REAL-1", "ocpp1.6").await),
        401
    );
    let metrics = crate::harness::metrics_text(&app).await;
    assert!(
        metrics.contains(
            "chargegrid_ocpp_handshakes_refused_total{reason=\"no_credentials_configured\"} 1"
        ),
        "{metrics}"
    );
    // Operators see which charger was refused, from where and why (recorded in the store by
    // every gateway node; the recording is not awaited by the handshake, so poll briefly).
    let api = Api::new(app.api_addr.unwrap());
    let (op, op_id) = api.signup("diag-op@example.com").await;
    crate::api_authz::promote(&app, &op_id, chargegrid_core::driver::Role::Operator).await;
    let mut seen = serde_json::Value::Null;
    for _ in 0..100 {
        seen = op.get("/chargers/refused-handshakes?limit=10").await.body;
        if seen.as_array().is_some_and(|a| a.len() >= 2) {
            break;
        }
    }
    let refusals = seen.as_array().expect("a list").clone();
    let find = |charger: &str, reason: &str| {
        refusals
            .iter()
            .any(|r| r["charger"] == charger && r["reason"] == reason && r["remote"] == "127.0.0.1")
    };
    assert!(find("QD-M4-DC01", "unknown_charger"), "{refusals:?}");
    assert!(find("REAL-1", "no_credentials_configured"), "{refusals:?}");
    api.get("/chargers/refused-handshakes").await.problem(401);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_password_guesser_backs_off_before_more_guesses_are_hashed() {
    let mut config = test_config("memory://");
    config.ocpp.gateway.auth_failures_before_backoff = 3;
    let app = start_app(&config).await;
    set_charger_password(&app, "QD-HD-AC01", "the-real-password").await;
    for _ in 0..3 {
        let r = connect_charger_as(&app, "QD-HD-AC01", "ocpp1.6", Some("wrong")).await;
        assert_eq!(refused(r), 401);
    }
    // Now even the right password waits: nothing from this address is hashed for a while.
    let r = connect_charger_as(&app, "QD-HD-AC01", "ocpp1.6", Some("the-real-password")).await;
    match r {
        Err(WsError::Http(resp)) => {
            assert_eq!(resp.status(), 429);
            assert!(resp.headers().contains_key("retry-after"));
        }
        other => panic!("expected 429: {other:?}"),
    }
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_message_id_reused_after_a_reconnect_is_a_new_message() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "REUSE-1").await;
    let boot = json!({"chargePointVendor": "V", "chargePointModel": "M"});
    let mut cp = RawCharger::connect(&app, "QD-HD-AC02", "ocpp1.6").await;
    cp.call("1", "BootNotification", boot.clone()).await;
    let start = |at: i64, meter: i64| json!({"connectorId": 1, "idTag": "REUSE-1", "meterStart": meter, "timestamp": ts(at)});
    let payload = start(-600, 1000);
    let first = cp.call("7", "StartTransaction", payload.clone()).await;
    let tx1 = first[2]["transactionId"].as_i64().unwrap();
    // A true retransmission (same id, same payload) gets the same answer, no new session.
    let again = cp.call("7", "StartTransaction", payload).await;
    assert_eq!(again, first);
    cp.call(
        "8",
        "StopTransaction",
        json!({"transactionId": tx1, "meterStop": 2000, "timestamp": ts(-300)}),
    )
    .await;
    drop(cp);
    // The charger reboots and counts its message ids from 1 again.
    let mut cp = RawCharger::connect(&app, "QD-HD-AC02", "ocpp1.6").await;
    cp.call("1", "BootNotification", boot).await;
    let second = cp.call("7", "StartTransaction", start(-60, 2000)).await;
    let tx2 = second[2]["transactionId"].as_i64().expect("a fresh answer");
    assert_ne!(tx1, tx2, "not the stale answer of the first session");
    let charger = ChargerId::new("QD-HD-AC02").unwrap();
    let s = app
        .store
        .find_by_transaction(&charger, &tx2.to_string())
        .await
        .unwrap()
        .expect("the second session is stored");
    assert_eq!(s.state, SessionState::Active);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_flood_of_made_up_bearers_and_login_guesses_is_limited() {
    let mut config = test_config("memory://");
    config.api.rate_limit_per_minute = 60;
    let app = start_app(&config).await;
    let api = Api::new(app.api_addr.unwrap());
    // Every request with a new random bearer used to get a fresh bucket.
    let mut statuses = Vec::new();
    for i in 0..60 {
        let fake = api.with_token(&format!("cga_{i:032x}"));
        statuses.push(fake.get("/me").await.status.as_u16());
    }
    assert!(statuses.contains(&401));
    assert!(statuses.contains(&429), "{statuses:?}");
    app.shutdown().await.unwrap();

    // Login guesses for one account back off after a few, even with the right password next.
    let app = start_app(&test_config("memory://")).await;
    let api = Api::new(app.api_addr.unwrap());
    api.signup("target@example.com").await;
    for _ in 0..chargegrid_api::LOGIN_FAILURES {
        let r = api
            .post(
                "/auth/login",
                json!({"email": "target@example.com", "password": "guess-guess"}),
            )
            .await;
        r.problem(401);
    }
    let r = api
        .post(
            "/auth/login",
            json!({"email": "Target@Example.com", "password": "correct horse battery"}),
        )
        .await;
    r.problem(429);
    let wait: u64 = r.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((240..=300).contains(&wait), "Retry-After {wait}");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_glitched_meter_reading_does_not_inflate_the_bill() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "GLITCH-1").await;
    let mut cp = RawCharger::booted(&app, "QD-HD-AC03", "ocpp1.6").await;
    let started = cp
        .call(
            "s",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "GLITCH-1", "meterStart": 1_000_000, "timestamp": ts(-120)}),
        )
        .await;
    let tx = started[2]["transactionId"].as_i64().unwrap();
    let meter = |at: i64, wh: &str| json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(at), "sampledValue": [{"value": wh}]}]});
    cp.call("m1", "MeterValues", meter(-90, "1000200")).await;
    // kWh sent as Wh by a confused meter firmware: a 1,000× jump.
    cp.call("m2", "MeterValues", meter(-60, "1000400000")).await;
    cp.call("m3", "MeterValues", meter(-30, "1000600")).await;
    cp.call(
        "x",
        "StopTransaction",
        json!({"transactionId": tx, "meterStop": 1_000_800, "timestamp": ts(0)}),
    )
    .await;
    let s = app
        .store
        .find_by_transaction(&ChargerId::new("QD-HD-AC03").unwrap(), &tx.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.energy,
        WattHours(800.0),
        "billed energy follows the true register"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn repeated_recommendations_hold_one_place_per_driver() {
    let app = start_app(&test_config("memory://")).await;
    let api = Api::new(app.api_addr.unwrap());
    let (me, _) = api.signup("holder@example.com").await;
    let ask = json!({"lat": 36.0617, "lon": 120.3842, "energy_kwh": 10.0});
    let first = me.post("/recommendations", ask.clone()).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let site = chargegrid_core::SiteId::new(first.body[0]["site"].as_str().unwrap()).unwrap();
    for _ in 0..20 {
        me.post("/recommendations", ask.clone()).await;
    }
    let held = app
        .store
        .expected_arrivals(&site, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(held, 1, "twenty-one asks, one hold");
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_are_bounded_per_account_and_end_at_logout() {
    let mut config = test_config("memory://");
    config.api.stream_interval = std::time::Duration::from_millis(50);
    let app = start_app(&config).await;
    let api = Api::new(app.api_addr.unwrap());
    let (me, _) = api.signup("streamer@example.com").await;
    let tag = me.get("/me").await.body["id_tags"][0]["id_tag"]
        .as_str()
        .unwrap()
        .to_string();
    let mut cp = RawCharger::booted(&app, "QD-HD-AC04", "ocpp1.6").await;
    cp.call(
        "s",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": ts(-60)}),
    )
    .await;
    let sid = me.get("/sessions").await.body["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let open = || {
        http.get(format!("{}/sessions/{sid}/events", me.base))
            .bearer_auth(me.token.as_deref().unwrap())
            .send()
    };
    let mut streams = Vec::new();
    for _ in 0..chargegrid_api::MAX_STREAMS_PER_ACCOUNT {
        let r = open().await.unwrap();
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    assert_eq!(open().await.unwrap().status(), 429, "one stream too many");
    assert_eq!(me.post("/auth/logout", json!({})).await.status, 204);
    for mut s in streams {
        let ended = tokio::time::timeout(std::time::Duration::from_secs(30), async {
            while let Ok(Some(_)) = s.chunk().await {}
        })
        .await;
        assert!(ended.is_ok(), "the stream ends with the login");
    }
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn api_connections_are_capped_and_slow_bodies_time_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = test_config("memory://");
    config.api.max_connections = 2;
    config.api.request_timeout = std::time::Duration::from_millis(300);
    let app = start_app(&config).await;
    let addr = app.api_addr.unwrap();
    // A body that never finishes arriving is answered 503 at the deadline.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await
    .unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(std::time::Duration::from_secs(30), slow.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    app.shutdown().await.unwrap();

    // Two idle connections are open: a third is closed at once.
    let app = start_app(&config).await;
    let addr = app.api_addr.unwrap();
    let _idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _idle2 = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = third
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), third.read(&mut answer))
        .await
        .expect("closed, not hung");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed without an answer: {read:?}"
    );
    let metrics = crate::harness::metrics_text(&app).await;
    assert!(
        metrics.contains("chargegrid_api_connections_refused_total 1"),
        "{metrics}"
    );
    app.shutdown().await.unwrap();
}

// One thread: every task of the app runs where the capturing subscriber is installed.
#[tokio::test(flavor = "current_thread")]
async fn charger_supplied_text_cannot_forge_log_lines() {
    let logs = crate::security::LogBuffer::default();
    let writer = logs.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let app = start_app(&test_config("memory://")).await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC05", "ocpp1.6").await;
    // Within the schema's 20 characters: a line break and what would pose as a log line.
    let forged = "V\nFAKE admin login";
    let boot = cp
        .call(
            "b",
            "BootNotification",
            json!({"chargePointVendor": forged, "chargePointModel": "M"}),
        )
        .await;
    assert_eq!(boot[0], 3, "{boot}");
    cp.call(
        "e",
        "SecurityEventNotification",
        json!({"type": "Tamper\nFAKE", "timestamp": ts(0)}),
    )
    .await;
    app.shutdown().await.unwrap();
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("FAKE admin login"),
        "the boot was logged: {text}"
    );
    assert!(text.contains("Tamper"), "the event was logged: {text}");
    for line in text.lines() {
        assert!(
            !line.starts_with("FAKE"),
            "a charger forged a log line: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_is_stored_before_the_charger_is_asked_and_is_used_once() {
    use crate::api::answer;
    let app = start_app(&test_config("memory://")).await;
    let api = Api::new(app.api_addr.unwrap());
    let (me, _) = api.signup("reserver@example.com").await;
    let tag = me.get("/me").await.body["id_tags"][0]["id_tag"]
        .as_str()
        .unwrap()
        .to_string();
    let mut cp = RawCharger::booted(&app, "QD-M4-AC02", "ocpp1.6").await;
    cp.call(
        "s",
        "StatusNotification",
        json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    )
    .await;
    let reserve = || {
        let me = me.clone();
        tokio::spawn(async move {
            me.post(
                "/reservations",
                json!({"charger_id": "QD-M4-AC02", "evse_id": 1, "minutes": 15}),
            )
            .await
        })
    };
    // The charger refuses: the reservation the store held while asking is cancelled.
    let asking = reserve();
    let call = cp.recv().await;
    assert_eq!(call[2], "ReserveNow", "{call}");
    let id = i32::try_from(call[3]["reservationId"].as_i64().unwrap()).unwrap();
    let stored = app.store.get_reservation(id).await.unwrap();
    assert!(stored.is_some(), "stored before the charger was asked");
    cp.send_text(&json!([3, call[1], {"status": "Rejected"}]).to_string())
        .await;
    asking.await.unwrap().problem(409);
    let r = app.store.get_reservation(id).await.unwrap().unwrap();
    assert_eq!(r.state, chargegrid_store::ReservationState::Cancelled);

    // Accepted, then used by the transaction that names it.
    let asking = reserve();
    let call = answer(&mut cp, "ReserveNow", json!({"status": "Accepted"})).await;
    let id = call[3]["reservationId"].as_i64().unwrap();
    assert_eq!(asking.await.unwrap().status, 201);
    cp.call(
        "st",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": ts(0), "reservationId": id}),
    )
    .await;
    let mine = me.get("/reservations").await.body;
    let r = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(r["state"], "used", "{r}");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_card_presented_mid_transaction_is_checked_for_concurrent_use() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "MID-1").await;
    let event = |kind: &str, tx: &str, seq: i64, token: Option<&str>| {
        let mut e = json!({
            "eventType": kind, "timestamp": ts(0), "triggerReason": "Authorized", "seqNo": seq,
            "transactionInfo": {"transactionId": tx},
            "evse": {"id": 1, "connectorId": 1}
        });
        if let Some(t) = token {
            e["idToken"] = json!({"idToken": t, "type": "ISO14443"});
        }
        e
    };
    // The card charges on one station...
    let mut a = RawCharger::booted(&app, "QD-HD-AC06", "ocpp2.0.1").await;
    let first = a
        .call(
            "s",
            "TransactionEvent",
            event("Started", "TX-A", 0, Some("MID-1")),
        )
        .await;
    assert_eq!(first[2]["idTokenInfo"]["status"], "Accepted", "{first}");
    // ...and is then shown to another one in the middle of its transaction.
    let mut b = RawCharger::booted(&app, "QD-HD-AC07", "ocpp2.0.1").await;
    b.call("s", "TransactionEvent", event("Started", "TX-B", 0, None))
        .await;
    let later = b
        .call(
            "u",
            "TransactionEvent",
            event("Updated", "TX-B", 1, Some("MID-1")),
        )
        .await;
    assert_eq!(later[2]["idTokenInfo"]["status"], "ConcurrentTx", "{later}");
    let s = app
        .store
        .find_by_transaction(&ChargerId::new("QD-HD-AC07").unwrap(), "TX-B")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.id_tag, None,
        "the card was not attached to the second transaction"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connector_the_charger_does_not_have_is_refused_and_not_stored() {
    let app = start_app(&test_config("memory://")).await;
    let mut cp = RawCharger::booted(&app, "QD-HD-AC01", "ocpp1.6").await;
    let status = |c: u32| json!({"connectorId": c, "errorCode": "NoError", "status": "Available"});
    let bad = cp.call("s7", "StatusNotification", status(7)).await;
    assert_eq!(
        (bad[0].clone(), bad[2].clone()),
        (json!(4), json!("PropertyConstraintViolation")),
        "{bad}"
    );
    let ok = cp.call("s1", "StatusNotification", status(1)).await;
    assert_eq!(
        ok[0], 3,
        "the connection stays up and a real connector is served: {ok}"
    );
    let states = app
        .store
        .connector_states(&ChargerId::new("QD-HD-AC01").unwrap())
        .await
        .unwrap();
    assert_eq!(
        states.iter().map(|s| s.connector.0).collect::<Vec<_>>(),
        [1],
        "nothing stored for the made-up connector"
    );
    // 2.0.1: an EVSE id that would overflow the connector number is refused, not a panic.
    let mut st = RawCharger::booted(&app, "QD-HD-AC06", "ocpp2.0.1").await;
    let huge = st
        .call(
            "s",
            "StatusNotification",
            json!({"timestamp": ts(0), "connectorStatus": "Available", "evseId": 2_147_483_647, "connectorId": 9}),
        )
        .await;
    assert_eq!(huge[2], "PropertyConstraintViolation", "{huge}");
    assert_eq!(st.call("h", "Heartbeat", json!({})).await[0], 3);
    app.shutdown().await.unwrap();
}
