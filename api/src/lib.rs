//! The driver and fleet REST API under `/api/v1` (axum, JSON): errors are
//! `application/problem+json` with a stable `type` per error, and every route reads and writes
//! through the store, so any API node serves any request.

mod problem;
mod routes;
mod server;

pub use problem::Problem;
pub use server::{ApiState, router, serve};
