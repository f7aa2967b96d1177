//! Charging sessions and their meter samples: the records drivers are billed on, so every
//! write here must be durable before the charger gets its answer.

use async_trait::async_trait;
use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::Session;
use chargegrid_core::{ChargerId, DriverId, FleetId, IdTag, SessionId, SiteId};
use chrono::{DateTime, Utc};

use crate::StoreResult;

/// A page of a driver's or fleet's history, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    /// Sessions on this page.
    pub sessions: Vec<Session>,
    /// Pass as `before` to get the next page; `None` when this is the last.
    pub next_before: Option<DateTime<Utc>>,
}

/// Sessions, transaction ids and samples.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// A new OCPP 1.6 transaction id, unique across the whole network and every node.
    /// Ids are positive 32-bit integers as OCPP 1.6 requires.
    async fn next_transaction_id(&self) -> StoreResult<i32>;

    /// Records a new session. Fails with `Conflict` if the id, or the (charger, transaction id)
    /// pair, is already taken.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;

    /// Replaces a session's record (energy, state, stop reason, ...) and appends `new_samples`
    /// to its samples, in one step, atomic whenever the session's state or an index changes
    /// (a meter-only update on Redis is the document then the samples, in one round trip
    /// without a transaction: a Redis crash between the two can leave the samples one update
    /// behind the document, never the reverse). An ended session leaves the site's active
    /// set. Fails with `NotFound` if it was never created.
    ///
    /// `before` is the version the caller read and changed: the indexes (driver, fleet, id
    /// tag, active sets, the records outbox) follow the difference between it and `session`,
    /// so the store need not read the session again (one round trip fewer on every charger
    /// message on Redis).
    async fn update_session(
        &self,
        before: &Session,
        session: &Session,
        new_samples: &[MeterSample],
    ) -> StoreResult<()>;

    /// Reads one session.
    async fn get_session(&self, id: &SessionId) -> StoreResult<Option<Session>>;

    /// The session a charger's transaction id belongs to.
    async fn find_by_transaction(
        &self,
        charger: &ChargerId,
        transaction_id: &str,
    ) -> StoreResult<Option<Session>>;

    /// Active sessions of a site, in id order.
    async fn active_sessions(&self, site: &SiteId) -> StoreResult<Vec<Session>>;

    /// Active sessions on one charger.
    async fn active_sessions_of_charger(&self, charger: &ChargerId) -> StoreResult<Vec<Session>>;

    /// An active session started with this id tag (case-insensitive), if any: used to refuse a
    /// second concurrent transaction with the same card.
    async fn active_session_of_id_tag(&self, tag: &IdTag) -> StoreResult<Option<Session>>;

    /// A driver's sessions started before `before` (all when `None`), newest first.
    async fn sessions_of_driver(
        &self,
        driver: &DriverId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> StoreResult<HistoryPage>;

    /// A fleet's sessions started before `before`, newest first.
    async fn sessions_of_fleet(
        &self,
        fleet: &FleetId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> StoreResult<HistoryPage>;

    /// All samples of a session, in the order appended.
    async fn samples(&self, session: &SessionId) -> StoreResult<Vec<MeterSample>>;

    /// Ended sessions of `site` not yet copied to the records store, oldest first, at most
    /// `limit`. A session enters this outbox in the same atomic step that ends it (or creates
    /// it ended), so a node that dies after ending a session cannot lose its record.
    async fn records_outbox(&self, site: &SiteId, limit: usize) -> StoreResult<Vec<SessionId>>;

    /// Takes `ids` out of `site`'s outbox once they are in the records store (ids not in it
    /// are ignored, so two copiers finishing the same entries remove nothing else).
    async fn records_outbox_remove(&self, site: &SiteId, ids: &[SessionId]) -> StoreResult<()>;

    /// How many ended sessions of `site` wait to be copied.
    async fn records_outbox_len(&self, site: &SiteId) -> StoreResult<u64>;
}
