//! Typed decoding of a payload, with serde's complaint turned into the OCPP-J error code it
//! stands for. Used after schema validation (or instead of it when no schemas are configured).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ErrorCode;

/// A payload that does not decode, with the code to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// The CALLERROR code.
    pub code: ErrorCode,
    /// serde's message.
    pub message: String,
}

/// Decodes `payload` as `T`.
pub fn decode<T: DeserializeOwned>(payload: &Value) -> Result<T, DecodeError> {
    T::deserialize(payload).map_err(|e| {
        let message = e.to_string();
        let code = if message.starts_with("missing field") {
            ErrorCode::OccurrenceConstraintViolation
        } else if message.starts_with("invalid type") {
            ErrorCode::TypeConstraintViolation
        } else if message.starts_with("unknown field") {
            ErrorCode::FormatViolation
        } else {
            ErrorCode::PropertyConstraintViolation
        };
        DecodeError { code, message }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        connector_id: u32,
    }

    #[test]
    fn serde_errors_map_to_ocpp_codes() {
        let code = |v: Value| decode::<Probe>(&v).unwrap_err().code;
        assert_eq!(code(json!({})), ErrorCode::OccurrenceConstraintViolation);
        assert_eq!(
            code(json!({"connectorId": "one"})),
            ErrorCode::TypeConstraintViolation
        );
        assert_eq!(
            code(json!({"connectorId": -1})),
            ErrorCode::PropertyConstraintViolation
        );
        assert_eq!(
            code(json!({"connectorId": 1, "x": 2})),
            ErrorCode::FormatViolation
        );
        assert!(decode::<Probe>(&json!({"connectorId": 1})).is_ok());
    }
}
