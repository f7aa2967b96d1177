//! The API router and server: built on a bound listener, stopped by a shutdown future.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use chargegrid_core::Clock;
use chargegrid_store::Store;
use tokio::net::TcpListener;

use crate::{Problem, routes};

/// What every request handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Injected time.
    pub clock: Arc<dyn Clock>,
}

/// The `/api/v1` router.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/health", get(routes::health::health))
        .fallback(|uri: axum::http::Uri| async move {
            Problem::not_found(format!("no route for {}", uri.path()))
        })
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` resolves (in-flight requests finish).
pub async fn serve(
    listener: TcpListener,
    state: ApiState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
