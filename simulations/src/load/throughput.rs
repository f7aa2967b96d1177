//! The throughput phase: `meter_connections` chargers each start a transaction, then send
//! meter values (a realistic 3-phase sample, 11 sampled values: 1.6 MeterValues, or 2.0.1
//! TransactionEvent Updated) at an offered aggregate rate, one outstanding CALL per connection
//! as OCPP requires; each rate step reports the achieved rate and the latency distribution,
//! and the run stops at the first step that misses the target. Each connection renders its
//! frame once ([`super::frames`]) and splices in the changing values per message.

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::network::OcppVersion;
use chrono::Utc;
use serde_json::json;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::client::{Answer, Client, boot};
use super::frames::{Fill, MARK_ID, MARK_REGISTER, MARK_SEQ_NO, Template, mark_time};
use super::procfs::cpu_seconds;
use super::{LoadOptions, RateStep};
use crate::charger::{Reading, meter_value};
use crate::stats::LatencyHistogram;

#[derive(Default)]
struct StepStats {
    latency: LatencyHistogram,
    errors: u64,
    timeouts: u64,
    first_error: Option<String>,
}

fn sample(
    at: chrono::DateTime<Utc>,
    register: f64,
    version: OcppVersion,
) -> chargegrid_ocpp::messages::meter::MeterValue {
    meter_value(
        &Reading {
            at,
            context: "Sample.Periodic",
            register_wh: register,
            power_w: 11_000.0,
            current_a: 15.9,
            voltage_v: 231.2,
            phases: Some(3),
            offered_w: 11_000.0,
            offered_a: 16.0,
            soc_pct: None,
            temperature_c: Some(31.0),
        },
        version,
        false,
    )
}

/// 2.0.1: the transaction id load charger `n` chooses.
fn transaction_id(n: usize) -> String {
    format!("LOADTX-{n:06}")
}

/// The CALL a connection starts its transaction with.
fn start(version: OcppVersion, n: usize) -> (&'static str, serde_json::Value) {
    let now = chargegrid_ocpp::timestamp::format(Utc::now());
    let tag = format!("{n:08X}");
    match version {
        OcppVersion::V16 => (
            "StartTransaction",
            json!({"connectorId": 1, "idTag": tag, "meterStart": 1000, "timestamp": now}),
        ),
        OcppVersion::V201 => (
            "TransactionEvent",
            json!({"eventType": "Started", "timestamp": now,
                "triggerReason": "Authorized", "seqNo": 0,
                "transactionInfo": {"transactionId": transaction_id(n), "chargingState": "Charging"},
                "idToken": {"idToken": tag, "type": "ISO14443"},
                "evse": {"id": 1, "connectorId": 1}}),
        ),
    }
}

/// The template of a connection's meter messages, once its transaction has started (1.6: with
/// the id the server gave in `started`).
fn meter_template(version: OcppVersion, n: usize, started: &serde_json::Value) -> Template {
    let mark = sample(mark_time(), MARK_REGISTER, version);
    let frame = match version {
        OcppVersion::V16 => json!([2, MARK_ID, "MeterValues",
            {"connectorId": 1, "transactionId": started["transactionId"], "meterValue": [mark]}]),
        OcppVersion::V201 => json!([2, MARK_ID, "TransactionEvent",
            {"eventType": "Updated", "timestamp": chargegrid_ocpp::timestamp::format(mark_time()),
             "triggerReason": "MeterValuePeriodic", "seqNo": MARK_SEQ_NO,
             "transactionInfo": {"transactionId": transaction_id(n), "chargingState": "Charging"},
             "meterValue": [mark]}]),
    };
    Template::new(&frame.to_string())
}

