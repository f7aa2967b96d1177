//! The audit trail: who (operator or fleet manager, and which API key), did what, to which
//! object, when, with what result. Entries are appended with an increasing id and read newest
//! first, a page at a time; entries older than the retention are forgotten as new ones arrive.

use async_trait::async_trait;
use chargegrid_core::{DriverId, FleetId};
use chrono::{DateTime, Utc};

use crate::StoreResult;

pub use chargegrid_core::audit::AuditEntry;

/// Which entries to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// Only entries with a smaller id (the previous page's `next_before`).
    pub before: Option<u64>,
    /// Only this actor's entries.
    pub actor: Option<DriverId>,
    /// Only entries of actors in this fleet.
    pub fleet: Option<FleetId>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many entries (at least one is asked for).
    pub limit: usize,
}

impl AuditQuery {
    /// Whether `entry` passes the filters (not the paging).
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        self.actor.as_ref().is_none_or(|a| *a == entry.actor)
            && self
                .fleet
                .as_ref()
                .is_none_or(|f| entry.fleet.as_ref() == Some(f))
            && self.since.is_none_or(|t| entry.at >= t)
    }
}

/// A page of entries, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next page; `None` when there are no older entries to look at.
    pub next_before: Option<u64>,
}

/// Entries looked at, at most, to fill one filtered page: a filter that matches rarely still
/// answers in bounded time, with `next_before` to continue.
pub const AUDIT_SCAN_LIMIT: usize = 5_000;

/// Where the audit trail is kept.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `entry` (its `id` is assigned here and returned) and forgets entries older than
    /// `keep_after`. Ids increase across every node sharing the store.
    async fn append_audit(&self, entry: AuditEntry, keep_after: DateTime<Utc>) -> StoreResult<u64>;

    /// Entries with an id above `after`, oldest first, at most `limit` (the records pump copies
    /// the trail with it).
    async fn audit_after(&self, after: u64, limit: usize) -> StoreResult<Vec<AuditEntry>>;

    /// Entries matching `query`, newest first. Looks at no more than [`AUDIT_SCAN_LIMIT`]
    /// entries: a page may then hold fewer than `limit` entries and still have a `next_before`.
    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<AuditPage>;
}
