//! A latency histogram with logarithmic buckets (2 % wide, from 10 µs to about 10 min):
//! constant memory, cheap to record and to merge, percentiles within 2 %.

use std::time::Duration;

use serde::{Deserialize, Serialize};

const MIN_S: f64 = 1e-5;
const RATIO: f64 = 1.02;
const BUCKETS: usize = 900;

/// Counts of durations in logarithmic buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    total: u64,
    sum_s: f64,
    max_s: f64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; BUCKETS],
            total: 0,
            sum_s: 0.0,
            max_s: 0.0,
        }
    }
}

fn bucket_of(s: f64) -> usize {
    if s <= MIN_S {
        return 0;
    }
    ((s / MIN_S).ln() / RATIO.ln())
        .ceil()
        .clamp(0.0, (BUCKETS - 1) as f64) as usize
}

/// The upper edge of bucket `i`, seconds.
fn upper_edge(i: usize) -> f64 {
    MIN_S * RATIO.powi(i as i32)
}

impl LatencyHistogram {
    /// Records one duration.
    pub fn record(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        self.counts[bucket_of(s)] += 1;
        self.total += 1;
        self.sum_s += s;
        self.max_s = self.max_s.max(s);
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.sum_s += other.sum_s;
        self.max_s = self.max_s.max(other.max_s);
    }

    /// Number of durations recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The `q` quantile (0..=1) in milliseconds (the bucket's upper edge), or 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return (upper_edge(i).min(self.max_s) * 1000.0).max(MIN_S * 1000.0);
            }
        }
        self.max_s * 1000.0
    }

    /// Mean, milliseconds.
    pub fn mean_ms(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum_s / self.total as f64 * 1000.0
        }
    }

    /// Largest duration recorded, milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.max_s * 1000.0
    }

    /// Non-empty buckets as (upper edge in ms, count), for plotting.
    pub fn buckets_ms(&self) -> Vec<(f64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| (upper_edge(i) * 1000.0, *c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_two_percent() {
        let mut h = LatencyHistogram::default();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile_ms(0.5);
        let p99 = h.quantile_ms(0.99);
        assert!((p50 - 500.0).abs() / 500.0 < 0.021, "{p50}");
        assert!((p99 - 990.0).abs() / 990.0 < 0.021, "{p99}");
        assert_eq!(h.count(), 1000);
        assert!((h.mean_ms() - 500.5).abs() < 0.01);
        let mut other = LatencyHistogram::default();
        other.record(Duration::from_secs(2));
        h.merge(&other);
        assert_eq!(h.count(), 1001);
        assert!((h.max_ms() - 2000.0).abs() < 1e-6);
        assert_eq!(LatencyHistogram::default().quantile_ms(0.99), 0.0);
    }
}
