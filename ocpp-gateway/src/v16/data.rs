//! 1.6 DataTransfer, firmware/diagnostics/log status notifications, security events and
//! certificate signing requests. Notifications are answered and logged; vendor data transfers
//! get `UnknownVendorId` (no vendor extensions are installed), which tells the charger
//! truthfully that nothing acted on them.

use chargegrid_ocpp::v16::requests::{
    DataTransfer, SecurityEventNotification, SignCertificate, StatusReport,
};
use chargegrid_ocpp::{Call, CallError};
use serde_json::{Value, json};

use crate::connection::ConnectionContext;
use crate::dispatch::decode;

pub(super) fn data_transfer(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: DataTransfer = decode(call)?;
    tracing::info!(charger = %ctx.charger, vendor = ?req.vendor_id, message = ?req.message_id, "data transfer from charger");
    Ok(json!({ "status": "UnknownVendorId" }))
}

pub(super) fn status_report(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: StatusReport = decode(call)?;
    tracing::info!(charger = %ctx.charger, action = %call.action, status = ?req.status, request = ?req.request_id, "charger status report");
    Ok(json!({}))
}

pub(super) fn security_event(ctx: &ConnectionContext, call: &Call) -> Result<Value, CallError> {
    let req: SecurityEventNotification = decode(call)?;
    crate::service::security::security_event(ctx, &req.kind, req.tech_info.as_deref());
    Ok(json!({}))
}

pub(super) fn sign_certificate(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: SignCertificate = decode(call)?;
    match crate::service::security::sign_certificate(ctx, &req.csr, None) {
        Ok(()) => Ok(json!({ "status": "Accepted" })),
        Err(reason) => {
            tracing::warn!(charger = %ctx.charger, reason = ?reason, "certificate signing request rejected");
            Ok(json!({ "status": "Rejected" }))
        }
    }
}
