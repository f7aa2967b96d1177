//! The load benchmark: how many idle chargers (booted, heartbeating) a server holds, how many
//! MeterValues CALLs per second it answers at a p99 latency target, and its memory per
//! connection. It speaks plain OCPP 1.6J to any central system, so the same load can be
//! pointed at chargegrid (memory or Redis store) and at the minimal Python `ocpp` central
//! system in `simulations/peers/` for a side-by-side ratio. The generator runs on the same
//! machine, so its own CPU use is measured and reported too.

mod client;
mod frames;
mod idle;
mod procfs;
mod throughput;

pub use procfs::{cpu_seconds, rss_kib};

use chargegrid_core::network::OcppVersion;
use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::scenario::Target;

/// What to measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadOptions {
    /// Idle connections to try to hold (0: skip the idle phase).
    pub idle_connections: usize,
    /// New connections per second while ramping up.
    pub connect_rate: f64,
    /// Heartbeat interval of idle chargers, wall seconds.
    pub heartbeat_s: u64,
    /// How long to hold all idle connections once open, seconds.
    pub hold_s: f64,
    /// Longest wait after the last attempt for handshakes and boots still under way, seconds.
    pub settle_s: f64,
    /// Connections sending MeterValues (0: skip the throughput phase).
    pub meter_connections: usize,
    /// Offered MeterValues rates to try, calls per second, in order; the run stops at the
    /// first rate that misses the target.
    pub rates: Vec<f64>,
    /// Seconds per rate step.
    pub step_s: f64,
    /// The p99 latency target, ms.
    pub p99_target_ms: f64,
    /// The server's process id (for RSS and CPU), when it runs on this machine.
    pub server_pid: Option<u32>,
    /// Charger id prefix (the server must accept unknown chargers).
    pub prefix: String,
    /// A CALL with no answer after this many ms counts as a timeout.
    pub call_timeout_ms: u64,
    /// The OCPP version the load chargers speak (2.0.1: meter values as TransactionEvent
    /// Updated).
    pub version: OcppVersion,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            idle_connections: 10_000,
            connect_rate: 2_000.0,
            heartbeat_s: 60,
            hold_s: 10.0,
            settle_s: 10.0,
            meter_connections: 200,
            rates: vec![
                500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0, 50_000.0,
            ],
            step_s: 10.0,
            p99_target_ms: 20.0,
            server_pid: None,
            prefix: "LOAD".into(),
            call_timeout_ms: 10_000,
            version: OcppVersion::V16,
        }
    }
}

/// The idle-connection phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdleResult {
    /// Connections attempted.
    pub attempted: usize,
    /// Most connections open and booted at once.
    pub max_open: usize,
    /// Connections failed (handshake, boot, or dropped).
    pub failures: usize,
    /// First failure messages.
    pub failure_samples: Vec<String>,
    /// BootNotification latency p50 / p99, ms.
    pub boot_p50_ms: f64,
    /// p99.
    pub boot_p99_ms: f64,
    /// Heartbeats answered while holding.
    pub heartbeats: u64,
    /// Heartbeat latency p99, ms.
    pub heartbeat_p99_ms: f64,
    /// Wall seconds to open them all.
    pub ramp_s: f64,
    /// Server RSS before connecting, KiB.
    pub rss_before_kib: Option<u64>,
    /// Server RSS with all connections open, KiB.
    pub rss_open_kib: Option<u64>,
    /// (open − before) / max_open, KiB.
    pub rss_per_connection_kib: Option<f64>,
    /// Generator CPU used in the phase, cores (CPU seconds per wall second).
    pub generator_cores: f64,
    /// Server CPU, cores.
    pub server_cores: Option<f64>,
}

