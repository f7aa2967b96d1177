//! The records store's conformance suite on both backends: SQLite (a file in a temporary
//! directory, as the embedded default keeps it) and a private PostgreSQL started for the test.

use chargegrid_test_support::PostgresServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_conformance_on_sqlite() {
    let dir =
        std::env::temp_dir().join(format!("chargegrid-records-{}-sqlite", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("records.db").display());
    let store = chargegrid_records::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    chargegrid_records::conformance::sessions(store.clone()).await;
    chargegrid_records::conformance::cdrs(store.clone()).await;
    chargegrid_records::conformance::documents(store.clone()).await;
    chargegrid_records::conformance::audit(store.clone()).await;
    chargegrid_records::conformance::health_reports(store).await;
    // Opening again finds the schema in place and the records kept (a restart).
    let again = chargegrid_records::open(&url).await.unwrap();
    assert_eq!(again.session_count().await.unwrap(), 9);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_conformance_on_postgres() {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap();
    let store = chargegrid_records::open(&server.url()).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    chargegrid_records::conformance::sessions(store.clone()).await;
    chargegrid_records::conformance::cdrs(store.clone()).await;
    chargegrid_records::conformance::documents(store.clone()).await;
    chargegrid_records::conformance::audit(store.clone()).await;
    chargegrid_records::conformance::health_reports(store).await;
    let again = chargegrid_records::open(&server.url()).await.unwrap();
    assert_eq!(again.session_count().await.unwrap(), 9);
}

#[tokio::test]
async fn a_records_url_of_no_backend_is_refused_naming_the_forms() {
    let err = chargegrid_records::open("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

/// Sessions on Redis become charge detail records in PostgreSQL exactly once, priced across a
/// time-of-use boundary in the site's time zone with an idle fee after the grace period; a
/// pump that dies after writing or before writing loses and doubles nothing; after Redis is
/// flushed the records, the session and its history are still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_become_cdrs_once_and_outlive_a_redis_flush() {
    use chargegrid::records_pump::{RecordsMetrics, RecordsPump};
    use chargegrid_core::{SessionId, SiteId};
    use serde_json::{Value, json};

    use crate::api_client::Api;
    use crate::harness::{RawCharger, test_config};

    const OPERATOR: &str = "billing@example.com";
    const PASSWORD: &str = "correct horse battery staple";
    let redis = chargegrid_test_support::RedisServer::start();
    let postgres = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap();
    let mut config = test_config(&redis.url());
    config.records.url = postgres.url();
    config.admin.email = Some(OPERATOR.into());
    config.admin.password = Some(PASSWORD.into());
    // A gateway node and an API node, and no scheduler role: the test runs the pump itself,
    // so it can stop it between its two steps.
    let clock = std::sync::Arc::new(chargegrid_core::SystemClock);
    let gateway = chargegrid::App::start(&config, chargegrid::Role::Gateway, clock.clone())
        .await
        .unwrap();
    let api_node = chargegrid::App::start(&config, chargegrid::Role::Api, clock.clone())
        .await
        .unwrap();
    let api = Api::new(api_node.api_addr.unwrap());
    let operator = api.login(OPERATOR, PASSWORD).await;

    // The operator prices the site: 1.40/kWh by day, 0.80 from 22:00 to 07:00 Qingdao time, a
    // 1.00 session fee, 0.50 a minute idle after 15 free minutes, 6 % tax.
    let network = operator.get("/network").await;
    let mut site: Value = network.body["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "qd-may4th-square")
        .unwrap()
        .clone();
    site["tariff"] = json!({
        "id": "m4-2026", "currency": "CNY", "energy_per_kwh": 1.40, "session_fee": 1.00,
        "idle_per_minute": 0.50, "idle_grace_minutes": 15, "tax_percent": 6.0,
        "windows": [{"start": "22:00", "end": "07:00", "energy_per_kwh": 0.80}]
    });
    let mut bad = site.clone();
    bad["tariff"]["currency"] = json!("yuan");
    let refused = operator.post("/network/sites", bad).await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("ISO 4217")
    );
    let saved = operator.post("/network/sites", site).await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);

    // Drivers see the tariff before they start, and the energy price in force now.
    let price_now = || {
        use chrono::Timelike;
        let hour = (chrono::Utc::now() + chrono::Duration::hours(8)).hour();
        if !(7..22).contains(&hour) { 0.80 } else { 1.40 }
    };
    let before = price_now();
    let station = api.get("/stations/qd-may4th-square").await;
    assert_eq!(station.status, 200, "{:?}", station.body);
    assert_eq!(station.body["tariff"]["id"], "m4-2026");
    assert_eq!(station.body["tariff"]["idle_grace_minutes"], 15);
    let shown = station.body["price_per_kwh"].as_f64().unwrap();
    assert!(shown == before || shown == price_now(), "{shown}");

    let (driver, driver_id) = api.signup("billed@example.com").await;
    let linked = driver
        .post("/me/id-tags", json!({"id_tag": "CARD-R1"}))
        .await;
    assert_eq!(linked.status, 201, "{:?}", linked.body);

    // 13:30–15:00 UTC (21:30–23:00 in Qingdao): 10 kWh before 22:00, 5 kWh after, charging
    // ends at 14:15 UTC, then 45 idle minutes.
    let mut cp = RawCharger::booted(&gateway, "QD-M4-DC01", "ocpp1.6").await;
    let at = |hm: &str| format!("2026-12-01T{hm}:00Z");
    let started = cp
        .call(
            "s1",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "CARD-R1", "meterStart": 0, "timestamp": at("13:30")}),
        )
        .await;
    assert_eq!(started[2]["idTagInfo"]["status"], "Accepted", "{started}");
    let tx = started[2]["transactionId"].clone();
    for (i, (hm, wh)) in [
        ("13:45", 5000),
        ("14:00", 10_000),
        ("14:15", 15_000),
        ("14:30", 15_000),
        ("14:45", 15_000),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = cp
            .call(
                &format!("m{i}"),
                "MeterValues",
                json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": at(hm),
                    "sampledValue": [{"value": wh.to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]}),
            )
            .await;
        assert_eq!(answer[0], 3, "{answer}");
    }
    let stopped = cp
        .call(
            "s2",
            "StopTransaction",
            json!({"transactionId": tx, "meterStop": 15_000, "timestamp": at("15:00"), "reason": "EVDisconnected"}),
        )
        .await;
    assert_eq!(stopped[0], 3, "{stopped}");

    let site_id = SiteId::new("qd-may4th-square").unwrap();
    let outbox = gateway.store.records_outbox(&site_id, 10).await.unwrap();
    assert_eq!(outbox.len(), 1, "the ended session waits in the outbox");
    let session_id: SessionId = outbox[0].clone();
    let registry = prometheus::Registry::new();
    let pump = |registry: &prometheus::Registry| {
        RecordsPump::new(
            gateway.store.clone(),
            gateway.records.clone(),
            clock.clone(),
            config.node_id.to_string(),
            RecordsMetrics::new(registry).unwrap(),
        )
    };
    // A pump that dies after writing the record, before taking it out of the outbox...
    let site = gateway.store.get_site(&site_id).await.unwrap();
    assert_eq!(
        pump(&registry)
            .copy(&session_id, site.as_ref())
            .await
            .unwrap(),
        "written"
    );
    assert_eq!(gateway.store.records_outbox_len(&site_id).await.unwrap(), 1);
    // ...and the next pass: nothing written twice, the outbox emptied.
    let second = prometheus::Registry::new();
    assert_eq!(pump(&second).pass().await.unwrap(), 0);
    assert_eq!(gateway.store.records_outbox_len(&site_id).await.unwrap(), 0);
    let counted = crate::harness::registry_text(&second);
    assert!(
        counted.contains("chargegrid_records_sessions_total{outcome=\"already_recorded\"} 1"),
        "{counted}"
    );
    assert!(
        counted.contains("chargegrid_records_outbox_backlog 0"),
        "{counted}"
    );
    // A node that does not hold the pump's lease reports no backlog of its own (a gauge left
    // from when it pumped would hold the alert up).
    let other_registry = prometheus::Registry::new();
    let other_metrics = RecordsMetrics::new(&other_registry).unwrap();
    other_metrics.backlog.set(7);
    let other = RecordsPump::new(
        gateway.store.clone(),
        gateway.records.clone(),
        clock.clone(),
        "another-node".to_string(),
        other_metrics,
    );
    assert_eq!(other.pass().await.unwrap(), 0);
    assert!(
        crate::harness::registry_text(&other_registry)
            .contains("chargegrid_records_outbox_backlog 0"),
        "a node without the lease reports 0"
    );

    // The driver's record: priced across the boundary, idle fee after grace, tax.
    let cdrs = driver.get("/cdrs").await;
    assert_eq!(cdrs.status, 200, "{:?}", cdrs.body);
    let list = cdrs.body["cdrs"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let cdr = &list[0];
    assert_eq!(cdr["session"], session_id.as_str());
    assert_eq!(cdr["auth_method"], "id_tag");
    assert_eq!(cdr["energy"], 15_000.0);
    let cost = &cdr["cost"];
    assert_eq!(cost["tariff_id"], "m4-2026");
    assert_eq!(cost["idle_seconds"], 45 * 60);
    let lines: Vec<(String, f64, f64)> = cost["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().to_string(),
                l["quantity"].as_f64().unwrap(),
                l["amount"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("session_fee".to_string(), 1.0, 1.0),
            ("energy".to_string(), 10.0, 14.0),
            ("energy".to_string(), 5.0, 4.0),
            ("idle".to_string(), 30.0, 15.0),
        ]
    );
    assert_eq!(cost["subtotal"], 34.0);
    assert_eq!(cost["tax"], 2.04);
    assert_eq!(cost["total"], 36.04);
    let cdr_id = cdr["id"].as_str().unwrap().to_string();
    // Drivers see only their own; another driver gets 404 for it and an empty list.
    let (stranger, _) = api.signup("stranger@example.com").await;
    assert_eq!(stranger.get(&format!("/cdrs/{cdr_id}")).await.status, 404);
    assert!(
        stranger.get("/cdrs").await.body["cdrs"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        stranger
            .get(&format!("/cdrs?driver={driver_id}"))
            .await
            .status,
        403
    );
    // CSV for the accounts department.
    let csv = driver.raw(reqwest::Method::GET, "/cdrs.csv", None).await;
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().unwrap().to_string();
    let mut rows = text.lines();
    assert!(rows.next().unwrap().starts_with("id,session,corrects"));
    let row = rows.next().unwrap();
    assert!(
        row.starts_with(&format!("{cdr_id},{session_id},,")),
        "{row}"
    );
    assert!(row.ends_with(",18,0,15,1,0,34,2.04,36.04"), "{row}");

    // An operator's correction is a new record with the difference; the first never changes.
    let fixed = operator
        .post(
            &format!("/cdrs/{cdr_id}/corrections"),
            json!({"total": 30.0, "reason": "idle fee waived in part"}),
        )
        .await;
    assert_eq!(fixed.status, 201, "{:?}", fixed.body);
    assert_eq!(fixed.body["corrects"], cdr_id.as_str());
    assert_eq!(fixed.body["cost"]["total"], -6.04);
    assert_eq!(
        driver
            .post(
                &format!("/cdrs/{cdr_id}/corrections"),
                json!({"total": 0.0, "reason": "x"})
            )
            .await
            .status,
        403
    );
    assert_eq!(driver.get(&format!("/cdrs/{cdr_id}")).await.body, *cdr);
    // The operator's changes reach the archive too (the live store forgets them after its
    // retention): a pass copies them, a second copies nothing again.
    let third = prometheus::Registry::new();
    let archiver = pump(&third);
    archiver.pass().await.unwrap();
    archiver.pass().await.unwrap();
    let archived: Vec<String> = gateway
        .records
        .archived_audit(None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.status))
        .collect();
    assert!(
        archived.contains(&"POST /api/v1/cdrs/{cdr}/corrections 201".to_string())
            && archived.contains(&"POST /api/v1/network/sites 200".to_string())
            && archived.contains(&"POST /api/v1/network/sites 409".to_string()),
        "{archived:?}"
    );
    // The earlier pass archived the site changes; these two passes only the correction, once.
    let copied = crate::harness::registry_text(&third);
    assert!(
        copied.contains("chargegrid_records_audit_entries_total 1\n"),
        "{copied}"
    );

    // Redis loses everything. The records store still has the session, its samples and both
    // records: the operator (re-created from the configuration at restart) reads them.
    let mut conn = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("FLUSHALL").query_async(&mut conn).await.unwrap();
    api_node.shutdown().await.unwrap();
    let api_node = chargegrid::App::start(&config, chargegrid::Role::Api, clock.clone())
        .await
        .unwrap();
    let operator = Api::new(api_node.api_addr.unwrap())
        .login(OPERATOR, PASSWORD)
        .await;
    let kept = operator.get(&format!("/cdrs?driver={driver_id}")).await;
    assert_eq!(kept.status, 200, "{:?}", kept.body);
    let ids: Vec<&str> = kept.body["cdrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [cdr_id.clone(), format!("{cdr_id}-c1")]);
    // The audit trail goes on in the archive: the correction made before the flush is there.
    let trail = operator.get("/audit?limit=500").await;
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let actions: Vec<&str> = trail.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"POST /api/v1/cdrs/{cdr}/corrections"),
        "{actions:?}"
    );
    let session = operator.get(&format!("/sessions/{session_id}")).await;
    assert_eq!(session.status, 200, "{:?}", session.body);
    assert_eq!(session.body["energy_kwh"], 15.0);
    assert_eq!(session.body["cost"], 36.04, "priced on its kept series");
    api_node.shutdown().await.unwrap();
    gateway.shutdown().await.unwrap();
}

