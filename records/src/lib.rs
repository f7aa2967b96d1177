//! Records that outlive Redis's retention and a Redis loss: ended charging sessions with their
//! meter series, in a real database. One trait, [`RecordsStore`], two backends passing one
//! [conformance suite](crate::conformance): SQLite (`sqlite://path`, the embedded default: a
//! file, no setup) and PostgreSQL (`postgres://…`, production). Schemas are versioned
//! migrations (sqlx's migrator, the SQL embedded in the binary) run at open.
//!
//! Partial (issue #22): sessions only; charge detail records, tariffs, audit entries and the
//! outbox that feeds this store from the live one come next.

mod error;
mod postgres;
mod sql;
mod sqlite;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::sync::Arc;

use async_trait::async_trait;
use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::Session;
use chargegrid_core::{DriverId, FleetId, SessionId};
use chrono::{DateTime, Utc};

pub use error::{RecordsError, RecordsResult};

/// Sessions that reach back further than the live store keeps them.
#[async_trait]
pub trait RecordsStore: Send + Sync + std::fmt::Debug {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Records an ended session with its meter series at `now`. Idempotent by session id: a
    /// second write of the same id changes nothing and returns `false` (an outbox may deliver
    /// twice; the record stays the first).
    async fn record_session(
        &self,
        session: &Session,
        samples: &[MeterSample],
        now: DateTime<Utc>,
    ) -> RecordsResult<bool>;

    /// A recorded session and its samples.
    async fn session(&self, id: &SessionId) -> RecordsResult<Option<(Session, Vec<MeterSample>)>>;

    /// A driver's sessions started before `before` (all when `None`), newest first, at most
    /// `limit`.
    async fn sessions_of_driver(
        &self,
        driver: &DriverId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> RecordsResult<Vec<Session>>;

    /// A fleet's sessions, as [`RecordsStore::sessions_of_driver`].
    async fn sessions_of_fleet(
        &self,
        fleet: &FleetId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> RecordsResult<Vec<Session>>;

    /// How many sessions are recorded.
    async fn session_count(&self) -> RecordsResult<u64>;
}

/// Opens the records store at `url` (`sqlite://path/to/file.db`, `sqlite::memory:`,
/// `postgres://user@host:port/db`), creating a SQLite file if needed, and brings its schema up
/// to date.
pub async fn open(url: &str) -> RecordsResult<Arc<dyn RecordsStore>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteRecords::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresRecords::open(url).await?))
    } else {
        Err(RecordsError::Url(format!(
            "{url:?}: use sqlite://path or postgres://user@host:port/db"
        )))
    }
}

/// Milliseconds since the epoch, the time columns' unit.
fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The JSON columns of a session.
fn encode(session: &Session, samples: &[MeterSample]) -> RecordsResult<(String, String)> {
    Ok((
        serde_json::to_string(session)?,
        serde_json::to_string(samples)?,
    ))
}

/// A session from its JSON column.
fn decode_session(text: &str) -> RecordsResult<Session> {
    Ok(serde_json::from_str(text)?)
}

/// Samples from their JSON column.
fn decode_samples(text: &str) -> RecordsResult<Vec<MeterSample>> {
    Ok(serde_json::from_str(text)?)
}

/// A page size the database is given (at least one, at most 1,000).
fn page(limit: usize) -> i64 {
    i64::try_from(limit.clamp(1, 1_000)).unwrap_or(1_000)
}
