//! RPC error codes. 1.6 and 2.0.1 share most of them but spell two differently
//! (`FormationViolation` / `FormatViolation`, `OccurenceConstraintViolation` /
//! `OccurrenceConstraintViolation`) and 2.0.1 adds a few; [`ErrorCode::as_str`] renders the
//! right spelling for the charger's version and [`ErrorCode::parse`] reads both.

use crate::OcppVersion;

/// An OCPP-J CALLERROR code, version-neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The action is not known.
    NotImplemented,
    /// The action is known but not supported.
    NotSupported,
    /// Something went wrong while handling a valid request.
    InternalError,
    /// The payload is incomplete.
    ProtocolError,
    /// A security problem while handling the request.
    SecurityError,
    /// The payload is syntactically wrong or not conform the action's structure.
    FormatViolation,
    /// A field has a value outside its allowed set or range.
    PropertyConstraintViolation,
    /// A required field is missing, or a field occurs too often.
    OccurrenceConstraintViolation,
    /// A field has the wrong type.
    TypeConstraintViolation,
    /// Anything else.
    GenericError,
    /// 2.0.1: the message type id is not known.
    MessageTypeNotSupported,
    /// 2.0.1: the message is not a valid RPC frame.
    RpcFrameworkError,
}

impl ErrorCode {
    /// Every code (for metrics exported at 0 from the start).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::InternalError,
        ErrorCode::ProtocolError,
        ErrorCode::SecurityError,
        ErrorCode::FormatViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::OccurrenceConstraintViolation,
        ErrorCode::TypeConstraintViolation,
        ErrorCode::GenericError,
        ErrorCode::MessageTypeNotSupported,
        ErrorCode::RpcFrameworkError,
    ];

    /// The code as sent to a charger of `version`. Codes 1.6 lacks fall back to the closest
    /// 1.6 code.
    pub fn as_str(self, version: OcppVersion) -> &'static str {
        let v16 = version == OcppVersion::V16;
        match self {
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::FormatViolation if v16 => "FormationViolation",
            ErrorCode::FormatViolation => "FormatViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation if v16 => "OccurenceConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation => "OccurrenceConstraintViolation",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
            ErrorCode::GenericError => "GenericError",
            ErrorCode::MessageTypeNotSupported if v16 => "PropertyConstraintViolation",
            ErrorCode::MessageTypeNotSupported => "MessageTypeNotSupported",
            ErrorCode::RpcFrameworkError if v16 => "ProtocolError",
            ErrorCode::RpcFrameworkError => "RpcFrameworkError",
        }
    }

    /// Reads a code in either version's spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "NotImplemented" => ErrorCode::NotImplemented,
            "NotSupported" => ErrorCode::NotSupported,
            "InternalError" => ErrorCode::InternalError,
            "ProtocolError" => ErrorCode::ProtocolError,
            "SecurityError" => ErrorCode::SecurityError,
            "FormationViolation" | "FormatViolation" => ErrorCode::FormatViolation,
            "PropertyConstraintViolation" => ErrorCode::PropertyConstraintViolation,
            "OccurenceConstraintViolation" | "OccurrenceConstraintViolation" => {
                ErrorCode::OccurrenceConstraintViolation
            }
            "TypeConstraintViolation" => ErrorCode::TypeConstraintViolation,
            "GenericError" => ErrorCode::GenericError,
            "MessageTypeNotSupported" => ErrorCode::MessageTypeNotSupported,
            "RpcFrameworkError" => ErrorCode::RpcFrameworkError,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_follows_the_version() {
        assert_eq!(
            ErrorCode::FormatViolation.as_str(OcppVersion::V16),
            "FormationViolation"
        );
        assert_eq!(
            ErrorCode::FormatViolation.as_str(OcppVersion::V201),
            "FormatViolation"
        );
        assert_eq!(
            ErrorCode::OccurrenceConstraintViolation.as_str(OcppVersion::V16),
            "OccurenceConstraintViolation"
        );
        assert_eq!(
            ErrorCode::RpcFrameworkError.as_str(OcppVersion::V201),
            "RpcFrameworkError"
        );
        for code in [
            "FormationViolation",
            "FormatViolation",
            "OccurenceConstraintViolation",
        ] {
            assert!(ErrorCode::parse(code).is_some(), "{code}");
        }
        assert_eq!(ErrorCode::parse("Nope"), None);
    }
}
