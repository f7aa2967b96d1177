//! Payload decoding of every charger→CSMS request of OCPP 1.6 and 2.0.1, and the meter-value
//! conversion, on arbitrary JSON: decoding may refuse, but must never panic, and whatever
//! decodes must convert to samples without panicking.
#![no_main]

use chargegrid_ocpp::decode::decode;
use chargegrid_ocpp::messages::meter;
use chargegrid_ocpp::{v16, v201};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = decode::<v16::requests::BootNotification>(&payload);
    let _ = decode::<v16::requests::StatusNotification>(&payload);
    let _ = decode::<v16::requests::Authorize>(&payload);
    let _ = decode::<v16::requests::StartTransaction>(&payload);
    let _ = decode::<v16::requests::DataTransfer>(&payload);
    if let Ok(m) = decode::<v16::requests::MeterValues>(&payload) {
        let _ = meter::to_samples(&m.meter_value);
    }
    if let Ok(s) = decode::<v16::requests::StopTransaction>(&payload) {
        let _ = meter::to_samples(&s.transaction_data);
    }
    let _ = decode::<v201::requests::BootNotification>(&payload);
    let _ = decode::<v201::requests::StatusNotification>(&payload);
    let _ = decode::<v201::requests::NotifyEvChargingNeeds>(&payload);
    if let Ok(e) = decode::<v201::requests::TransactionEvent>(&payload) {
        let converted = meter::to_samples(&e.meter_value);
        assert!(converted.samples.iter().all(|s| s.value.is_finite()));
    }
    if let Ok(m) = decode::<v201::requests::MeterValues>(&payload) {
        let _ = meter::to_samples(&m.meter_value);
    }
});
