//! The smart-charging control loop: turns [`crate::alloc`]'s decisions into charging profiles
//! on real chargers, through the store's command bus, with its state in the store so any
//! instance can take over.
//!
//! One task per site ([`site`]): it stands by until it holds the site's lease (with a fencing
//! token, renewed every third of its time to live), then plans the site at once, after every
//! change notice (debounced), periodically and at limit-window edges. A pass ([`pass`]) reads the
//! site ([`snapshot`]), decides ([`plan`]: sessions' currents plus a failsafe default per
//! charger, so the site stays within its limits even for vehicles that arrive before the next
//! pass or after the backend is lost), sends what changed — decreases first — ([`send`]),
//! verifies ([`verify`]) and writes the allocation and headroom for the API. What a leader
//! remembers between passes is in [`watch`]; none of it is needed by a successor.

pub mod config;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod metrics;
mod pass;
mod plan;
mod profiles;
mod send;
mod site;
mod snapshot;
pub(crate) mod tree;
mod verify;
mod watch;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::{Clock, SiteId};
use chargegrid_store::{SiteChange, Store};
use tokio::sync::{Notify, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub use config::{ControlConfig, ModelKnobs, SessionPurpose};
pub use error::ServiceError;
pub use metrics::SchedulerMetrics;

use pass::SiteContext;

/// How often the list of sites is read again (sites added to the network start being planned).
const SITE_REFRESH: Duration = Duration::from_secs(30);
/// How long to wait before subscribing to change notices again after the feed ended.
const RESUBSCRIBE: Duration = Duration::from_secs(1);

/// The scheduler's control loop: every site of the network, each led by whichever instance holds its
/// lease.
#[derive(Debug, Clone)]
pub struct ControlLoop {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: Arc<ControlConfig>,
    metrics: SchedulerMetrics,
}

/// A running control loop started with [`ControlLoop::spawn`].
#[derive(Debug)]
pub struct ServiceHandle {
    stop: CancellationToken,
    task: JoinHandle<Result<(), ServiceError>>,
}

impl ServiceHandle {
    /// Stops gracefully: leases are released, so standbys take over at once.
    pub async fn shutdown(self) -> Result<(), ServiceError> {
        self.stop.cancel();
        self.task
            .await
            .unwrap_or_else(|e| Err(ServiceError::UnknownSite(format!("task failed: {e}"))))
    }

    /// Stops as a crash would: every task ends where it is and no lease is released, so a
    /// standby takes over only when the leases expire.
    pub fn kill(self) {
        self.task.abort();
    }
}

struct SiteTask {
    notify: Arc<Notify>,
}

impl ControlLoop {
    /// A control loop over `store`; metrics go into `metrics` (one set per registry).
    pub fn new(
        config: ControlConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        metrics: SchedulerMetrics,
    ) -> Self {
        Self {
            store,
            clock,
            config: Arc::new(config),
            metrics,
        }
    }

    /// Runs until `shutdown` completes, then stops every site (releasing its lease).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ServiceError> {
        let stop = CancellationToken::new();
        let mut sites: HashMap<SiteId, SiteTask> = HashMap::new();
        let mut tasks = JoinSet::new();
        let mut changes = self.store.subscribe_changes().await?;
        self.refresh(&mut sites, &mut tasks, &stop).await;
        tracing::info!(holder = %self.config.holder, sites = sites.len(), "scheduler started");
        let mut refresh = tokio::time::interval(SITE_REFRESH);
        refresh.tick().await;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = refresh.tick() => self.refresh(&mut sites, &mut tasks, &stop).await,
                change = changes.recv() => match change {
                    Some(change) => self.route(change, &mut sites, &mut tasks, &stop).await,
                    None => {
                        tracing::warn!("change feed ended: subscribing again");
                        tokio::time::sleep(RESUBSCRIBE).await;
                        changes = match self.store.subscribe_changes().await {
                            Ok(rx) => rx,
                            Err(e) => {
                                tracing::warn!(error = %e, "change feed unavailable");
                                mpsc::channel(1).1
                            }
                        };
                    }
                },
            }
        }
        stop.cancel();
        while tasks.join_next().await.is_some() {}
        tracing::info!(holder = %self.config.holder, "scheduler stopped");
        Ok(())
    }

    /// Starts the control loop on its own task.
    pub fn spawn(self) -> ServiceHandle {
        let stop = CancellationToken::new();
        let task = tokio::spawn(self.run(stop.clone().cancelled_owned()));
        ServiceHandle { stop, task }
    }

    /// Starts tasks for sites not yet running.
    async fn refresh(
        &self,
        sites: &mut HashMap<SiteId, SiteTask>,
        tasks: &mut JoinSet<()>,
        stop: &CancellationToken,
    ) {
        let list = match self.store.list_sites().await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(error = %e, "sites not listed");
                return;
            }
        };
        for site in list {
            if sites.contains_key(&site.id) {
                continue;
            }
            let notify = Arc::new(Notify::new());
            self.metrics.touch_site(site.id.as_str());
            let ctx = SiteContext {
                site: site.id.clone(),
                store: self.store.clone(),
                clock: self.clock.clone(),
                config: self.config.clone(),
                metrics: self.metrics.clone(),
            };
            tasks.spawn(site::run_site(ctx, notify.clone(), stop.child_token()));
            sites.insert(site.id, SiteTask { notify });
        }
    }

    /// Wakes the site a change notice is about.
    async fn route(
        &self,
        change: SiteChange,
        sites: &mut HashMap<SiteId, SiteTask>,
        tasks: &mut JoinSet<()>,
        stop: &CancellationToken,
    ) {
        if !sites.contains_key(&change.site) {
            self.refresh(sites, tasks, stop).await;
        }
        if let Some(task) = sites.get(&change.site) {
            task.notify.notify_one();
        }
    }
}
