//! Smoke runs of every scenario in `simulations/scenarios/`, shrunk (few chargers and EVs,
//! a short simulated span, a high time scale), each against chargegrid started in-process
//! with the scenario's network and the official schemas checking every payload the simulated
//! chargers send. Each asserts KPIs that a broken gateway or simulator would fail.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chargegrid::App;
use chargegrid_core::command::{
    ChargerCommand, ChargingLimit, ProfilePurpose, RateUnit, SchedulePeriod,
};
use chargegrid_core::network::Network;
use chargegrid_core::session::SessionState;
use chargegrid_core::{ChargerId, EvseId, SiteId, Watts};
use chargegrid_simulations::ev::Distribution;
use chargegrid_simulations::scenario::{Operator, async_trait};
use chargegrid_simulations::{
    RunOptions, RunReport, Scenario, Target, load_scenario, run_scenario,
};
use chargegrid_store::Store;
use chrono::{DateTime, Utc};

use crate::harness::{start_app, test_config};

fn scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../simulations/scenarios")
        .join(format!("{name}.toml"));
    load_scenario(&path).unwrap()
}

/// Starts chargegrid with the scenario's network (unknown id tags accepted: simulated drivers
/// have no accounts).
async fn app_for(s: &Scenario) -> (App, Target, PathBuf) {
    let file = std::env::temp_dir().join(format!(
        "chargegrid-sim-{}-{}.toml",
        s.name,
        std::process::id()
    ));
    std::fs::write(&file, s.network_toml().unwrap()).unwrap();
    let mut config = test_config("memory://");
    config.network.file = Some(file.clone());
    config.ocpp.gateway.accept_unknown_id_tags = true;
    let app = start_app(&config).await;
    let target = Target {
        ocpp_url: format!("ws://{}/ocpp", app.ocpp_addr.unwrap()),
        api_url: app.api_addr.map(|a| format!("http://{a}")),
        charger_password: None,
    };
    (app, target, file)
}

async fn run(s: &Scenario, target: &Target, opts: RunOptions) -> RunReport {
    let _quiet = crate::harness::QUIET.read().await;
    let opts = RunOptions {
        output_dir: Some(std::env::temp_dir().join(format!(
            "chargegrid-sim-out-{}-{}",
            s.name,
            std::process::id()
        ))),
        ..opts
    };
    let report = tokio::time::timeout(Duration::from_secs(60), run_scenario(s, target, &opts))
        .await
        .expect("the run finishes (the timeout only catches hangs)")
        .unwrap();
    eprintln!("{}", report.table());
    report
}

fn uniform(min: f64, max: f64) -> Distribution {
    Distribution::Uniform { min, max }
}

fn assert_clean(r: &RunReport) {
    assert_eq!(
        r.chargers.booted, r.chargers.total,
        "every charger booted: {:?}",
        r.errors
    );
    assert_eq!(
        r.ocpp.errors, 0,
        "no CALLERRORs or timeouts: {:?}",
        r.errors
    );
    assert_eq!(r.ocpp.replay_errors, 0);
}

#[tokio::test]
async fn simulate_depot_overnight_charges_the_fleet() {
    let mut s = scenario("depot-overnight");
    s.duration_h = 3.0;
    s.time_scale = 2400.0;
    s.arrivals[0].count = 2;
    s.arrivals[0].arrive_h = uniform(0.0, 0.5);
    s.arrivals[1].count = 6;
    s.arrivals[1].arrive_h = uniform(0.0, 0.5);
    s.arrivals[1].arrival_soc_pct = uniform(60.0, 70.0);
    let (app, target, file) = app_for(&s).await;
    let r = run(&s, &target, RunOptions::default()).await;
    assert_clean(&r);
    assert_eq!(r.chargers.total, 22);
    assert_eq!(r.sessions.started, 8);
    assert!(r.energy.delivered_kwh > 50.0, "{:?}", r.energy);
    assert!(
        r.sessions.fully_served >= 6,
        "the vans fill up: {:?}",
        r.sessions
    );
    assert!(
        r.ocpp
            .actions
            .iter()
            .any(|a| a.action == "MeterValues" && a.sent > 0)
    );
    // The server recorded the same energy the chargers metered.
    let ended = ended_energy_kwh(&app, &r).await;
    assert!(
        (ended - r.energy.delivered_kwh).abs() < 0.02 * r.energy.delivered_kwh + 0.1,
        "{ended} vs {:?}",
        r.energy
    );
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_file(file);
}

