//! 1.6 BootNotification and StatusNotification.

use chargegrid_core::ConnectorId;
use chargegrid_core::network::{ConnectorStatus, OcppVersion};
use chargegrid_ocpp::messages::{data::Empty, payload};
use chargegrid_ocpp::v16::requests::{BootNotification, StatusNotification};
use chargegrid_ocpp::{Call, CallError, ErrorCode};
use chargegrid_store::BootInfo;
use serde_json::Value;

use crate::connection::ConnectionContext;
use crate::dispatch::{call_error, decode, store_error};
use crate::service::{registration, status};

pub(super) async fn boot_notification(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: BootNotification = decode(call)?;
    let now = ctx.gateway.inner.clock.now();
    let info = BootInfo {
        vendor: req.charge_point_vendor,
        model: req.charge_point_model,
        serial_number: req
            .charge_point_serial_number
            .or(req.charge_box_serial_number),
        firmware_version: req.firmware_version,
        ocpp_version: OcppVersion::V16,
        booted_at: now,
    };
    let decision = registration::boot(ctx, info)
        .await
        .map_err(|e| store_error(call, &e))?;
    Ok(decision.reply(now))
}

pub(super) async fn status_notification(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: StatusNotification = decode(call)?;
    status::check_connector(ctx, ConnectorId(req.connector_id))
        .map_err(|e| call_error(call, ErrorCode::PropertyConstraintViolation, e))?;
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
