//! The operators' view on a real Prometheus: chargegrid runs with simulated chargers, a driver,
//! a fleet vehicle and a demand-response window; Prometheus (Debian package) scrapes it; every
//! PromQL expression of every dashboard panel and annotation (variables substituted) must parse
//! and return data; every variable query must find values; `promtool check metrics` must pass;
//! and the dashboard JSON must be loadable by Grafana's provisioning.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use chargegrid_core::driver::{Fleet, IdTagRecord, IdTagStatus, Vehicle};
use chargegrid_core::{FleetId, IdTag, VehicleId, WattHours};
use chargegrid_test_support::{ChildProcess, free_port};
use serde_json::{Value, json};

use crate::api_client::Api;
use crate::harness::{RawCharger, start_app, test_config, ts};

fn grafana_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../grafana")
}

fn dashboards() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(grafana_dir().join("dashboards")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            out.push((path.file_name().unwrap().to_string_lossy().to_string(), doc));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "1h")
        .replace("$site", ".*")
        .replace("$ocpp_version", ".*")
        .replace("$job", ".*")
        .replace("$instance", ".*")
}

#[test]
fn dashboards_are_valid_for_provisioning() {
    let provisioning =
        std::fs::read_to_string(grafana_dir().join("provisioning/datasources/chargegrid.yaml"))
            .unwrap();
    let uid = provisioning
        .lines()
        .find_map(|l| l.trim().strip_prefix("uid: "))
        .expect("the datasource has a uid");
    let boards = dashboards();
    assert_eq!(boards.len(), 5);
    let mut uids = std::collections::BTreeSet::new();
    for (file, doc) in &boards {
        assert!(
            doc["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
            "{file}"
        );
        assert!(
            uids.insert(doc["uid"].as_str().unwrap().to_string()),
            "{file}: duplicate uid"
        );
        // Panels query the dashboard's Prometheus variable, which defaults to the provisioned
        // datasource: no uid is hard-coded into a panel.
        let var = doc["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "datasource")
            .unwrap_or_else(|| panic!("{file}: no datasource variable"));
        assert_eq!(var["type"], "datasource", "{file}");
        assert_eq!(var["query"], "prometheus", "{file}");
        assert_eq!(var["current"]["value"], uid, "{file}");
        let mut ids = std::collections::BTreeSet::new();
        for p in doc["panels"].as_array().unwrap() {
            assert!(
                ids.insert(p["id"].as_u64().unwrap()),
                "{file}: duplicate panel id"
            );
            assert_eq!(
                p["datasource"]["uid"], "${datasource}",
                "{file}: {}",
                p["title"]
            );
            for t in p["targets"].as_array().unwrap() {
                assert_eq!(
                    t["datasource"]["uid"], "${datasource}",
                    "{file}: {}",
                    p["title"]
                );
            }
        }
        for p in doc["panels"].as_array().unwrap() {
            // Maps fit the sites the query returns, wherever the network is.
            if p["type"] == "geomap" {
                assert_eq!(p["options"]["view"]["id"], "fit", "{file}: {}", p["title"]);
            }
            // "Today" is the calendar day so far, not a rolling 24 hours.
            if p["title"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .contains("today")
            {
                assert_eq!(p["timeFrom"], "now/d", "{file}: {}", p["title"]);
                for t in p["targets"].as_array().unwrap() {
                    assert!(
                        !t["expr"].as_str().unwrap().contains("[1d]"),
                        "{file}: {}",
                        p["title"]
                    );
                }
            }
        }
        // The variables' and annotations' queries too.
        for v in doc["templating"]["list"].as_array().unwrap() {
            if v["name"] != "datasource" {
                assert_eq!(
                    v["datasource"]["uid"], "${datasource}",
                    "{file}: {}",
                    v["name"]
                );
            }
        }
        for a in doc["annotations"]["list"].as_array().unwrap() {
            if a.get("builtIn").is_none() {
                assert_eq!(
                    a["datasource"]["uid"], "${datasource}",
                    "{file}: {}",
                    a["name"]
                );
            }
        }
    }
}

async fn query(prom: &str, expr: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{prom}/api/v1/query"))
        .query(&[("query", expr)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_query_returns_data_on_a_real_prometheus() {
    // On Redis, so the store panels have data; a demand-response window is already in force.
    let redis = chargegrid_test_support::RedisServer::start();
    {
        let store = chargegrid_store::RedisStore::connect(
            &redis.url(),
            chargegrid_core::NodeId::new("setup").unwrap(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        use chargegrid_store::SchedulerStore;
        store
            .put_limit_window(
                &chargegrid_core::SiteId::new("qd-huangdao-depot").unwrap(),
                &chargegrid_store::LimitWindow {
                    id: "dr-test".into(),
                    from: chrono::Utc::now() - chrono::Duration::minutes(1),
                    to: None,
                    limit: chargegrid_core::limits::Limit::power(chargegrid_core::Watts(20_000.0)),
                    reason: "test".into(),
                },
            )
            .await
            .unwrap();
    }
    let mut config = test_config(&redis.url());
    config.scheduler.enabled = true;
    config.scheduler.period = Duration::from_secs(1);
    config.ocpp.gateway.call_timeout = Duration::from_millis(300);
    let app = start_app(&config).await;
    let metrics_addr = app.metrics_addr;
    // A demand charge on the depot's supply contract, so the scheduler tracks the month's
    // demand there (the site-power board's billed-peak panel has no `or vector(0)`).
    {
        let depot = chargegrid_core::SiteId::new("qd-huangdao-depot").unwrap();
        let mut site = app.store.get_site(&depot).await.unwrap().unwrap();
        site.supply = Some(
            serde_json::from_value(
                json!({"base_price_per_kwh": 0.68, "demand_charge_per_kw": 30.0}),
            )
            .unwrap(),
        );
        app.store.put_site(&site).await.unwrap();
    }

    // Traffic: chargers on a site, a fleet vehicle charging, a driver, bad input, commands.
    let fleet = FleetId::new("ops-fleet").unwrap();
    app.store
        .put_fleet(&Fleet {
            id: fleet.clone(),
            name: "Ops".into(),
            default_dwell_hours: None,
        })
        .await
        .unwrap();
    app.store
        .put_vehicle(&Vehicle {
            id: VehicleId::new("OPS-V1").unwrap(),
            fleet: Some(fleet.clone()),
            model: "Van".into(),
            nominal_capacity: WattHours(60_000.0),
            label: None,
            battery: None,
            first_registration: None,
        })
        .await
        .unwrap();
    app.store
        .put_id_tag(&IdTagRecord {
            tag: IdTag::new("OPSCARD").unwrap(),
            driver: None,
            vehicle: Some(VehicleId::new("OPS-V1").unwrap()),
            fleet: Some(fleet.clone()),
            status: IdTagStatus::Accepted,
            expires_at: None,
            parent: None,
            allow_concurrent: false,
        })
        .await
        .unwrap();
    let mut cps = Vec::new();
    for (i, version) in [(1, "ocpp1.6"), (2, "ocpp1.6"), (6, "ocpp2.0.1")] {
        let id = format!("QD-HD-AC{i:02}");
        let mut cp = RawCharger::connect(&app, &id, version).await;
        if version == "ocpp1.6" {
            cp.call(
                "b",
                "BootNotification",
                json!({"chargePointVendor": "V", "chargePointModel": "M"}),
            )
            .await;
            cp.call(
                "s",
                "StatusNotification",
                json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
            )
            .await;
        } else {
            cp.call(
                "b",
                "BootNotification",
                json!({"chargingStation": {"vendorName": "V", "model": "M"}, "reason": "PowerUp"}),
            )
            .await;
            cp.call("s", "StatusNotification", json!({"timestamp": ts(0), "connectorStatus": "Available", "evseId": 1, "connectorId": 1})).await;
        }
        cp.send_text("not json").await;
        cp.recv().await;
        cps.push(cp);
    }
    let cp = &mut cps[0];
    let started = cp
        .call(
            "st",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "OPSCARD", "meterStart": 0, "timestamp": ts(-1800)}),
        )
        .await;
    let tx = started[2]["transactionId"].as_i64().unwrap();
    for k in 1..=6 {
        cp.call(&format!("m{k}"), "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(-1800 + k * 300), "sampledValue": [
            {"value": (k * 900).to_string(), "measurand": "Energy.Active.Import.Register"},
            {"value": "10800", "measurand": "Power.Active.Import", "unit": "W"}]}]})).await;
    }
    cp.call(
        "x",
        "StopTransaction",
        json!({"transactionId": tx, "meterStop": 5400, "timestamp": ts(0)}),
    )
    .await;
    let started = cp
        .call(
            "st2",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": "OPSCARD", "meterStart": 5400, "timestamp": ts(0)}),
        )
        .await;
    assert_eq!(started[0], 3);
    // A driver's stated energy on the running session and 20 earlier statements at the depot:
    // the scheduler plans the figure corrected (the site-power board's correction panel has no
    // `or vector(0)`).
    {
        let depot = chargegrid_core::SiteId::new("qd-huangdao-depot").unwrap();
        for _ in 0..chargegrid_core::stays::MIN_CALIBRATION {
            app.store.push_statement_ratio(&depot, 0.6).await.unwrap();
        }
        let running = app.store.active_sessions(&depot).await.unwrap();
        let needs = chargegrid_store::EvNeeds {
            energy: Some(WattHours(20_000.0)),
            departure: None,
            min_power: None,
            max_power: None,
            source: chargegrid_store::NeedsSource::Driver,
            updated_at: chrono::Utc::now(),
        };
        app.store
            .put_ev_needs(&depot, &running[0].id, &needs)
            .await
            .unwrap();
    }
    // A command that times out (nobody answers) and one that is answered.
    let charger = chargegrid_core::ChargerId::new("QD-HD-AC02").unwrap();
    let store = app.store.clone();
    let silent = tokio::spawn(async move {
        store
            .send_command(
                &charger,
                chargegrid_core::command::ChargerCommand::Reset {
                    kind: chargegrid_core::command::ResetKind::Soft,
                },
                Duration::from_secs(5),
            )
            .await
    });
    cps[1].recv().await;
    silent.await.unwrap().unwrap();
    let api = Api::new(app.api_addr.unwrap());
    api.signup("ops-driver@example.com")
        .await
        .0
        .get("/stations?lat=35.96&lon=120.19&radius_km=5")
        .await;

    // A real Prometheus scraping every second.
    let dir = std::env::temp_dir().join(format!("cg-prom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: chargegrid\n    static_configs:\n      - targets: [\"{metrics_addr}\"]\n"),
    )
    .unwrap();
    let port = free_port();
    let prom_url = format!("http://127.0.0.1:{port}");
    let config_arg = format!("--config.file={}", dir.join("prometheus.yml").display());
    let data_arg = format!("--storage.tsdb.path={}", dir.join("data").display());
    let listen_arg = format!("--web.listen-address=127.0.0.1:{port}");
    let _prometheus = ChildProcess::spawn(
        std::path::Path::new("prometheus"),
        &[&config_arg, &data_arg, &listen_arg],
        &[],
    )
    .expect("prometheus (Debian package) is installed by scripts/test");

    // promtool agrees with our exposition format.
    let exposition = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        promtool
            .stdin
            .take()
            .unwrap()
            .write_all(exposition.as_bytes())
            .unwrap();
    }
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Wait until Prometheus has scraped long enough for 1-minute rates (and the health worker's
    // roll-up), then run every expression.
    let mut ready = false;
    for _ in 0..600 {
        let r = reqwest::get(format!(
            "{prom_url}/api/v1/query?query=count_over_time(up%5B1m%5D)"
        ))
        .await;
        if let Ok(r) = r
            && let Ok(v) = r.json::<Value>().await
            && v["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| n >= 8)
        {
            let health = query(&prom_url, "sum(chargegrid_health_vehicles)").await;
            if !health["data"]["result"]
                .as_array()
                .is_some_and(|a| a.is_empty())
            {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ready,
        "Prometheus scraped chargegrid and the health roll-up ran"
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for (file, doc) in dashboards() {
        let mut exprs: Vec<(String, String)> = Vec::new();
        for p in doc["panels"].as_array().unwrap() {
            for t in p["targets"].as_array().unwrap() {
                exprs.push((
                    format!("{file} / {}", p["title"].as_str().unwrap()),
                    t["expr"].as_str().unwrap().to_string(),
                ));
            }
        }
        for a in doc["annotations"]["list"].as_array().unwrap() {
            if let Some(e) = a["expr"].as_str() {
                exprs.push((format!("{file} / annotation {}", a["name"]), e.to_string()));
            }
        }
        for v in doc["templating"]["list"].as_array().unwrap() {
            if v["type"] == "datasource" {
                continue;
            }
            let q = v["query"]["query"].as_str().unwrap();
            let inner = q.trim_start_matches("label_values(").trim_end_matches(')');
            let (metric, label) = inner.split_once(", ").unwrap();
            let values: Value = reqwest::Client::new()
                .get(format!("{prom_url}/api/v1/label/{label}/values"))
                .query(&[("match[]", substitute(metric))])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if values["data"].as_array().is_none_or(|a| a.is_empty()) {
                failures.push(format!("{file}: variable {} finds no values", v["name"]));
            }
        }
        for (what, expr) in exprs {
            checked += 1;
            let r = query(&prom_url, &substitute(&expr)).await;
            if r["status"] != "success" {
                failures.push(format!("{what}: {} ({})", r["error"], expr));
            } else if r["data"]["result"].as_array().is_none_or(|a| a.is_empty()) {
                failures.push(format!("{what}: no data ({expr})"));
            }
        }
    }
    assert!(checked > 40, "{checked} expressions checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} expressions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    drop(cps);
    app.shutdown().await.unwrap();
}
