//! Telling the rest of the cluster (the scheduler) that something changed at this charger's
//! site. Best effort: a lost notice only delays re-planning until the periodic pass.

use chargegrid_store::{ChangeKind, SiteChange};

use crate::connection::ConnectionContext;

/// Announces a change at the charger's site (nothing for chargers outside the network).
pub(crate) async fn notify(ctx: &ConnectionContext, kind: ChangeKind) {
    let Some(config) = &ctx.config else { return };
    let change = SiteChange {
        site: config.site.clone(),
        kind,
    };
    if let Err(e) = ctx.gateway.inner.store.notify_change(change).await {
        tracing::debug!(charger = %ctx.charger, error = %e, "change notice not sent");
    }
}
