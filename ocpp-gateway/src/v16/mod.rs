//! The OCPP 1.6 adapter: one handler per charger → CSMS action. Each decodes its typed
//! request, calls the version-neutral service, and renders the 1.6 answer.

mod boot;
mod data;
mod transactions;

use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use crate::common_actions;
use crate::connection::ConnectionContext;

/// Handles a 1.6 CALL whose payload already passed validation.
pub(crate) async fn handle(ctx: &mut ConnectionContext, call: &Call) -> Result<Value, CallError> {
    match call.action.as_str() {
        "BootNotification" => boot::boot_notification(ctx, call).await,
        "Heartbeat" => common_actions::heartbeat(ctx),
        "StatusNotification" => boot::status_notification(ctx, call).await,
        "Authorize" => transactions::authorize(ctx, call).await,
        "StartTransaction" => transactions::start_transaction(ctx, call).await,
        "StopTransaction" => transactions::stop_transaction(ctx, call).await,
        "MeterValues" => transactions::meter_values(ctx, call).await,
        "DataTransfer" => common_actions::data_transfer(ctx, call),
        "DiagnosticsStatusNotification"
        | "FirmwareStatusNotification"
        | "LogStatusNotification"
        | "SignedFirmwareStatusNotification" => data::status_report(ctx, call),
        "SecurityEventNotification" => common_actions::security_event(ctx, call),
        "SignCertificate" => data::sign_certificate(ctx, call),
        _ => Err(crate::dispatch::call_error(
            call,
            ErrorCode::NotSupported,
            format!(
                "{} is not a charger-to-central-system action in OCPP 1.6",
                call.action
            ),
        )),
    }
}
