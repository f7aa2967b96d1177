//! The records pump: copies every ended session from the live store's outbox into the records
//! store, with its meter series and its charge detail record, exactly once; and the audit
//! trail, which the live store forgets after its retention, by entry id.
//!
//! The live store puts a session in its site's outbox in the same atomic step that ends it.
//! The pump (one node at a time, by lease) reads an outbox, writes each session and its record
//! in one database transaction that does nothing when the session is already there, and only
//! then takes it out of the outbox. A node that dies anywhere in between leaves the entry in the
//! outbox; the next pass writes nothing new and removes it. So nothing is lost and nothing
//! doubles, and a database outage only grows the backlog (`chargegrid_records_outbox_backlog`,
//! alerted on) until it is back.

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::cdr::Cdr;
use chargegrid_core::network::{Site, UNASSIGNED_SITE};
use chargegrid_core::{Clock, SessionId, SiteId};
use chargegrid_records::{RecordsError, RecordsStore};
use chargegrid_store::{ChangeKind, Store, StoreError};
use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// How often outboxes are drained when no session end wakes the pump.
pub const PASS_INTERVAL: Duration = Duration::from_secs(5);
/// Sessions read from an outbox at a time.
const BATCH: usize = 100;
/// The lease that makes one node the pump.
const LEASE: &str = "records-pump";

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum PumpError {
    /// The live store failed.
    #[error("live store: {0}")]
    Store(#[from] StoreError),
    /// The records store failed.
    #[error("records store: {0}")]
    Records(#[from] RecordsError),
}

/// The pump's metrics.
#[derive(Debug, Clone)]
pub struct RecordsMetrics {
    /// Sessions waiting in the outboxes, as of this node's last pass while it held the pump's
    /// lease (0 on the other nodes).
    pub backlog: IntGauge,
    /// Sessions handled, by outcome: `written`, `already_recorded`, `missing` (the live store
    /// no longer has the session).
    pub sessions: IntCounterVec,
    /// Passes that stopped on an error, by which store failed.
    pub failures: IntCounterVec,
    /// Audit entries archived.
    pub audit: IntCounter,
}

impl RecordsMetrics {
    /// Creates and registers the metrics, every label set at 0.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            backlog: IntGauge::new(
                "chargegrid_records_outbox_backlog",
                "Ended sessions waiting to be copied to the records store",
            )?,
            sessions: IntCounterVec::new(
                Opts::new(
                    "chargegrid_records_sessions_total",
                    "Ended sessions taken from the outbox, by outcome",
                ),
                &["outcome"],
            )?,
            failures: IntCounterVec::new(
                Opts::new(
                    "chargegrid_records_failures_total",
                    "Records pump passes stopped by a failure, by store",
                ),
                &["store"],
            )?,
            audit: IntCounter::new(
                "chargegrid_records_audit_entries_total",
                "Audit entries archived in the records store",
            )?,
        };
        registry.register(Box::new(m.audit.clone()))?;
        registry.register(Box::new(m.backlog.clone()))?;
        registry.register(Box::new(m.sessions.clone()))?;
        registry.register(Box::new(m.failures.clone()))?;
        for outcome in ["written", "already_recorded", "missing"] {
            m.sessions.with_label_values(&[outcome]);
        }
        for store in ["live", "records"] {
            m.failures.with_label_values(&[store]);
        }
        Ok(m)
    }
}

/// The pump.
#[derive(Clone)]
pub struct RecordsPump {
    store: Arc<dyn Store>,
    records: Arc<dyn RecordsStore>,
    clock: Arc<dyn Clock>,
    node: String,
    metrics: RecordsMetrics,
}

impl RecordsPump {
    /// A pump from `store` to `records`, run by `node`.
    pub fn new(
        store: Arc<dyn Store>,
        records: Arc<dyn RecordsStore>,
        clock: Arc<dyn Clock>,
        node: String,
        metrics: RecordsMetrics,
    ) -> Self {
        Self {
            store,
            records,
            clock,
            node,
            metrics,
        }
    }

