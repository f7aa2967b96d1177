//! Records that outlive Redis's retention and a Redis loss: ended charging sessions with their
//! meter series, in a real database. One trait, [`RecordsStore`], two backends passing one
//! [conformance suite](crate::conformance): SQLite (`sqlite://path`, the embedded default: a
//! file, no setup) and PostgreSQL (`postgres://…`, production). Schemas are versioned
//! migrations (sqlx's migrator, the SQL embedded in the binary) run at open.
//!
//! Charge detail records ([`Cdr`]) are written in the same transaction as their session, and
//! never changed: a correction is a new record. With the embedded default the same file also
//! keeps what people entered (accounts, fleets, vehicles, keys, the network) as documents.

mod error;
mod postgres;
mod sql;
mod sqlite;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::sync::Arc;

use async_trait::async_trait;
use chargegrid_core::audit::AuditEntry;
use chargegrid_core::cdr::Cdr;
use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::Session;
use chargegrid_core::{DriverId, FleetId, SessionId, SiteId, VehicleId};
use chrono::{DateTime, Utc};

pub use error::{RecordsError, RecordsResult};

/// Sessions that reach back further than the live store keeps them.
#[async_trait]
pub trait RecordsStore: Send + Sync + std::fmt::Debug {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Records an ended session with its meter series and its charge detail record at `now`,
    /// in one transaction. Idempotent by session id: a second write of the same id changes
    /// nothing and returns `false` (an outbox may deliver twice; the record stays the first).
    async fn record_session(
        &self,
        session: &Session,
        samples: &[MeterSample],
        cdr: Option<&Cdr>,
        now: DateTime<Utc>,
    ) -> RecordsResult<bool>;

    /// Adds a charge detail record (a correction) unless one with its id exists; `false` when
    /// it did.
    async fn add_cdr(&self, cdr: &Cdr) -> RecordsResult<bool>;

    /// One charge detail record.
    async fn cdr(&self, id: &str) -> RecordsResult<Option<Cdr>>;

    /// Charge detail records matching `query`, newest session first (a session's corrections
    /// after its first record); a page never splits the records of one start time.
    async fn cdrs(&self, query: &CdrQuery) -> RecordsResult<Vec<Cdr>>;

    /// Every record of one session, oldest first.
    async fn cdrs_of_session(&self, session: &SessionId) -> RecordsResult<Vec<Cdr>>;

    /// Writes (`Some`) or removes (`None`) one document of what people entered (the embedded
    /// default's accounts, fleets, vehicles, keys and network; see `chargegrid_store::Journal`).
    async fn put_document(&self, kind: &str, id: &str, document: Option<&str>)
    -> RecordsResult<()>;

    /// Every such document, as `(kind, id, document)`, by kind and id.
    async fn documents(&self) -> RecordsResult<Vec<(String, String, String)>>;

    /// Archives audit entries (keyed by their id; one already there is left as it is).
    /// Returns how many were new.
    async fn record_audit(&self, entries: &[AuditEntry]) -> RecordsResult<usize>;

    /// The highest archived audit entry id (0 when none).
    async fn last_audit_id(&self) -> RecordsResult<u64>;

    /// Keeps a vehicle's health report as of `as_of` (the newest data it used); a report of
    /// the same vehicle and `as_of` replaces the earlier one (a rebuild on the same data).
    async fn record_health_report(
        &self,
        vehicle: &VehicleId,
        fleet: Option<&FleetId>,
        as_of: DateTime<Utc>,
        report: &str,
    ) -> RecordsResult<()>;

    /// A vehicle's kept reports, newest first, at most `limit`: `(as_of, report)`.
    async fn health_history(
        &self,
        vehicle: &VehicleId,
        limit: usize,
    ) -> RecordsResult<Vec<(DateTime<Utc>, String)>>;

    /// Archived entries with an id below `before` (all when `None`), newest first, at most
    /// `limit`.
    async fn archived_audit(
        &self,
        before: Option<u64>,
        limit: usize,
    ) -> RecordsResult<Vec<AuditEntry>>;

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

/// Which charge detail records to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CdrQuery {
    /// Only this driver's.
    pub driver: Option<DriverId>,
    /// Only this fleet's.
    pub fleet: Option<FleetId>,
    /// Only this site's.
    pub site: Option<SiteId>,
    /// Sessions that started at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Sessions that started before this (the previous page's last start).
    pub before: Option<DateTime<Utc>>,
    /// At most this many (1 to 1,000), plus the rest of the last start time's records.
    pub limit: usize,
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

/// The columns of a session: its JSON, and its samples as zlib-compressed JSON.
fn encode(session: &Session, samples: &[MeterSample]) -> RecordsResult<(String, Vec<u8>)> {
    use std::io::Write;
    // One buffer in, one out: the encoder compresses per write, and serde writes in crumbs.
    let json = serde_json::to_vec(samples)?;
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(json.len() / 8),
        flate2::Compression::default(),
    );
    z.write_all(&json).map_err(RecordsError::Compression)?;
    Ok((
        serde_json::to_string(session)?,
        z.finish().map_err(RecordsError::Compression)?,
    ))
}

/// A charge detail record from its JSON column.
fn decode_cdr(text: &str) -> RecordsResult<Cdr> {
    Ok(serde_json::from_str(text)?)
}

/// A session from its JSON column.
fn decode_session(text: &str) -> RecordsResult<Session> {
    Ok(serde_json::from_str(text)?)
}

/// Samples from their compressed column, or (rows written before it) their JSON column.
fn decode_samples(text: &str, compressed: Option<&[u8]>) -> RecordsResult<Vec<MeterSample>> {
    match compressed {
        Some(z) => {
            use std::io::Read;
            let mut json = Vec::with_capacity(z.len() * 8);
            flate2::read::ZlibDecoder::new(z)
                .read_to_end(&mut json)
                .map_err(RecordsError::Compression)?;
            Ok(serde_json::from_slice(&json)?)
        }
        None => Ok(serde_json::from_str(text)?),
    }
}

/// A page size the database is given (at least one, at most 1,000).
fn page(limit: usize) -> i64 {
    i64::try_from(limit.clamp(1, 1_000)).unwrap_or(1_000)
}
