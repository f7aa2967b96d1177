//! The driver and fleet REST API under `/api/v1` (axum, JSON): accounts and tokens, discovery,
//! dispatch (station recommendations that spread load), reservations, remote start/stop, EV
//! needs, live sessions (Server-Sent Events), history, fleets. Errors are
//! `application/problem+json` with a stable `type` per error; the OpenAPI 3.1 document is
//! generated from the handlers. Every route reads and writes through the store, and reaches
//! chargers through the command bus, so any API node serves any request.

mod audit;
mod auth;
mod config;
mod dispatch;
mod json;
mod metrics;
pub mod operators;
mod problem;
mod ratelimit;
mod routes;
mod server;
mod views;

pub use config::ApiConfig;
pub use metrics::ApiMetrics;
pub use problem::{ApiResult, Problem};
pub use routes::stream::MAX_STREAMS_PER_ACCOUNT;
pub use server::{ApiState, LOGIN_FAILURES, openapi, router, serve};
