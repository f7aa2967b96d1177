//! One gateway node's shared state: configuration, store, clock, metrics, the connections it
//! holds, the retransmission cache and the password-check throttle.

use std::sync::Arc;

use chargegrid_core::Clock;
use chargegrid_store::Store;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::local::LocalConnections;
use crate::{GatewayConfig, GatewayMetrics};

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
    pub retransmissions: crate::retransmissions::RetransmissionCache,
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
            config.settings.max_concurrent_password_checks,
            config.settings.auth_failures_before_backoff,
            config.settings.auth_backoff,
        );
        Self {
            inner: Arc::new(Inner {
                auth,
                config,
                store,
                clock,
                metrics,
                local: LocalConnections::default(),
                retransmissions: crate::retransmissions::RetransmissionCache::default(),
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                per_ip: Default::default(),
            }),
        }
    }

    /// Number of chargers connected to this node.
    pub fn connected(&self) -> usize {
        self.inner.local.len()
    }
}