/// Runs the rate steps.
pub async fn run(base: &str, opts: &LoadOptions, notes: &mut Vec<String>) -> Vec<RateStep> {
    let timeout = Duration::from_millis(opts.call_timeout_ms);
    let mut clients = Vec::new();
    for n in 0..opts.meter_connections {
        let id = format!("{}-M{n:05}", opts.prefix);
        let Ok(mut c) = Client::connect(base, &id, n, opts.version).await else {
            continue;
        };
        if !matches!(
            c.call("BootNotification", boot(opts.version), timeout)
                .await
                .0,
            Answer::Result(_)
        ) {
            continue;
        }
        let (action, payload) = start(opts.version, n);
        let Answer::Result(started) = c.call(action, payload, timeout).await.0 else {
            continue;
        };
        clients.push((c, meter_template(opts.version, n, &started), 0_u64));
    }
    if clients.len() < opts.meter_connections {
        notes.push(format!(
            "only {} of {} meter connections could be opened",
            clients.len(),
            opts.meter_connections
        ));
    }
    if clients.is_empty() {
        return Vec::new();
    }
    let clients: Vec<_> = clients
        .into_iter()
        .map(|c| Arc::new(Mutex::new(c)))
        .collect();
    let mut steps = Vec::new();
    for &rate in &opts.rates {
        let stats = Arc::new(Mutex::new(StepStats::default()));
        let per_conn = rate / clients.len() as f64;
        let interval = Duration::from_secs_f64(1.0 / per_conn.max(1e-3));
        let step = Duration::from_secs_f64(opts.step_s.max(1.0));
        let (cpu0, scpu0) = (
            cpu_seconds(None),
            opts.server_pid.and_then(|p| cpu_seconds(Some(p))),
        );
        let t0 = Instant::now();
        let end = t0 + step;
        let mut tasks = tokio::task::JoinSet::new();
        for (k, c) in clients.iter().enumerate() {
            let (c, stats) = (c.clone(), stats.clone());
            // Spread the connections' phases over one interval.
            let first = t0 + interval.mul_f64(k as f64 / clients.len() as f64);
            tasks.spawn(async move {
                let mut guard = c.lock().await;
                let (client, template, seq_no) = &mut *guard;
                let mut next = first;
                let mut register = 1000.0;
                let mut local = StepStats::default();
                while next < end {
                    tokio::time::sleep_until(next).await;
                    next += interval;
                    register += 30.0;
                    let id = client.next_id();
                    *seq_no += 1;
                    let timestamp = chargegrid_ocpp::timestamp::format(Utc::now());
                    let mut text = String::new();
                    template.render(
                        &Fill {
                            id: &id,
                            timestamp: &timestamp,
                            register_wh: register,
                            seq_no: *seq_no,
                        },
                        &mut text,
                    );
                    let (a, rtt) = client.exchange(text, &id, timeout).await;
                    match a {
                        Answer::Result(_) => local.latency.record(rtt),
                        Answer::Error(code) => {
                            local.errors += 1;
                            local.first_error.get_or_insert(code);
                        }
                        Answer::Timeout => local.timeouts += 1,
                    }
                }
                let mut s = stats.lock().await;
                s.latency.merge(&local.latency);
                s.errors += local.errors;
                s.timeouts += local.timeouts;
                if s.first_error.is_none() {
                    s.first_error = local.first_error;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        let wall = t0.elapsed().as_secs_f64();
        let s = stats.lock().await;
        let achieved = s.latency.count() as f64 / wall;
        let p99 = s.latency.quantile_ms(0.99);
        let r = RateStep {
            offered_per_s: rate,
            achieved_per_s: achieved,
            p50_ms: s.latency.quantile_ms(0.5),
            p99_ms: p99,
            errors: s.errors,
            timeouts: s.timeouts,
            generator_cores: cpu_seconds(None)
                .zip(cpu0)
                .map_or(0.0, |(a, b)| (a - b) / wall),
            server_cores: opts
                .server_pid
                .and_then(|p| cpu_seconds(Some(p)))
                .zip(scpu0)
                .map(|(a, b)| (a - b) / wall),
            meets_target: achieved >= 0.95 * rate
                && s.errors == 0
                && s.timeouts == 0
                && p99 <= opts.p99_target_ms,
        };
        if let Some(e) = &s.first_error {
            notes.push(format!("at {rate}/s the server answered {e}"));
        }
        let stop = !r.meets_target;
        steps.push(r);
        if stop {
            break;
        }
    }
    for c in clients {
        if let Ok(m) = Arc::try_unwrap(c) {
            m.into_inner().0.close().await;
        }
    }
    steps
}
