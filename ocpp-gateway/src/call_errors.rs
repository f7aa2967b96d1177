//! The CALLERRORs a handler answers with: for a payload that does not decode, an id tag that
//! breaks the format, a store that failed. Shared by every handler and by [`crate::routing`].

use chargegrid_ocpp::decode::decode as decode_payload;
use chargegrid_ocpp::{Call, CallError, ErrorCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A CALLERROR answering `call`.
pub(crate) fn call_error(call: &Call, code: ErrorCode, description: String) -> CallError {
    CallError {
        id: call.id.clone(),
        code,
        description,
        details: Value::Object(Default::default()),
    }
}

/// A charger-supplied id tag (1.6 `idTag`, 2.0.1 `idToken.idToken`), or the CALLERROR for one
/// that breaks the format.
pub(crate) fn id_tag(call: &Call, text: &str) -> Result<chargegrid_core::IdTag, CallError> {
    chargegrid_core::IdTag::new(text)
        .map_err(|e| call_error(call, ErrorCode::PropertyConstraintViolation, e.to_string()))
}

/// Decodes the call's payload, or the CALLERROR for it.
pub(crate) fn decode<T: DeserializeOwned>(call: &Call) -> Result<T, CallError> {
    decode_payload(&call.payload).map_err(|e| call_error(call, e.code, e.message))
}

/// The CALLERROR for a store failure: InternalError, so the charger retries later and nothing
/// is acknowledged that was not stored.
pub(crate) fn store_error(call: &Call, e: &chargegrid_store::StoreError) -> CallError {
    tracing::error!(action = %call.action, error = %e, "store failed while handling a call");
    call_error(
        call,
        ErrorCode::InternalError,
        "temporary failure, retry later".into(),
    )
}
