//! The OCPP central system (CSMS): chargers connect to `ws://HOST:9000/ocpp/{charger_id}` with
//! the `ocpp1.6` or `ocpp2.0.1` subprotocol. One task per connection reads frames, answers
//! every CALL, and forwards commands that arrive for its charger over the store's command bus.

mod auth;
mod certificates;
mod common_actions;
mod config;
mod connection;
mod dispatch;
mod handshake;
mod listener;
mod local;
mod metrics;
mod replay;
mod server;
mod service;
mod tls;
mod v16;
mod v201;

pub use auth::{basic_credentials, hash_password};
pub use certificates::{CaError, ChargerCa, CsrRefused};
pub use config::GatewayConfig;
pub use handshake::negotiate as negotiate_subprotocol;
pub use metrics::GatewayMetrics;
pub use server::{Gateway, serve};
pub use tls::{TlsError, TlsSettings, serve_tls};
