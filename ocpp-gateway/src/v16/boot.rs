//! 1.6 StatusNotification.

use chargegrid_core::ConnectorId;
use chargegrid_core::network::ConnectorStatus;
use chargegrid_ocpp::messages::{data::Empty, payload};
use chargegrid_ocpp::v16::requests::StatusNotification;
use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use crate::call_errors::{call_error, decode, store_error};
use crate::context::ConnectionContext;
use crate::operations::status;

pub(crate) async fn status_notification(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: StatusNotification = decode(call)?;
    status::check_connector(ctx, ConnectorId(req.connector_id))
        .map_err(|e| call_error(call, ErrorCode::PropertyConstraintViolation, e.to_string()))?;
    status::status_changed(
        ctx,
        ConnectorId(req.connector_id),
        ConnectorStatus::from_text(&req.status),
        req.error_code,
        req.info.or(req.vendor_error_code),
        req.timestamp,
    )
    .await
    .map_err(|e| store_error(call, &e))?;
    Ok(payload(Empty {}))
}
