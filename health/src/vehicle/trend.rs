//! SoH trend per month (and per 10,000 km when odometers are known): a Theil–Sen slope with
//! Sen's distribution-free 90 % interval, over the sessions since the latest step change.

use super::soh::SohPoint;
use crate::config::HealthConfig;
use crate::stats::theil_sen;
use serde::{Deserialize, Serialize};

/// Days per average month.
const MONTH_DAYS: f64 = 30.436_875;

/// A figure with its 90 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValueInterval {
    /// Point estimate.
    pub value: f64,
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// The SoH trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendEstimate {
    /// SoH points per month (negative: fading); withheld below the minimum span or count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct_per_month: Option<ValueInterval>,
    /// SoH points per 10,000 km, when odometers are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pct_per_10000_km: Option<ValueInterval>,
    /// Sessions used.
    pub sessions: usize,
    /// Days spanned.
    pub span_days: f64,
}

/// The trend over `pts` (time-ordered, already cut at a step change); `odometers` gives the
/// odometer of each point where known.
pub(crate) fn trend(
    pts: &[SohPoint],
    odometers: &[Option<f64>],
    cfg: &HealthConfig,
) -> TrendEstimate {
    let n = pts.len();
    let span_days = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => (b.at - a.at).num_seconds() as f64 / 86_400.0,
        _ => 0.0,
    };
    let mut out = TrendEstimate {
        pct_per_month: None,
        pct_per_10000_km: None,
        sessions: n,
        span_days,
    };
    if n < cfg.trend_min_sessions.max(3) {
        return out;
    }
    if span_days >= cfg.trend_min_span_days {
        let t0 = pts[0].at;
        let xs: Vec<f64> = pts
            .iter()
            .map(|p| (p.at - t0).num_seconds() as f64 / 86_400.0 / MONTH_DAYS)
            .collect();
        let ys: Vec<f64> = pts.iter().map(|p| p.soh_pct).collect();
        out.pct_per_month = theil_sen(&xs, &ys).map(|f| ValueInterval {
            value: f.slope,
            low: f.slope_low,
            high: f.slope_high,
        });
    }
    let (ox, oy): (Vec<f64>, Vec<f64>) = pts
        .iter()
        .zip(odometers)
        .filter_map(|(p, o)| o.map(|km| (km / 10_000.0, p.soh_pct)))
        .unzip();
    let km_span = ox.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - ox.iter().copied().fold(f64::INFINITY, f64::min);
    if ox.len() >= cfg.trend_min_sessions.max(3) && km_span >= 0.1 {
        out.pct_per_10000_km = theil_sen(&ox, &oy).map(|f| ValueInterval {
            value: f.slope,
            low: f.slope_low,
            high: f.slope_high,
        });
    }
    out
}
