//! The gateway server: an axum router with the one WebSocket route, started on a bound
//! listener and stopped by a shutdown future (sockets are closed with "going away" first).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use chargegrid_core::Clock;
use chargegrid_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::local::LocalConnections;
use crate::{GatewayConfig, GatewayMetrics, handshake};

/// Shared state of one gateway node. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: GatewayConfig,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub metrics: GatewayMetrics,
    pub local: LocalConnections,
    pub replay: crate::replay::ReplayCache,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    /// Password checks at once, and back-off for addresses that keep failing.
    pub auth: crate::auth::AuthThrottle,
    /// Open connections per client IP (for `max_connections_per_ip`).
    pub per_ip: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

impl Gateway {
    /// A gateway node over `store`.
    pub fn new(
        config: GatewayConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        metrics: GatewayMetrics,
    ) -> Self {
        let auth = crate::auth::AuthThrottle::new(
            config.max_concurrent_password_checks,
            config.auth_failures_before_backoff,
            config.auth_backoff,
        );
        Self {
            inner: Arc::new(Inner {
                auth,
                config,
                store,
                clock,
                metrics,
                local: LocalConnections::default(),
                replay: crate::replay::ReplayCache::default(),
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                per_ip: Default::default(),
            }),
        }
    }

    /// The axum router (`/ocpp/{charger_id}`), for tests that drive it without a listener.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/ocpp/{charger_id}", get(handshake::upgrade))
            .with_state(self.clone())
    }

    /// Number of chargers connected to this node.
    pub fn connected(&self) -> usize {
        self.inner.local.len()
    }
}

/// Serves chargers on `listener` until `shutdown` resolves, then closes every charger socket
/// with "going away" and waits for the connection tasks to finish their writes.
pub async fn serve(
    listener: TcpListener,
    gateway: Gateway,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let commands = gateway
        .inner
        .store
        .subscribe_commands(&gateway.inner.config.node)
        .await
        .map_err(std::io::Error::other)?;
    let router_task = tokio::spawn(crate::local::route_commands(gateway.clone(), commands));
    crate::listener::accept_loop(listener, gateway, None, shutdown).await;
    router_task.abort();
    Ok(())
}
