//! OCPP-J frames: `[2, id, action, payload]` (CALL), `[3, id, payload]` (CALLRESULT) and
//! `[4, id, code, description, details]` (CALLERROR). Parsing never panics and, whenever the
//! message id can be recovered, reports it so the peer gets a CALLERROR it can match.

use serde_json::Value;

use crate::ErrorCode;

/// Longest message id allowed by OCPP-J (36 characters, room for a UUID).
pub const MAX_ID_LEN: usize = 36;

/// A request.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Message id, unique per sender and connection.
    pub id: String,
    /// Action name, e.g. `BootNotification`.
    pub action: String,
    /// The request payload (a JSON object).
    pub payload: Value,
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// The id of the CALL answered.
    pub id: String,
    /// The answer payload (a JSON object).
    pub payload: Value,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    /// The id of the CALL answered (`"-1"` when it could not be read).
    pub id: String,
    /// The error code, version-neutral (spelled per version when rendered).
    pub code: ErrorCode,
    /// Human-readable description.
    pub description: String,
    /// Extra details (a JSON object).
    pub details: Value,
}

/// Any OCPP-J message.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// Request.
    Call(Call),
    /// Successful answer.
    CallResult(CallResult),
    /// Error answer.
    CallError(CallError),
}

/// A frame that could not be parsed, with what is needed to answer it.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    /// The message id, when it could be read.
    pub id: Option<String>,
    /// Whether the broken message was a CALL (only CALLs are answered with a CALLERROR; a
    /// broken answer is logged and dropped).
    pub was_call: bool,
    /// Which error code to answer with.
    pub code: ErrorCode,
    /// What is wrong.
    pub description: String,
}

impl FrameError {
    /// The CALLERROR to send back: with the recovered id, or `"-1"` when there is none.
    pub fn to_call_error(&self) -> CallError {
        CallError {
            id: self.id.clone().unwrap_or_else(|| "-1".to_string()),
            code: self.code,
            description: self.description.clone(),
            details: Value::Object(Default::default()),
        }
    }
}

