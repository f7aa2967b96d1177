//! Bad input on OCPP 1.6 and 2.0.1 connections: each kind gets the CALLERROR the spec names (with the
//! message id whenever it can be read) and the connection stays up — a Heartbeat after each
//! one is still answered.

use futures::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{RawCharger, start_app, test_config};

async fn assert_still_up(cp: &mut RawCharger) {
    let answer = cp.call("hb", "Heartbeat", json!({})).await;
    assert_eq!(answer[0], 3, "heartbeat answered after bad input: {answer}");
}

fn assert_error(answer: &Value, id: &str, code: &str) {
    assert_eq!(answer[0], 4, "{answer}");
    assert_eq!(answer[1], id, "{answer}");
    assert_eq!(answer[2], code, "{answer}");
}

#[tokio::test]
async fn every_kind_of_bad_frame_gets_the_right_call_error() {
    let mut config = test_config("memory://");
    config.ocpp.gateway.max_frame_bytes = 4096;
    let app = start_app(&config).await;
    let mut cp = RawCharger::connect(&app, "QD-LS-AC01", "ocpp1.6").await;
    let boot = cp
        .call(
            "b1",
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M"}),
        )
        .await;
    assert_eq!(boot[2]["status"], "Accepted");

    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("not JSON", "this is not json".into(), "-1", "FormationViolation"),
        ("not an array", r#"{"call": "Heartbeat"}"#.into(), "-1", "ProtocolError"),
        ("unknown message type", r#"[7, "m1", "Heartbeat", {}]"#.into(), "m1", "PropertyConstraintViolation"),
        ("unknown action", r#"[2, "m2", "Teleport", {}]"#.into(), "m2", "NotImplemented"),
        (
            "wrong field type",
            r#"[2, "m3", "BootNotification", {"chargePointVendor": "V", "chargePointModel": 5}]"#.into(),
            "m3",
            "TypeConstraintViolation",
        ),
        (
            "missing required field",
            r#"[2, "m4", "BootNotification", {"chargePointModel": "M"}]"#.into(),
            "m4",
            "OccurenceConstraintViolation",
        ),
        (
            "unexpected field",
            r#"[2, "m5", "Heartbeat", {"surprise": true}]"#.into(),
            "m5",
            "FormationViolation",
        ),
        (
            "value outside its enum",
            r#"[2, "m6", "DiagnosticsStatusNotification", {"status": "Exploded"}]"#.into(),
            "m6",
            "PropertyConstraintViolation",
        ),
        (
            "string too long",
            r#"[2, "m7", "Authorize", {"idTag": "0123456789ABCDEFGHIJK"}]"#.into(),
            "m7",
            "PropertyConstraintViolation",
        ),
        (
            "central-system action sent by a charger",
            r#"[2, "m8", "Reset", {"type": "Hard"}]"#.into(),
            "m8",
            "NotSupported",
        ),
        (
            "payload not an object",
            r#"[2, "m9", "Heartbeat", [1, 2]]"#.into(),
            "m9",
            "FormationViolation",
        ),
        (
            "oversized frame",
            json!([2, "m10", "DataTransfer", {"vendorId": "V", "data": "x".repeat(5000)}]).to_string(),
            "m10",
            "FormationViolation",
        ),
        (
            "huge number",
            r#"[2, "m11", "StatusNotification", {"connectorId": 1e300, "errorCode": "NoError", "status": "Available"}]"#.into(),
            "m11",
            "TypeConstraintViolation",
        ),
    ];
    for (what, frame, id, code) in cases {
        cp.send_text(&frame).await;
        let answer = cp.recv().await;
        assert_eq!(answer[0], 4, "{what}: {answer}");
        assert_eq!(answer[1], id, "{what}: {answer}");
        assert_eq!(answer[2], code, "{what}: {answer}");
        assert_still_up(&mut cp).await;
    }

    // A binary frame is not OCPP-J.
    cp.ws
        .send(Message::Binary(vec![0xde, 0xad, 0xbe, 0xef].into()))
        .await
        .unwrap();
    assert_error(&cp.recv().await, "-1", "ProtocolError");
    assert_still_up(&mut cp).await;

    // Invalid UTF-8 cannot even be sent as text by a conforming client; a frame of bytes that
    // are not UTF-8 arrives as binary and is answered above. A malformed answer to nothing is
    // dropped without a reply (answers are never answered).
    cp.send_text(r#"[3, "nobody-asked", {"status": "Accepted"}]"#)
        .await;
    assert_still_up(&mut cp).await;
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn vendor_values_in_meter_data_are_tolerated_not_refused() {
    let app = start_app(&test_config("memory://")).await;
    let mut cp = RawCharger::connect(&app, "QD-LS-AC02", "ocpp1.6").await;
    let answer = cp
        .call(
            "mv1",
            "MeterValues",
            json!({
                "connectorId": 1,
                "meterValue": [{
                    "timestamp": crate::harness::ts(0),
                    "sampledValue": [
                        {"value": "12", "measurand": "Energy.Active.Import.Register.L1", "unit": "Wh"},
                        {"value": "3", "unit": "kWhh"}
                    ]
                }]
            }),
        )
        .await;
    assert_eq!(
        answer,
        json!([3, "mv1", {}]),
        "queued meter data is never refused for a vendor value"
    );
    let metrics = crate::harness::metrics_text(&app).await;
    assert!(
        metrics.contains(r#"chargegrid_ocpp_frames_rejected_total{reason="tolerated"} 1"#),
        "{metrics}"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_kind_of_bad_frame_gets_the_right_call_error_in_201() {
    let mut config = test_config("memory://");
    config.ocpp.gateway.max_frame_bytes = 4096;
    let app = start_app(&config).await;
    let mut cp = RawCharger::connect(&app, "QD-LS-AC06", "ocpp2.0.1").await;
    let boot = cp
        .call(
            "b1",
            "BootNotification",
            json!({"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}),
        )
        .await;
    assert_eq!(boot[2]["status"], "Accepted");
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("not JSON", "{{{".into(), "-1", "FormatViolation"),
        ("not an array", "42".into(), "-1", "RpcFrameworkError"),
        ("unknown message type", r#"[5, "m1", "Heartbeat", {}]"#.into(), "m1", "MessageTypeNotSupported"),
        ("unknown action", r#"[2, "m2", "Teleport", {}]"#.into(), "m2", "NotImplemented"),
        (
            "wrong field type",
            r#"[2, "m3", "StatusNotification", {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": "one", "connectorId": 1}]"#.into(),
            "m3",
            "TypeConstraintViolation",
        ),
        (
            "missing required field",
            r#"[2, "m4", "BootNotification", {"reason": "PowerUp"}]"#.into(),
            "m4",
            "OccurrenceConstraintViolation",
        ),
        ("unexpected field", r#"[2, "m5", "Heartbeat", {"surprise": 1}]"#.into(), "m5", "FormatViolation"),
        (
            "value outside its enum",
            r#"[2, "m6", "BootNotification", {"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "Bored"}]"#.into(),
            "m6",
            "PropertyConstraintViolation",
        ),
        (
            "string too long",
            format!(r#"[2, "m7", "Authorize", {{"idToken": {{"idToken": "{}", "type": "ISO14443"}}}}]"#, "A".repeat(37)),
            "m7",
            "PropertyConstraintViolation",
        ),
        (
            "CSMS action sent by a station",
            r#"[2, "m8", "Reset", {"type": "Immediate"}]"#.into(),
            "m8",
            "NotSupported",
        ),
        (
            "oversized frame",
            json!([2, "m9", "DataTransfer", {"vendorId": "V", "data": "x".repeat(5000)}]).to_string(),
            "m9",
            "FormatViolation",
        ),
        (
            "first transaction event without an evse",
            json!([2, "m10", "TransactionEvent", {"eventType": "Started", "timestamp": crate::harness::ts(0),
                "triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": "X"}}]).to_string(),
            "m10",
            "OccurrenceConstraintViolation",
        ),
    ];
    for (what, frame, id, code) in cases {
        cp.send_text(&frame).await;
        let answer = cp.recv().await;
        assert_eq!(answer[0], 4, "{what}: {answer}");
        assert_eq!(answer[1], id, "{what}: {answer}");
        assert_eq!(answer[2], code, "{what}: {answer}");
        assert_still_up(&mut cp).await;
    }
    cp.ws
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_error(&cp.recv().await, "-1", "RpcFrameworkError");
    assert_still_up(&mut cp).await;
    app.shutdown().await.unwrap();
}
