//! 1.6 DataTransfer, firmware/diagnostics/log status notifications and security events. They
//! are answered and logged; vendor data transfers get `UnknownVendorId` (no vendor extensions
//! are installed), which tells the charger truthfully that nothing acted on them.

use chargegrid_ocpp::v16::requests::{DataTransfer, SecurityEventNotification, StatusReport};
use chargegrid_ocpp::{Call, CallError};
use serde_json::{Value, json};

use crate::connection::ConnectionContext;
use crate::dispatch::decode;

pub(super) fn data_transfer(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: DataTransfer = decode(call)?;
    tracing::info!(charger = %ctx.charger, vendor = %req.vendor_id, message = ?req.message_id, "data transfer from charger");
    Ok(json!({ "status": "UnknownVendorId" }))
}

pub(super) fn status_report(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: StatusReport = decode(call)?;
    tracing::info!(charger = %ctx.charger, action = %call.action, status = %req.status, request = ?req.request_id, "charger status report");
    Ok(json!({}))
}

pub(super) fn security_event(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: SecurityEventNotification = decode(call)?;
    tracing::warn!(charger = %ctx.charger, kind = %req.kind, at = %req.timestamp, info = ?req.tech_info, "security event");
    Ok(json!({}))
}
