//! The idle phase: open connections at a steady rate, boot each, keep them heartbeating, hold
//! them all for a while, and measure how many stay open, boot latency and server memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

use super::client::{Answer, Client, available, boot};
use super::procfs::{cpu_seconds, rss_kib};
use super::{IdleResult, LoadOptions};
use crate::stats::LatencyHistogram;

#[derive(Default)]
struct Shared {
    boot: LatencyHistogram,
    heartbeat: LatencyHistogram,
    failures: Vec<String>,
    failed: usize,
}

/// Runs the idle phase.
pub async fn run(base: &str, opts: &LoadOptions, notes: &mut Vec<String>) -> IdleResult {
    let open = Arc::new(AtomicUsize::new(0));
    let max_open = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(Mutex::new(Shared::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let rss_before = opts.server_pid.and_then(rss_kib);
    let (cpu0, scpu0, t0) = (
        cpu_seconds(None),
        opts.server_pid.and_then(|p| cpu_seconds(Some(p))),
        Instant::now(),
    );
    let interval = Duration::from_secs_f64(1.0 / opts.connect_rate.max(1.0));
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = Instant::now();
    for n in 0..opts.idle_connections {
        tokio::time::sleep_until(next).await;
        next += interval;
        // Stop ramping when failures pile up (1 % of attempts, at least 50).
        if shared.lock().await.failed > (n / 100).max(50) {
            notes.push(format!(
                "idle ramp stopped after {n} attempts: too many failures"
            ));
            break;
        }
        let (base, id) = (base.to_string(), format!("{}-I{n:06}", opts.prefix));
        let (open, max_open, shared, mut stop) = (
            open.clone(),
            max_open.clone(),
            shared.clone(),
            stop_rx.clone(),
        );
        let heartbeat = Duration::from_secs(opts.heartbeat_s.max(1));
        let timeout = Duration::from_millis(opts.call_timeout_ms);
        let version = opts.version;
        tasks.spawn(async move {
            let fail = |why: String| async {
                let mut s = shared.lock().await;
                s.failed += 1;
                if s.failures.len() < 10 {
                    s.failures.push(why);
                }
            };
            let mut c = match Client::connect(&base, &id, n, version).await {
                Ok(c) => c,
                Err(e) => return fail(format!("connect: {e}")).await,
            };
            let (a, rtt) = c.call("BootNotification", boot(version), timeout).await;
            match a {
                Answer::Result(v) if v["status"] == "Accepted" => {
                    shared.lock().await.boot.record(rtt)
                }
                other => return fail(format!("boot: {other:?}")).await,
            }
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            max_open.fetch_max(now, Ordering::SeqCst);
            let _ = c
                .call("StatusNotification", available(version), timeout)
                .await;
            // Stagger heartbeats so they do not all fire together.
            let mut beat = Instant::now() + heartbeat.mul_f64(((n % 997) as f64) / 997.0 + 0.01);
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tokio::time::sleep_until(beat) => {
                        beat += heartbeat;
                        let (a, rtt) = c.call("Heartbeat", json!({}), timeout).await;
                        if matches!(a, Answer::Result(_)) {
                            shared.lock().await.heartbeat.record(rtt);
                        } else {
                            open.fetch_sub(1, Ordering::SeqCst);
                            return fail(format!("heartbeat: {a:?}")).await;
                        }
                    }
                    alive = c.idle() => if !alive {
                        open.fetch_sub(1, Ordering::SeqCst);
                        return fail("dropped while idle".into()).await;
                    },
                }
            }
            c.close().await;
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    let attempted = tasks.len();
    // Let the last handshakes finish.
    let settle = Instant::now() + Duration::from_secs_f64(opts.settle_s.max(0.0));
    while Instant::now() < settle
        && open.load(Ordering::SeqCst) + shared.lock().await.failed < attempted
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ramp_s = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs_f64(opts.hold_s.max(0.0))).await;
    let rss_open = opts.server_pid.and_then(rss_kib);
    let wall = t0.elapsed().as_secs_f64();
    let generator_cores = cpu_seconds(None)
        .zip(cpu0)
        .map_or(0.0, |(a, b)| (a - b) / wall);
    let server_cores = opts
        .server_pid
        .and_then(|p| cpu_seconds(Some(p)))
        .zip(scpu0)
        .map(|(a, b)| (a - b) / wall);
    let still_open = open.load(Ordering::SeqCst);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    let s = shared.lock().await;
    let max_open = max_open.load(Ordering::SeqCst);
    if s.failures.iter().any(|f| f.contains("Too many open files")) {
        notes.push("the generator hit its file-descriptor limit: raise `ulimit -n`".into());
    }
    IdleResult {
        attempted,
        max_open: max_open.max(still_open),
        failures: s.failed,
        failure_samples: s.failures.clone(),
        boot_p50_ms: s.boot.quantile_ms(0.5),
        boot_p99_ms: s.boot.quantile_ms(0.99),
        heartbeats: s.heartbeat.count(),
        heartbeat_p99_ms: s.heartbeat.quantile_ms(0.99),
        ramp_s,
        rss_before_kib: rss_before,
        rss_open_kib: rss_open,
        rss_per_connection_kib: rss_before
            .zip(rss_open)
            .filter(|_| still_open > 0)
            .map(|(a, b)| (b as f64 - a as f64) / still_open as f64),
        generator_cores,
        server_cores,
    }
}
