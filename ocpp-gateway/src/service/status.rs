//! Connector status reports, stored so the API can show live availability. A report older than
//! the stored one (replayed from a charger's queue) does not overwrite it.

use chargegrid_core::ConnectorId;
use chargegrid_core::network::{ConnectorState, ConnectorStatus};
use chrono::{DateTime, Utc};

use crate::connection::ConnectionContext;

/// Records a connector's status.
pub(crate) async fn status_changed(
    ctx: &mut ConnectionContext,
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
        return Ok(());
    }
    if connector.0 != 0 {
        let label = status_label(&state.status);
        let gauge = &inner.metrics.connectors;
        if let Some(old) = ctx.statuses.insert(connector, label) {
            gauge.with_label_values(&[old]).dec();
        }
        gauge.with_label_values(&[label]).inc();
    }
    Ok(())
}

/// A bounded metric label for a status (vendor statuses count as "other").
pub(crate) fn status_label(status: &ConnectorStatus) -> &'static str {
    match status {
        ConnectorStatus::Available => "Available",
        ConnectorStatus::Preparing => "Preparing",
        ConnectorStatus::Charging => "Charging",
        ConnectorStatus::SuspendedEv => "SuspendedEV",
        ConnectorStatus::SuspendedEvse => "SuspendedEVSE",
        ConnectorStatus::Finishing => "Finishing",
        ConnectorStatus::Reserved => "Reserved",
        ConnectorStatus::Unavailable => "Unavailable",
        ConnectorStatus::Faulted => "Faulted",
        ConnectorStatus::Occupied => "Occupied",
        ConnectorStatus::Other(_) => "other",
    }
}
