//! Connector status reports, stored so the API can show live availability. A report older than
//! the stored one (replayed from a charger's queue) does not overwrite it.

use chargegrid_core::ConnectorId;
use chargegrid_core::network::{ConnectorState, ConnectorStatus};
use chrono::{DateTime, Utc};

use crate::connection::ConnectionContext;

/// Records a connector's status.
pub(crate) async fn status_changed(
    ctx: &ConnectionContext,
    connector: ConnectorId,
    status: ConnectorStatus,
    error_code: String,
    info: Option<String>,
    at: Option<DateTime<Utc>>,
) -> Result<(), chargegrid_store::StoreError> {
    let inner = &ctx.gateway.inner;
    let state = ConnectorState {
        charger: ctx.charger.clone(),
        connector,
        status,
        error_code,
        info,
        since: at.unwrap_or_else(|| inner.clock.now()),
    };
    let kept = inner.store.put_connector_state(&state).await?;
    if !kept {
        tracing::debug!(charger = %ctx.charger, %connector, "older status report ignored");
    }
    Ok(())
}
