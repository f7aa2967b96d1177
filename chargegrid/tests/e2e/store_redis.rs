//! The store conformance suite on a real `redis-server` (one private server per test) and on a
//! real Redis Cluster of three primaries (one cluster, emptied between checks).

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::NodeId;
use chargegrid_store::{RedisStore, Store};
use chargegrid_test_support::{RedisCluster, RedisServer};

/// A store on `url` as node `node` (the server must answer within 5 s).
async fn connect(url: &str, node: &str) -> RedisStore {
    RedisStore::connect(url, NodeId::new(node).unwrap(), Duration::from_secs(5))
        .await
        .unwrap()
}

async fn redis() -> (Arc<dyn Store>, RedisServer) {
    let server = RedisServer::start();
    let store = connect(&server.url(), "test-node").await;
    (Arc::new(store), server)
}

chargegrid_store::store_conformance_suite!(redis);

mod cluster {
    use super::*;

    /// Each check gets the test's one cluster, empty.
    async fn cluster(cluster: &RedisCluster) -> (Arc<dyn Store>, ()) {
        cluster.flush();
        let store = connect(&cluster.url(), "test-node").await;
        (Arc::new(store), ())
    }

    chargegrid_store::store_conformance_suite!(
        one_test every_check_on_a_three_primary_cluster,
        RedisCluster::start(3),
        cluster
    );
}

#[tokio::test]
async fn commands_cross_nodes_through_redis() {
    // Two stores = two nodes sharing one Redis: the API node sends, the gateway node answers.
    use chargegrid_core::ChargerId;
    use chargegrid_core::command::{ChargerCommand, CommandReply};
    use chargegrid_store::{CommandBus, ConnectionRegistry};
    let server = RedisServer::start();
    let connect = |node: &str| {
        let url = server.url();
        let node = NodeId::new(node).unwrap();
        async move {
            RedisStore::connect(&url, node, Duration::from_secs(5))
                .await
                .unwrap()
        }
    };
    let gateway = connect("gw-a").await;
    let api = connect("api-b").await;
    let charger = ChargerId::new("c1").unwrap();
    let mut incoming = gateway
        .subscribe_commands(&NodeId::new("gw-a").unwrap())
        .await
        .unwrap();
    gateway
        .register_connection(
            &charger,
            &NodeId::new("gw-a").unwrap(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Some(cmd) = incoming.recv().await {
            let status = match &cmd.envelope.command {
                ChargerCommand::Reset { .. } => "Accepted",
                _ => "Rejected",
            };
            cmd.reply(CommandReply::status(status)).await;
        }
    });
    let reset = ChargerCommand::Reset {
        kind: chargegrid_core::command::ResetKind::Hard,
    };
    let reply = api
        .send_command(&charger, reset, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(reply.is_accepted(), "{reply:?}");
    let unlock = ChargerCommand::UnlockConnector {
        evse: chargegrid_core::EvseId(1),
        connector: chargegrid_core::ConnectorId(1),
    };
    let reply = api
        .send_command(&charger, unlock, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!reply.is_accepted());
    assert!(matches!(reply, CommandReply::Result { status: Some(ref s), .. } if s == "Rejected"));
}

#[tokio::test]
async fn data_survives_a_redis_restart_with_aof() {
    use chargegrid_store::SessionStore;
    let mut server = RedisServer::start_with_aof();
    let store = connect(&server.url(), "n").await;
    // Make every write durable before it is acknowledged, so a kill loses nothing (the
    // production default, everysec, may lose up to one second: see docs/deployment.md).
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("always")
        .query_async(&mut conn)
        .await
        .unwrap();
    let first = store.next_transaction_id().await.unwrap();
    server.restart();
    let store = connect(&server.url(), "n").await;
    let next = store.next_transaction_id().await.unwrap();
    assert_eq!(
        next,
        first + 1,
        "transaction counter must survive the restart"
    );
}

#[tokio::test]
async fn raw_samples_of_an_ended_session_expire_after_the_retention() {
    use chargegrid_store::conformance::{charger, sample, session, site};
    use chargegrid_store::{NetworkStore, SessionStore};
    use redis::AsyncCommands;
    let server = RedisServer::start();
    let store = connect(&server.url(), "test-node")
        .await
        .with_sample_retention(Duration::from_secs(2 * 86_400));
    store.put_site(&site("S1")).await.unwrap();
    store.put_charger(&charger("C1", "S1")).await.unwrap();
    let started = chrono::Utc::now();
    let mut s = session("s1", "S1", "C1", "7", started);
    store.create_session(&s).await.unwrap();
    let minute = |m: i64| started + chrono::Duration::minutes(m);
    store
        .update_session(&s, &s, &[sample(minute(1), 100.0)])
        .await
        .unwrap();
    let key = format!("cg:{{s:S1}}:samples:{}", s.id);
    let mut raw = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert_eq!(ttl, -1, "an active session's samples do not expire");
    let before = s.clone();
    s.state = chargegrid_core::session::SessionState::Ended;
    s.ended_at = Some(minute(2));
    store
        .update_session(&before, &s, &[sample(minute(2), 200.0)])
        .await
        .unwrap();
    let ttl: i64 = raw.pttl(&key).await.unwrap();
    assert!(
        ttl > 86_400_000 && ttl <= 2 * 86_400_000,
        "ended: samples expire in two days, pttl {ttl}"
    );
    assert_eq!(store.samples(&s.id).await.unwrap().len(), 2);
}

/// Unique keys are claimed with an expiry (so a node dying between the claim and the document
/// blocks nothing for good) and made permanent once the document is written: after a
/// successful create no key of the store is left to expire.
#[tokio::test]
async fn claims_are_permanent_once_their_document_is_written() {
    use chargegrid_store::conformance::{charger, session, site};
    use chargegrid_store::{AccountStore, NetworkStore, SessionStore};
    use redis::AsyncCommands;
    let server = RedisServer::start();
    let store = connect(&server.url(), "test-node").await;
    store.put_site(&site("S1")).await.unwrap();
    store.put_charger(&charger("C1", "S1")).await.unwrap();
    store
        .create_session(&session("s1", "S1", "C1", "TX-9", chrono::Utc::now()))
        .await
        .unwrap();
    store
        .create_driver(&chargegrid_core::driver::Driver {
            id: chargegrid_core::DriverId::new("d1").unwrap(),
            email: "claim@example.com".into(),
            name: "Claim".into(),
            role: chargegrid_core::driver::Role::Driver,
            fleet: None,
            password_hash: "x".into(),
            created_at: chrono::Utc::now(),
            fleet_invitations: Vec::new(),
            disabled: false,
        })
        .await
        .unwrap();
    let mut raw = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = raw.keys("*").await.unwrap();
    assert!(
        keys.iter().any(|k| k.contains("claim@example.com")),
        "{keys:?}"
    );
    assert!(keys.iter().any(|k| k.contains("TX-9")), "{keys:?}");
    for key in keys {
        let ttl: i64 = raw.pttl(&key).await.unwrap();
        assert_eq!(ttl, -1, "{key} would expire");
    }
}
