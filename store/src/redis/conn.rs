//! The connection every Redis call goes through: the multiplexed, auto-reconnecting
//! `ConnectionManager` (standalone Redis) or the cluster client (Redis Cluster), plus retries of connection-level failures (Redis restarting, a failover,
//! a dropped socket) with backoff for up to ten seconds, so callers — and the chargers behind
//! them — see a delay instead of an error. A command whose connection dropped after Redis ran
//! it but before the reply arrived may run twice; chargegrid's writes are idempotent except
//! list appends of meter samples, where a rare duplicate sample is the price (energy is
//! computed from the register, so it is unaffected). Latency and failures are measured here.

use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use redis::{Cmd, Pipeline, RedisError, RedisFuture, Value};

use crate::metrics::StoreMetrics;

/// Longest time a command is retried for.
const RETRY_FOR: Duration = Duration::from_secs(10);
/// First pause between retries (doubling up to one second).
const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// The connection to a standalone Redis or to a Redis Cluster.
#[derive(Clone)]
pub(crate) enum Backend {
    /// One server (or a Sentinel-managed primary behind one address).
    Single(ConnectionManager),
    /// A cluster: commands go to the node owning their key's slot (MOVED/ASK handled).
    Cluster(ClusterConnection),
}

impl Backend {
    async fn command(&mut self, cmd: &Cmd) -> redis::RedisResult<Value> {
        match self {
            Backend::Single(c) => c.req_packed_command(cmd).await,
            Backend::Cluster(c) => c.req_packed_command(cmd).await,
        }
    }

    async fn pipeline(
        &mut self,
        pipeline: &Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<Value>> {
        match self {
            Backend::Single(c) => c.req_packed_commands(pipeline, offset, count).await,
            Backend::Cluster(c) => cluster_pipeline(c, pipeline, offset, count).await,
        }
    }
}

/// A pipeline on a cluster. One whose keys share a slot (a site's `{s:…}` keys, a charger's
/// `{c:…}` keys) goes to its node as is, a transaction stays one MULTI/EXEC. One that spans
/// slots (a document plus global indexes) is split by slot, in order of first appearance: each
/// slot's commands stay together (atomic when the pipeline was), the groups run one after the
/// other, and the answers are put back in the pipeline's order.
async fn cluster_pipeline(
    conn: &mut ClusterConnection,
    pipeline: &Pipeline,
    offset: usize,
    count: usize,
) -> redis::RedisResult<Vec<Value>> {
    let commands: Vec<&Cmd> = pipeline.cmd_iter().collect();
    let groups = slot_groups(&commands);
    if groups.len() <= 1 {
        return conn.req_packed_commands(pipeline, offset, count).await;
    }
    let transaction = pipeline.is_transaction();
    let mut answers = vec![Value::Nil; commands.len()];
    for group in groups {
        let mut sub = redis::pipe();
        if transaction {
            sub.atomic();
        }
        for &i in &group {
            sub.add_command(commands[i].clone());
        }
        let values = if transaction {
            match conn
                .req_packed_commands(&sub, group.len() + 1, 1)
                .await?
                .pop()
            {
                Some(Value::Array(items)) => items,
                other => {
                    return Err(RedisError::from((
                        redis::ErrorKind::UnexpectedReturnType,
                        "transaction answered without an array",
                        format!("{other:?}"),
                    )));
                }
            }
        } else {
            conn.req_packed_commands(&sub, 0, group.len()).await?
        };
        for (i, v) in group.into_iter().zip(values) {
            answers[i] = v;
        }
    }
    Ok(if transaction {
        vec![Value::Array(answers)]
    } else {
        answers.into_iter().skip(offset).take(count).collect()
    })
}

/// Indices of `commands` grouped by the slot of their key (the first argument after the
/// command name: chargegrid pipelines hold single-key commands only), groups in order of first
/// appearance; a command without a key joins the first group.
fn slot_groups(commands: &[&Cmd]) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Option<Slot>, Vec<usize>)> = Vec::new();
    for (i, cmd) in commands.iter().enumerate() {
        let slot = match cmd.args_iter().nth(1) {
            Some(redis::Arg::Simple(key)) => Some(Slot::for_key(key)),
            _ => None,
        };
        match groups
            .iter_mut()
            .find(|(s, _)| slot.is_none() || *s == slot)
        {
            Some((_, members)) => members.push(i),
            None => groups.push((slot, vec![i])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// A Redis connection handle with retries and metrics. Cheap to clone.
#[derive(Clone)]
pub(crate) struct StoreConn {
    inner: Backend,
    metrics: Option<StoreMetrics>,
}

impl StoreConn {
    pub(crate) fn new(inner: Backend) -> Self {
        Self {
            inner,
            metrics: None,
        }
    }

    /// The same connection, measured into `metrics`.
    pub(crate) fn with_metrics(self, metrics: StoreMetrics) -> Self {
        Self {
            metrics: Some(metrics),
            ..self
        }
    }

    /// Whether this is a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.inner, Backend::Cluster(_))
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
                match self.inner.command(cmd).await {
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
                match self.inner.pipeline(pipeline, offset, count).await {
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
        match &self.inner {
            Backend::Single(c) => c.get_db(),
            Backend::Cluster(_) => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_are_grouped_by_slot_in_order_of_first_appearance() {
        let mut pipe = redis::pipe();
        pipe.set("cg:{s:A}:session:1", "x")
            .sadd("cg:{c:C1}:active", "1")
            .sadd("cg:{s:A}:active", "1")
            .zadd("cg:driver:d1:sessions", "1", 5)
            .rpush("cg:{s:A}:samples:1", "y")
            .cmd("PING");
        let commands: Vec<&Cmd> = pipe.cmd_iter().collect();
        let groups = slot_groups(&commands);
        // Site keys together (with the keyless PING), then the charger's, then the driver's.
        assert_eq!(groups, vec![vec![0, 2, 4, 5], vec![1], vec![3]]);
    }
}
