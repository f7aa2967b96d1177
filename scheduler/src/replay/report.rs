//! What a replay measured, as one serialisable record (the binary prints it as a table and
//! writes it with `--json`), and the small statistics it is made of.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::options::{Algorithm, ReplayOptions};

/// Allocation-call latency over a range of active-session counts, in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingBucket {
    /// Fewest active sessions in the bucket.
    pub active_min: usize,
    /// Most active sessions in the bucket (inclusive).
    pub active_max: usize,
    /// Number of calls.
    pub calls: usize,
    /// Median call time.
    pub p50_us: f64,
    /// 95th percentile call time.
    pub p95_us: f64,
    /// Slowest call.
    pub max_us: f64,
}

/// How long the scheduler took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingReport {
    /// All calls with at least one active session.
    pub overall: TimingBucket,
    /// The same by number of active sessions (empty buckets left out).
    pub by_active: Vec<TimingBucket>,
    /// For the offline reference: time to solve the whole window, in milliseconds.
    pub offline_solve_ms: Option<f64>,
}

/// The outcome of one replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayReport {
    /// The algorithm replayed.
    pub algorithm: Algorithm,
    /// The options used.
    pub options: ReplayOptions,
    /// First step.
    pub window_start: DateTime<Utc>,
    /// End of the arrival window (or of the last departure, if earlier).
    pub window_end: DateTime<Utc>,
    /// Sessions that arrived in the window.
    pub sessions: usize,
    /// Steps simulated.
    pub steps: usize,
    /// Energy the vehicles needed (per the `demand` option), kWh.
    pub energy_demanded_kwh: f64,
    /// Energy drivers asked for in the app, kWh (for reference).
    pub energy_requested_kwh: f64,
    /// Energy delivered, kWh.
    pub energy_delivered_kwh: f64,
    /// Delivered as a share of demanded, %.
    pub delivered_pct: f64,
    /// Sessions that got at least 99 % of their need, %.
    pub sessions_fully_served_pct: f64,
    /// Highest site power in any step, kW.
    pub peak_kw: f64,
    /// Highest load of any limit (aggregate kW or a phase's current) in any step, % of it.
    pub worst_utilisation_pct: f64,
    /// Steps in which an allocation broke a limit (must be 0 for all but uncontrolled).
    pub limit_violations: usize,
    /// Steps in which a session got a current between 0 and its floor (the offline
    /// reference, a relaxation, may; online policies must not).
    pub floor_violations: usize,
    /// Energy cost under the tariff.
    pub energy_cost: f64,
    /// Demand charges under the tariff, summed over the months touched.
    pub demand_charge: f64,
    /// CO₂ of the energy drawn at the grid's marginal emissions rate, kg, when a rate series
    /// was given (`ReplayOptions::emissions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co2_kg: Option<f64>,
    /// Jain's fairness index of delivered / demanded over sessions with a need (1 = equal).
    pub jain_fairness: f64,
    /// Times a session's current went from above 0 to 0 while it still needed energy.
    pub interruptions: usize,
    /// Mean absolute change of a session's current between consecutive steps, A.
    pub mean_current_change_a: f64,
    /// Scheduler speed.
    pub timing: TimingReport,
    /// Site power per step, kW, when `record_power` was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_power_kw: Option<Vec<f64>>,
}

/// Jain's index `(Σx)² / (n Σx²)`; 1 for an empty or all-zero set.
pub(crate) fn jain(values: &[f64]) -> f64 {
    let sum: f64 = values.iter().sum();
    let squares: f64 = values.iter().map(|v| v * v).sum();
    if values.is_empty() || squares <= 0.0 {
        1.0
    } else {
        sum * sum / (values.len() as f64 * squares)
    }
}

/// The `q` quantile (0..=1) of already sorted values, nearest rank; 0 when empty.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Timing buckets from `(active sessions, microseconds)` samples.
pub(crate) fn timing(samples: &[(usize, f64)], offline_solve_ms: Option<f64>) -> TimingReport {
    let bucket = |lo: usize, hi: usize| {
        let mut t: Vec<f64> = samples
            .iter()
            .filter(|(n, _)| (lo..=hi).contains(n))
            .map(|&(_, us)| us)
            .collect();
        t.sort_by(f64::total_cmp);
        TimingBucket {
            active_min: lo,
            active_max: hi,
            calls: t.len(),
            p50_us: quantile(&t, 0.5),
            p95_us: quantile(&t, 0.95),
            max_us: t.last().copied().unwrap_or(0.0),
        }
    };
    let by_active = [(1, 10), (11, 25), (26, 50), (51, 100), (101, usize::MAX)]
        .into_iter()
        .map(|(lo, hi)| bucket(lo, hi))
        .filter(|b| b.calls > 0)
        .collect();
    TimingReport {
        overall: bucket(1, usize::MAX),
        by_active,
        offline_solve_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_is_one_for_equal_and_one_over_n_for_a_single_winner() {
        assert_eq!(jain(&[0.5, 0.5, 0.5]), 1.0);
        assert!((jain(&[1.0, 0.0, 0.0, 0.0]) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn quantile_uses_nearest_rank() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
        assert_eq!(quantile(&v, 0.5), 5.0);
        assert_eq!(quantile(&v, 0.95), 10.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn timing_buckets_by_active_count() {
        let t = timing(&[(3, 10.0), (5, 30.0), (40, 100.0)], None);
        assert_eq!(t.overall.calls, 3);
        assert_eq!(t.overall.max_us, 100.0);
        assert_eq!(t.by_active.len(), 2);
        assert_eq!(t.by_active[0].calls, 2);
        assert_eq!(t.by_active[1].active_min, 26);
    }
}
