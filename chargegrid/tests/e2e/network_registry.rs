//! The network registry through the API (#18 item 3), live on Redis with two gateway nodes and
//! an API node, against independent Python charge points of both OCPP versions: a site and
//! chargers created through the API connect at once; a changed charger's gateway node takes
//! the new configuration without a reconnect; a password is handed to a connected charger
//! (1.6 hex AuthorizationKey, 2.0.1 BasicAuthPassword), both work until it logs in with the
//! new one, and a refusal keeps the old; a deleted charger is disconnected and refused; the
//! same rules as the network file hold (409, line-to-line wiring on one line among them); a
//! transformer group keeps its delta primary; `network export` imports back unchanged.

use serde_json::{Value, json};

use chargegrid::Role;
use chargegrid_test_support::RedisServer;

use crate::api_client::Api;
use crate::harness::{connect_charger, connect_charger_as, test_config};
use crate::peer::Peer;

const OPERATOR: &str = "ops@example.com";
const PASSWORD: &str = "correct horse battery staple";

fn site() -> Value {
    json!({
        "id": "reg-site", "name": "Registry test site",
        "location": {"lat": 36.07, "lon": 120.38}, "timezone": "Asia/Shanghai",
        "grid_limit": {"max_power": 150000.0},
        "limit_groups": [{"id": "feeder-1", "name": "Feeder 1", "limit": {"max_power": 100000.0},
                          "delta_primary": {"turns_ratio": 4.0, "max_current": 400.0}}]
    })
}

fn charger(id: &str, version: &str, evses: u32, profile: u8) -> Value {
    let evses: Vec<Value> = (1..=evses)
        .map(|n| {
            json!({"id": n, "max_current": 32.0, "max_power": 22000.0,
                   "connectors": [{"id": n, "type": "Type2"}]})
        })
        .collect();
    json!({
        "id": id, "site": "reg-site", "limit_group": "feeder-1", "vendor": "V", "model": "M",
        "ocpp_version": version, "wiring": "three_phase", "max_power": 44000.0,
        "security_profile": profile, "evses": evses
    })
}

fn entry<'a>(network: &'a Value, id: &str) -> &'a Value {
    entry_in(network, "chargers", id)
}

