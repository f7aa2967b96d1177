//! Time arithmetic on the core's per-instant meter series ([`chargegrid_core::meter::MeterSeries`],
//! which every feature reads; health no longer groups samples itself).

use chrono::{DateTime, Utc};

/// Seconds from `a` to `b`.
pub(crate) fn secs(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}
