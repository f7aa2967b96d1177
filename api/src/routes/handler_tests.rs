//! Handler-level tests: the API's router driven with `tower::ServiceExt::oneshot` over an
//! in-memory store and a manual clock, no sockets. They pin what each route answers (status,
//! problem+json, bodies) fast and close to the code; the end-to-end tests in the binary's test
//! crate run the same routes over real HTTP against Redis.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chargegrid_core::ManualClock;
use chargegrid_store::MemoryStore;
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{ApiConfig, ApiMetrics, ApiState, router};

fn app() -> axum::Router {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap(),
    ));
    let store = Arc::new(MemoryStore::new(clock.clone()));
    let metrics = ApiMetrics::new(&prometheus::Registry::new()).unwrap();
    router(ApiState::new(store, clock, ApiConfig::default(), metrics))
}

/// Sends one request; the status, content type and JSON body (Null when empty).
async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> (StatusCode, String, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let req = match body {
        Some((content_type, text)) => req
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(text)),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, content_type, json)
}

fn json_body(v: Value) -> Option<(&'static str, String)> {
    Some(("application/json", v.to_string()))
}

#[tokio::test]
async fn signup_login_and_me() {
    let app = app();
    let signup =
        json!({"email": " Mei@Example.com ", "password": "correct horse 1", "name": "Mei"});
    let (status, _, body) = send(
        &app,
        "POST",
        "/api/v1/auth/signup",
        None,
        json_body(signup.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["driver"]["email"], "mei@example.com",
        "trimmed, case folded"
    );
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));

    let (status, ctype, body) =
        send(&app, "POST", "/api/v1/auth/signup", None, json_body(signup)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(ctype, "application/problem+json");

    let login = json!({"email": "mei@example.com", "password": "correct horse 1"});
    let (status, _, body) = send(&app, "POST", "/api/v1/auth/login", None, json_body(login)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();

    let (status, _, me) = send(&app, "GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "mei@example.com");

    let wrong = json!({"email": "mei@example.com", "password": "wrong horse 11"});
    let (status, ctype, _) = send(&app, "POST", "/api/v1/auth/login", None, json_body(wrong)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ctype, "application/problem+json");
}

#[tokio::test]
async fn missing_or_forged_credentials_are_401_problems() {
    let app = app();
    for token in [None, Some("not-a-token")] {
        let (status, ctype, body) = send(&app, "GET", "/api/v1/me", token, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(ctype, "application/problem+json");
        assert_eq!(body["status"], 401);
    }
}

#[tokio::test]
async fn bad_bodies_get_the_status_their_fault_deserves() {
    let app = app();
    let cases = [
        (
            Some(("application/json", "{not json".to_string())),
            StatusCode::BAD_REQUEST,
        ),
        (
            Some(("text/plain", json!({"email": "a@b.cd"}).to_string())),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            json_body(json!({"email": 7})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json_body(json!({"email": "a@b.cd", "password": "short", "name": "A"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, want) in cases {
        let shown = format!("{body:?}");
        let (status, ctype, problem) = send(&app, "POST", "/api/v1/auth/signup", None, body).await;
        assert_eq!(status, want, "{shown}: {problem}");
        assert_eq!(ctype, "application/problem+json", "{shown}");
        assert_eq!(problem["status"], want.as_u16(), "{shown}");
    }
}

#[tokio::test]
async fn station_search_checks_its_query_and_finds_nothing_in_an_empty_network() {
    let app = app();
    let (status, _, body) = send(
        &app,
        "GET",
        "/api/v1/stations?lat=36.07&lon=120.38",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!([]));
    for query in [
        "lat=91&lon=0",
        "lat=abc&lon=0",
        "lon=0",
        "lat=0&lon=0&radius_km=1000",
    ] {
        let (status, ctype, body) = send(
            &app,
            "GET",
            &format!("/api/v1/stations?{query}"),
            None,
            None,
        )
        .await;
        assert!(status.is_client_error(), "{query}: {status} {body}");
        assert_eq!(ctype, "application/problem+json", "{query}");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = app();
    let (status, ctype, _) = send(&app, "GET", "/api/v1/no-such-thing", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(ctype, "application/problem+json");
    let (status, ctype, _) = send(&app, "DELETE", "/api/v1/auth/login", None, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(ctype, "application/problem+json");
}
