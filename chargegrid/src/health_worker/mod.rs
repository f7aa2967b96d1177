//! The health worker: the I/O shell around the pure `chargegrid-health` core (which has no
//! store, no runtime and no metrics). When a session ends (a change notice from the gateway) it
//! computes the session's features, stores them, replays
//! the vehicle's stored features into a fresh report, and rebuilds the fleet roll-up (cohort
//! comparison, the table, its CSV export and the SoH chart) as documents the API serves.
//! Recomputation is idempotent: features are keyed by session, reports are rebuilt from them.

mod fleet;
mod metrics;
mod session;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::{Clock, FleetId, SessionId, Volts};
use chargegrid_store::{ChangeKind, Store, StoreError};
use thiserror::Error;

use chargegrid_health::{HealthConfig, HealthError};

pub use metrics::HealthMetrics;

pub use chargegrid_store::health::documents;

/// How often the fleets touched by ended sessions get their roll-up rebuilt.
pub const ROLLUP_INTERVAL: Duration = Duration::from_secs(5);

/// Why the worker could not process something.
#[derive(Debug, Error)]
pub enum WorkerError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The health computation refused the data.
    #[error("health: {0}")]
    Health(#[from] HealthError),
    /// A computation task failed.
    #[error("health computation task failed: {0}")]
    Task(String),
    /// A stored document could not be read back.
    #[error("stored health document unreadable: {0}")]
    Decode(#[from] serde_json::Error),
}

/// The worker.
#[derive(Clone)]
pub struct HealthWorker {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: Arc<HealthConfig>,
    /// Nominal pack voltage per vehicle model (datasheet values), for exact SoH.
    model_voltages: Arc<HashMap<String, Volts>>,
    metrics: HealthMetrics,
    /// Where each vehicle's reports are kept over time (SoH trends past the live store).
    records: Option<Arc<dyn chargegrid_records::RecordsStore>>,
}

impl HealthWorker {
    /// A worker over `store`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: HealthConfig,
        model_voltages: HashMap<String, Volts>,
        metrics: HealthMetrics,
    ) -> Self {
        Self {
            store,
            clock,
            config: Arc::new(config),
            model_voltages: Arc::new(model_voltages),
            metrics,
            records: None,
        }
    }

    /// This worker keeping every vehicle report in `records` too.
    #[must_use]
    pub fn with_records(mut self, records: Arc<dyn chargegrid_records::RecordsStore>) -> Self {
        self.records = Some(records);
        self
    }

    /// Processes one ended session: its features, then its fleet's (or vehicle's) reports.
    /// Returns the fleet to refresh, if the session belongs to a vehicle of one.
    pub async fn process_session(&self, id: &SessionId) -> Result<Option<FleetId>, WorkerError> {
        session::process(self, id).await
    }

    /// Rebuilds every report of a fleet and its documents.
    pub async fn refresh_fleet(&self, fleet: &FleetId) -> Result<(), WorkerError> {
        fleet::refresh(self, fleet).await
    }

    /// Runs until `shutdown`: sessions ending anywhere are processed at once; the roll-ups of
    /// the fleets they touched are rebuilt every [`ROLLUP_INTERVAL`] (one rebuild covers a burst
    /// of sessions, since a roll-up replays every vehicle of the fleet).
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> std::io::Result<()> {
        let mut changes = self
            .store
            .subscribe_changes()
            .await
            .map_err(std::io::Error::other)?;
        tokio::pin!(shutdown);
        let mut dirty: BTreeSet<FleetId> = BTreeSet::new();
        let mut tick = tokio::time::interval(ROLLUP_INTERVAL);
        loop {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                change = changes.recv() => {
                    let Some(change) = change else { return Ok(()) };
                    if change.kind != ChangeKind::SessionEnded {
                        continue;
                    }
                    let Some(session) = change.session else { continue };
                    match self.process_session(&session).await {
                        Ok(Some(fleet)) => {
                            dirty.insert(fleet);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(%session, error = %e, "health: session not processed"),
                    }
                }
                _ = tick.tick(), if !dirty.is_empty() => {
                    for fleet in std::mem::take(&mut dirty) {
                        if let Err(e) = self.refresh_fleet(&fleet).await {
                            tracing::warn!(%fleet, error = %e, "health: fleet roll-up failed");
                        }
                    }
                }
            }
        }
    }
}
