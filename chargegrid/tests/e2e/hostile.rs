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
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_password_guesser_backs_off_before_more_guesses_are_hashed() {
    let mut config = test_config("memory://");
    config.ocpp.auth_failures_before_backoff = 3;
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
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn one_glitched_meter_reading_does_not_inflate_the_bill() {
    let app = start_app(&test_config("memory://")).await;
    add_tag(&app, "GLITCH-1").await;
    let mut cp = RawCharger::connect(&app, "QD-HD-AC03", "ocpp1.6").await;
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
