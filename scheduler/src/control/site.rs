//! One site's task: stand by until the site's lease is free, then lead — a pass at once, then
//! one after every change notice (debounced), every period, at each limit-window edge, and
//! soon after a pass that could not make all its changes — while the lease is renewed beside
//! it. Losing the lease stops all acting at once (the next send batch and the allocation write
//! check it); shutting down releases it so a standby takes over without waiting for expiry.

use std::sync::Arc;
use std::time::Duration;

use chargegrid_store::Lease;
use tokio::sync::Notify;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

use super::pass::{SiteContext, Trigger, run_pass};
use super::watch::SiteWatch;

/// A pass that failed (store down) is retried after this long at the latest.
const ERROR_RETRY: Duration = Duration::from_secs(1);

/// The lease name of a site.
pub(crate) fn lease_name(site: &chargegrid_core::SiteId) -> String {
    format!("scheduler:site:{site}")
}

/// Runs a site until `stop`.
pub(crate) async fn run_site(ctx: SiteContext, notify: Arc<Notify>, stop: CancellationToken) {
    let name = lease_name(&ctx.site);
    let site = [ctx.site.as_str()];
    let ttl = ctx.config.lease_ttl;
    let poll = ttl / 3;
    loop {
        ctx.metrics.leader.with_label_values(&site).set(0.0);
        let lease = loop {
            match ctx
                .store
                .acquire_lease(&name, &ctx.config.holder, ttl)
                .await
            {
                Ok(Some(lease)) => break lease,
                Ok(None) => {}
                Err(e) => tracing::warn!(site = site[0], error = %e, "lease not checked"),
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = sleep(poll) => {}
            }
        };
        tracing::info!(site = site[0], holder = %ctx.config.holder, token = lease.token, "leading site");
        ctx.metrics.leader.with_label_values(&site).set(1.0);
        ctx.metrics.lease_acquired.with_label_values(&site).inc();
        let lost = CancellationToken::new();
        tokio::select! {
            () = lead(&ctx, &notify, &stop, &lost, lease.token) => {}
            () = keep(&ctx, &name, &lease, &lost) => {}
        }
        ctx.metrics.leader.with_label_values(&site).set(0.0);
        if stop.is_cancelled() {
            if let Err(e) = ctx.store.release_lease(&name, &lease).await {
                tracing::warn!(site = site[0], error = %e, "lease not released");
            }
            tracing::info!(site = site[0], "site released");
            return;
        }
        tracing::warn!(site = site[0], "lease lost: standing by");
    }
}

/// Renews the lease every third of its time to live; cancels `lost` and returns when it is
/// gone (taken by another holder, or not renewed within its time to live).
async fn keep(ctx: &SiteContext, name: &str, lease: &Lease, lost: &CancellationToken) {
    let ttl = ctx.config.lease_ttl;
    let mut renewed = Instant::now();
    loop {
        sleep(ttl / 3).await;
        // A renewal that hangs (a stalled store) must not outlast the lease itself: it is
        // given only what is left of the lease's time to live.
        let left = ttl.mul_f64(0.9).saturating_sub(renewed.elapsed());
        let renewal = tokio::time::timeout(left, ctx.store.renew_lease(name, lease, ttl)).await;
        let renewal = renewal.unwrap_or_else(|_| {
            Err(chargegrid_store::StoreError::Unavailable(
                "lease renewal timed out".into(),
            ))
        });
        match renewal {
            Ok(true) => renewed = Instant::now(),
            Ok(false) => break,
            Err(e) => {
                tracing::warn!(site = %ctx.site, error = %e, "lease not renewed");
                // Assume the worst a little before the lease could have expired.
                if renewed.elapsed() >= ttl.mul_f64(0.9) {
                    break;
                }
            }
        }
    }
    lost.cancel();
}

/// Leads until `stop` or `lost`.
async fn lead(
    ctx: &SiteContext,
    notify: &Notify,
    stop: &CancellationToken,
    lost: &CancellationToken,
    fence: u64,
) {
    let config = &ctx.config;
    let mut watch: Option<SiteWatch> = None;
    let mut trigger = Trigger::Takeover;
    let mut since = Instant::now();
    let mut next_periodic = Instant::now() + config.period;
    loop {
        if stop.is_cancelled() || lost.is_cancelled() {
            return;
        }
        let mut wake = next_periodic;
        match run_pass(ctx, &mut watch, trigger, since.into_std(), lost, fence).await {
            Ok(report) => {
                if report.retry {
                    wake = wake.min(Instant::now() + config.period.min(ERROR_RETRY * 2));
                }
                if let Some(edge) = report.next_boundary {
                    let until = (edge - ctx.clock.now()).to_std().unwrap_or_default();
                    wake = wake.min(Instant::now() + until);
                }
            }
            Err(e) => {
                tracing::warn!(site = %ctx.site, error = %e, "pass failed");
                wake = wake.min(Instant::now() + ERROR_RETRY);
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = lost.cancelled() => return,
            () = notify.notified() => {
                since = Instant::now();
                trigger = Trigger::Change;
                // Let a burst of notices (a session start is several) settle into one pass.
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = lost.cancelled() => return,
                    () = sleep(config.debounce) => {}
                }
            }
            () = sleep_until(wake) => {
                since = Instant::now();
                trigger = if wake >= next_periodic { Trigger::Periodic } else { Trigger::Retry };
            }
        }
        if Instant::now() >= next_periodic {
            next_periodic = Instant::now() + config.period;
        }
    }
}
