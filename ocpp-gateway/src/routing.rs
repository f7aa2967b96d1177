//! The path of every charger CALL: is the action known, may the charger send it yet, does the
//! payload match the official schema (when configured), then the version's handler, and finally
//! a check of our own answer against its schema. Each refusal is the CALLERROR the spec names;
//! only queued transaction data with an out-of-enum or badly formatted value is let through
//! (and counted), because refusing it would make the charger resend it forever.

use chargegrid_core::network::OcppVersion;
use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use crate::call_errors::call_error;
use crate::common_actions;
use crate::context::ConnectionContext;
use crate::operations::registration;

/// Actions whose schema violations of the value-only kind are tolerated.
const LENIENT: &[&str] = &[
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    "TransactionEvent",
];

/// The handler of a CALL whose payload already passed validation, by version and action.
async fn route(ctx: &mut ConnectionContext, call: &Call) -> Result<Value, CallError> {
    use crate::{v16, v201};
    use OcppVersion::{V16, V201};
    match (ctx.version, call.action.as_str()) {
        (_, "BootNotification") => common_actions::boot_notification(ctx, call).await,
        (_, "Heartbeat") => common_actions::heartbeat(ctx),
        (_, "DataTransfer") => common_actions::data_transfer(ctx, call),
        (_, "SecurityEventNotification") => common_actions::security_event(ctx, call),
        (V16, "StatusNotification") => v16::boot::status_notification(ctx, call).await,
        (V201, "StatusNotification") => v201::boot::status_notification(ctx, call).await,
        (V16, "Authorize") => v16::transactions::authorize(ctx, call).await,
        (V201, "Authorize") => v201::transactions::authorize(ctx, call).await,
        (_, "MeterValues") => common_actions::meter_values(ctx, call).await,
        (V16, "StartTransaction") => v16::transactions::start_transaction(ctx, call).await,
        (V16, "StopTransaction") => v16::transactions::stop_transaction(ctx, call).await,
        (V201, "TransactionEvent") => v201::transactions::transaction_event(ctx, call).await,
        (V16, "SignCertificate") => v16::data::sign_certificate(ctx, call),
        (V201, "SignCertificate") => v201::notifications::sign_certificate(ctx, call),
        (V201, "NotifyEVChargingNeeds") => v201::needs::notify_ev_charging_needs(ctx, call).await,
        (
            V16,
            "DiagnosticsStatusNotification"
            | "FirmwareStatusNotification"
            | "LogStatusNotification"
            | "SignedFirmwareStatusNotification",
        ) => common_actions::status_report(ctx, call).await,
        (
            V201,
            "FirmwareStatusNotification"
            | "LogStatusNotification"
            | "PublishFirmwareStatusNotification",
        ) => common_actions::status_report(ctx, call).await,
        (V201, "NotifyReport") => v201::notifications::notify_report(ctx, call).await,
        (
            V201,
            "NotifyEvent"
            | "ReservationStatusUpdate"
            | "NotifyChargingLimit"
            | "ClearedChargingLimit"
            | "NotifyMonitoringReport"
            | "NotifyCustomerInformation"
            | "NotifyDisplayMessages"
            | "ReportChargingProfiles"
            | "NotifyEVChargingSchedule",
        ) => Ok(v201::notifications::acknowledge(ctx, call)),
        (version, action) => Err(call_error(
            call,
            ErrorCode::NotSupported,
            format!(
                "{action} is not a charger-to-central-system action chargegrid handles in OCPP {}",
                version.label()
            ),
        )),
    }
}

/// Handles one CALL; the answer payload, or the CALLERROR to send.
pub(crate) async fn handle_call(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    if chargegrid_ocpp::actions::known(&call.action).is_none() {
        return Err(call_error(
            call,
            ErrorCode::NotImplemented,
            format!("unknown action {}", call.action),
        ));
    }
    if !registration::may_send(ctx, &call.action) {
        return Err(call_error(
            call,
            ErrorCode::SecurityError,
            "the charger is not accepted (BootNotification first, or wait for acceptance)".into(),
        ));
    }
    let inner = ctx.gateway.inner.clone();
    let schemas = inner
        .config
        .schemas
        .as_ref()
        .and_then(|s| s.for_version(ctx.version));
    if let Some(schemas) = schemas
        && let Some(violations) = schemas.check_request(&call.action, &call.payload)
        && let Some(first) = violations.first()
    {
        let tolerable =
            LENIENT.contains(&call.action.as_str()) && violations.iter().all(|v| v.value_only);
        if tolerable {
            inner
                .metrics
                .frames_rejected
                .with_label_values(&["tolerated"])
                .inc();
            tracing::warn!(charger = %ctx.charger, action = %call.action, violation = ?first.message, "schema violation tolerated in transaction data");
        } else {
            inner
                .metrics
                .frames_rejected
                .with_label_values(&["schema"])
                .inc();
            return Err(call_error(
                call,
                first.code,
                format!("{} at {:?}", first.message, first.path),
            ));
        }
    }
    let answer = route(ctx, call).await?;
    if let Some(schemas) = schemas
        && let Some(violations) = schemas.check_response(&call.action, &answer)
        && let Some(first) = violations.first()
    {
        inner
            .metrics
            .frames_rejected
            .with_label_values(&["own_answer_invalid"])
            .inc();
        tracing::error!(action = %call.action, violation = %first.message, answer = %answer, "our answer breaks its schema");
        return Err(call_error(
            call,
            ErrorCode::InternalError,
            "internal error".into(),
        ));
    }
    Ok(answer)
}
