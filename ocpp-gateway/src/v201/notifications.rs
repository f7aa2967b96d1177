//! 2.0.1 notifications that are acknowledged and logged (reports, events, firmware/log
//! status, reservation updates) and certificate signing requests.

use chargegrid_ocpp::messages::data::{Empty, StatusInfo, StatusResponse};
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v201::requests::SignCertificate;
use chargegrid_ocpp::{Call, CallError};
use serde_json::Value;

use crate::call_errors::decode;
use crate::context::ConnectionContext;

pub(crate) fn acknowledge(ctx: &ConnectionContext, call: &Call) -> Value {
    tracing::info!(charger = %ctx.charger, action = %call.action, "notification");
    payload(Empty {})
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
