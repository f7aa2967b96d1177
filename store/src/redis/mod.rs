//! The Redis store (`redis://host:port/db`, or a Redis Cluster with
//! `redis-cluster://host:port,host:port,…`): state shared by every chargegrid node, durable when
//! Redis runs with AOF. Values are JSON documents; see [`keys`] for the key design.

mod accounts;
mod audit;
mod bus;
mod changes;
mod conn;
mod health;
mod keys;
mod network;
mod registry;
mod reservations;
mod scheduling;
mod scripts;
mod sessions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::NodeId;
use chargegrid_core::command::CommandReply;
use redis::AsyncCommands;
use redis::aio::ConnectionManagerConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{OnceCell, oneshot};

use crate::{Store, StoreError, StoreResult};

/// Raw samples of ended sessions are kept this long unless configured (`store.sample_retention_days`).
pub const DEFAULT_SAMPLE_RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Replies awaited by this node, by command id.
type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<CommandReply>>>>;

/// The Redis store. Cheap to clone: clones share connections.
#[derive(Clone)]
pub struct RedisStore {
    /// For pub/sub (on a cluster: one node; PUBLISH reaches subscribers on every node).
    client: redis::Client,
    conn: conn::StoreConn,
    metrics: Option<crate::StoreMetrics>,
    /// How long an ended session's raw meter samples are kept.
    sample_retention: Duration,
    node: NodeId,
    pending: Pending,
    reply_listener: Arc<OnceCell<()>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (checking the server answers within `connect_timeout`) as `node`:
    /// `redis://host:port/db` for one server, `redis-cluster://host:port,host:port,…` (any
    /// reachable nodes of the cluster; the rest are discovered) for a Redis Cluster.
    pub async fn connect(url: &str, node: NodeId, connect_timeout: Duration) -> StoreResult<Self> {
        let unavailable =
            |e: &dyn std::fmt::Display| StoreError::Unavailable(format!("{}: {e}", redact(url)));
        let timed_out = || {
            StoreError::Unavailable(format!(
                "no answer from {} within {connect_timeout:?}",
                redact(url)
            ))
        };
        let invalid = |reason: String| StoreError::InvalidUrl {
            url: redact(url),
            reason,
        };
        let (client, backend) = if let Some(nodes) = url.strip_prefix("redis-cluster://") {
            let nodes = cluster_nodes(nodes).map_err(invalid)?;
            let client =
                redis::Client::open(nodes[0].as_str()).map_err(|e| invalid(e.to_string()))?;
            let cluster = redis::cluster::ClusterClient::builder(nodes)
                .connection_timeout(connect_timeout)
                .response_timeout(Duration::from_secs(10))
                .retries(6)
                .build()
                .map_err(|e| invalid(e.to_string()))?;
            let conn = tokio::time::timeout(connect_timeout, cluster.get_async_connection())
                .await
                .map_err(|_| timed_out())?
                .map_err(|e| unavailable(&e))?;
            (client, conn::Backend::Cluster(conn))
        } else {
            let client = redis::Client::open(url).map_err(|e| invalid(e.to_string()))?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(connect_timeout))
                .set_response_timeout(Some(Duration::from_secs(10)))
                .set_number_of_retries(6)
                .set_max_delay(Duration::from_secs(2));
            let conn = tokio::time::timeout(
                connect_timeout,
                client.get_connection_manager_with_config(config),
            )
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| unavailable(&e))?;
            (client, conn::Backend::Single(conn))
        };
        let store = Self {
            client,
            conn: conn::StoreConn::new(backend),
            metrics: None,
            sample_retention: DEFAULT_SAMPLE_RETENTION,
            node,
            pending: Arc::default(),
            reply_listener: Arc::default(),
        };
        store.ping().await?;
        Ok(store)
    }

    /// Keeps an ended session's raw meter samples for `retention` (the session document, its
    /// energy and the health reports made from it stay).
    pub fn with_sample_retention(mut self, retention: Duration) -> Self {
        self.sample_retention = retention;
        self
    }

    /// Measures Redis commands and the command bus into `metrics`.
    pub fn with_metrics(mut self, metrics: crate::StoreMetrics) -> Self {
        self.conn = self.conn.with_metrics(metrics.clone());
        self.metrics = Some(metrics);
        self
    }

    /// Whether this is a Redis Cluster.
    fn is_cluster(&self) -> bool {
        self.conn.is_cluster()
    }

    /// A connection handle (multiplexed, retrying; cloning is cheap).
    fn conn(&self) -> conn::StoreConn {
        self.conn.clone()
    }

    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> StoreResult<Option<T>> {
        let raw: Option<String> = self.conn().get(key).await?;
        raw.map(|text| decode(key, &text)).transpose()
    }

    async fn set_json<T: Serialize + Sync>(&self, key: &str, value: &T) -> StoreResult<()> {
        let () = self.conn().set(key, encode(value)?).await?;
        Ok(())
    }

    /// Reads many JSON documents in one round trip, skipping missing keys.
    /// The documents of the ids in set `set`, in id order: `key_of` turns an id into its
    /// document's key (`None` skips an id that is not valid).
    async fn members_json<T: DeserializeOwned>(
        &self,
        set: &str,
        key_of: impl Fn(&str) -> Option<String>,
    ) -> StoreResult<Vec<T>> {
        let mut ids: Vec<String> = self.conn().smembers(set).await?;
        ids.sort();
        let keys: Vec<String> = ids.iter().filter_map(|id| key_of(id)).collect();
        self.mget_json(&keys).await
    }

    async fn mget_json<T: DeserializeOwned>(&self, keys: &[String]) -> StoreResult<Vec<T>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.get(key);
        }
        let raws: Vec<Option<String>> = pipe.query_async(&mut self.conn()).await?;
        keys.iter()
            .zip(raws)
            .filter_map(|(key, raw)| raw.map(|text| decode(key, &text)))
            .collect()
    }
}

