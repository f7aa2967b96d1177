//! 2.0.1 notifications: device-model reports (kept as the charger's settings), the others
//! acknowledged and logged (events, reservation updates, ...), and certificate signing
//! requests. Firmware and log status are `common_actions::status_report`.

use chargegrid_core::device::Setting;
use chargegrid_ocpp::messages::data::{Empty, StatusInfo, StatusResponse};
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v201::requests::{NotifyReport, SignCertificate};
use chargegrid_ocpp::{Call, CallError};
use serde_json::Value;

use crate::call_errors::decode;
use crate::context::ConnectionContext;

pub(crate) fn acknowledge(ctx: &ConnectionContext, call: &Call) -> Value {
    tracing::info!(charger = %ctx.charger, action = %call.action, "notification");
    payload(Empty {})
}

/// NotifyReport: each variable's Actual value is kept as a setting `Component.Variable`.
pub(crate) async fn notify_report(
    ctx: &ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: NotifyReport = decode(call)?;
    let at = ctx.gateway.inner.clock.now();
    let settings: Vec<Setting> = req
        .report_data
        .iter()
        .filter_map(|d| {
            let actual = d.actual()?;
            Some(Setting {
                key: d.key(),
                value: actual.value.clone(),
                readonly: actual.mutability.as_deref().map(|m| m == "ReadOnly"),
                at,
            })
        })
        .collect();
    tracing::info!(charger = %ctx.charger, request = req.request_id, seq = req.seq_no, variables = settings.len(), more = req.tbc, "device-model report");
    crate::operations::device::record_settings(ctx, call, &settings).await?;
    Ok(payload(Empty {}))
}

pub(crate) fn sign_certificate(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: SignCertificate = decode(call)?;
    Ok(
        match crate::operations::security::sign_certificate(
            ctx,
            &req.csr,
            req.certificate_type.as_deref(),
        ) {
            Ok(()) => payload(StatusResponse::of("Accepted")),
            Err(reason) => {
                tracing::warn!(charger = %ctx.charger, reason = %reason, "certificate signing request rejected");
                payload(StatusResponse {
                    status: "Rejected".into(),
                    status_info: Some(StatusInfo {
                        reason_code: "NotSupported".into(),
                        additional_info: Some(truncate(&reason.to_string())),
                    }),
                })
            }
        },
    )
}

/// 2.0.1 StatusInfo.additionalInfo is at most 512 characters.
fn truncate(text: &str) -> String {
    text.chars().take(512).collect()
}
