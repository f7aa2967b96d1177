//! A charger's message budget: a token bucket refilled at `max_messages_per_second` and holding
//! ten seconds' worth. Over budget, the connection waits before handling the next frame (and
//! before reading another): the charger is slowed, not refused.

use std::time::Duration;

use tokio::time::Instant;

/// The budget of one connection.
#[derive(Debug, Clone)]
pub(crate) struct RateBudget {
    rate: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
}

impl RateBudget {
    /// A full budget of `per_second` messages a second (at least one).
    pub(crate) fn new(per_second: u32, now: Instant) -> Self {
        let rate = f64::from(per_second.max(1));
        Self {
            rate,
            burst: rate * 10.0,
            tokens: rate * 10.0,
            refilled: now,
        }
    }

    /// Spends one message arriving at `now`; how long to wait before handling it when the
    /// budget is spent.
    pub(crate) fn spend(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refilled = now;
        let wait = (self.tokens < 1.0).then(|| {
            let wait = Duration::from_secs_f64((1.0 - self.tokens) / self.rate);
            self.tokens = 1.0;
            self.refilled = now + wait;
            wait
        });
        self.tokens -= 1.0;
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let start = Instant::now();
        let mut budget = RateBudget::new(2, start);
        for _ in 0..20 {
            assert_eq!(budget.spend(start), None, "ten seconds' worth pass at once");
        }
        let wait = budget.spend(start).expect("the 21st waits");
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        // Handled after its wait: the next one a refill period later waits nothing more.
        let later = start + wait + Duration::from_millis(500);
        assert_eq!(budget.spend(later), None);
        assert!(budget.spend(later).is_some());
        // A quiet minute refills the bucket to its burst, not beyond.
        let quiet = later + Duration::from_secs(60);
        for _ in 0..20 {
            assert_eq!(budget.spend(quiet), None);
        }
        assert!(budget.spend(quiet).is_some());
    }
}
