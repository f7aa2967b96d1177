//! Measurements taken while simulating: latency histograms and per-action OCPP counters.
//! Each charger task keeps its own and they are merged at the end, so measuring never takes a
//! lock on the hot path.

mod latency;
mod ocpp;

pub use latency::LatencyHistogram;
pub use ocpp::{ActionStats, OcppStats};
