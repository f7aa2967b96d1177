//! 1.6 certificate signing requests (the security extension).

use chargegrid_ocpp::messages::data::StatusResponse;
use chargegrid_ocpp::messages::payload;
use chargegrid_ocpp::v16::requests::SignCertificate;
use chargegrid_ocpp::{Call, CallError};
use serde_json::Value;

use crate::call_errors::decode;
use crate::context::ConnectionContext;

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
