//! The Redis store (`redis://host:port/db`): state shared by every chargegrid node, durable
//! when Redis runs with AOF. Values are JSON documents; see [`keys`] for the key design.

mod accounts;
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
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{OnceCell, oneshot};

use crate::{Store, StoreError, StoreResult};

/// Replies awaited by this node, by command id.
type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<CommandReply>>>>;

/// The Redis store. Cheap to clone: clones share connections.
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    manager: ConnectionManager,
    conn: conn::StoreConn,
    metrics: Option<crate::StoreMetrics>,
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
    /// Connects to `url` (checking the server answers within `connect_timeout`) as `node`.
    pub async fn connect(url: &str, node: NodeId, connect_timeout: Duration) -> StoreResult<Self> {
        let client = redis::Client::open(url).map_err(|e| StoreError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
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
        .map_err(|_| {
            StoreError::Unavailable(format!(
                "no answer from {} within {connect_timeout:?}",
                redact(url)
            ))
        })?
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", redact(url))))?;
        let store = Self {
            client,
            conn: conn::StoreConn::new(conn.clone(), None),
            manager: conn,
            metrics: None,
            node,
            pending: Arc::default(),
            reply_listener: Arc::default(),
        };
        store.ping().await?;
        Ok(store)
    }

    /// Measures Redis commands and the command bus into `metrics`.
    pub fn with_metrics(mut self, metrics: crate::StoreMetrics) -> Self {
        self.conn = conn::StoreConn::new(self.manager.clone(), Some(metrics.clone()));
        self.metrics = Some(metrics);
        self
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
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
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
