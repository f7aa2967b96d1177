//! 2.0.1 notifications that are acknowledged and logged (reports, events, security events,
//! firmware/log status, reservation updates), and DataTransfer (answered `UnknownVendorId`:
//! no vendor extension is installed).

use chargegrid_ocpp::Call;
use serde_json::{Value, json};

use crate::connection::ConnectionContext;

pub(super) fn acknowledge(ctx: &ConnectionContext, call: &Call) -> Value {
    if call.action == "SecurityEventNotification" {
        tracing::warn!(charger = %ctx.charger, event = %call.payload, "security event");
    } else {
        tracing::info!(charger = %ctx.charger, action = %call.action, "notification");
    }
    json!({})
}

pub(super) fn data_transfer(ctx: &ConnectionContext, call: &Call) -> Value {
    tracing::info!(charger = %ctx.charger, vendor = %call.payload["vendorId"], "data transfer from station");
    json!({ "status": "UnknownVendorId" })
}
