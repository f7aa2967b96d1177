//! What a charger reports about itself beyond its boot, kept for operators: the latest status
//! of a firmware update or of a diagnostics/log upload, and its settings (from a
//! GetConfiguration or GetVariables answer, or a 2.0.1 device-model report). A store failure
//! is the charger's InternalError (it retries), so no report is lost.

use chargegrid_core::command::ConfigurationReport;
use chargegrid_core::device::{Operation, OperationStatus, Setting};
use chargegrid_ocpp::{Call, CallError};

use crate::call_errors::store_error;
use crate::context::ConnectionContext;

/// Which operation a status notification is about.
pub(crate) fn operation_of(action: &str) -> Operation {
    match action {
        "FirmwareStatusNotification"
        | "SignedFirmwareStatusNotification"
        | "PublishFirmwareStatusNotification" => Operation::Firmware,
        _ => Operation::Upload,
    }
}

/// Keeps the latest status of the operation `call` reports on.
pub(crate) async fn record_status(
    ctx: &ConnectionContext,
    call: &Call,
    status: &str,
    request_id: Option<i64>,
) -> Result<(), CallError> {
    let operation = operation_of(&call.action);
    let report = OperationStatus {
        status: status.to_string(),
        request_id,
        at: ctx.gateway.inner.clock.now(),
    };
    tracing::info!(charger = %ctx.charger, action = %call.action, status, request = ?request_id, "charger status report");
    ctx.gateway
        .inner
        .store
        .record_operation_status(&ctx.charger, operation, &report)
        .await
        .map_err(|e| store_error(call, &e))
}

/// Keeps settings a charger reported in a device-model report.
pub(crate) async fn record_settings(
    ctx: &ConnectionContext,
    call: &Call,
    settings: &[Setting],
) -> Result<(), CallError> {
    ctx.gateway
        .inner
        .store
        .record_settings(&ctx.charger, settings)
        .await
        .map_err(|e| store_error(call, &e))
}

/// The settings a configuration answer carries, read `at`.
pub(crate) fn settings_of(
    report: &ConfigurationReport,
    at: chrono::DateTime<chrono::Utc>,
) -> Vec<Setting> {
    report
        .values
        .iter()
        .map(|v| Setting {
            key: v.key.clone(),
            value: v.value.clone(),
            readonly: v.readonly,
            at,
        })
        .collect()
}
