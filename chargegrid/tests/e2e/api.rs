//! The driver API through real HTTP against the running app on a real Redis, with a charger on
//! a real WebSocket: sign up, find stations, get a recommendation, reserve and cancel, remote
//! start, follow the live stream while meter values arrive, set needs, stop, see the history.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::api_client::Api;
use crate::harness::{RawCharger, start_app, test_config, ts};

const MAY4: (f64, f64) = (36.0617, 120.3842);

/// Reads Server-Sent Events from a response into (event, data) pairs on a channel.
fn sse_events(resp: reqwest::Response) -> tokio::sync::mpsc::Receiver<(String, Value)> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut stream = resp.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(e) = line.strip_prefix("event:") {
                        event = e.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if !data.is_empty()
                    && tx
                        .send((event, serde_json::from_str(&data).unwrap()))
                        .await
                        .is_err()
                {
                    return;
                }
            }
        }
    });
    rx
}

async fn next_event(
    rx: &mut tokio::sync::mpsc::Receiver<(String, Value)>,
    want: impl Fn(&str, &Value) -> bool,
) -> Value {
    let wait = async {
        loop {
            let (event, data) = rx.recv().await.expect("stream open");
            if want(&event, &data) {
                return data;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the awaited event (timeout only catches hangs)")
}

/// The charger answers the next CALL with `payload`, returning the CALL.
pub(crate) async fn answer(cp: &mut RawCharger, action: &str, payload: Value) -> Value {
    let call = cp.recv().await;
    assert_eq!(call[0], 2, "{call}");
    assert_eq!(call[2], action, "{call}");
    cp.send_text(&json!([3, call[1], payload]).to_string())
        .await;
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_finds_reserves_charges_follows_and_stops_on_redis() {
    let redis = chargegrid_test_support::RedisServer::start();
    let mut config = test_config(&redis.url());
    config.api.stream_interval = Duration::from_millis(50);
    let app = start_app(&config).await;
    let api = Api::new(app.api_addr.unwrap());

    let mut cp = RawCharger::connect(&app, "QD-M4-AC01", "ocpp1.6").await;
    cp.call(
        "b",
        "BootNotification",
        json!({"chargePointVendor": "TELD", "chargePointModel": "TQAC-7"}),
    )
    .await;
    cp.call("s", "StatusNotification", json!({"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": ts(0)})).await;

    let (me, _) = api.signup("li.wei@example.com").await;
    let profile = me.get("/me").await;
    let app_tag = profile.body["id_tags"][0]["id_tag"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(app_tag.starts_with("APP"));

    // Discovery.
    let near = me
        .get(&format!(
            "/stations?lat={}&lon={}&radius_km=3",
            MAY4.0, MAY4.1
        ))
        .await;
    assert_eq!(near.status, 200, "{:?}", near.body);
    let station = &near.body[0];
    assert_eq!(station["id"], "qd-may4th-square");
    let ac = station["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["connector_type"] == "GBT-AC")
        .unwrap();
    assert_eq!(
        ac["available"], 1,
        "only the connected charger counts as available"
    );
    assert_eq!(station["price_per_kwh"], 1.45);

    // Dispatch.
    let rec = me.post("/recommendations", json!({"lat": MAY4.0, "lon": MAY4.1, "energy_kwh": 10.0, "connector_type": "GBT-AC", "hold": false})).await;
    assert_eq!(rec.status, 200, "{:?}", rec.body);
    assert_eq!(rec.body[0]["site"], "qd-may4th-square");
    assert!(
        rec.body[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("free"))
    );

    // Reserve, then cancel; the charger sees both.
    let reserving = tokio::spawn({
        let me = me.clone();
        async move {
            me.post(
                "/reservations",
                json!({"charger_id": "QD-M4-AC01", "evse_id": 1, "minutes": 15}),
            )
            .await
        }
    });
    let reserve = answer(&mut cp, "ReserveNow", json!({"status": "Accepted"})).await;
    assert_eq!(reserve[3]["idTag"], app_tag.as_str());
    let reserved = reserving.await.unwrap();
    assert_eq!(reserved.status, 201, "{:?}", reserved.body);
    let rid = reserved.body["id"].as_i64().unwrap();
    let busy = me.get("/stations/qd-may4th-square").await;
    let conn = busy.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["charger"] == "QD-M4-AC01")
        .unwrap()
        .clone();
    assert_eq!(conn["free"], false, "a reserved connector is not offered");
    let cancelling = tokio::spawn({
        let me = me.clone();
        async move { me.delete(&format!("/reservations/{rid}")).await }
    });
    answer(&mut cp, "CancelReservation", json!({"status": "Accepted"})).await;
    assert_eq!(cancelling.await.unwrap().body["state"], "cancelled");

    // Remote start: the charger accepts and starts a transaction for the app token.
    let starting = tokio::spawn({
        let me = me.clone();
        async move {
            me.post(
                "/sessions",
                json!({"charger_id": "QD-M4-AC01", "evse_id": 1}),
            )
            .await
        }
    });
    let remote = answer(
        &mut cp,
        "RemoteStartTransaction",
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(remote[3]["idTag"], app_tag.as_str());
    assert_eq!(starting.await.unwrap().status, 202);
    let started = cp
        .call(
            "st",
            "StartTransaction",
            json!({"connectorId": 1, "idTag": app_tag, "meterStart": 20_000, "timestamp": ts(0)}),
        )
        .await;
    assert_eq!(started[2]["idTagInfo"]["status"], "Accepted");
    let tx = started[2]["transactionId"].as_i64().unwrap();

    let history = me.get("/sessions").await;
    let session = history.body["sessions"][0].clone();
    assert_eq!(session["state"], "active");
    let sid = session["id"].as_str().unwrap().to_string();

    // Follow the session live while meter values arrive.
    let resp = reqwest::Client::new()
        .get(format!("{}/sessions/{sid}/events", api.base))
        .bearer_auth(me.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut events = sse_events(resp);
    next_event(&mut events, |e, _| e == "session").await;
    cp.call("mv", "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(0), "sampledValue": [
        {"value": "21000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}]})).await;
    let live = next_event(&mut events, |_, d| d["energy_kwh"] == 1.0).await;
    assert_eq!(live["power_kw"], 7.0);
    assert_eq!(live["cost"], 1.45);

    // The vehicle said it needs 30 kWh (ISO 15118); the driver adds only a departure: the energy
    // figure stays the vehicle's (the scheduler corrects drivers' figures, not vehicles').
    let site = chargegrid_core::SiteId::new("qd-may4th-square").unwrap();
    let id = chargegrid_core::SessionId::new(&sid).unwrap();
    let said = chargegrid_store::EvNeeds {
        energy: Some(chargegrid_core::WattHours::from_kwh(30.0)),
        departure: None,
        min_power: None,
        max_power: None,
        source: chargegrid_store::NeedsSource::Vehicle,
        updated_at: chrono::Utc::now(),
    };
    app.store.put_ev_needs(&site, &id, &said).await.unwrap();
    let leaving = me
        .put(
            &format!("/sessions/{sid}/needs"),
            json!({"departure": (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339()}),
        )
        .await;
    assert_eq!(leaving.status, 200, "{:?}", leaving.body);
    let kept = app.store.get_ev_needs(&site, &id).await.unwrap().unwrap();
    assert_eq!(kept.source, chargegrid_store::NeedsSource::Vehicle);
    assert_eq!(kept.driver_energy(), None);
    assert!(kept.departure.is_some());

    // The driver tells how much energy they need and when they leave.
    let needs = me.put(&format!("/sessions/{sid}/needs"), json!({"energy_kwh": 8.0, "departure": (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339()})).await;
    assert_eq!(needs.status, 200, "{:?}", needs.body);
    assert_eq!(needs.body["energy_needed_kwh"], 8.0);
    assert!(
        needs.body["estimated_finish"].is_string(),
        "1 of 8 kWh at 7 kW gives a finish time"
    );

    // The car is full: it stops drawing before the driver stops the session.
    cp.call("mv2", "MeterValues", json!({"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": ts(0), "sampledValue": [
        {"value": "24500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "0", "measurand": "Power.Active.Import", "unit": "W"}]}]})).await;

    // Stop from the app.
    let stopping = tokio::spawn({
        let me = me.clone();
        let sid = sid.clone();
        async move { me.post(&format!("/sessions/{sid}/stop"), json!({})).await }
    });
    let rstop = answer(
        &mut cp,
        "RemoteStopTransaction",
        json!({"status": "Accepted"}),
    )
    .await;
    assert_eq!(rstop[3]["transactionId"], tx);
    assert_eq!(stopping.await.unwrap().status, 202);
    cp.call(
        "sp",
        "StopTransaction",
        json!({"transactionId": tx, "meterStop": 24_500, "timestamp": ts(0), "reason": "Remote"}),
    )
    .await;
    let ended = next_event(&mut events, |e, _| e == "ended").await;
    assert_eq!(ended["energy_kwh"], 4.5);

    let history = me.get("/sessions?limit=5").await;
    let done = &history.body["sessions"][0];
    assert_eq!(done["state"], "ended");
    assert_eq!(done["energy_kwh"], 4.5);
    assert_eq!(done["cost"], 6.53);
    assert_eq!(done["stop_reason"], "Remote");
    // How the driver's 8 kWh turned out (4.5 delivered, the car full) is kept for the site, from
    // which the scheduler corrects later statements; the needs themselves are gone.
    let ratios = app.store.statement_ratios(&site).await.unwrap();
    assert_eq!(ratios, vec![4.5 / 8.0]);
    assert_eq!(app.store.get_ev_needs(&site, &id).await.unwrap(), None);
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_drivers_is_spread_over_nearby_stations() {
    // Five stations around one point, 4 free connectors each; the nearest is 0.3 km away.
    let dir = std::env::temp_dir().join(format!("cg-burst-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut net = String::new();
    let offsets = [
        (0.003, 0.0),
        (0.012, 0.004),
        (-0.010, 0.008),
        (0.004, -0.015),
        (-0.015, -0.006),
    ];
    for (i, (dlat, dlon)) in offsets.iter().enumerate() {
        net.push_str(&format!(
            "[[sites]]\nid = \"burst-{i}\"\nname = \"Burst {i}\"\nlocation = {{ lat = {}, lon = {} }}\ntimezone = \"Asia/Shanghai\"\ngrid_limit = {{ max_power = 150000.0 }}\nprice_per_kwh = 1.2\n\n",
            36.07 + dlat, 120.38 + dlon
        ));
        net.push_str(&format!(
            "[[chargers]]\nid = \"BURST-{i}\"\nsite = \"burst-{i}\"\nvendor = \"V\"\nmodel = \"DC4\"\nocpp_version = \"1.6\"\nwiring = \"three_phase\"\nmax_power = 240000.0\n\
             evses = [{{ id = 1, max_current = 150.0, max_power = 60000.0, connectors = [{{ id = 1, type = \"CCS2\" }}] }},\
             {{ id = 2, max_current = 150.0, max_power = 60000.0, connectors = [{{ id = 2, type = \"CCS2\" }}] }},\
             {{ id = 3, max_current = 150.0, max_power = 60000.0, connectors = [{{ id = 3, type = \"CCS2\" }}] }},\
             {{ id = 4, max_current = 150.0, max_power = 60000.0, connectors = [{{ id = 4, type = \"CCS2\" }}] }}]\n\n"
        ));
    }
    let file = dir.join("burst.toml");
    std::fs::write(&file, crate::harness::open_network(&net)).unwrap();
    let mut config = test_config("memory://");
    config.network.file = Some(file);
    config.api.rate_limit_per_minute = 100_000;
    let app = start_app(&config).await;
    let mut chargers = Vec::new();
    for i in 0..5 {
        let mut cp = RawCharger::connect(&app, &format!("BURST-{i}"), "ocpp1.6").await;
        cp.call(
            "b",
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "DC4"}),
        )
        .await;
        for c in 1..=4 {
            cp.call(
                &format!("s{c}"),
                "StatusNotification",
                json!({"connectorId": c, "errorCode": "NoError", "status": "Available"}),
            )
            .await;
        }
        chargers.push(cp);
    }
    let api = Api::new(app.api_addr.unwrap());
    let mut chosen: std::collections::BTreeMap<String, usize> = Default::default();
    let mut all_explained = true;
    for d in 0..100 {
        let (me, _) = api.signup(&format!("burst{d}@example.com")).await;
        let rec = me
            .post(
                "/recommendations",
                json!({"lat": 36.07, "lon": 120.38, "energy_kwh": 30.0, "max_detour_km": 5.0}),
            )
            .await;
        assert_eq!(rec.status, 200, "{:?}", rec.body);
        let top = &rec.body[0];
        all_explained &= !top["reasons"].as_array().unwrap().is_empty();
        *chosen
            .entry(top["site"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert!(all_explained, "every answer says why");
    assert!(
        chosen.len() >= 4,
        "spread over at least 4 stations: {chosen:?}"
    );
    let nearest = chosen.get("burst-0").copied().unwrap_or(0);
    assert!(
        nearest < 50,
        "the nearest station does not take half the burst: {chosen:?}"
    );
    assert!(
        nearest >= 4,
        "the nearest station is filled first: {chosen:?}"
    );
    app.shutdown().await.unwrap();
}
