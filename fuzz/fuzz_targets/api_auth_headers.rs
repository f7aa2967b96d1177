//! The API's `Authorization` header, through the real router (in-memory store, one operator
//! token stored once): the first byte picks a protected route, the rest is the header value.
//! Every answer must be a 4xx problem+json — never a panic, never a 5xx, and never a success:
//! a made-up header does not authenticate (the one real token is 40 bytes of a fixed text the
//! fuzzer would have to guess; a hit is reported as the bug it would be).
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request};
use chargegrid_api::{ApiConfig, ApiMetrics, ApiState};
use chargegrid_core::{Clock, SystemClock};
use chargegrid_store::{MemoryStore, Store};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/sessions"),
    ("GET", "/api/v1/reservations"),
    ("GET", "/api/v1/fleets/f1"),
    ("GET", "/api/v1/vehicles/V1/health"),
    ("POST", "/api/v1/auth/logout"),
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
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
        let router = chargegrid_api::router(ApiState::new(store, clock, config, metrics));
        Fixture { runtime, router }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, header)) = data.split_first() else {
        return;
    };
    let Ok(value) = HeaderValue::from_bytes(header) else {
        return;
    };
    let f = fixture();
    let (method, path) = ROUTES[usize::from(which) % ROUTES.len()];
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .header("authorization", value)
        .body(Body::empty())
        .unwrap();
    f.runtime.block_on(async {
        let resp = f.router.clone().oneshot(request).await.unwrap();
        let status = resp.status().as_u16();
        let problem = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        assert!((400..500).contains(&status), "{path}: {status}");
        assert!(problem, "{path}: {status} is not problem+json");
    });
});
