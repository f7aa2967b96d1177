//! Routes a charger's CALL to the handler for its action and version. Actions without a
//! handler are answered `NotImplemented`, as OCPP-J requires.

use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde_json::Value;

use crate::connection::ConnectionContext;

/// Handles one CALL; the answer payload, or the CALLERROR to send.
pub(crate) async fn handle_call(
    _ctx: &mut ConnectionContext,
    call: &Call,
) -> Result<Value, CallError> {
    Err(CallError {
        id: call.id.clone(),
        code: ErrorCode::NotImplemented,
        description: format!("action {} is not implemented", call.action),
        details: Value::Object(Default::default()),
    })
}
