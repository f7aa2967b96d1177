//! What chargegrid keeps, behind documented traits, and the command bus that lets any node
//! reach any charger.
//!
//! Two implementations pass the same [conformance suite](crate::conformance): [`MemoryStore`]
//! (`memory://`, the default: one process; what people entered survives a restart only through a [`Journal`]) and [`RedisStore`]
//! (`redis://host:port/db`: shared by many nodes, durable with AOF). [`open`] picks one by URL.
//! Redis keys of one site carry the hash tag `{s:<site>}` so a Redis Cluster keeps a site's
//! keys in one slot.

pub mod accounts;
pub mod audit;
pub mod bus;
pub mod changes;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod health;
pub mod memory;
mod metrics;
pub mod network;
pub mod redis;
pub mod registry;
pub mod reservations;
mod resolver;
pub mod scheduling;
pub mod sessions;

use async_trait::async_trait;

pub use accounts::{AccountStore, ApiKey, KeyScope, TokenRecord};
pub use audit::{AUDIT_SCAN_LIMIT, AuditEntry, AuditPage, AuditQuery, AuditStore};
pub use bus::{CommandBus, CommandEnvelope, IncomingCommand, ReplySink};
pub use changes::{ChangeFeed, ChangeKind, SiteChange};
pub use error::{StoreError, StoreResult};
pub use health::HealthStore;
pub use memory::{Journal, MemoryStore};
pub use metrics::StoreMetrics;
pub use network::NetworkStore;
pub use redis::RedisStore;
pub use registry::{BootInfo, ConnectionRegistry, REFUSALS_KEPT, RefusedHandshake, SETTINGS_KEPT};
pub use reservations::{Reservation, ReservationState, ReservationStore};
pub use resolver::{URL_FORMS, URL_SCHEMES, open};
pub use scheduling::{
    ARRIVALS_RETENTION, EvNeeds, Lease, LimitWindow, NeedsSource, STATEMENT_RATIOS_KEPT,
    SchedulerStore, SessionAllocation, SiteAllocation,
};
pub use sessions::{HistoryPage, SessionStore};

/// Everything chargegrid keeps, in one object.
#[async_trait]
pub trait Store:
    NetworkStore
    + ConnectionRegistry
    + SessionStore
    + AccountStore
    + AuditStore
    + SchedulerStore
    + HealthStore
    + ReservationStore
    + ChangeFeed
    + CommandBus
    + std::fmt::Debug
{
    /// `"memory"` or `"redis"`, for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Checks the backend answers.
    async fn ping(&self) -> StoreResult<()>;
}
