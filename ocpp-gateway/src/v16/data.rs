//! 1.6 firmware/diagnostics/log status notifications (kept as the charger's device state) and
//! certificate signing requests.

use chargegrid_ocpp::messages::data::{Empty, StatusResponse};
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v16::requests::{SignCertificate, StatusReport};
use chargegrid_ocpp::{Call, CallError};
use serde_json::Value;

use crate::call_errors::decode;
use crate::context::ConnectionContext;

pub(crate) async fn status_report(
    ctx: &ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: StatusReport = decode(call)?;
    crate::operations::device::record_status(ctx, call, &req.status, req.request_id).await?;
    Ok(payload(Empty {}))
}

pub(crate) fn sign_certificate(
    ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    let req: SignCertificate = decode(call)?;
    match crate::operations::security::sign_certificate(ctx, &req.csr, None) {
        Ok(()) => Ok(payload(StatusResponse::of("Accepted"))),
        Err(reason) => {
            tracing::warn!(charger = %ctx.charger, reason = %reason, "certificate signing request rejected");
            Ok(payload(StatusResponse::of("Rejected")))
        }
    }
}
