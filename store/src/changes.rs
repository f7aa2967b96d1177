//! A change feed: "something changed at this site" (a session started or stopped, an EV's
//! needs or a limit window changed, a charger connected or went away). The scheduler listens
//! and re-plans the site at once instead of waiting for its periodic pass. Delivery is best
//! effort (the periodic pass covers anything missed).

use async_trait::async_trait;
use chargegrid_core::{SessionId, SiteId};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::StoreResult;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A session started.
    SessionStarted,
    /// A session ended.
    SessionEnded,
    /// Metered power changed (meter values arrived).
    MeterValues,
    /// An EV's needs changed.
    Needs,
    /// A limit or limit window changed.
    Limits,
    /// A charger connected, booted or went away.
    Charger,
    /// A connector's status changed.
    Status,
}

/// A change notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteChange {
    /// Where.
    pub site: SiteId,
    /// What.
    pub kind: ChangeKind,
    /// The session concerned, for session changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
}

impl SiteChange {
    /// A change with no particular session.
    pub fn new(site: SiteId, kind: ChangeKind) -> Self {
        Self {
            site,
            kind,
            session: None,
        }
    }
}

/// Publishes and receives site change notices.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Announces a change (best effort: failures are logged, not returned to the caller's
    /// caller, since the periodic pass covers a lost notice).
    async fn notify_change(&self, change: SiteChange) -> StoreResult<()>;

    /// Starts receiving every node's change notices.
    async fn subscribe_changes(&self) -> StoreResult<mpsc::Receiver<SiteChange>>;
}
