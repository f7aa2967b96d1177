//! Live smart charging end to end: real WebSockets, real Redis, the scheduler service driving
//! simulated chargers. Every safety claim is checked from the chargers' side: each simulated
//! charger applies the profiles it receives in the order they arrive, and the test replays the
//! whole site — each EV drawing min(its limit, its own maximum) — after every profile, start,
//! stop and taper, asserting the site stays within its limit at every one of those moments.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chargegrid::{App, Config, Role};
use chargegrid_core::limits::Limit;
use chargegrid_core::{SiteId, SystemClock, Watts};
use chargegrid_scheduler::control::{ControlLoop, SchedulerMetrics};
use chargegrid_store::{ChangeKind, LimitWindow, SiteChange, Store};
use chargegrid_test_support::RedisServer;
use futures::SinkExt;
use futures::stream::{SplitSink, StreamExt};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{RawCharger, test_config};
use crate::peer::Peer;

/// Phase-to-neutral voltage of the test site; three-phase chargers draw 3 × 230 W per ampere.
const WATTS_PER_AMP: f64 = 690.0;
/// Every EVSE's own limit: 11 kW on three phases.
const EVSE_MAX_A: f64 = 11_000.0 / WATTS_PER_AMP;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Writes a network file: one site with `limit_w` and three-phase 11 kW chargers.
fn network_file(name: &str, site: &str, limit_w: f64, chargers: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cg-smart-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut net = format!(
        "[[sites]]\nid = \"{site}\"\nname = \"Smart\"\nlocation = {{ lat = 36.07, lon = 120.38 }}\ntimezone = \"Asia/Shanghai\"\ngrid_limit = {{ max_power = {limit_w:.1} }}\n\n"
    );
    for c in chargers {
        net.push_str(&format!(
            "[[chargers]]\nid = \"{c}\"\nsite = \"{site}\"\nvendor = \"V\"\nmodel = \"AC11\"\nocpp_version = \"1.6\"\nwiring = \"three_phase\"\nmax_power = 11000.0\n\
             evses = [{{ id = 1, max_current = 16.0, max_power = 11000.0, connectors = [{{ id = 1, type = \"Type2\" }}] }}]\n\n"
        ));
    }
    let file = dir.join("network.toml");
    std::fs::write(&file, crate::harness::open_network(&net)).unwrap();
    file
}

/// Short periods so the tests run in seconds.
fn smart_config(store_url: &str, network: PathBuf) -> Config {
    let mut config = test_config(store_url);
    config.scheduler.enabled = true;
    config.network.file = Some(network);
    config.ocpp.gateway.accept_unknown_id_tags = true;
    config.scheduler.period = Duration::from_secs(1);
    config.scheduler.debounce = Duration::from_millis(100);
    config.scheduler.lease_ttl = Duration::from_secs(3);
    config.scheduler.command_timeout = Duration::from_secs(5);
    config
}

/// One EVSE as its charger knows it.
#[derive(Debug, Clone, Default)]
struct EvseState {
    /// The running transaction and what its EV can draw at most (amperes per phase).
    tx: Option<(i64, f64)>,
    /// The TxProfile installed, for which transaction.
    tx_limit: Option<(i64, f64)>,
    /// A TxDefaultProfile on this connector.
    evse_default: Option<f64>,
}

/// What every simulated charger of the site has applied, and the site's draw after each change.
#[derive(Debug, Default)]
struct World {
    evses: BTreeMap<String, EvseState>,
    defaults: HashMap<String, f64>,
    /// (when, site draw in W, what changed).
    history: Vec<(Instant, f64, String)>,
    /// Every profile received: (when, charger, payload).
    profiles: Vec<(Instant, String, Value)>,
    /// Chargers whose meter values carry Current.Import per phase besides the power.
    per_phase: std::collections::HashSet<String>,
}

impl World {
    /// What an EVSE lets its EV draw now (amperes per phase).
    fn cap(&self, charger: &str) -> f64 {
        let e = &self.evses[charger];
        let default = e
            .evse_default
            .or_else(|| self.defaults.get(charger).copied())
            .unwrap_or(EVSE_MAX_A);
        let cap = match (e.tx, e.tx_limit) {
            (Some((tx, _)), Some((for_tx, limit))) if tx == for_tx => limit,
            _ => default,
        };
        cap.min(EVSE_MAX_A)
    }

