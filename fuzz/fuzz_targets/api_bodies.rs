//! The driver and fleet API's JSON bodies, through the real router (in-memory store, an
//! operator account signed up once): the first byte picks an endpoint that takes a body, the
//! rest is the body. Every answer must be a 2xx or a 4xx problem+json — never a panic, never a
//! 5xx. Sign-up, log-in and fleet-manager creation are left out (each valid body costs an
//! Argon2 hash); their bodies go through the same extractor and are covered by the
//! `api_bad_input` tests.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request};
use chargegrid_api::{ApiConfig, ApiMetrics, ApiState};
use base64::Engine;
use chargegrid_core::driver::{Driver, Role};
use chargegrid_core::{Clock, DriverId, SystemClock};
use chargegrid_store::{MemoryStore, Store, TokenRecord};
use sha2::Digest;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/fleets"),
    ("POST", "/api/v1/fleets/f1/drivers"),
    ("POST", "/api/v1/fleets/f1/vehicles"),
    ("POST", "/api/v1/fleets/f1/id-tags"),
    ("POST", "/api/v1/me/id-tags"),
    ("POST", "/api/v1/recommendations"),
    ("POST", "/api/v1/reservations"),
    ("POST", "/api/v1/sessions"),
    ("POST", "/api/v1/sessions/s1/stop"),
    ("PUT", "/api/v1/sessions/s1/needs"),
    ("POST", "/api/v1/sites/QD-HD/limit-windows"),
    ("POST", "/api/v1/auth/refresh"),
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new(clock.clone()));
        let config = ApiConfig {
            rate_limit_per_minute: u32::MAX,
            ..ApiConfig::default()
        };
        let metrics = ApiMetrics::new(&prometheus::Registry::new()).unwrap();
        let router = chargegrid_api::router(ApiState::new(store.clone(), clock, config, metrics));
        // The operator account and its token go straight into the store: signing up would
        // cost an Argon2 hash, tens of seconds in an unoptimised sanitizer build.
        let token = "cga_fuzzing-operator-token".to_string();
        runtime.block_on(async {
            let id = DriverId::new("op-fuzz").unwrap();
            store
                .create_driver(&Driver {
                    id: id.clone(),
                    email: "op@example.com".into(),
                    name: "Op".into(),
                    role: Role::Operator,
                    fleet: None,
                    password_hash: "not-a-hash".into(),
                    created_at: chrono::Utc::now(),
                    fleet_invitations: Vec::new(),
                    disabled: false,
                })
                .await
                .unwrap();
            let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(token.as_bytes()));
            let record = TokenRecord {
                driver: id,
                expires_at: chrono::Utc::now() + chrono::Duration::days(3650),
                family: "fuzz".into(),
            };
            store.put_token(&hash, &record).await.unwrap();
            let fleet = serde_json::json!({"id": "f1", "name": "F1"});
            let (status, body) = call(&router, Method::POST, "/api/v1/fleets", Some(&token), fleet.to_string().into_bytes()).await;
            assert_eq!(status, 201, "the fixture's token works: {body}");
        });
        Fixture { runtime, router, token }
    })
}

async fn call(
    router: &axum::Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let problem = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    assert!(status < 500, "{path}: {status} {}", String::from_utf8_lossy(&bytes));
    assert!(status < 400 || problem, "{path}: {status} is not problem+json");
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let (method, path) = ROUTES[usize::from(which) % ROUTES.len()];
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    f.runtime
        .block_on(call(&f.router, method, path, Some(&f.token), body.to_vec()));
});
