//! The charger actions whose messages are the same in OCPP 1.6 and 2.0.1, handled once:
//! Heartbeat, DataTransfer (answered `UnknownVendorId`: no vendor extension is installed, which
//! tells the charger truthfully that nothing acted on it) and SecurityEventNotification
//! (logged and counted).

use chargegrid_ocpp::messages::data::{
    DataTransfer, Empty, SecurityEventNotification, StatusResponse,
};
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::{Call, CallError};
use serde_json::Value;

use crate::connection::ConnectionContext;
use crate::dispatch::decode;

/// Heartbeat: the central system's time.
pub(crate) fn heartbeat(ctx: &ConnectionContext) -> Result<Value, CallError> {
    Ok(crate::service::registration::heartbeat(ctx))
}

/// DataTransfer from the charger.
pub(crate) fn data_transfer(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: DataTransfer = decode(call)?;
    tracing::info!(charger = %ctx.charger, vendor = ?req.vendor_id, message = ?req.message_id, "data transfer from charger");
    Ok(payload(StatusResponse::of("UnknownVendorId")))
}

/// SecurityEventNotification.
pub(crate) fn security_event(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: SecurityEventNotification = decode(call)?;
    crate::service::security::security_event(ctx, &req.kind, req.tech_info.as_deref());
    Ok(payload(Empty {}))
}
