//! 2.0.1 notifications that are acknowledged and logged (reports, events, firmware/log
//! status, reservation updates), security events (counted), certificate signing requests, and
//! DataTransfer (answered `UnknownVendorId`: no vendor extension is installed).

use chargegrid_ocpp::v201::requests::SignCertificate;
use chargegrid_ocpp::{Call, CallError};
use serde_json::{Value, json};

use crate::connection::ConnectionContext;
use crate::dispatch::decode;

pub(super) fn acknowledge(ctx: &ConnectionContext, call: &Call) -> Value {
    tracing::info!(charger = %ctx.charger, action = %call.action, "notification");
    json!({})
}

pub(super) fn security_event(ctx: &ConnectionContext, call: &Call) -> Value {
    let kind = call.payload["type"].as_str().unwrap_or_default();
    let info = call.payload["techInfo"].as_str();
    crate::service::security::security_event(ctx, kind, info);
    json!({})
}

pub(super) fn sign_certificate(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: SignCertificate = decode(call)?;
    Ok(
        match crate::service::security::sign_certificate(
            ctx,
            &req.csr,
            req.certificate_type.as_deref(),
        ) {
            Ok(()) => json!({ "status": "Accepted" }),
            Err(reason) => {
                tracing::warn!(charger = %ctx.charger, reason = ?reason, "certificate signing request rejected");
                json!({ "status": "Rejected", "statusInfo": { "reasonCode": "NotSupported", "additionalInfo": truncate(&reason) } })
            }
        },
    )
}

/// 2.0.1 StatusInfo.additionalInfo is at most 512 characters.
fn truncate(text: &str) -> String {
    text.chars().take(512).collect()
}

pub(super) fn data_transfer(ctx: &ConnectionContext, call: &Call) -> Value {
    tracing::info!(charger = %ctx.charger, vendor = %call.payload["vendorId"], "data transfer from station");
    json!({ "status": "UnknownVendorId" })
}
