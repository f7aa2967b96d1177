//! What a charger controls in the OCPP WebSocket handshake, before any frame: the charger id in
//! the path, the offered subprotocols and the `Authorization` header. The input is split at
//! newlines into those three. The gateway's own parsers (the same functions its handshake
//! calls) must never panic, and what they accept must be consistent: an accepted id is what
//! was sent, a negotiated version is one that was offered, and credentials read from a header
//! encode back to the same user and password.
#![no_main]

use base64::Engine;
use chargegrid_core::ChargerId;
use chargegrid_ocpp_gateway::{basic_credentials, negotiate_subprotocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let (id, protocols, auth) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if let Ok(charger) = ChargerId::new(id) {
        assert_eq!(charger.as_str(), id);
    }
    let offered: Vec<&str> = protocols.split('\r').collect();
    if let Some(version) = negotiate_subprotocol(&offered) {
        assert!(
            protocols.split([',', '\r']).any(|p| p.trim() == version.subprotocol()),
            "{version:?} was not offered in {protocols:?}"
        );
    }
    if let Some((user, password)) = basic_credentials(auth) {
        assert!(!user.contains(':'));
        let again = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        assert_eq!(basic_credentials(&again), Some((user, password)));
    }
});
