//! Connector status reports, stored so the API can show live availability. A report older than
//! the stored one (replayed from a charger's queue) does not overwrite it.

use chargegrid_core::ConnectorId;
use chargegrid_core::network::{ConnectorState, ConnectorStatus};
use chrono::{DateTime, Utc};

use crate::context::ConnectionContext;

/// Distinct connectors a charger that is not in the network may report (only with
/// `allow_unknown_chargers`): each one is a stored field, so their number is bounded.
const UNKNOWN_CHARGER_CONNECTORS: usize = 32;

/// A connector the charger does not have.
#[derive(Debug, thiserror::Error)]
#[error("connector {connector} is not configured for charger {charger}")]
pub(crate) struct UnknownConnector {
    connector: ConnectorId,
    charger: chargegrid_core::ChargerId,
}

/// Whether `connector` may be reported by this charger: connector 0 (the whole charger), one
/// of its configured connectors, or for a charger outside the network one of a bounded few.
/// Anything else would add a stored field per made-up id forever.
pub(crate) fn check_connector(
    ctx: &ConnectionContext,
    connector: ConnectorId,
) -> Result<(), UnknownConnector> {
    if connector.0 == 0 {
        return Ok(());
    }
    let allowed = match &ctx.config {
        Some(config) => config
            .evses
            .iter()
            .flat_map(|e| &e.connectors)
            .any(|c| c.id == connector),
        None => {
            ctx.statuses.contains_key(&connector) || ctx.statuses.len() < UNKNOWN_CHARGER_CONNECTORS
        }
    };
    if allowed {
        return Ok(());
    }
    ctx.gateway
        .inner
        .metrics
        .frames_rejected
        .with_label_values(&["unknown_connector"])
        .inc();
    Err(UnknownConnector {
        connector,
        charger: ctx.charger.clone(),
    })
}

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
    let kept = match ctx.status_written.get(&connector) {
        Some(&last) => inner.store.put_connector_state_after(&state, last).await?,
        None => inner.store.put_connector_state(&state).await?,
    };
    if kept {
        ctx.status_written.insert(connector, state.since);
    } else {
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
