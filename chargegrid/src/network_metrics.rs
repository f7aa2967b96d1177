//! Network-level metrics read from the store: one `chargegrid_site_info` series per site (its
//! name and coordinates, for Grafana's map) and whether a demand-response window is in force
//! (`chargegrid_site_limit_window_active`, shown as annotations). Refreshed periodically, so
//! sites and windows added at runtime appear.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::Clock;
use chargegrid_store::Store;
use prometheus::{IntGaugeVec, Opts, Registry};

/// The collector's gauges.
#[derive(Clone)]
pub struct NetworkMetrics {
    info: IntGaugeVec,
    window: IntGaugeVec,
    chargers: IntGaugeVec,
}

impl NetworkMetrics {
    /// Creates and registers the gauges.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            info: IntGaugeVec::new(
                Opts::new(
                    "chargegrid_site_info",
                    "Sites with their name and location (value 1)",
                ),
                &["site", "name", "lat", "lon"],
            )?,
            window: IntGaugeVec::new(
                Opts::new(
                    "chargegrid_site_limit_window_active",
                    "1 while a limit window (demand response) is in force at the site",
                ),
                &["site"],
            )?,
            chargers: IntGaugeVec::new(
                Opts::new(
                    "chargegrid_site_chargers",
                    "Chargers configured at the site (against connected ones: the offline share)",
                ),
                &["site"],
            )?,
        };
        registry.register(Box::new(m.chargers.clone()))?;
        registry.register(Box::new(m.info.clone()))?;
        registry.register(Box::new(m.window.clone()))?;
        Ok(m)
    }

    /// Reads the sites and their windows once.
    pub async fn refresh(
        &self,
        store: &dyn Store,
        clock: &dyn Clock,
    ) -> chargegrid_store::StoreResult<()> {
        let now = clock.now();
        self.info.reset();
        for site in store.list_sites().await? {
            self.info
                .with_label_values(&[
                    site.id.as_str(),
                    &site.name,
                    &format!("{:.5}", site.location.lat()),
                    &format!("{:.5}", site.location.lon()),
                ])
                .set(1);
            let configured = store.chargers_of_site(&site.id).await?.len();
            self.chargers
                .with_label_values(&[site.id.as_str()])
                .set(i64::try_from(configured).unwrap_or(i64::MAX));
            let active = store
                .limit_windows(&site.id)
                .await?
                .iter()
                .any(|w| w.from <= now && w.to.is_none_or(|to| now < to));
            self.window
                .with_label_values(&[site.id.as_str()])
                .set(i64::from(active));
        }
        Ok(())
    }
}

/// Refreshes every `every` until `shutdown`.
pub async fn run(
    metrics: NetworkMetrics,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            _ = tick.tick() => {
                if let Err(e) = metrics.refresh(store.as_ref(), clock.as_ref()).await {
                    tracing::warn!(error = %e, "network metrics not refreshed");
                }
            }
        }
    }
}