    /// What an EVSE's EV draws now, W.
    fn draw(&self, charger: &str) -> f64 {
        match self.evses[charger].tx {
            Some((_, ev_max)) => self.cap(charger).min(ev_max) * WATTS_PER_AMP,
            None => 0.0,
        }
    }

    fn site_draw(&self) -> f64 {
        self.evses.keys().map(|c| self.draw(c)).sum()
    }

    fn record(&mut self, what: String) {
        let total = self.site_draw();
        self.history.push((Instant::now(), total, what));
    }

    /// Applies a SetChargingProfile payload.
    fn apply(&mut self, charger: &str, payload: &Value) {
        let p = &payload["csChargingProfiles"];
        let schedule = &p["chargingSchedule"];
        let limit = schedule["chargingSchedulePeriod"][0]["limit"]
            .as_f64()
            .unwrap();
        let amps = match schedule["chargingRateUnit"].as_str().unwrap() {
            "W" => limit / WATTS_PER_AMP,
            _ => limit,
        };
        let connector = payload["connectorId"].as_u64().unwrap();
        match (p["chargingProfilePurpose"].as_str().unwrap(), connector) {
            ("TxDefaultProfile", 0) => {
                self.defaults.insert(charger.to_string(), amps);
            }
            ("TxDefaultProfile", _) => {
                self.evses.get_mut(charger).unwrap().evse_default = Some(amps);
            }
            ("TxProfile", _) => {
                let tx = p["transactionId"].as_i64().unwrap();
                self.evses.get_mut(charger).unwrap().tx_limit = Some((tx, amps));
            }
            (other, _) => panic!("unexpected purpose {other}"),
        }
        self.profiles
            .push((Instant::now(), charger.to_string(), payload.clone()));
        self.record(format!(
            "{charger} profile {amps:.1} A ({})",
            p["chargingProfilePurpose"]
        ));
    }
}

type Pending = HashMap<String, (oneshot::Sender<Value>, Option<(i64, f64)>)>;

/// A simulated 1.6 charger: answers the scheduler's calls (applying profiles), makes its own
/// calls, and reports metered power while an EV charges.
struct Sim {
    id: String,
    out: Arc<tokio::sync::Mutex<SplitSink<Ws, Message>>>,
    pending: Arc<Mutex<Pending>>,
    next: AtomicU64,
    world: Arc<Mutex<World>>,
    reject: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Sim {
    async fn connect(ocpp: &App, id: &str, world: Arc<Mutex<World>>) -> Arc<Sim> {
        let raw = RawCharger::connect(ocpp, id, "ocpp1.6").await;
        let (sink, mut stream) = raw.ws.split();
        world
            .lock()
            .unwrap()
            .evses
            .insert(id.to_string(), EvseState::default());
        let out = Arc::new(tokio::sync::Mutex::new(sink));
        let pending: Arc<Mutex<Pending>> = Arc::default();
        let reject = Arc::new(AtomicBool::new(false));
        let reader = {
            let (out, pending, world, reject, id) = (
                out.clone(),
                pending.clone(),
                world.clone(),
                reject.clone(),
                id.to_string(),
            );
            tokio::spawn(async move {
                while let Some(Ok(msg)) = stream.next().await {
                    let Message::Text(text) = msg else { continue };
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    match frame[0].as_u64() {
                        Some(2) => {
                            let answer = {
                                let mut w = world.lock().unwrap();
                                match frame[2].as_str().unwrap() {
                                    "SetChargingProfile" if reject.load(Ordering::SeqCst) => {
                                        json!({"status": "Rejected"})
                                    }
                                    "SetChargingProfile" => {
                                        w.apply(&id, &frame[3]);
                                        json!({"status": "Accepted"})
                                    }
                                    _ => json!({"status": "Accepted"}),
                                }
                            };
                            let reply = json!([3, frame[1], answer]).to_string();
                            out.lock()
                                .await
                                .send(Message::Text(reply.into()))
                                .await
                                .unwrap();
                        }
                        Some(3) | Some(4) => {
                            let id_ = frame[1].as_str().unwrap().to_string();
                            let Some((tx, start)) = pending.lock().unwrap().remove(&id_) else {
                                continue;
                            };
                            // A start counts from the moment the charger learns its transaction.
                            if let (Some((_, ev_max)), Some(txid)) =
                                (start, frame[2]["transactionId"].as_i64())
                            {
                                let mut w = world.lock().unwrap();
                                w.evses.get_mut(&id).unwrap().tx = Some((txid, ev_max));
                                w.record(format!("{id} starts tx {txid}"));
                            }
                            let _ = tx.send(frame);
                        }
                        _ => {}
                    }
                }
            })
        };
        let sim = Arc::new(Sim {
            id: id.to_string(),
            out,
            pending,
            next: AtomicU64::new(0),
            world,
            reject,
            tasks: vec![reader],
        });
        sim.call(
            "BootNotification",
            json!({"chargePointVendor": "V", "chargePointModel": "AC11"}),
        )
        .await;
        sim.call(
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
        )
        .await;
        sim
    }

    async fn call_with(&self, action: &str, payload: Value, start: Option<(i64, f64)>) -> Value {
        let id = format!("{}-{}", self.id, self.next.fetch_add(1, Ordering::SeqCst));
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id.clone(), (tx, start));
        let text = json!([2, id, action, payload]).to_string();
        self.out
            .lock()
            .await
            .send(Message::Text(text.into()))
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("an answer (the timeout only catches hangs)")
            .unwrap()
    }

