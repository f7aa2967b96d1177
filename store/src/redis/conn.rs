//! The connection every Redis call goes through: the multiplexed, auto-reconnecting
//! `ConnectionManager`, plus retries of connection-level failures (Redis restarting, a failover,
//! a dropped socket) with backoff for up to ten seconds, so callers — and the chargers behind
//! them — see a delay instead of an error. A command whose connection dropped after Redis ran
//! it but before the reply arrived may run twice; chargegrid's writes are idempotent except
//! list appends of meter samples, where a rare duplicate sample is the price (energy is
//! computed from the register, so it is unaffected). Latency and failures are measured here.

use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

use crate::metrics::StoreMetrics;

/// Longest time a command is retried for.
const RETRY_FOR: Duration = Duration::from_secs(10);
/// First pause between retries (doubling up to one second).
const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// A Redis connection handle with retries and metrics. Cheap to clone.
#[derive(Clone)]
pub(crate) struct StoreConn {
    inner: ConnectionManager,
    metrics: Option<StoreMetrics>,
}

impl StoreConn {
    pub(crate) fn new(inner: ConnectionManager, metrics: Option<StoreMetrics>) -> Self {
        Self { inner, metrics }
    }
}

fn retryable(e: &RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() || e.is_timeout()
}

/// The command's name, for the metric label (bounded: upper-case letters only, else "other").
fn op_name(cmd: &Cmd) -> String {
    match cmd.args_iter().next() {
        Some(redis::Arg::Simple(name))
            if name.len() <= 20 && name.iter().all(u8::is_ascii_alphabetic) =>
        {
            String::from_utf8_lossy(name).to_ascii_uppercase()
        }
        _ => "other".to_string(),
    }
}

impl StoreConn {
    fn observe(&self, op: &str, started: Instant, ok: bool) {
        if let Some(m) = &self.metrics {
            m.command_seconds
                .with_label_values(&[op])
                .observe(started.elapsed().as_secs_f64());
            if !ok {
                m.command_errors.with_label_values(&[op]).inc();
            }
        }
    }

    fn note_retry(&self, op: &str, e: &RedisError) {
        if let Some(m) = &self.metrics {
            m.command_retries.with_label_values(&[op]).inc();
        }
        tracing::warn!(op, error = %e, "redis command failed, retrying");
    }
}

impl ConnectionLike for StoreConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let op = op_name(cmd);
            let started = Instant::now();
            let mut pause = FIRST_PAUSE;
            loop {
                match self.inner.req_packed_command(cmd).await {
                    Ok(v) => {
                        self.observe(&op, started, true);
                        return Ok(v);
                    }
                    Err(e) if retryable(&e) && started.elapsed() + pause < RETRY_FOR => {
                        self.note_retry(&op, &e);
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                    }
                    Err(e) => {
                        self.observe(&op, started, false);
                        return Err(e);
                    }
                }
            }
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let started = Instant::now();
            let mut pause = FIRST_PAUSE;
            loop {
                match self
                    .inner
                    .req_packed_commands(pipeline, offset, count)
                    .await
                {
                    Ok(v) => {
                        self.observe("PIPELINE", started, true);
                        return Ok(v);
                    }
                    Err(e) if retryable(&e) && started.elapsed() + pause < RETRY_FOR => {
                        self.note_retry("PIPELINE", &e);
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                    }
                    Err(e) => {
                        self.observe("PIPELINE", started, false);
                        return Err(e);
                    }
                }
            }
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
