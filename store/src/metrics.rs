//! Store metrics: Redis command latency, failures and retries by command, and the command
//! bus's lag (from a command being published to its arrival at the charger's node). Registered
//! in the registry the binary passes in.

use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Store metrics.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    /// Redis command latency by command (PIPELINE for pipelines).
    pub command_seconds: HistogramVec,
    /// Redis commands that failed for good, by command.
    pub command_errors: IntCounterVec,
    /// Redis commands retried after a connection-level failure, by command.
    pub command_retries: IntCounterVec,
    /// Time from publishing a command to its arrival at the node holding the charger.
    pub bus_lag_seconds: Histogram,
}

impl StoreMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            command_seconds: HistogramVec::new(
                HistogramOpts::new(
                    "chargegrid_store_redis_command_duration_seconds",
                    "Redis command latency",
                )
                .buckets(vec![
                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0, 10.0,
                ]),
                &["command"],
            )?,
            command_errors: IntCounterVec::new(
                Opts::new(
                    "chargegrid_store_redis_errors_total",
                    "Redis commands that failed",
                ),
                &["command"],
            )?,
            command_retries: IntCounterVec::new(
                Opts::new(
                    "chargegrid_store_redis_retries_total",
                    "Redis commands retried after a connection failure",
                ),
                &["command"],
            )?,
            bus_lag_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "chargegrid_store_command_bus_lag_seconds",
                    "Time from publishing a charger command to its arrival at the charger's node",
                )
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
                ]),
            )?,
        };
        registry.register(Box::new(m.command_seconds.clone()))?;
        registry.register(Box::new(m.command_errors.clone()))?;
        registry.register(Box::new(m.command_retries.clone()))?;
        registry.register(Box::new(m.bus_lag_seconds.clone()))?;
        Ok(m)
    }
}