    async fn call(&self, action: &str, payload: Value) -> Value {
        self.call_with(action, payload, None).await
    }

    /// An EV that draws at most `ev_max_a` plugs in and starts; returns the transaction id.
    async fn start(&self, ev_max_a: f64) -> i64 {
        let answer = self
            .call_with(
                "StartTransaction",
                json!({"connectorId": 1, "idTag": format!("TAG-{}", self.id), "meterStart": 0, "timestamp": crate::harness::ts(0)}),
                Some((0, ev_max_a)),
            )
            .await;
        answer[2]["transactionId"].as_i64().unwrap()
    }

    /// The EV stops drawing and leaves.
    async fn stop(&self) {
        let tx = {
            let mut w = self.world.lock().unwrap();
            let e = w.evses.get_mut(&self.id).unwrap();
            let (tx, _) = e.tx.take().unwrap();
            w.record(format!("{} stops", self.id));
            tx
        };
        self.call(
            "StopTransaction",
            json!({"transactionId": tx, "meterStop": 1000, "timestamp": crate::harness::ts(0), "reason": "EVDisconnected"}),
        )
        .await;
    }

    /// The EV's own maximum changes (a tapering battery).
    fn taper(&self, ev_max_a: f64) {
        let mut w = self.world.lock().unwrap();
        let e = w.evses.get_mut(&self.id).unwrap();
        if let Some((tx, _)) = e.tx {
            e.tx = Some((tx, ev_max_a));
        }
        w.record(format!("{} tapers to {ev_max_a} A", self.id));
    }

    /// Reports metered power and energy every 250 ms while an EV charges.
    fn start_metering(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let sim = self.clone();
        tokio::spawn(async move {
            let mut wh = 0.0;
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let (tx, watts, per_phase) = {
                    let w = sim.world.lock().unwrap();
                    (
                        w.evses[&sim.id].tx,
                        w.draw(&sim.id),
                        w.per_phase.contains(&sim.id),
                    )
                };
                let Some((tx, _)) = tx else { continue };
                wh += watts * 0.25 / 3600.0;
                sim.call(
                    "MeterValues",
                    json!({"connectorId": 1, "transactionId": tx, "meterValue": [{
                        "timestamp": crate::harness::ts(0),
                        "sampledValue": sampled(wh, watts, per_phase)}]}),
                )
                .await;
            }
        })
    }
}

/// One reading's sampled values: the register and the power, and with `per_phase` the current
/// on each of the three phases (a three-phase EV draws the same on each).
fn sampled(wh: f64, watts: f64, per_phase: bool) -> Value {
    let mut values = vec![
        json!({"value": format!("{wh:.1}"), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}),
        json!({"value": format!("{watts:.0}"), "measurand": "Power.Active.Import", "unit": "W"}),
    ];
    if per_phase {
        for phase in ["L1", "L2", "L3"] {
            values.push(json!({"value": format!("{:.1}", watts / WATTS_PER_AMP), "measurand": "Current.Import", "phase": phase, "unit": "A"}));
        }
    }
    Value::Array(values)
}