/// One offered rate of the throughput phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateStep {
    /// Offered MeterValues/s.
    pub offered_per_s: f64,
    /// Answered MeterValues/s.
    pub achieved_per_s: f64,
    /// Latency p50, ms.
    pub p50_ms: f64,
    /// p99, ms.
    pub p99_ms: f64,
    /// CALLERRORs.
    pub errors: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Generator CPU, cores.
    pub generator_cores: f64,
    /// Server CPU, cores.
    pub server_cores: Option<f64>,
    /// Achieved ≥ 95 % of offered, no errors, p99 within target.
    pub meets_target: bool,
}

/// A load run's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// OCPP URL.
    pub target: String,
    /// Idle phase.
    pub idle: Option<IdleResult>,
    /// Throughput phase.
    pub steps: Vec<RateStep>,
    /// The highest achieved rate of a step that met the target.
    pub best_sustained_per_s: Option<f64>,
    /// The p99 target, ms.
    pub p99_target_ms: f64,
    /// Caveats (file-descriptor limits, generator saturation, ...).
    pub notes: Vec<String>,
}

/// Runs the load benchmark against `target.ocpp_url`.
pub async fn run_load(target: &Target, opts: LoadOptions) -> Result<LoadReport, SimError> {
    let mut report = LoadReport {
        target: target.ocpp_url.clone(),
        p99_target_ms: opts.p99_target_ms,
        ..LoadReport::default()
    };
    // Fail fast when nothing listens.
    client::Client::connect(
        &target.ocpp_url,
        &format!("{}-probe", opts.prefix),
        0,
        opts.version,
    )
    .await
    .map_err(|e| SimError::Unreachable {
        url: target.ocpp_url.clone(),
        message: e,
    })?;
    if opts.idle_connections > 0 {
        report.idle = Some(idle::run(&target.ocpp_url, &opts, &mut report.notes).await);
    }
    if opts.meter_connections > 0 && !opts.rates.is_empty() {
        report.steps = throughput::run(&target.ocpp_url, &opts, &mut report.notes).await;
        report.best_sustained_per_s = report
            .steps
            .iter()
            .filter(|s| s.meets_target)
            .map(|s| s.achieved_per_s)
            .reduce(f64::max);
    }
    Ok(report)
}

impl LoadReport {
    /// A short text summary.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut t = String::new();
        let _ = writeln!(t, "load against {}", self.target);
        if let Some(i) = &self.idle {
            let _ = writeln!(
                t,
                "idle: {} open of {} attempted ({} failed) in {:.1} s; boot p50 {:.1} ms p99 {:.1} ms; heartbeat p99 {:.1} ms",
                i.max_open,
                i.attempted,
                i.failures,
                i.ramp_s,
                i.boot_p50_ms,
                i.boot_p99_ms,
                i.heartbeat_p99_ms
            );
            let _ = writeln!(
                t,
                "      server RSS {:?} → {:?} KiB = {} KiB/connection; generator {:.2} cores, server {} cores",
                i.rss_before_kib,
                i.rss_open_kib,
                i.rss_per_connection_kib
                    .map_or("?".into(), |v| format!("{v:.1}")),
                i.generator_cores,
                i.server_cores.map_or("?".into(), |v| format!("{v:.2}"))
            );
        }
        for s in &self.steps {
            let _ = writeln!(
                t,
                "meter values: offered {:>7.0}/s achieved {:>7.0}/s  p50 {:>6.2} ms  p99 {:>7.2} ms  errors {} timeouts {}  generator {:.2} cores  server {} cores  {}",
                s.offered_per_s,
                s.achieved_per_s,
                s.p50_ms,
                s.p99_ms,
                s.errors,
                s.timeouts,
                s.generator_cores,
                s.server_cores.map_or("?".into(), |v| format!("{v:.2}")),
                if s.meets_target { "ok" } else { "MISSED" }
            );
        }
        let _ = writeln!(
            t,
            "best sustained at p99 < {} ms: {}",
            self.p99_target_ms,
            self.best_sustained_per_s
                .map_or("none".into(), |v| format!("{v:.0} MeterValues/s"))
        );
        for n in &self.notes {
            let _ = writeln!(t, "note: {n}");
        }
        t
    }
}