impl Frame {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let fail = |id: Option<String>, was_call: bool, code, description: String| FrameError {
            id,
            was_call,
            code,
            description,
        };
        let value: Value = serde_json::from_str(text).map_err(|e| {
            fail(
                None,
                true,
                ErrorCode::FormatViolation,
                format!("message is not valid JSON: {e}"),
            )
        })?;
        let Value::Array(items) = value else {
            return Err(fail(
                None,
                true,
                ErrorCode::RpcFrameworkError,
                "message is not a JSON array".into(),
            ));
        };
        let type_id = items.first().and_then(Value::as_u64);
        let was_call = type_id == Some(2);
        let id = match items.get(1) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_ID_LEN => s.clone(),
            Some(Value::String(s)) if s.len() > MAX_ID_LEN => {
                return Err(fail(
                    None,
                    was_call,
                    ErrorCode::RpcFrameworkError,
                    format!("message id longer than {MAX_ID_LEN} characters"),
                ));
            }
            _ => {
                return Err(fail(
                    None,
                    was_call,
                    ErrorCode::RpcFrameworkError,
                    "message id missing or not a non-empty string".into(),
                ));
            }
        };
        match (type_id, items.len()) {
            (Some(2), 4) => {
                let Some(action) = items[2]
                    .as_str()
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                else {
                    return Err(fail(
                        Some(id),
                        true,
                        ErrorCode::RpcFrameworkError,
                        "action missing or not a string".into(),
                    ));
                };
                if !items[3].is_object() {
                    return Err(fail(
                        Some(id),
                        true,
                        ErrorCode::FormatViolation,
                        "payload is not a JSON object".into(),
                    ));
                }
                let mut items = items;
                let payload = items.swap_remove(3);
                Ok(Frame::Call(Call {
                    id,
                    action,
                    payload,
                }))
            }
            (Some(3), 3) => {
                let mut items = items;
                let payload = items.swap_remove(2);
                if !payload.is_object() {
                    return Err(fail(
                        Some(id),
                        false,
                        ErrorCode::FormatViolation,
                        "result payload is not a JSON object".into(),
                    ));
                }
                Ok(Frame::CallResult(CallResult { id, payload }))
            }
            // Some stacks omit the empty details object; accept 4 or 5 elements.
            (Some(4), 4 | 5) => {
                let code_text = items[2].as_str().unwrap_or("GenericError");
                let code = ErrorCode::parse(code_text).unwrap_or(ErrorCode::GenericError);
                let description = items[3].as_str().unwrap_or_default().to_string();
                let details = items
                    .get(4)
                    .cloned()
                    .unwrap_or(Value::Object(Default::default()));
                Ok(Frame::CallError(CallError {
                    id,
                    code,
                    description,
                    details,
                }))
            }
            (Some(2..=4), n) => Err(fail(
                Some(id),
                was_call,
                ErrorCode::RpcFrameworkError,
                format!("message type {} with {n} elements", type_id.unwrap_or(0)),
            )),
            _ => Err(fail(
                Some(id),
                true,
                ErrorCode::MessageTypeNotSupported,
                format!("message type id {} is not 2, 3 or 4", items[0]),
            )),
        }
    }

    /// Renders the frame as text for a charger of `version` (error codes are spelled per
    /// version).
    pub fn to_text(&self, version: crate::OcppVersion) -> String {
        let value = match self {
            Frame::Call(c) => serde_json::json!([2, c.id, c.action, c.payload]),
            Frame::CallResult(r) => serde_json::json!([3, r.id, r.payload]),
            Frame::CallError(e) => {
                serde_json::json!([4, e.id, e.code.as_str(version), e.description, e.details])
            }
        };
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OcppVersion;
    use serde_json::json;

    #[test]
    fn parses_the_three_kinds() {
        let call = Frame::parse(
            r#"[2,"19223201","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        )
        .unwrap();
        let Frame::Call(c) = call else { panic!() };
        assert_eq!(
            (c.id.as_str(), c.action.as_str()),
            ("19223201", "BootNotification")
        );
        assert_eq!(c.payload["chargePointVendor"], "V");

        let r = Frame::parse(r#"[3,"a",{"status":"Accepted"}]"#).unwrap();
        assert_eq!(
            r,
            Frame::CallResult(CallResult {
                id: "a".into(),
                payload: json!({"status":"Accepted"})
            })
        );

        let e = Frame::parse(r#"[4,"a","OccurenceConstraintViolation","missing",{}]"#).unwrap();
        let Frame::CallError(e) = e else { panic!() };
        assert_eq!(e.code, ErrorCode::OccurrenceConstraintViolation);
        let short = Frame::parse(r#"[4,"a","NotSupported","no"]"#).unwrap();
        assert!(matches!(short, Frame::CallError(_)));
    }

    #[test]
    fn round_trips_with_version_spelling() {
        let e = Frame::CallError(CallError {
            id: "1".into(),
            code: ErrorCode::FormatViolation,
            description: "bad".into(),
            details: json!({}),
        });
        assert_eq!(
            e.to_text(OcppVersion::V16),
            r#"[4,"1","FormationViolation","bad",{}]"#
        );
        assert_eq!(Frame::parse(&e.to_text(OcppVersion::V201)).unwrap(), e);
        let c = Frame::Call(Call {
            id: "x".into(),
            action: "Heartbeat".into(),
            payload: json!({}),
        });
        assert_eq!(Frame::parse(&c.to_text(OcppVersion::V16)).unwrap(), c);
    }

    #[test]
    fn broken_frames_say_what_to_answer() {
        let cases: &[(&str, Option<&str>, ErrorCode)] = &[
            ("not json", None, ErrorCode::FormatViolation),
            (r#"{"a":1}"#, None, ErrorCode::RpcFrameworkError),
            ("[]", None, ErrorCode::RpcFrameworkError),
            (
                r#"[2, 17, "Heartbeat", {}]"#,
                None,
                ErrorCode::RpcFrameworkError,
            ),
            (
                r#"[2, "", "Heartbeat", {}]"#,
                None,
                ErrorCode::RpcFrameworkError,
            ),
            (
                r#"[9, "m1", "Heartbeat", {}]"#,
                Some("m1"),
                ErrorCode::MessageTypeNotSupported,
            ),
            (
                r#"[2, "m2", "Heartbeat"]"#,
                Some("m2"),
                ErrorCode::RpcFrameworkError,
            ),
            (
                r#"[2, "m3", "Heartbeat", []]"#,
                Some("m3"),
                ErrorCode::FormatViolation,
            ),
            (
                r#"[2, "m4", 5, {}]"#,
                Some("m4"),
                ErrorCode::RpcFrameworkError,
            ),
        ];
        for (text, id, code) in cases {
            let err = Frame::parse(text).unwrap_err();
            assert_eq!(err.id.as_deref(), *id, "{text}");
            assert_eq!(err.code, *code, "{text}");
        }
        let long = format!(r#"[2, "{}", "Heartbeat", {{}}]"#, "x".repeat(37));
        assert_eq!(Frame::parse(&long).unwrap_err().to_call_error().id, "-1");
        // A broken answer is not a call: it must not be answered.
        assert!(!Frame::parse(r#"[3, "r1", "nope"]"#).unwrap_err().was_call);
    }
}