/// The entry with `id` in the network's `list` ("sites" or "chargers").
fn entry_in<'a>(network: &'a Value, list: &str, id: &str) -> &'a Value {
    network[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {network}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_change_the_live_network_through_the_api() {
    let redis = RedisServer::start();
    let mut config = test_config(&redis.url());
    config.admin.email = Some(OPERATOR.into());
    config.admin.password = Some(PASSWORD.into());
    config.ocpp.gateway.read_settings_at_boot = true;
    let start = |name: &str, role: Role| {
        let mut c = config.clone();
        c.node_id = chargegrid_core::NodeId::new(name).unwrap();
        async move {
            chargegrid::App::start(&c, role, std::sync::Arc::new(chargegrid_core::SystemClock))
                .await
                .unwrap()
        }
    };
    let gw_a = start("gw-a", Role::Gateway).await;
    let gw_b = start("gw-b", Role::Gateway).await;
    let api_node = start("api-1", Role::Api).await;
    let mut op = Api::new(api_node.api_addr.unwrap());
    let login = op
        .post(
            "/auth/login",
            json!({"email": OPERATOR, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    op.token = login.body["access_token"].as_str().map(String::from);
    let url_a = format!("ws://{}/ocpp", gw_a.ocpp_addr.unwrap());
    let url_b = format!("ws://{}/ocpp", gw_b.ocpp_addr.unwrap());

    // Unknown until created.
    assert!(connect_charger(&gw_a, "REG-16", "ocpp1.6").await.is_err());
    let near = "/stations?lat=36.07&lon=120.38&radius_km=1";
    let before = op.get(near).await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert!(!before.body.to_string().contains("reg-site"));
    assert_eq!(op.post("/network/sites", site()).await.status, 201);
    // Drivers find it at once, though the API node had its station index built already.
    assert!(
        op.get(near).await.body.to_string().contains("reg-site"),
        "a new site is not found by drivers"
    );
    assert_eq!(op.post("/network/sites", site()).await.status, 200);
    let created = op
        .post("/network/chargers", charger("REG-16", "1.6", 1, 0))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["connection"], "not_connected");
    // The network file's rules, and passwords only through their own route.
    let mut bad = charger("REG-X", "1.6", 1, 0);
    bad["site"] = json!("no-such-site");
    op.post("/network/chargers", bad).await.problem(409);
    let mut bad = charger("REG-X", "1.6", 1, 0);
    bad["limit_group"] = json!("no-such-group");
    op.post("/network/chargers", bad).await.problem(409);
    let mut bad = charger("REG-X", "1.6", 1, 0);
    bad["password_hash"] = json!("$argon2id$v=19$x");
    op.post("/network/chargers", bad).await.problem(422);
    // A charger between two lines needs two different ones.
    let mut bad = charger("REG-X", "1.6", 1, 0);
    bad["wiring"] = json!({"line_to_line": ["L2", "L2"]});
    op.post("/network/chargers", bad).await.problem(409);
    let mut bad_site = site();
    bad_site["limit_groups"] = json!([]);
    let refused = op.post("/network/sites", bad_site).await;
    assert!(
        refused.problem(409).ends_with("invalid-network"),
        "a site dropping a group its chargers hang from: {:?}",
        refused.body
    );
    // What the site pays for grid energy: kept with the site (a window may run past
    // midnight, as a driver tariff's does); a window of no length refused by name.
    let mut priced = site();
    priced["supply"] = json!({"base_price_per_kwh": 0.68,
        "windows": [{"name": "valley", "start": "23:00", "end": "07:00", "price_per_kwh": 0.32}]});
    let kept = op.post("/network/sites", priced.clone()).await;
    assert_eq!(kept.status, 200, "{:?}", kept.body);
    assert_eq!(kept.body["supply"]["windows"][0]["start"], "23:00:00");
    priced["supply"]["windows"][0]["end"] = json!("23:00");
    let refused = op.post("/network/sites", priced).await;
    assert!(
        refused.problem(409).ends_with("invalid-network")
            && refused.body.to_string().contains("valley")
            && refused.body.to_string().contains("no length"),
        "a supply window of no length: {:?}",
        refused.body
    );
    assert_eq!(op.post("/network/sites", site()).await.status, 200);

    // The 1.6 charger connects at once (to node A), and its connector 2 is not configured.
    let mut cp16 = Peer::spawn(
        "registry_cp.py",
        &["1.6", &url_a, "REG-16", "-", "--refuse-password"],
    );
    assert_eq!(cp16.expect("ready").await["status"], "Accepted");
    // Its settings are read after the boot (the status round trip below follows the answer
    // on the same connection, so they are stored by then).
    assert_eq!(
        cp16.seen_or_expect("answered").await["action"],
        "GetConfiguration"
    );
    cp16.send_line("status 2").await;
    assert_eq!(cp16.expect("status").await["accepted"], false);
    let detail = op.get("/chargers/REG-16").await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(detail.body["connected"], true);
    assert_eq!(detail.body["node"], "gw-a");
    let settings = detail.body["settings"].as_array().unwrap();
    assert!(
        settings.iter().any(|s| s["key"] == "HeartbeatInterval"
            && s["value"] == "300"
            && s["readonly"] == false),
        "{settings:?}"
    );
    assert!(
        settings
            .iter()
            .any(|s| s["key"] == "NumberOfConnectors" && s["readonly"] == true),
        "{settings:?}"
    );
    // Firmware and diagnostics progress is kept and shown.
    cp16.send_line("firmware Installed").await;
    cp16.expect("sent").await;
    cp16.send_line("upload Uploaded").await;
    cp16.expect("sent").await;
    let detail = op.get("/chargers/REG-16").await.body;
    assert_eq!(detail["firmware"]["status"], "Installed", "{detail}");
    assert_eq!(detail["upload"]["status"], "Uploaded", "{detail}");
    // An EVSE added through the API (node: the API's) reaches node A's live connection.
    let updated = op
        .post("/network/chargers", charger("REG-16", "1.6", 2, 0))
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["connection"], "reloaded");
    cp16.send_line("status 2").await;
    assert_eq!(cp16.expect("status").await["accepted"], true);

    // A password the charger refuses: 409, and the old state (none) stays.
    let refused = op
        .post("/network/chargers/REG-16/password", json!({}))
        .await;
    refused.problem(409);
    let seen = cp16.expect("received").await;
    assert_eq!(seen["key"], "AuthorizationKey");
    assert_eq!(seen["value"].as_str().unwrap().len(), 40, "{seen}");
    let network = op.get("/network").await.body;
    assert_eq!(entry(&network, "REG-16")["password_set"], false);
    assert_eq!(
        entry_in(&network, "sites", "reg-site")["limit_groups"][0]["delta_primary"]["turns_ratio"],
        4.0,
        "a transformer group keeps its primary side: {network}"
    );
    assert!(
        entry(&network, "REG-16").get("password_hash").is_none(),
        "hashes are never shown"
    );

    // The 2.0.1 charger on node B: a password set by force while it is away, then rotated.
    let created = op
        .post("/network/chargers", charger("REG-201", "2.0.1", 1, 1))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    op.post("/network/chargers/REG-201/password", json!({}))
        .await
        .problem(503);
    let first = op
        .post("/network/chargers/REG-201/password", json!({"force": true}))
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["handed_to_charger"], false);
    let p1 = first.body["password"].as_str().unwrap().to_string();
    assert!(
        connect_charger_as(&gw_b, "REG-201", "ocpp2.0.1", Some("not the password"))
            .await
            .is_err()
    );
    let mut cp201 = Peer::spawn("registry_cp.py", &["2.0.1", &url_b, "REG-201", &p1]);
    assert_eq!(cp201.expect("ready").await["status"], "Accepted");
    // 2.0.1: the settings come as a device-model report after GetBaseReport.
    assert_eq!(
        cp201.seen_or_expect("received").await["report_base"],
        "ConfigurationInventory"
    );
    cp201.seen_or_expect("reported").await;
    cp201.send_line("firmware Downloading").await;
    cp201.expect("sent").await;
    let detail = op.get("/chargers/REG-201").await.body;
    let settings = detail["settings"].as_array().unwrap();
    assert!(
        settings
            .iter()
            .any(|s| s["key"] == "OCPPCommCtrlr.HeartbeatInterval" && s["value"] == "300"),
        "{detail}"
    );
    assert!(
        settings
            .iter()
            .any(|s| s["key"] == "EVSE.Power" && s["value"] == "11000" && s["readonly"] == true),
        "the Actual attribute, not MaxSet: {detail}"
    );
    assert_eq!(detail["firmware"]["status"], "Downloading", "{detail}");
    assert_eq!(detail["firmware"]["request_id"], 1, "{detail}");
    let second = op
        .post("/network/chargers/REG-201/password", json!({}))
        .await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["handed_to_charger"], true);
    let p2 = second.body["password"].as_str().unwrap().to_string();
    assert_ne!(p1, p2);
    let seen = cp201.expect("received").await;
    assert_eq!(seen["key"], "SecurityCtrlr.BasicAuthPassword");
    assert_eq!(seen["value"], p2.as_str());
    // It logs in again with the new one; from then on the old one is refused.
    assert_eq!(cp201.expect("reconnected").await["status"], "Accepted");
    let network = op.get("/network").await.body;
    assert_eq!(entry(&network, "REG-201")["password_set"], true);
    assert_eq!(
        entry(&network, "REG-201")["password_rotation_pending"],
        false
    );
    assert!(
        connect_charger_as(&gw_a, "REG-201", "ocpp2.0.1", Some(&p1))
            .await
            .is_err(),
        "the old password still works after the charger logged in with the new one"
    );

    // Deleted: disconnected at once by its node, refused from then on; a site goes last.
    assert_eq!(op.delete("/network/chargers/REG-16").await.status, 204);
    cp16.expect("closed").await;
    assert!(connect_charger(&gw_b, "REG-16", "ocpp1.6").await.is_err());
    op.delete("/network/sites/reg-site").await.problem(409);
    assert_eq!(op.delete("/network/chargers/REG-201").await.status, 204);
    cp201.expect("closed").await;
    assert_eq!(op.delete("/network/sites/reg-site").await.status, 204);
    op.delete("/network/sites/reg-site").await.problem(404);
    assert!(!op.get(near).await.body.to_string().contains("reg-site"));
    op.delete("/network/chargers/REG-201").await.problem(404);

    // Every change is in the audit trail.
    let audit = op.get("/audit?limit=500").await.body;
    let writes = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "POST /api/v1/network/chargers")
        .count();
    assert!(writes >= 6, "{audit}");

    // The file form: an export imports back unchanged (hashes included).
    let exported = chargegrid::network_admin::export(api_node.store.as_ref())
        .await
        .unwrap();
    let parsed = chargegrid::network::parse_network(&exported, "export").unwrap();
    let before = api_node.store.network().await.unwrap();
    assert_eq!(parsed, before);
    let report = chargegrid::network_admin::import(api_node.store.as_ref(), &parsed)
        .await
        .unwrap();
    assert_eq!(report.deleted, 0, "{report}");
    assert_eq!(api_node.store.network().await.unwrap(), before);

    cp16.finish().await;
    cp201.finish().await;

    // Last seen: now while connected; when its connection ended once it is gone (the node's
    // ordered shutdown ends its connections before it returns).
    let _cp = crate::harness::RawCharger::booted(&gw_a, "QD-HD-AC01", "ocpp1.6").await;
    let online = op.get("/chargers/QD-HD-AC01").await.body;
    assert_eq!(online["connected"], true, "{online}");
    assert!(online["last_seen"].is_string(), "{online}");
    gw_a.shutdown().await.unwrap();
    let offline = op.get("/chargers/QD-HD-AC01").await.body;
    assert_eq!(offline["connected"], false, "{offline}");
    let seen: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(offline["last_seen"].clone()).expect("a last-seen time");
    assert!(seen <= chrono::Utc::now(), "{offline}");
    api_node.shutdown().await.unwrap();
    gw_b.shutdown().await.unwrap();
}
