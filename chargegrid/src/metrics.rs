//! The metrics port: Prometheus text format from the registry every component registered its
//! metrics in, `chargegrid_build_info`, and the probes every role answers — `/healthz`
//! (liveness: the process serves) and `/readyz` (readiness: the store answers; the listeners
//! are bound before this port is).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chargegrid_store::Store;
use prometheus::{Encoder, IntGaugeVec, Opts, Registry, TextEncoder};
use tokio::net::TcpListener;

/// How long `/readyz` waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Registers `chargegrid_build_info{version, role}` (always 1).
pub fn register_build_info(registry: &Registry, role: &str) -> prometheus::Result<()> {
    let info = IntGaugeVec::new(
        Opts::new("chargegrid_build_info", "The running build (always 1)"),
        &["version", "role"],
    )?;
    info.with_label_values(&[env!("CARGO_PKG_VERSION"), role])
        .set(1);
    registry.register(Box::new(info))
}

/// The metrics router.
pub fn router(registry: Registry, store: Arc<dyn Store>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                async move { render(&registry) }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let store = store.clone();
                async move { ready(store.as_ref()).await }
            }),
        )
}

async fn ready(store: &dyn Store) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, store.list_sites()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}")).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "store: no answer within 2 s".to_string(),
        )
            .into_response(),
    }
}

fn render(registry: &Registry) -> Response {
    let encoder = TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => (
            [(header::CONTENT_TYPE, encoder.format_type().to_string())],
            body,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Serves the metrics port until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    registry: Registry,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(registry, store))
        .with_graceful_shutdown(shutdown)
        .await
}
