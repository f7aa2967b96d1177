//! The network file format (TOML → sites and chargers → validation, as `chargegrid` parses it)
//! on arbitrary text: bad input must come back as an error, never a panic.
#![no_main]

use chargegrid_core::network::Network;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(network) = toml::from_str::<Network>(text) {
        let _ = network.validate();
    }
});
