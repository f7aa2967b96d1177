//! The application in-process: it starts with no configuration beyond ports, answers on its
//! three ports, loads the sample network, refuses bad handshakes, and stops in order.

use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{connect_charger, start_app, test_config};

#[tokio::test]
async fn answers_on_all_three_ports_and_loads_the_sample_network() {
    let app = start_app(&test_config("memory://")).await;
    let http = reqwest::Client::new();

    let health = http
        .get(format!("http://{}/api/v1/health", app.api_addr.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["store"], "memory");

    let missing = http
        .get(format!("http://{}/api/v1/nope", app.api_addr.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );

    let (mut ws, response) = connect_charger(&app, "QD-M4-AC01", "ocpp1.6")
        .await
        .unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "ocpp1.6");
    ws.close(None).await.unwrap();

    let metrics = http
        .get(format!("http://{}/metrics", app.metrics_addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("chargegrid_ocpp_connections_opened_total"),
        "{metrics}"
    );

    let sites = app.store.list_sites().await.unwrap();
    assert_eq!(sites.len(), 4, "sample network loaded");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn handshake_refuses_unknown_protocols_and_unknown_chargers() {
    let app = start_app(&test_config("memory://")).await;
    // Nothing we speak.
    let err = connect_charger(&app, "QD-M4-AC01", "ocpp1.5, ocpp2.1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    // No subprotocol at all.
    let err = connect_charger(&app, "QD-M4-AC01", "").await.unwrap_err();
    assert!(err.to_string().contains("400"), "{err}");
    // Unknown charger with the default (reject) policy.
    let err = connect_charger(&app, "NOT-IN-NETWORK", "ocpp1.6")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
    // The preferred version is chosen when a charger offers both.
    let (_ws, response) = connect_charger(&app, "QD-M4-AC02", "ocpp1.6,ocpp2.0.1")
        .await
        .unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "ocpp2.0.1");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_chargers_are_accepted_when_allowed() {
    let mut config = test_config("memory://");
    config.ocpp.gateway.allow_unknown_chargers = true;
    let app = start_app(&config).await;
    let (ws, _) = connect_charger(&app, "DEV-CHARGER-1", "ocpp1.6")
        .await
        .unwrap();
    drop(ws);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_charger_sockets_with_going_away() {
    let app = start_app(&test_config("memory://")).await;
    let (mut ws, _) = connect_charger(&app, "QD-HD-AC01", "ocpp1.6")
        .await
        .unwrap();
    let stopping = tokio::spawn(app.shutdown());
    let mut close_code = None;
    while let Some(msg) = ws.next().await {
        if let Ok(Message::Close(Some(frame))) = msg {
            close_code = Some(u16::from(frame.code));
            break;
        }
    }
    assert_eq!(
        close_code,
        Some(1001),
        "chargers are told the server is going away"
    );
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn runs_on_a_real_redis_store() {
    let redis = chargegrid_test_support::RedisServer::start();
    let app = start_app(&test_config(&redis.url())).await;
    assert_eq!(app.store.backend(), "redis");
    assert_eq!(app.store.list_sites().await.unwrap().len(), 4);
    let body: serde_json::Value =
        reqwest::get(format!("http://{}/api/v1/health", app.api_addr.unwrap()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(body["store"], "redis");
    app.shutdown().await.unwrap();
}
