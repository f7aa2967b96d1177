//! The OCPP-J frame parser on arbitrary bytes: it must never panic, and a frame it accepts must
//! survive rendering and parsing again unchanged (in both versions' error-code spellings).
#![no_main]

use chargegrid_ocpp::{Frame, OcppVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = Frame::parse(text) {
        for version in [OcppVersion::V16, OcppVersion::V201] {
            let again = Frame::parse(&frame.to_text(version)).expect("a rendered frame parses");
            assert_eq!(again, frame);
        }
    }
});
