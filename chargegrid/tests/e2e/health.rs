//! Vehicle health end to end: a synthetic fleet of 50 vehicles whose batteries age with known
//! truth charges through the real gateway (OCPP 1.6 MeterValues and 2.0.1 TransactionEvents,
//! 10–60 s sampling with rounding and noise), the health worker turns each ended session into
//! features and reports, and the fleet report comes out of the API. Accuracy is computed
//! against the truth and asserted with generous bounds (the exact figures go to
//! docs/BENCHMARKS.md; they are printed here).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::driver::{Fleet, IdTagRecord, IdTagStatus, Role, Vehicle};
use chargegrid_core::meter::MeterSample;
use chargegrid_core::{FleetId, IdTag, VehicleId};
use chargegrid_health::validation::{TrueCondition, VehicleOutcome, VehicleTruth, evaluate};
use chargegrid_health::{AlertKind, VehicleReport};
use chargegrid_simulations::battery::{ChargeKind, Fault, FleetScenario, generate_fleet};
use serde_json::{Value, json};

use crate::api_client::Api;
use crate::harness::{RawCharger, start_app, test_config};

/// Alert kinds scored here. Battery malfunction codes are not: OCPP carries EV error codes only
/// as connector status, which the worker does not collect yet.
const SCORED: [AlertKind; 4] = [
    AlertKind::SohBelowThreshold,
    AlertKind::CapacityStepDrop,
    AlertKind::ResistanceIncrease,
    AlertKind::RepeatedEvAborts,
];

fn network(chargers: &[String]) -> String {
    let mut net = String::from(
        "[[sites]]\nid = \"fleet-depot\"\nname = \"Fleet depot\"\nlocation = { lat = 36.2, lon = 120.4 }\ntimezone = \"Asia/Shanghai\"\ngrid_limit = { max_power = 2000000.0 }\n\n",
    );
    for (i, c) in chargers.iter().enumerate() {
        let version = if i % 2 == 0 { "1.6" } else { "2.0.1" };
        net.push_str(&format!(
            "[[chargers]]\nid = \"{c}\"\nsite = \"fleet-depot\"\nvendor = \"V\"\nmodel = \"DCAC\"\nocpp_version = \"{version}\"\nwiring = \"three_phase\"\nmax_power = 400000.0\n\
             evses = [{{ id = 1, max_current = 500.0, max_power = 350000.0, connectors = [{{ id = 1, type = \"CCS2\" }}] }},\
             {{ id = 2, max_current = 32.0, max_power = 22000.0, connectors = [{{ id = 2, type = \"Type2\" }}] }}]\n\n"
        ));
    }
    net
}

fn sampled_16(s: &MeterSample) -> Value {
    let mut v = json!({
        "value": format!("{}", s.value),
        "measurand": s.measurand.as_str(),
        "unit": s.unit.as_str(),
        "context": s.context.as_str(),
        "location": s.location.as_str(),
    });
    if let Some(p) = &s.phase {
        v["phase"] = json!(p.as_str());
    }
    v
}

fn sampled_201(s: &MeterSample) -> Value {
    let mut v = json!({
        "value": s.value,
        "measurand": s.measurand.as_str(),
        "unitOfMeasure": {"unit": s.unit.as_str()},
        "context": s.context.as_str(),
        "location": s.location.as_str(),
    });
    if let Some(p) = &s.phase {
        v["phase"] = json!(p.as_str());
    }
    v
}

/// Meter values grouped by timestamp, in time order.
fn by_time(samples: &[MeterSample]) -> Vec<(chrono::DateTime<chrono::Utc>, Vec<&MeterSample>)> {
    let mut groups: BTreeMap<chrono::DateTime<chrono::Utc>, Vec<&MeterSample>> = BTreeMap::new();
    for s in samples {
        groups.entry(s.timestamp).or_default().push(s);
    }
    groups.into_iter().collect()
}

fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synthetic_fleet_charging_through_the_gateway_gets_accurate_reports() {
    let fleet_sim = generate_fleet(&FleetScenario {
        vehicles: 50,
        sessions_per_vehicle: 22,
        seed: 7,
        ..FleetScenario::default()
    })
    .unwrap();
    let mut charger_ids: Vec<String> = fleet_sim
        .sessions
        .iter()
        .map(|s| s.charger.clone())
        .collect();
    charger_ids.sort();
    charger_ids.dedup();
    let dir = std::env::temp_dir().join(format!("cg-health-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("net.toml");
    std::fs::write(&file, crate::harness::open_network(&network(&charger_ids))).unwrap();
    let mut config = test_config("memory://");
    config.network.file = Some(file);
    // One operator reads every vehicle's report and history: more than the default 600 a minute.
    config.api.rate_limit_per_minute = 5_000;
    // The datasheet pack voltage of each model, as an operator would configure it.
    for v in &fleet_sim.vehicles {
        config
            .health
            .model_voltages
            .insert(v.pack.model.clone(), v.pack.nominal_voltage().0);
    }
    let app = start_app(&config).await;

    // The fleet, its vehicles and one card per vehicle.
    let fleet_id = FleetId::new("synthetic").unwrap();
    app.store
        .put_fleet(&Fleet {
            id: fleet_id.clone(),
            name: "Synthetic".into(),
            default_dwell_hours: None,
        })
        .await
        .unwrap();
    for (i, v) in fleet_sim.vehicles.iter().enumerate() {
        app.store
            .put_vehicle(&Vehicle {
                id: VehicleId::new(v.id.clone()).unwrap(),
                fleet: Some(fleet_id.clone()),
                model: v.pack.model.clone(),
                nominal_capacity: v.pack.nominal_energy(),
                label: None,
                battery: None,
                first_registration: None,
            })
            .await
            .unwrap();
        app.store
            .put_id_tag(&IdTagRecord {
                tag: IdTag::new(format!("CARD{i:04}")).unwrap(),
                driver: None,
                vehicle: Some(VehicleId::new(v.id.clone()).unwrap()),
                fleet: Some(fleet_id.clone()),
                status: IdTagStatus::Accepted,
                expires_at: None,
                parent: None,
                allow_concurrent: true,
            })
            .await
            .unwrap();
    }

    // Every session through the gateway, on its charger, in the order they happened.
    let mut chargers: HashMap<String, (RawCharger, bool)> = HashMap::new();
    for (i, c) in charger_ids.iter().enumerate() {
        let v201 = i % 2 == 1;
        let mut cp = RawCharger::connect(&app, c, if v201 { "ocpp2.0.1" } else { "ocpp1.6" }).await;
        let boot = if v201 {
            json!({"chargingStation": {"vendorName": "V", "model": "DCAC"}, "reason": "PowerUp"})
        } else {
            json!({"chargePointVendor": "V", "chargePointModel": "DCAC"})
        };
        assert_eq!(
            cp.call("b", "BootNotification", boot).await[2]["status"],
            "Accepted"
        );
        chargers.insert(c.clone(), (cp, v201));
    }
    // Chargers work in parallel; each charger's sessions go in order.
    let fleet_sim = Arc::new(fleet_sim);
    let mut tasks = Vec::new();
    for (charger, (cp, v201)) in chargers {
        let fleet_sim = fleet_sim.clone();
        tasks.push(tokio::spawn(async move {
            replay_charger(fleet_sim, charger, cp, v201).await
        }));
    }
    let mut messages = 0usize;
    for t in tasks {
        messages += t.await.unwrap();
    }
    eprintln!(
        "health e2e: {} sessions, {messages} meter messages through the gateway",
        fleet_sim.sessions.len()
    );

    // Wait for the roll-up to cover every vehicle with all its sessions.
    let api = Api::new(app.api_addr.unwrap());
    let (op, op_id) = api.signup("fleet-op@example.com").await;
    let id = chargegrid_core::DriverId::new(op_id).unwrap();
    let mut d = app.store.get_driver(&id).await.unwrap().unwrap();
    d.role = Role::Operator;
    app.store.update_driver(&d).await.unwrap();
    let per_vehicle = fleet_sim.sessions.len() / fleet_sim.vehicles.len();
    let mut rollup = Value::Null;
    for _ in 0..600 {
        rollup = op.get("/fleets/synthetic/health?sort=soh").await.body;
        let done = rollup["rows"].as_array().is_some_and(|rows| {
            rows.len() == fleet_sim.vehicles.len()
                && rows
                    .iter()
                    .all(|r| r["sessions"].as_u64() == Some(per_vehicle as u64))
        });
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = rollup["rows"].as_array().expect("a roll-up");
    assert_eq!(rows.len(), 50, "every vehicle in the roll-up");
    // The health crate's own statement, served as it is.
    assert_eq!(
        rollup["disclaimer"].as_str(),
        Some(chargegrid_health::DISCLAIMER)
    );
    assert!(chargegrid_health::DISCLAIMER.contains("not a battery certificate"));
    // The health crate's filters and sort keys, typed: an unknown one is a 400.
    for bad in [
        "sort=colour",
        "alert=sad_battery",
        "min_severity=loud",
        "order=up",
    ] {
        let r = op.get(&format!("/fleets/synthetic/health?{bad}")).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    let severe = op
        .get("/fleets/synthetic/health?min_severity=warning&sort=severity&order=desc")
        .await
        .body;
    let severe_rows = severe["rows"].as_array().unwrap();
    assert!(
        severe_rows
            .iter()
            .all(|r| matches!(r["worst_severity"].as_str(), Some("warning" | "critical")))
    );
    let alerted = rows
        .iter()
        .filter(|r| matches!(r["worst_severity"].as_str(), Some("warning" | "critical")));
    assert_eq!(severe_rows.len(), alerted.count());
    let csv = reqwest::Client::new()
        .get(format!("{}/fleets/synthetic/health.csv", api.base))
        .bearer_auth(op.token.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 51, "header and one line per vehicle");
    let svg = op.get("/fleets/synthetic/health/soh.svg").await;
    assert!(
        svg.body.as_str().unwrap().starts_with("<svg")
            || svg.body.as_str().unwrap().contains("<svg")
    );

    // Accuracy against the truth.
    let mut truths = Vec::new();
    let mut outcomes = Vec::new();
    for (i, v) in fleet_sim.vehicles.iter().enumerate() {
        if v.faults
            .iter()
            .any(|f| matches!(f, Fault::BmsSocError { .. }))
        {
            continue; // undetectable by design when it shrinks the apparent capacity
        }
        let ss: Vec<_> = fleet_sim
            .sessions
            .iter()
            .filter(|s| s.vehicle == i)
            .collect();
        let at = |k: usize| ss[k].session.ended_at;
        let mut conditions = Vec::new();
        if let Some(k) = ss.iter().position(|s| s.session.truth.soh_pct < 80.0) {
            conditions.push(TrueCondition {
                kind: AlertKind::SohBelowThreshold,
                onset: at(k),
            });
        }
        let mut base: Vec<f64> = ss
            .iter()
            .take(5)
            .map(|s| s.session.truth.resistance_25c_ohm)
            .collect();
        base.sort_by(f64::total_cmp);
        if let Some(k) = ss
            .iter()
            .position(|s| s.session.truth.resistance_25c_ohm / base[2] >= 1.3)
        {
            conditions.push(TrueCondition {
                kind: AlertKind::ResistanceIncrease,
                onset: at(k),
            });
        }
        for f in &v.faults {
            let first = |t| ss.iter().position(|s| s.session.request.started_at >= t);
            match f {
                Fault::CapacityStep { at: t, .. } => {
                    if let Some(k) = first(*t) {
                        conditions.push(TrueCondition {
                            kind: AlertKind::CapacityStepDrop,
                            onset: at(k),
                        });
                    }
                }
                Fault::SpuriousAborts { at: t, .. } => {
                    if let Some(k) = first(*t) {
                        conditions.push(TrueCondition {
                            kind: AlertKind::RepeatedEvAborts,
                            onset: at(k),
                        });
                    }
                }
                _ => {}
            }
        }
        let vid = VehicleId::new(v.id.clone()).unwrap();
        let body = op.get(&format!("/vehicles/{}/health", v.id)).await.body;
        let report: VehicleReport =
            serde_json::from_value(body.clone()).unwrap_or_else(|e| panic!("{e}: {body}"));
        // The records store kept the report over time; its newest point is this report.
        let history = op.get(&format!("/vehicles/{}/health/history", v.id)).await;
        assert_eq!(history.status, 200, "{:?}", history.body);
        let newest = &history.body["points"][0];
        assert_eq!(
            newest["as_of"]
                .as_str()
                .map(|t| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap()),
            report.as_of,
            "{newest}"
        );
        assert_eq!(newest["soh_pct"].as_f64(), report.soh.soh_pct, "{newest}");
        truths.push(VehicleTruth {
            vehicle: vid.clone(),
            soh_pct: fleet_sim.final_truth[i].soh_pct,
            trend_pct_per_month: None,
            conditions,
        });
        outcomes.push(VehicleOutcome {
            vehicle: vid,
            soh: report.soh.clone(),
            trend_pct_per_month: None,
            raised: report
                .alerts
                .iter()
                .map(|a| (a.kind, a.first_raised_at))
                .collect(),
        });
    }
    let figures = evaluate(&truths, &outcomes, &SCORED).unwrap();
    eprintln!("health e2e figures: {figures:#?}");
    let mae = figures.soh_mae.expect("SoH estimated for the vehicles");
    assert!(mae <= 2.0, "SoH mean absolute error {mae}");
    assert!(
        figures.interval_coverage.is_some_and(|c| c >= 0.7),
        "interval coverage {:?}",
        figures.interval_coverage
    );
    assert!(
        figures.insufficient_share <= 0.2,
        "withheld share {}",
        figures.insufficient_share
    );
    if let (Some(p), Some(r)) = (figures.alert_precision, figures.alert_recall) {
        assert!(p >= 0.7 && r >= 0.7, "alert precision {p} recall {r}");
    }
    app.shutdown().await.unwrap();
}

/// Sends every session of one charger through the gateway; returns the meter messages sent.
async fn replay_charger(
    fleet_sim: Arc<chargegrid_simulations::battery::SyntheticFleet>,
    charger: String,
    mut cp: RawCharger,
    v201: bool,
) -> usize {
    let cp = &mut cp;
    let mut messages = 0usize;
    for (k, fs) in fleet_sim
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, fs)| fs.charger == charger)
    {
        let s = &fs.session;
        let tag = format!("CARD{:04}", fs.vehicle);
        let evse = if s.request.kind == ChargeKind::Dc {
            1
        } else {
            2
        };
        let samples = s.to_meter_samples();
        let groups = by_time(&samples);
        let reason = s.stop_reason.as_str().to_string();
        if v201 {
            let tx = format!("S{k}");
            let mut seq = 0;
            for (n, chunk) in groups.chunks(20).enumerate() {
                let values: Vec<Value> = chunk
                    .iter()
                    .map(|(t, ss)| json!({"timestamp": ts(*t), "sampledValue": ss.iter().map(|x| sampled_201(x)).collect::<Vec<_>>()}))
                    .collect();
                let kind = if n == 0 { "Started" } else { "Updated" };
                let mut event = json!({"eventType": kind, "timestamp": ts(chunk[0].0), "triggerReason": "MeterValuePeriodic",
                    "seqNo": seq, "transactionInfo": {"transactionId": tx}, "meterValue": values});
                if n == 0 {
                    event["idToken"] = json!({"idToken": tag, "type": "ISO14443"});
                    event["evse"] = json!({"id": evse, "connectorId": 1});
                    event["triggerReason"] = json!("Authorized");
                }
                let a = cp
                    .call(&format!("e{k}-{n}"), "TransactionEvent", event)
                    .await;
                assert_eq!(a[0], 3, "{a}");
                seq += 1;
                messages += 1;
            }
            let end = json!({"eventType": "Ended", "timestamp": ts(s.ended_at), "triggerReason": "EVCommunicationLost", "seqNo": seq,
                "transactionInfo": {"transactionId": tx, "stoppedReason": reason}});
            assert_eq!(
                cp.call(&format!("x{k}"), "TransactionEvent", end).await[0],
                3
            );
        } else {
            let register = samples
                .iter()
                .find(|x| x.is_total_import_register())
                .map_or(0, |x| x.normalized().0 as i64);
            let start = json!({"connectorId": evse, "idTag": tag, "meterStart": register, "timestamp": ts(s.request.started_at)});
            let started = cp.call(&format!("s{k}"), "StartTransaction", start).await;
            let tx = started[2]["transactionId"].as_i64().unwrap();
            for (n, chunk) in groups.chunks(20).enumerate() {
                let values: Vec<Value> = chunk
                    .iter()
                    .map(|(t, ss)| json!({"timestamp": ts(*t), "sampledValue": ss.iter().map(|x| sampled_16(x)).collect::<Vec<_>>()}))
                    .collect();
                let a = cp
                    .call(
                        &format!("m{k}-{n}"),
                        "MeterValues",
                        json!({"connectorId": evse, "transactionId": tx, "meterValue": values}),
                    )
                    .await;
                assert_eq!(a[0], 3, "{a}");
                messages += 1;
            }
            let last = samples
                .iter()
                .filter(|x| x.is_total_import_register())
                .map(|x| x.normalized().0 as i64)
                .max()
                .unwrap_or(register);
            let stop = json!({"transactionId": tx, "meterStop": last, "timestamp": ts(s.ended_at), "reason": reason});
            assert_eq!(
                cp.call(&format!("x{k}"), "StopTransaction", stop).await[0],
                3
            );
        }
    }
    messages
}
