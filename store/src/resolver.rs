//! Picks a store implementation from a URL: `memory://`, `redis://host:port/db` or
//! `redis-cluster://host:port,host:port,…` (`rediss://` for TLS is refused until the build
//! carries a TLS stack).

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::{Clock, NodeId};

use crate::{MemoryStore, RedisStore, Store, StoreError, StoreResult};

/// The URL schemes [`open`] takes.
pub const URL_SCHEMES: [&str; 3] = ["memory://", "redis://", "redis-cluster://"];
/// The URL forms [`open`] takes, for error messages.
pub const URL_FORMS: &str =
    "memory://, redis://host:port/db or redis-cluster://host:port,host:port";

/// Opens the store named by `url` for `node`. Redis must answer within `connect_timeout`, so a
/// wrong address fails at start-up instead of on the first charger message. Raw meter samples
/// of ended sessions are kept for `sample_retention` on Redis (the memory store keeps
/// everything until the process ends).
pub async fn open(
    url: &str,
    node: NodeId,
    clock: Arc<dyn Clock>,
    connect_timeout: Duration,
    metrics: Option<crate::StoreMetrics>,
    sample_retention: Duration,
) -> StoreResult<Arc<dyn Store>> {
    let invalid = |reason: &str| StoreError::InvalidUrl {
        url: crate::redis::redact(url),
        reason: reason.to_string(),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid(&format!("expected {URL_FORMS}")));
    };
    match scheme {
        "memory" if rest.is_empty() => Ok(Arc::new(MemoryStore::new(clock))),
        "memory" => Err(invalid("memory:// takes nothing after the scheme")),
        "redis" | "redis-cluster" => {
            if rest.is_empty() || rest.starts_with('/') {
                return Err(invalid("missing host"));
            }
            let store = RedisStore::connect(url, node, connect_timeout)
                .await?
                .with_sample_retention(sample_retention);
            Ok(Arc::new(match metrics {
                Some(m) => store.with_metrics(m),
                None => store,
            }))
        }
        _ => Err(invalid(
            "unknown scheme; expected memory://, redis:// or redis-cluster://",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::SystemClock;

    async fn try_open(url: &str) -> StoreResult<Arc<dyn Store>> {
        open(
            url,
            NodeId::new("n1").unwrap(),
            Arc::new(SystemClock),
            Duration::from_millis(500),
            None,
            Duration::from_secs(86_400),
        )
        .await
    }

    #[tokio::test]
    async fn urls_select_or_refuse_a_backend() {
        assert_eq!(try_open("memory://").await.unwrap().backend(), "memory");
        for bad in [
            "",
            "memory",
            "memory://x",
            "postgres://h/db",
            "redis://",
            "redis:///0",
        ] {
            let err = try_open(bad).await.unwrap_err();
            assert!(matches!(err, StoreError::InvalidUrl { .. }), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn unreachable_redis_fails_fast_with_its_address() {
        // Port 1 on loopback: nothing listens there.
        let err = try_open("redis://127.0.0.1:1/0").await.unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            crate::redis::redact("redis://user:secret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(crate::redis::redact("redis://host/0"), "redis://host/0");
    }
}