/// The embedded default (in-memory live store, records in one SQLite file) keeps what people
/// entered and every ended session across a restart: the driver logs in again and finds their
/// session and its record; the operator's key, fleet, vehicle and network change are there;
/// the sample network keeps its chargers' password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_keeps_accounts_network_and_history_across_a_restart() {
    use chargegrid::records_pump::{RecordsMetrics, RecordsPump};
    use serde_json::json;

    use crate::api_client::Api;
    use crate::harness::{RawCharger, connect_charger_as, test_config};

    const OPERATOR: &str = "owner@example.com";
    const PASSWORD: &str = "correct horse battery staple";
    let dir = std::env::temp_dir().join(format!("chargegrid-embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = test_config("memory://");
    config.network.file = None;
    config.records.url = format!("sqlite://{}", dir.join("data/records.db").display());
    config.admin.email = Some(OPERATOR.into());
    config.admin.password = Some(PASSWORD.into());
    let clock = std::sync::Arc::new(chargegrid_core::SystemClock);
    let app = chargegrid::App::start(&config, chargegrid::Role::All, clock.clone())
        .await
        .unwrap();
    let charger_password = app.sample_charger_password.clone().expect("first start");
    let api = Api::new(app.api_addr.unwrap());
    let operator = api.login(OPERATOR, PASSWORD).await;
    let (driver, _) = api.signup("keeps@example.com").await;
    assert_eq!(
        driver
            .post("/me/id-tags", json!({"id_tag": "CARD-E1"}))
            .await
            .status,
        201
    );
    let key = operator
        .post("/api-keys", json!({"name": "export", "scope": "read"}))
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    let secret = key.body["secret"].as_str().unwrap().to_string();
    assert_eq!(
        operator
            .post("/fleets", json!({"id": "vans", "name": "Vans"}))
            .await
            .status,
        201
    );
    let vehicle = operator
        .post(
            "/fleets/vans/vehicles",
            json!({"id": "van-1", "model": "eVan", "battery": {"nominal_capacity_ah": 150.0, "nominal_voltage_v": 400.0}}),
        )
        .await;
    assert_eq!(vehicle.status, 201, "{:?}", vehicle.body);
    let site = operator
        .post(
            "/network/sites",
            json!({"id": "new-site", "name": "New", "location": {"lat": 36.1, "lon": 120.4},
                   "timezone": "Asia/Shanghai", "grid_limit": {"max_power": 50000.0}}),
        )
        .await;
    assert_eq!(site.status, 201, "{:?}", site.body);

    // A session on the sample network's charger, with its password.
    let (ws, _) = connect_charger_as(&app, "QD-M4-DC01", "ocpp1.6", Some(&charger_password))
        .await
        .unwrap();
    let mut cp = RawCharger { ws };
    let boot = cp
        .call(
            "b",
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "M"}),
        )
        .await;
    assert_eq!(boot[2]["status"], "Accepted");
    let started = cp
        .call(
            "s1",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "CARD-E1", "meterStart": 1000,
                   "timestamp": crate::harness::ts(-3600)}),
        )
        .await;
    let tx = started[2]["transactionId"].clone();
    let stopped = cp
        .call(
            "s2",
            "StopTransaction",
            json!({"transactionId": tx, "meterStop": 21_000, "timestamp": crate::harness::ts(-60),
                   "reason": "Local"}),
        )
        .await;
    assert_eq!(stopped[0], 3);
    drop(cp);
    // The pump runs with the scheduler role; one pass here makes the copy deterministic (same
    // node, so the same lease).
    RecordsPump::new(
        app.store.clone(),
        app.records.clone(),
        clock.clone(),
        config.node_id.to_string(),
        RecordsMetrics::new(&prometheus::Registry::new()).unwrap(),
    )
    .pass()
    .await
    .unwrap();
    assert_eq!(app.records.session_count().await.unwrap(), 1);
    app.shutdown().await.unwrap();

    // The restart.
    let app = chargegrid::App::start(&config, chargegrid::Role::All, clock.clone())
        .await
        .unwrap();
    assert_eq!(
        app.sample_charger_password, None,
        "the sample was kept, not rewritten"
    );
    let api = Api::new(app.api_addr.unwrap());
    let driver = api
        .login("keeps@example.com", "correct horse battery")
        .await;
    let history = driver.get("/sessions").await;
    assert_eq!(history.status, 200);
    let sessions = history.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["energy_kwh"], 20.0);
    assert_eq!(sessions[0]["state"], "ended");
    let cdrs = driver.get("/cdrs").await;
    assert_eq!(cdrs.body["cdrs"].as_array().unwrap().len(), 1);
    assert_eq!(
        cdrs.body["cdrs"][0]["cost"]["total"], 29.0,
        "20 kWh at 1.45"
    );
    let by_key = api.with_token(&secret);
    let network = by_key.get("/network").await;
    assert_eq!(network.status, 200, "the API key still works");
    assert!(
        network.body["sites"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == "new-site")
    );
    let operator = api.login(OPERATOR, PASSWORD).await;
    let van = operator.get("/fleets/vans/vehicles/van-1").await;
    assert_eq!(van.status, 200, "{:?}", van.body);
    assert_eq!(van.body["battery"]["nominal_capacity_ah"], 150.0);
    // The card is still the driver's, and the charger's password still opens it.
    let (ws, _) = connect_charger_as(&app, "QD-M4-DC01", "ocpp1.6", Some(&charger_password))
        .await
        .unwrap();
    let mut cp = RawCharger { ws };
    let auth = cp.call("a", "Authorize", json!({"idTag": "CARD-E1"})).await;
    assert_eq!(auth[2]["idTagInfo"]["status"], "Accepted", "{auth}");
    drop(cp);
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// While the records database is down, the pump's pass fails and the backlog gauge counts what
/// waits (the backlog alert's input), and nothing leaves the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_outage_shows_as_a_backlog_and_keeps_the_outbox() {
    use chargegrid::records_pump::{RecordsMetrics, RecordsPump};
    use chargegrid_store::conformance::{session, site};
    use chargegrid_store::{NetworkStore, SessionStore};

    let postgres = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap();
    let records = chargegrid_records::open(&postgres.url()).await.unwrap();
    let clock: std::sync::Arc<dyn chargegrid_core::Clock> =
        std::sync::Arc::new(chargegrid_core::SystemClock);
    let store = std::sync::Arc::new(chargegrid_store::MemoryStore::new(clock.clone()));
    store.put_site(&site("s1")).await.unwrap();
    let mut ended = session("out-1", "s1", "c1", "1", chrono::Utc::now());
    ended.state = chargegrid_core::session::SessionState::Ended;
    ended.ended_at = Some(chrono::Utc::now());
    store.create_session(&ended).await.unwrap();
    let registry = prometheus::Registry::new();
    let pump = RecordsPump::new(
        store.clone(),
        records,
        clock,
        "n1".into(),
        RecordsMetrics::new(&registry).unwrap(),
    );
    drop(postgres);
    assert!(pump.pass().await.is_err(), "the database is gone");
    let text = crate::harness::registry_text(&registry);
    assert!(
        text.contains("chargegrid_records_outbox_backlog 1\n"),
        "{text}"
    );
    let s1 = chargegrid_core::SiteId::new("s1").unwrap();
    assert_eq!(store.records_outbox_len(&s1).await.unwrap(), 1);
}
