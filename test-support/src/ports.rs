//! Free loopback ports for servers that cannot be handed a bound listener.

use std::net::TcpListener;

/// A loopback port that was free a moment ago. Another process could take it before it is
/// used, so callers that start servers retry on "address in use".
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0 must work on a test machine")
}
