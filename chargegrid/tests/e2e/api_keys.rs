//! API keys and the audit trail, on Redis with two API nodes: a key issued on one node works on
//! the other within its scope and rate limit, records its last use, stops at once everywhere
//! when revoked or expired; every changing action of operators and fleet managers is in the
//! audit trail with who, what, which object and the result, paged, and a fleet manager reads
//! only their fleet's.

use std::sync::Arc;

use chargegrid::Role as NodeRole;
use chargegrid_core::ManualClock;
use chargegrid_core::driver::Role;
use chargegrid_test_support::RedisServer;
use serde_json::json;

use crate::api_authz::promote;
use crate::api_client::Api;
use crate::harness::test_config;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_work_on_every_node_within_their_scope_and_every_action_is_audited() {
    let redis = RedisServer::start();
    let clock = ManualClock::new(chrono::Utc::now());
    let mut config = test_config(&redis.url());
    config.api.api_key_rate_limit_per_minute = 8;
    let start = |name: &str| {
        let mut c = config.clone();
        c.node_id = chargegrid_core::NodeId::new(name).unwrap();
        let clock = clock.clone();
        async move {
            chargegrid::App::start(&c, NodeRole::Api, Arc::new(clock))
                .await
                .unwrap()
        }
    };
    let node_a = start("api-a").await;
    let node_b = start("api-b").await;
    let a = Api::new(node_a.api_addr.unwrap());
    let b = Api::new(node_b.api_addr.unwrap());

    let (op, op_id) = a.signup("op@example.com").await;
    promote(&node_a, &op_id, Role::Operator).await;
    let (driver, _) = a.signup("driver@example.com").await;
    assert_eq!(
        op.post("/fleets", json!({"id": "f1", "name": "Taxi"}))
            .await
            .status,
        201
    );
    assert_eq!(
        op.post("/fleets", json!({"id": "f2", "name": "Vans"}))
            .await
            .status,
        201
    );
    for (fleet, email) in [("f1", "m1@example.com"), ("f2", "m2@example.com")] {
        let r = op
            .post(
                &format!("/fleets/{fleet}/managers"),
                json!({"email": email, "password": "manager pass 123", "name": "M"}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let login = |email: &'static str| a.login(email, "manager pass 123");
    let m1 = login("m1@example.com").await;

    // Drivers hold no keys; bad requests are 422.
    driver
        .post("/api-keys", json!({"name": "x", "scope": "read"}))
        .await
        .problem(403);
    op.post("/api-keys", json!({"name": "", "scope": "read"}))
        .await
        .problem(422);
    op.post("/api-keys", json!({"name": "x", "scope": "admin"}))
        .await
        .problem(422);
    op.post(
        "/api-keys",
        json!({"name": "x", "scope": "read", "expires_in_days": 400}),
    )
    .await
    .problem(422);
    op.post("/api-keys", json!({"name": " \t", "scope": "read"}))
        .await
        .problem(422);

    // Issued on node A, shown once.
    let issue = |who: Api, name: &str, scope: &str| {
        let body = json!({"name": name, "scope": scope});
        async move {
            let r = who.post("/api-keys", body).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
            r.body
        }
    };
    let read = issue(op.clone(), "dashboards", "read").await;
    let manage = issue(op.clone(), "billing", "manage").await;
    let fleet_key = issue(m1.clone(), "fleet tool", "manage").await;
    let secret = |k: &serde_json::Value| k["secret"].as_str().unwrap().to_string();
    assert!(secret(&read).starts_with("cgk_"));
    assert_eq!(read["status"], "active");
    assert_eq!(read["owner"], op_id.as_str());
    assert!(secret(&read).ends_with(read["hint"].as_str().unwrap()));
    let listed = op.get("/api-keys").await;
    assert_eq!(listed.status, 200);
    let listed = listed.body.as_array().unwrap().clone();
    assert_eq!(listed.len(), 3, "operators see every account's keys");
    assert!(
        listed.iter().all(|k| k.get("secret").is_none()),
        "the secret is never shown again: {listed:?}"
    );
    let own = m1.get("/api-keys").await.body;
    assert_eq!(own.as_array().unwrap().len(), 1, "{own:?}");

    // Used on node B: read-only GETs only; manage acts as its owner; neither manages keys.
    let read_b = b.with_token(&secret(&read));
    let manage_b = b.with_token(&secret(&manage));
    let fleet_b = b.with_token(&secret(&fleet_key));
    assert_eq!(read_b.get("/chargers").await.status, 200);
    read_b
        .post("/fleets", json!({"id": "f3", "name": "No"}))
        .await
        .problem(403);
    assert_eq!(
        manage_b
            .post("/fleets", json!({"id": "f3", "name": "Buses"}))
            .await
            .status,
        201
    );
    manage_b
        .post("/api-keys", json!({"name": "child", "scope": "manage"}))
        .await
        .problem(403);
    manage_b.post("/auth/logout", json!({})).await.problem(403);
    // A fleet manager's key sees only that fleet.
    assert_eq!(fleet_b.get("/fleets/f1").await.status, 200);
    fleet_b.get("/fleets/f2").await.problem(404);
    fleet_b.get("/chargers").await.problem(403);
    // Its last use is recorded.
    let listed = op.get("/api-keys").await.body;
    let last_used = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == read["id"])
        .unwrap()["last_used_at"]
        .clone();
    assert!(last_used.is_string(), "{listed:?}");

    // Each key has its own rate limit (8 a minute here); the owner's login is not affected.
    let mut limited = 0;
    for _ in 0..10 {
        if read_b.get("/chargers").await.status == 429 {
            limited += 1;
        }
    }
    assert!(limited >= 1, "the key was never limited");
    assert_eq!(op.get("/chargers").await.status, 200);

    // Revoked on node A: refused on node B at once; only its owner or an operator revokes.
    let fleet_key_id = fleet_key["id"].as_str().unwrap();
    m1.delete(&format!("/api-keys/{}", read["id"].as_str().unwrap()))
        .await
        .problem(404);
    assert_eq!(
        op.delete(&format!("/api-keys/{}", read["id"].as_str().unwrap()))
            .await
            .status,
        204
    );
    read_b.get("/chargers").await.problem(401);
    let after = op.get(&format!("/api-keys?owner={op_id}")).await.body;
    let revoked = after
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == read["id"])
        .unwrap();
    assert_eq!(revoked["status"], "revoked");
    // A disabled owner's keys stop; expiry stops them too.
    assert_eq!(fleet_b.get("/fleets/f1").await.status, 200);
    let m1_id = chargegrid_core::DriverId::new(fleet_key["owner"].as_str().unwrap()).unwrap();
    let mut m1_account = node_a.store.get_driver(&m1_id).await.unwrap().unwrap();
    m1_account.disabled = true;
    node_a.store.update_driver(&m1_account).await.unwrap();
    fleet_b.get("/fleets/f1").await.problem(401);
    m1_account.disabled = false;
    node_a.store.update_driver(&m1_account).await.unwrap();
    assert_eq!(fleet_b.get("/fleets/f1").await.status, 200);
    clock.advance(chrono::Duration::days(91));
    fleet_b.get("/fleets/f1").await.problem(401);
    let listed = m1.get("/api-keys").await;
    // m1's login expired with the clock too: log in again to look.
    assert_eq!(listed.status, 401);
    let m1 = login("m1@example.com").await;
    let mine = m1.get("/api-keys").await.body;
    assert_eq!(mine[0]["id"], fleet_key_id);
    assert_eq!(mine[0]["status"], "expired");

    // The audit trail: who, what, which object, result; newest first, paged; a fleet manager
    // sees only their fleet's entries, drivers none.
    let op = a.login("op@example.com", "correct horse battery").await;
    let page = op.get("/audit?limit=100").await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let entries = page.body["entries"].as_array().unwrap().clone();
    let find = |action: &str, object: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["object"] == object)
            .cloned()
            .collect::<Vec<_>>()
    };
    let created = find("POST /api/v1/fleets", "/api/v1/fleets");
    assert_eq!(created.len(), 4, "{entries:?}");
    let by_key = created
        .iter()
        .find(|e| e["api_key"] == manage["id"])
        .expect("the fleet made with the manage key is audited with the key");
    assert_eq!(by_key["actor"], op_id.as_str());
    assert_eq!(by_key["status"], 201);
    assert_eq!(by_key["result"], "succeeded");
    let refused = created
        .iter()
        .find(|e| e["api_key"] == read["id"])
        .expect("the read-only key's attempt to create a fleet is audited");
    assert_eq!(refused["status"], 403);
    assert_eq!(refused["result"], "refused");
    let revokes = find(
        "DELETE /api/v1/api-keys/{key}",
        &format!("/api/v1/api-keys/{}", read["id"].as_str().unwrap()),
    );
    assert_eq!(revokes.len(), 2, "{entries:?}");
    assert!(
        revokes
            .iter()
            .any(|e| e["actor"] == op_id.as_str() && e["role"] == "operator" && e["status"] == 204)
    );
    assert!(revokes.iter().any(|e| e["actor"] == m1_id.as_str()
        && e["role"] == "fleet_manager"
        && e["fleet"] == "f1"
        && e["status"] == 404));
    // Newest first, and pages follow on.
    let ids: Vec<u64> = entries.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let first = op.get("/audit?limit=2").await.body;
    let before = first["next_before"].as_u64().unwrap();
    let second = op
        .get(&format!("/audit?limit=2&before={before}"))
        .await
        .body;
    assert_eq!(second["entries"][0]["id"].as_u64(), Some(ids[2]));
    // The fleet manager: their fleet's entries only.
    let fleet_entries = m1.get("/audit").await.body;
    let fleet_entries = fleet_entries["entries"].as_array().unwrap();
    assert!(!fleet_entries.is_empty());
    assert!(
        fleet_entries.iter().all(|e| e["fleet"] == "f1"),
        "{fleet_entries:?}"
    );
    let driver = a.login("driver@example.com", "correct horse battery").await;
    driver.get("/audit").await.problem(403);
    op.get("/audit?before=x").await.problem(400);
}
