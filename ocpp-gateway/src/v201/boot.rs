//! 2.0.1 StatusNotification, and the charger-wide number of an EVSE's connector.

use chargegrid_core::network::ConnectorStatus;
use chargegrid_core::{ConnectorId, EvseId};
use chargegrid_ocpp::messages::{data::Empty, payload};
use chargegrid_ocpp::v201::requests::StatusNotification;
use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use crate::call_errors::{call_error, decode, store_error};
use crate::context::ConnectionContext;
use crate::operations::status;

/// The charger-wide connector number of connector `connector` (1-based) of EVSE `evse`, from
/// the network configuration; without one, EVSE and connector 1 share a number (the common
/// one-connector-per-EVSE layout).
pub(super) fn connector_number(
    ctx: &ConnectionContext,
    evse: EvseId,
    connector: u32,
) -> ConnectorId {
    ctx.config
        .as_ref()
        .and_then(|c| c.evses.iter().find(|e| e.id == evse))
        .and_then(|e| e.connectors.get(connector.saturating_sub(1) as usize))
        .map_or(
            ConnectorId(if connector <= 1 {
                evse.0
            } else {
                // Saturating: a made-up EVSE id must not overflow (it is refused as an
                // unknown connector afterwards).
                evse.0.saturating_mul(100).saturating_add(connector)
            }),
            |c| c.id,
        )
}

pub(crate) async fn status_notification(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: StatusNotification = decode(call)?;
    let connector = if req.evse_id == 0 {
        ConnectorId(0)
    } else {
        connector_number(ctx, EvseId(req.evse_id), req.connector_id)
    };
    status::check_connector(ctx, connector)
        .map_err(|e| call_error(call, ErrorCode::PropertyConstraintViolation, e.to_string()))?;
    status::status_changed(
        ctx,
        connector,
        ConnectorStatus::from_text(&req.connector_status),
        "NoError".into(),
        None,
        Some(req.timestamp),
    )
    .await
    .map_err(|e| store_error(call, &e))?;
    Ok(payload(Empty {}))
}
