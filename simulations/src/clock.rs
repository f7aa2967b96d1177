//! Simulated time. A [`SimClock`] maps wall time to simulated time with a constant factor:
//! `sim_now = sim_start + (wall elapsed) × time_scale`, so a 12-hour depot night at scale 1440
//! passes in 30 s of wall time. Everything the chargers stamp (meter values, transaction times)
//! and every schedule they obey is in simulated time; network behaviour (latency, call
//! timeouts, reconnect back-off, heartbeats) stays in wall time because that is what the
//! server experiences. The clock reads `tokio::time::Instant`, so unit tests with
//! `tokio::time::pause()` move it without sleeping.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::time::Instant;

/// A clock running `scale` times faster than the wall clock from a chosen simulated start.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    sim_start: DateTime<Utc>,
    wall_start: Instant,
    scale: f64,
}

impl SimClock {
    /// A clock that reads `sim_start` now and runs `scale` (≥ 1e-3) times faster than the wall.
    pub fn new(sim_start: DateTime<Utc>, scale: f64) -> Self {
        Self {
            sim_start,
            wall_start: Instant::now(),
            scale: if scale.is_finite() {
                scale.max(1e-3)
            } else {
                1.0
            },
        }
    }

    /// The time scale (simulated seconds per wall second).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The simulated start.
    pub fn start(&self) -> DateTime<Utc> {
        self.sim_start
    }

    /// The simulated time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim_at(Instant::now())
    }

    /// The simulated time at a wall instant.
    pub fn sim_at(&self, wall: Instant) -> DateTime<Utc> {
        let wall_s = wall
            .saturating_duration_since(self.wall_start)
            .as_secs_f64();
        self.sim_start + Duration::microseconds((wall_s * self.scale * 1e6) as i64)
    }

    /// Simulated time elapsed since the start.
    pub fn elapsed(&self) -> Duration {
        self.now() - self.sim_start
    }

    /// The wall instant at which the clock reads `sim` (now, if `sim` is past).
    pub fn wall_at(&self, sim: DateTime<Utc>) -> Instant {
        let sim_s = (sim - self.sim_start)
            .num_microseconds()
            .unwrap_or(i64::MAX) as f64
            / 1e6;
        let wall_s = (sim_s / self.scale).max(0.0);
        self.wall_start + StdDuration::from_secs_f64(wall_s.min(1e9))
    }

    /// The wall duration of a simulated duration.
    pub fn wall_duration(&self, sim: Duration) -> StdDuration {
        let s = sim.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6 / self.scale;
        StdDuration::from_secs_f64(s.clamp(0.0, 1e9))
    }

    /// Waits until the clock reads `sim`.
    pub async fn sleep_until(&self, sim: DateTime<Utc>) {
        tokio::time::sleep_until(self.wall_at(sim)).await;
    }
}

impl chargegrid_core::Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        SimClock::now(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn simulated_time_runs_scale_times_faster() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        let clock = SimClock::new(t0, 600.0);
        tokio::time::advance(StdDuration::from_secs(6)).await;
        assert_eq!(clock.now(), t0 + Duration::hours(1));
        let target = t0 + Duration::hours(3);
        clock.sleep_until(target).await;
        assert!(clock.now() >= target);
        assert!(clock.now() < target + Duration::seconds(1));
        assert_eq!(
            clock.wall_duration(Duration::minutes(10)),
            StdDuration::from_secs(1)
        );
    }
}
