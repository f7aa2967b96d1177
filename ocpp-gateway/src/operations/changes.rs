//! Telling the rest of the cluster (the scheduler) that something changed at this charger's
//! site. Best effort: a lost notice only delays re-planning until the periodic pass.

use chargegrid_store::{ChangeKind, SiteChange};

use crate::context::ConnectionContext;

/// Announces a change at the charger's site (nothing for chargers outside the network).
pub(crate) async fn notify(ctx: &ConnectionContext, kind: ChangeKind) {
    notify_session(ctx, kind, None).await;
}

/// Announces a change concerning one session.
pub(crate) async fn notify_session(
    ctx: &ConnectionContext,
    kind: ChangeKind,
    session: Option<chargegrid_core::SessionId>,
) {
    let Some(config) = &ctx.config else { return };
    let change = SiteChange {
        site: config.site.clone(),
        kind,
        session,
    };
    if let Err(e) = ctx.gateway.inner.store.notify_change(change).await {
        tracing::debug!(charger = %ctx.charger, error = %e, "change notice not sent");
    }
}
