//! The OCPP central system (CSMS): chargers connect to `ws://HOST:9000/ocpp/{charger_id}` with
//! the `ocpp1.6` or `ocpp2.0.1` subprotocol. One task per connection reads frames, answers
//! every CALL, and forwards commands that arrive for its charger over the store's command bus.

mod auth;
mod call_errors;
mod certificates;
mod common_actions;
mod config;
mod connection;
mod context;
mod correlation;
mod gateway;
mod handshake;
mod listener;
mod liveness;
mod local;
mod metrics;
mod operations;
mod proxy_header;
mod rate_budget;
mod retransmissions;
mod routing;
mod server;
mod tls;
mod v16;
mod v201;

pub use auth::{HashError, basic_credentials, hash_password};
pub use certificates::{CaError, ChargerCa, CsrRefused};
pub use config::{GatewayConfig, GatewaySettings};
pub use gateway::Gateway;
pub use handshake::negotiate as negotiate_subprotocol;
pub use metrics::GatewayMetrics;
pub use server::{serve, serve_tls};
pub use tls::{TlsError, TlsSettings};