impl Drop for Sim {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Waits for a condition on the world; the timeout only turns a hang into a failure.
async fn wait_for(world: &Mutex<World>, what: &str, cond: impl Fn(&World) -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if cond(&world.lock().unwrap()) {
            return start.elapsed();
        }
        if start.elapsed() > Duration::from_secs(30) {
            let w = world.lock().unwrap();
            panic!(
                "{what} never happened; last moments: {:?}",
                &w.history[w.history.len().saturating_sub(12)..]
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts the site stayed within `limit_w` at every recorded moment from `from` on.
fn assert_within(world: &World, limit_w: f64, from: usize, to: usize, what: &str) {
    for (at, total, cause) in &world.history[from..to] {
        assert!(
            *total <= limit_w + 0.5,
            "{what}: the site drew {total:.0} W > {limit_w:.0} W after '{cause}' ({:?} into the test)",
            at.duration_since(world.history[0].0)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_charging_keeps_the_site_within_its_limit_as_evs_come_taper_and_leave() {
    let _quiet = crate::harness::QUIET.read().await;
    let redis = RedisServer::start();
    let site = "smart-site";
    let limit = 22_000.0;
    let names = ["SM-1", "SM-2", "SM-3", "SM-4"];
    let config = smart_config(&redis.url(), network_file("main", site, limit, &names));
    let app = App::start(&config, Role::All, Arc::new(SystemClock))
        .await
        .unwrap();
    let world: Arc<Mutex<World>> = Arc::default();
    // SM-1 reports per-phase currents; the others report power only.
    world.lock().unwrap().per_phase.insert("SM-1".into());
    let mut sims = Vec::new();
    for n in names {
        sims.push(Sim::connect(&app, n, world.clone()).await);
    }
    let meters: Vec<_> = sims.iter().map(Sim::start_metering).collect();

    // Failsafe: every charger gets a default that is its share of the site limit.
    wait_for(&world, "a failsafe default on every charger", |w| {
        names.iter().all(|n| w.defaults.contains_key(*n))
    })
    .await;
    {
        let w = world.lock().unwrap();
        let total: f64 = names.iter().map(|n| w.defaults[*n]).sum();
        assert!(
            total * WATTS_PER_AMP <= limit,
            "the defaults together fit the limit: {:?}",
            w.defaults
        );
        assert!(total * WATTS_PER_AMP >= 0.8 * limit, "and use most of it");
    }

    // EVs with different needs arrive.
    let store = app.store.clone();
    let site_id = SiteId::new(site).unwrap();
    let t_a = sims[0].start(16.0).await;
    sims[1].start(16.0).await;
    let t_c = sims[2].start(10.0).await;
    let sessions = store.active_sessions(&site_id).await.unwrap();
    let c_session = sessions
        .iter()
        .find(|s| s.transaction_id == t_c.to_string())
        .unwrap();
    store
        .put_ev_needs(
            &site_id,
            &c_session.id,
            &chargegrid_store::EvNeeds {
                energy: Some(chargegrid_core::WattHours(30_000.0)),
                departure: Some(chrono::Utc::now() + chrono::Duration::hours(8)),
                min_power: None,
                max_power: Some(Watts(6_900.0)),
                source: chargegrid_store::NeedsSource::Driver,
                updated_at: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
    store
        .notify_change(SiteChange {
            session: None,
            site: site_id.clone(),
            kind: ChangeKind::Needs,
        })
        .await
        .unwrap();
    let settle = wait_for(&world, "the three EVs sharing most of the limit", |w| {
        w.site_draw() >= 0.9 * limit && w.evses["SM-1"].tx_limit.is_some()
    })
    .await;
    eprintln!("three sessions settled {settle:?} after the last start");
    let session_a_cap = world.lock().unwrap().cap("SM-1");

    // EV A tapers: its unused power goes to the others. Its charger reports the current on each
    // phase (the power alone would not tell a three-phase EV at 3 A from a single-phase one at
    // 9 A, and before a reading at full power showed its three phases the scheduler would plan
    // it at 9 A + margin).
    let others = |w: &World| w.draw("SM-2") + w.draw("SM-3");
    let before = others(&world.lock().unwrap());
    sims[0].taper(3.0);
    let reclaim = wait_for(&world, "power reclaimed from the tapering EV", |w| {
        w.cap("SM-1") < session_a_cap - 3.0 && others(w) > before + 2.0 * WATTS_PER_AMP
    })
    .await;
    eprintln!(
        "taper reclaimed in {reclaim:?}: others {before:.0} W → {:.0} W",
        others(&world.lock().unwrap())
    );

    // A fourth EV arrives while one leaves.
    sims[1].stop().await;
    sims[3].start(16.0).await;
    wait_for(&world, "the new EV charging", |w| {
        w.draw("SM-4") >= 6.0 * WATTS_PER_AMP
    })
    .await;

    // Demand response: the site must come down to 12 kW within seconds. It must be above that
    // first, or the check below would hold without the window doing anything.
    let dr_limit = 12_000.0;
    wait_for(&world, "the site above the demand-response limit", |w| {
        w.site_draw() > dr_limit
    })
    .await;
    let written = Instant::now();
    store
        .put_limit_window(
            &site_id,
            &LimitWindow {
                id: "dr-1".into(),
                from: chrono::Utc::now(),
                to: Some(chrono::Utc::now() + chrono::Duration::minutes(10)),
                limit: Limit::power(Watts(dr_limit)),
                reason: "grid event".into(),
            },
        )
        .await
        .unwrap();
    store
        .notify_change(SiteChange {
            session: None,
            site: site_id.clone(),
            kind: ChangeKind::Limits,
        })
        .await
        .unwrap();
    let lowered = wait_for(&world, "the site under the demand-response limit", |w| {
        w.site_draw() <= dr_limit
    })
    .await;
    let dr_from = world.lock().unwrap().history.len();
    eprintln!(
        "demand response: site under {dr_limit} W {lowered:?} after the window was written ({:?} with the store writes)",
        written.elapsed()
    );

    // Under the window, sessions keep changing: all within the lowered limit.
    sims[0].stop().await;
    sims[1].start(16.0).await;
    wait_for(&world, "the newcomer planned under the window", |w| {
        let e = &w.evses["SM-2"];
        e.tx.zip(e.tx_limit)
            .is_some_and(|((tx, _), (for_tx, _))| tx == for_tx)
    })
    .await;
    let dr_to = world.lock().unwrap().history.len();
    store.delete_limit_window(&site_id, "dr-1").await.unwrap();
    store
        .notify_change(SiteChange {
            session: None,
            site: site_id.clone(),
            kind: ChangeKind::Limits,
        })
        .await
        .unwrap();
    wait_for(&world, "the site using its full limit again", |w| {
        w.site_draw() > dr_limit + 2_000.0
    })
    .await;

    for m in meters {
        m.abort();
    }
    {
        let w = world.lock().unwrap();
        let n = w.history.len();
        assert_within(&w, limit, 0, n, "grid limit");
        assert_within(&w, dr_limit, dr_from, dr_to, "demand-response limit");
        assert!(
            w.profiles
                .iter()
                .any(|(_, c, p)| c == "SM-1" && p["csChargingProfiles"]["transactionId"] == t_a),
            "sessions get TxProfiles for their transaction"
        );
    }

    // The allocation the API reads is in the store, with headroom (written at the end of the
    // pass whose profiles the chargers have already applied).
    let waited = Instant::now();
    let allocation = loop {
        let a = store.get_allocation(&site_id).await.unwrap().unwrap();
        if a.limit == Watts(limit) || waited.elapsed() > Duration::from_secs(30) {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(allocation.limit, Watts(limit));
    assert_eq!(allocation.sessions.len(), 3);
    let given: Watts = allocation.sessions.iter().map(|s| s.power).sum();
    assert!(
        (allocation.headroom + given - Watts(limit)).0.abs() < 1.0,
        "{allocation:?}"
    );
    let metrics = crate::harness::metrics_text(&app).await;
    for name in [
        "chargegrid_scheduler_site_limit_watts{site=\"smart-site\"} 22000",
        "chargegrid_scheduler_leader{site=\"smart-site\"} 1",
        "chargegrid_scheduler_profiles_sent_total{",
        "outcome=\"accepted\"",
        "chargegrid_scheduler_pass_seconds_bucket",
    ] {
        assert!(metrics.contains(name), "{name} in /metrics");
    }
    drop(sims);
    app.shutdown().await.unwrap();
}

/// The leader of a site per instance: which registry says 1.
fn leads(registry: &prometheus::Registry, site: &str) -> bool {
    registry.gather().iter().any(|f| {
        f.name() == "chargegrid_scheduler_leader"
            && f.get_metric().iter().any(|m| {
                m.get_label().iter().any(|l| l.value() == site) && m.get_gauge().value() == 1.0
            })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_scheduler_takes_over_a_killed_leader_without_resending_or_overshooting() {
    let _quiet = crate::harness::QUIET.read().await;
    let redis = RedisServer::start();
    let site = "takeover-site";
    let limit = 22_000.0;
    let names = ["TK-1", "TK-2", "TK-3"];
    let config = smart_config(&redis.url(), network_file("takeover", site, limit, &names));
    let gateway = App::start(&config, Role::Gateway, Arc::new(SystemClock))
        .await
        .unwrap();
    let start_instance = |holder: &'static str| {
        let config = config.clone();
        async move {
            let store: Arc<dyn Store> = chargegrid_store::open(
                &config.store.url,
                holder.parse().unwrap(),
                Arc::new(SystemClock),
                Duration::from_secs(3),
                None,
                config.store.sample_retention,
            )
            .await
            .unwrap();
            let registry = prometheus::Registry::new();
            let service = ControlLoop::new(
                config.scheduler.control_config(holder),
                store,
                Arc::new(SystemClock),
                SchedulerMetrics::new(&registry).unwrap(),
            );
            (service.spawn(), registry)
        }
    };
    let (a, reg_a) = start_instance("sched-a").await;
    let world: Arc<Mutex<World>> = Arc::default();
    let mut sims = Vec::new();
    for n in names {
        sims.push(Sim::connect(&gateway, n, world.clone()).await);
    }
    let meters: Vec<_> = sims.iter().map(Sim::start_metering).collect();
    sims[0].start(16.0).await;
    sims[1].start(16.0).await;
    // Two EVs use the whole site: the idle third charger's failsafe default is lowered to 0.
    wait_for(
        &world,
        "two sessions using the site, the idle charger at 0",
        |w| w.site_draw() >= limit - 1.0 && w.defaults.get("TK-3") == Some(&0.0),
    )
    .await;
    // The standby starts now: the lease is taken, so it waits.
    let (b, reg_b) = start_instance("sched-b").await;
    assert!(leads(&reg_a, site) && !leads(&reg_b, site));

    // The leader dies without releasing its lease.
    let profiles_before = world.lock().unwrap().profiles.len();
    let killed = Instant::now();
    a.kill();
    // Meanwhile a third EV arrives: it draws its failsafe default, which was reserved for it.
    sims[2].start(16.0).await;
    let mut takeover = None;
    while takeover.is_none() {
        if leads(&reg_b, site) {
            takeover = Some(killed.elapsed());
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the standby never took over"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let takeover = takeover.unwrap();
    eprintln!("standby took over {takeover:?} after the leader was killed (lease 3 s)");
    wait_for(&world, "the new leader plans the newcomer", |w| {
        w.evses["TK-3"].tx_limit.is_some()
    })
    .await;
    {
        // Only what changed was sent: the newcomer's profile and the others' new shares, never
        // the same profile twice.
        let w = world.lock().unwrap();
        let after = &w.profiles[profiles_before..];
        assert!(!after.is_empty(), "the new leader sent profiles");
        for (i, (_, charger, p)) in after.iter().enumerate() {
            let earlier = w.profiles[..profiles_before + i]
                .iter()
                .rev()
                .find(|(_, c, q)| {
                    c == charger
                        && q["connectorId"] == p["connectorId"]
                        && q["csChargingProfiles"]["chargingProfilePurpose"]
                            == p["csChargingProfiles"]["chargingProfilePurpose"]
                });
            assert!(
                earlier.is_none_or(|(_, _, q)| q != p),
                "{charger} got the same profile again after the takeover: {p}"
            );
        }
        assert_within(
            &w,
            limit,
            0,
            w.history.len(),
            "grid limit across the takeover",
        );
    }
    for m in meters {
        m.abort();
    }
    drop(sims);
    b.shutdown().await.unwrap();
    gateway.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charger_that_refuses_profiles_is_excluded_and_assumed_at_its_maximum() {
    let _quiet = crate::harness::QUIET.read().await;
    let redis = RedisServer::start();
    let site = "refuse-site";
    let limit = 22_000.0;
    let names = ["RF-1", "RF-2", "RF-3"];
    let config = smart_config(&redis.url(), network_file("refuse", site, limit, &names));
    let app = App::start(&config, Role::All, Arc::new(SystemClock))
        .await
        .unwrap();
    let world: Arc<Mutex<World>> = Arc::default();
    let mut sims = Vec::new();
    for n in names {
        sims.push(Sim::connect(&app, n, world.clone()).await);
    }
    let meters: Vec<_> = sims.iter().map(Sim::start_metering).collect();
    wait_for(&world, "failsafe defaults", |w| {
        names.iter().all(|n| w.defaults.contains_key(*n))
    })
    .await;
    // RF-1 refuses every profile from now on; its EV can draw the EVSE's maximum.
    sims[0].reject.store(true, Ordering::SeqCst);
    sims[0].start(16.0).await;
    sims[1].start(16.0).await;
    sims[2].start(16.0).await;
    // The others are planned around RF-1 at its maximum (11 kW), so they share the other 11 kW.
    wait_for(
        &world,
        "the others planned around the excluded charger",
        |w| {
            let others = w.cap("RF-2").min(16.0) + w.cap("RF-3").min(16.0);
            w.evses["RF-2"].tx_limit.is_some() && others * WATTS_PER_AMP <= limit - 10_900.0
        },
    )
    .await;
    let metrics = crate::harness::metrics_text(&app).await;
    assert!(
        metrics.contains("chargegrid_scheduler_chargers_excluded{site=\"refuse-site\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("outcome=\"rejected\""));
    {
        let w = world.lock().unwrap();
        assert_within(
            &w,
            limit,
            0,
            w.history.len(),
            "grid limit with a refusing charger",
        );
    }
    for m in meters {
        m.abort();
    }
    drop(sims);
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_charge_point_receives_schema_valid_profiles() {
    let _quiet = crate::harness::QUIET.read().await;
    let redis = RedisServer::start();
    let site = "py-site";
    // 7 kW for an 11 kW charger: it needs a limit from the start.
    let config = smart_config(
        &redis.url(),
        network_file("python", site, 7_000.0, &["PY-1"]),
    );
    let app = App::start(&config, Role::All, Arc::new(SystemClock))
        .await
        .unwrap();
    let url = format!("ws://{}/ocpp", app.ocpp_addr.unwrap());
    let mut peer = Peer::spawn("smart16.py", &[&url, "PY-1", "PYTAG"]);
    assert_eq!(peer.expect("boot").await["status"], "Accepted");
    let started = peer.expect("started").await;
    let tx = started["transaction_id"].as_i64().unwrap();
    // Both kinds arrive (their order depends on whether the charger was planned before its
    // session started): the failsafe default and the session's TxProfile.
    let seen = |peer: &Peer, purpose: &str| {
        peer.seen
            .iter()
            .any(|e| e["event"] == "profile" && e["profile"]["charging_profile_purpose"] == purpose)
    };
    while !(seen(&peer, "TxProfile") && seen(&peer, "TxDefaultProfile")) {
        peer.expect("profile").await;
    }
    let mut purposes = Vec::new();
    for p in peer.seen.iter().filter(|e| e["event"] == "profile") {
        let profile = &p["profile"];
        // The peer prints decimals as text.
        let limit = &profile["charging_schedule"]["charging_schedule_period"][0]["limit"];
        let limit: f64 = limit
            .as_f64()
            .or_else(|| limit.as_str()?.parse().ok())
            .unwrap_or_else(|| panic!("a limit in {p}"));
        assert!(limit * WATTS_PER_AMP <= 7_000.0, "{p}");
        let purpose = profile["charging_profile_purpose"]
            .as_str()
            .unwrap()
            .to_string();
        if purpose == "TxProfile" {
            assert_eq!(profile["transaction_id"].as_i64(), Some(tx), "{p}");
        }
        purposes.push(purpose);
    }
    assert!(purposes.len() >= 2, "{purposes:?}");
    // Every profile the peer validated was accepted and recorded (recorded once the answer is
    // back, so wait for it).
    let waited = Instant::now();
    let sent = loop {
        let sent = app
            .store
            .sent_profiles(&SiteId::new(site).unwrap())
            .await
            .unwrap();
        if sent.len() == 2 || waited.elapsed() > Duration::from_secs(30) {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].2.transaction_id, Some(tx.to_string()));
    peer.send_line("stop").await;
    peer.expect("stopped").await;
    peer.finish().await;
    app.shutdown().await.unwrap();
}