/// Energy of the server's ended sessions of this run's transactions, kWh.
async fn ended_energy_kwh(app: &App, r: &RunReport) -> f64 {
    let mut total = 0.0;
    for s in &r.session_records {
        let tx = s
            .transaction_id
            .as_deref()
            .expect("every transaction got its id");
        let session = app
            .store
            .find_by_transaction(&s.charger, tx)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("the server knows {} {tx}", s.charger));
        assert_eq!(session.state, SessionState::Ended, "{} {tx}", s.charger);
        total += session.energy.0 / 1000.0;
    }
    total
}

#[tokio::test]
async fn simulate_highway_hub_serves_fast_charging_cars() {
    let mut s = scenario("highway-hub");
    s.duration_h = 1.5;
    s.time_scale = 1800.0;
    s.arrivals[0].count = 10;
    s.arrivals[0].arrive_h = uniform(0.0, 0.8);
    let (app, target, file) = app_for(&s).await;
    let r = run(&s, &target, RunOptions::default()).await;
    assert_clean(&r);
    assert_eq!(r.sessions.started, 10);
    assert!(
        r.session_records.iter().all(|x| x.delivered.0 > 1_000.0),
        "{:?}",
        r.session_records
    );
    assert!(
        r.sites[0].peak_kw > 100.0,
        "DC charging at fast-charger power: {:?}",
        r.sites
    );
    let mv = r
        .ocpp
        .actions
        .iter()
        .find(|a| a.action == "MeterValues" || a.action == "TransactionEvent")
        .unwrap();
    assert!(mv.sent > 10 && mv.p99_ms > 0.0);
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn simulate_workplace_replays_acn_sessions() {
    let mut s = scenario("workplace-acn");
    s.time_scale = 14_400.0;
    s.acn.as_mut().unwrap().max_sessions = Some(12);
    let (app, target, file) = app_for(&s).await;
    let r = run(&s, &target, RunOptions::default()).await;
    assert_clean(&r);
    assert_eq!(r.sessions.planned, 12);
    assert_eq!(r.sessions.started, r.sessions.arrived);
    assert!(r.sessions.started >= 10, "{:?}", r.sessions);
    assert!(r.energy.delivered_kwh > 20.0, "{:?}", r.energy);
    // Single-phase 32 A: no session draws more than 7.4 kW.
    assert!(r.sites[0].peak_kw <= 7.4 * r.sessions.started as f64 + 0.1);
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn simulate_city_dispatches_every_driver() {
    let mut s = scenario("city-dispatch");
    let g = s.generate_network.as_mut().unwrap();
    g.sites = 6;
    g.chargers_per_site = 1;
    s.duration_h = 1.5;
    s.time_scale = 1800.0;
    s.arrivals[0].count = 12;
    s.arrivals[0].arrive_h = uniform(0.0, 0.6);
    let (app, target, file) = app_for(&s).await;
    let r = run(&s, &target, RunOptions::default()).await;
    assert_clean(&r);
    let decided: usize = r.drivers.dispatch.values().sum();
    assert_eq!(decided, 12, "{:?}", r.drivers);
    assert!(
        r.drivers
            .records
            .iter()
            .all(|d| d.site.is_some() && d.distance_km.is_some())
    );
    if r.drivers.dispatch.contains_key("fallback") {
        assert!(
            !r.drivers.dispatch_problems.is_empty(),
            "a fallback says why"
        );
    }
    assert!(r.energy.delivered_kwh > 0.0);
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_file(file);
}

/// The grid operator's signal passed to chargegrid's command bus: each charger of the site
/// gets an equal share as a ChargePointMax profile for the window.
struct BusOperator {
    store: Arc<dyn Store>,
}

#[async_trait]
impl Operator for BusOperator {
    async fn site_limit(
        &self,
        site: &SiteId,
        limit: Option<Watts>,
        window: (DateTime<Utc>, DateTime<Utc>),
        network: &Network,
    ) -> bool {
        let chargers: Vec<ChargerId> = network.chargers_of(site).map(|c| c.id.clone()).collect();
        let mut all = true;
        for c in &chargers {
            let command = match limit {
                Some(l) => ChargerCommand::SetChargingLimit {
                    evse: EvseId(0),
                    limit: ChargingLimit {
                        profile_id: 900,
                        stack_level: 5,
                        purpose: ProfilePurpose::ChargePointMax,
                        transaction_id: None,
                        start: Some(window.0),
                        unit: RateUnit::W,
                        periods: vec![SchedulePeriod {
                            start_offset_s: 0,
                            limit: l.0 / chargers.len() as f64,
                            phases: None,
                        }],
                        valid_to: Some(window.1),
                    },
                },
                None => ChargerCommand::ClearChargingLimit {
                    profile_id: Some(900),
                    evse: None,
                    purpose: None,
                },
            };
            let reply = self
                .store
                .send_command(c, command, Duration::from_secs(10))
                .await
                .unwrap();
            all &= reply.is_accepted() || limit.is_none();
        }
        all
    }
}

#[tokio::test]
async fn simulate_demand_response_is_followed_from_the_chargers_side() {
    let mut s = scenario("demand-response");
    s.duration_h = 3.0;
    s.time_scale = 2400.0;
    s.arrivals[0].count = 12;
    s.arrivals[0].arrive_h = uniform(0.0, 0.5);
    s.events = vec![toml::from_str(
        "kind = \"demand_response\"\nsite = \"sim-depot\"\nat_h = 1.0\nduration_h = 1.0\nlimit_kw = 60.0",
    )
    .unwrap()];
    s.sample_interval_s = 120;
    let (app, target, file) = app_for(&s).await;
    let operator = Arc::new(BusOperator {
        store: app.store.clone(),
    });
    let r = run(
        &s,
        &target,
        RunOptions {
            operator: Some(operator),
            ..RunOptions::default()
        },
    )
    .await;
    assert_clean(&r);
    assert!(
        r.limits.demand_response[0].delivered,
        "every charger accepted the signal"
    );
    assert!(r.limits.profiles_accepted >= 22, "{:?}", r.limits);
    let series = &r.series[0];
    let before = series
        .t_h
        .iter()
        .zip(&series.power_kw)
        .filter(|(t, _)| **t < 0.9)
        .map(|(_, p)| *p)
        .fold(0.0, f64::max);
    let during = series
        .t_h
        .iter()
        .zip(&series.power_kw)
        .filter(|(t, _)| **t >= 1.0 && **t < 1.95)
        .map(|(_, p)| *p)
        .fold(0.0, f64::max);
    assert!(
        before > 60.0,
        "the event cuts real load: {before} kW before"
    );
    assert!(during <= 60.0 * 1.01, "{during} kW during the event");
    assert_eq!(r.limits.violations, 0, "{:?}", r.sites);
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn simulate_boot_storm_boots_every_charger() {
    let mut s = scenario("boot-storm");
    let g = s.generate_network.as_mut().unwrap();
    g.sites = 2;
    g.chargers_per_site = 100;
    s.duration_h = 0.05;
    let (app, target, file) = app_for(&s).await;
    let r = run(&s, &target, RunOptions::default()).await;
    assert_clean(&r);
    assert_eq!(r.chargers.booted, 200);
    assert!(r.chargers.boot_ms_p50 > 0.0, "{:?}", r.chargers);
    let status = r
        .ocpp
        .actions
        .iter()
        .find(|a| a.action == "StatusNotification")
        .unwrap();
    assert!(
        status.sent >= 200 + 150,
        "1.6 chargers also report connector 0: {status:?}"
    );
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn simulate_mass_reconnect_replays_an_hour_of_offline_transactions() {
    let mut s = scenario("mass-reconnect");
    let g = s.generate_network.as_mut().unwrap();
    g.sites = 2;
    g.chargers_per_site = 10;
    s.duration_h = 2.0;
    s.time_scale = 1800.0;
    for a in &mut s.arrivals {
        a.count = 6;
        a.arrive_h = uniform(0.0, 0.3);
        a.stay_h = uniform(0.6, 0.9);
    }
    s.events = vec![
        // Every charger offline for an hour: sessions start before, end during the outage.
        toml::from_str("kind = \"outage\"\nat_h = 0.4\nduration_min = 60.0\nshare = 1.0").unwrap(),
    ];
    // Every charger is up before the outage (the boot spread is wall time).
    s.boot.spread_s = 0.2;
    let (app, target, file) = app_for(&s).await;
    let r = run(&s, &target, RunOptions::default()).await;
    assert_clean(&r);
    assert!(
        r.ocpp.replayed > 12,
        "queued messages were replayed: {}",
        r.ocpp.replayed
    );
    assert!(
        r.chargers.connects >= 40,
        "every charger reconnected: {}",
        r.chargers.connects
    );
    assert_eq!(r.sessions.started, 12);
    // Sessions that ended offline reached the server with their energy.
    let ended = ended_energy_kwh(&app, &r).await;
    assert!(
        (ended - r.energy.delivered_kwh).abs() < 0.02 * r.energy.delivered_kwh + 0.1,
        "{ended} vs {:?}",
        r.energy
    );
    app.shutdown().await.unwrap();
    let _ = std::fs::remove_file(file);
}