#[async_trait]
impl Store for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> StoreResult<()> {
        let pong: String = redis::cmd("PING").query_async(&mut self.conn()).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "unexpected PING answer {pong:?}"
            )))
        }
    }
}

fn encode<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        key: String::from("(encoding)"),
        reason: e.to_string(),
    })
}

fn decode<T: DeserializeOwned>(key: &str, text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

/// Milliseconds for Redis expiry arguments (at least 1: 0 would be an error).
/// How long a unique key claimed before its document is written stays claimed if the writer
/// dies in between: the claim then expires instead of blocking the id (or e-mail) forever.
/// The document's write makes the claim permanent (`PERSIST`).
const CLAIM_TTL_MS: u64 = 30_000;

impl RedisStore {
    /// Claims a unique key (`SET key value NX PX ttl`); whether it was free.
    async fn claim(&self, key: &str, value: &str) -> StoreResult<bool> {
        let answer: Option<String> = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(CLAIM_TTL_MS)
            .query_async(&mut self.conn())
            .await?;
        Ok(answer.is_some())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// `host:port,host:port` (with optional `user:password@` before the first) as one
/// `redis://` URL per node, the credentials applied to each.
fn cluster_nodes(list: &str) -> Result<Vec<String>, String> {
    let (auth, hosts) = match list.rsplit_once('@') {
        Some((auth, hosts)) => (format!("{auth}@"), hosts),
        None => (String::new(), list),
    };
    let nodes: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| {
            if h.contains('/') {
                Err(format!(
                    "{h:?}: a cluster node is host:port (Redis Cluster has only database 0)"
                ))
            } else {
                Ok(format!("redis://{auth}{h}"))
            }
        })
        .collect::<Result<_, _>>()?;
    if nodes.is_empty() {
        return Err("no cluster node given; expected redis-cluster://host:port,host:port".into());
    }
    Ok(nodes)
}

/// A URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_urls_name_every_node_with_the_credentials() {
        assert_eq!(
            cluster_nodes(":pw@10.0.0.1:7000, 10.0.0.2:7001").unwrap(),
            vec!["redis://:pw@10.0.0.1:7000", "redis://:pw@10.0.0.2:7001"]
        );
        assert!(cluster_nodes("").is_err());
        assert!(
            cluster_nodes("h:7000/2")
                .unwrap_err()
                .contains("database 0")
        );
        assert_eq!(
            redact("redis-cluster://:pw@h1:7000,h2:7001"),
            "redis-cluster://***@h1:7000,h2:7001"
        );
    }
}
