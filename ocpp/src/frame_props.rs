//! Property tests of the OCPP-J codec: any frame we can build renders to text that parses back
//! to the same frame, in both versions' spellings, whatever the ids, actions and JSON payloads.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::{Call, CallError, CallResult, ErrorCode, Frame, OcppVersion};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::String),
    ]
}

fn json_object() -> impl Strategy<Value = Value> {
    let value = json_leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    });
    prop::collection::btree_map("[a-zA-Z]{1,8}", value, 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
}

fn error_code() -> impl Strategy<Value = ErrorCode> {
    prop::sample::select(vec![
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
    ])
}

fn frame() -> impl Strategy<Value = Frame> {
    let id = "[!-~]{1,36}";
    prop_oneof![
        (id, "[A-Za-z]{1,30}", json_object()).prop_map(|(id, action, payload)| Frame::Call(Call {
            id,
            action,
            payload
        })),
        (id, json_object()).prop_map(|(id, payload)| Frame::CallResult(CallResult { id, payload })),
        (id, error_code(), "\\PC{0,40}", json_object()).prop_map(
            |(id, code, description, details)| {
                Frame::CallError(CallError {
                    id,
                    code,
                    description,
                    details,
                })
            }
        ),
    ]
}

proptest! {
    #[test]
    fn frames_round_trip_in_both_versions(f in frame()) {
        for version in [OcppVersion::V16, OcppVersion::V201] {
            let text = f.to_text(version);
            prop_assert_eq!(Frame::parse(&text), Ok(f.clone()));
        }
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = Frame::parse(&text);
    }
}