    /// One pass, when this node holds (or takes) the pump's lease: drains every site's outbox
    /// and sets the backlog. Returns how many sessions were written.
    pub async fn pass(&self) -> Result<usize, PumpError> {
        let lease = self
            .store
            .acquire_lease(LEASE, &self.node, PASS_INTERVAL * 6)
            .await?;
        if lease.is_none() {
            // Another node pumps and reports the backlog; this one says nothing stale (the
            // alert takes the maximum over nodes).
            self.metrics.backlog.set(0);
            return Ok(0);
        }
        let mut sites: Vec<(SiteId, Option<Site>)> = self
            .store
            .list_sites()
            .await?
            .into_iter()
            .map(|s| (s.id.clone(), Some(s)))
            .collect();
        sites.extend(SiteId::new(UNASSIGNED_SITE).ok().map(|id| (id, None)));
        let mut written = 0;
        let drained = self.drain(&sites, &mut written).await;
        // An outbox drained to empty has no backlog; after a failure the backlog is counted,
        // so that a records outage shows (and alerts) while it lasts.
        let backlog = match &drained {
            Ok(()) => 0,
            Err(_) => {
                let mut waiting = 0;
                for (site, _) in &sites {
                    waiting += self.store.records_outbox_len(site).await.unwrap_or(0);
                }
                waiting
            }
        };
        self.metrics
            .backlog
            .set(i64::try_from(backlog).unwrap_or(i64::MAX));
        drained?;
        Ok(written)
    }

    /// Empties every site's outbox into the records store, then archives the audit trail.
    async fn drain(
        &self,
        sites: &[(SiteId, Option<Site>)],
        written: &mut usize,
    ) -> Result<(), PumpError> {
        for (site, known) in sites {
            loop {
                let ids = self.store.records_outbox(site, BATCH).await?;
                if ids.is_empty() {
                    break;
                }
                let mut done = Vec::with_capacity(ids.len());
                let result = self
                    .copy_all(&ids, known.as_ref(), &mut done, written)
                    .await;
                // What was copied leaves the outbox even if a later one failed.
                self.store.records_outbox_remove(site, &done).await?;
                result?;
            }
        }
        self.archive_audit().await
    }

    /// Copies the audit entries newer than the newest archived one (each once: the archive is
    /// keyed by entry id, and the live store's ids only grow).
    async fn archive_audit(&self) -> Result<(), PumpError> {
        let mut after = self.records.last_audit_id().await?;
        loop {
            let entries = self.store.audit_after(after, BATCH * 5).await?;
            let Some(last) = entries.last().map(|e| e.id) else {
                return Ok(());
            };
            let fresh = self.records.record_audit(&entries).await?;
            self.metrics.audit.inc_by(fresh as u64);
            after = last;
        }
    }

    async fn copy_all(
        &self,
        ids: &[SessionId],
        site: Option<&Site>,
        done: &mut Vec<SessionId>,
        written: &mut usize,
    ) -> Result<(), PumpError> {
        for id in ids {
            let outcome = self.copy(id, site).await?;
            if outcome == "written" {
                *written += 1;
            }
            self.metrics.sessions.with_label_values(&[outcome]).inc();
            done.push(id.clone());
        }
        Ok(())
    }

    /// Copies one session of `site` (its time zone and location price and place the record;
    /// `None`: UTC, no location) with its samples and charge detail record, without taking it
    /// out of the outbox ([`RecordsPump::pass`] does that after). `"written"`,
    /// `"already_recorded"` or `"missing"`.
    pub async fn copy(
        &self,
        id: &SessionId,
        site: Option<&Site>,
    ) -> Result<&'static str, PumpError> {
        let Some(session) = self.store.get_session(id).await? else {
            tracing::error!(session = %id, "records: an ended session in the outbox is gone from the live store; it cannot be recorded");
            return Ok("missing");
        };
        let samples = self.store.samples(id).await?;
        let tz = site
            .and_then(|s| s.timezone.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC);
        let now = self.clock.now();
        let cdr = Cdr::issue(&session, &samples, tz, site.map(|s| s.location), now);
        let fresh = self
            .records
            .record_session(&session, &samples, Some(&cdr), now)
            .await?;
        Ok(if fresh { "written" } else { "already_recorded" })
    }

    /// Runs until `shutdown`: a pass when a session ends anywhere, and every
    /// [`PASS_INTERVAL`] (which retries after a failure and takes over from a dead pump).
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        let mut changes = self
            .store
            .subscribe_changes()
            .await
            .map_err(std::io::Error::other)?;
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(PASS_INTERVAL);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                change = changes.recv() => {
                    let Some(change) = change else { return Ok(()) };
                    if change.kind != ChangeKind::SessionEnded {
                        continue;
                    }
                }
                _ = tick.tick() => {}
            }
            if let Err(e) = self.pass().await {
                let which = match e {
                    PumpError::Store(_) => "live",
                    PumpError::Records(_) => "records",
                };
                self.metrics.failures.with_label_values(&[which]).inc();
                tracing::warn!(error = %e, "records: pass stopped; the outbox keeps what was not copied");
            }
        }
    }
}
