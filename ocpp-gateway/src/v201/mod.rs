//! The OCPP 2.0.1 adapter: one handler per charging station → CSMS action, translating into the
//! same version-neutral service calls as 1.6, so sessions, needs and status look identical to
//! the rest of chargegrid whichever version a charger speaks.

mod boot;
mod needs;
mod notifications;
mod transactions;

use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use crate::common_actions;
use crate::connection::ConnectionContext;

/// Handles a 2.0.1 CALL whose payload already passed validation.
pub(crate) async fn handle(ctx: &mut ConnectionContext, call: &Call) -> Result<Value, CallError> {
    match call.action.as_str() {
        "BootNotification" => boot::boot_notification(ctx, call).await,
        "Heartbeat" => common_actions::heartbeat(ctx),
        "StatusNotification" => boot::status_notification(ctx, call).await,
        "Authorize" => transactions::authorize(ctx, call).await,
        "TransactionEvent" => transactions::transaction_event(ctx, call).await,
        "MeterValues" => transactions::meter_values(ctx, call).await,
        "NotifyEVChargingNeeds" => needs::notify_ev_charging_needs(ctx, call).await,
        "SecurityEventNotification" => common_actions::security_event(ctx, call),
        "DataTransfer" => common_actions::data_transfer(ctx, call),
        "SignCertificate" => notifications::sign_certificate(ctx, call),
        "NotifyReport"
        | "NotifyEvent"
        | "FirmwareStatusNotification"
        | "LogStatusNotification"
        | "ReservationStatusUpdate"
        | "NotifyChargingLimit"
        | "ClearedChargingLimit"
        | "NotifyMonitoringReport"
        | "NotifyCustomerInformation"
        | "NotifyDisplayMessages"
        | "PublishFirmwareStatusNotification"
        | "ReportChargingProfiles"
        | "NotifyEVChargingSchedule" => Ok(notifications::acknowledge(ctx, call)),
        _ => Err(crate::dispatch::call_error(
            call,
            ErrorCode::NotSupported,
            format!(
                "{} is not a station-to-CSMS action chargegrid handles in OCPP 2.0.1",
                call.action
            ),
        )),
    }
}
