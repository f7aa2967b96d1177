//! Replay smoke tests on real ACN-Data at a tight limit: two days at Caltech (June 2019), where
//! chargegrid delivers at least as much energy as LLF and EDF, no online policy but
//! uncontrolled breaks the limit, and the offline optimum bounds everyone from above; and two
//! weeks at JPL (September 2019) without a charger floor, where chargegrid's look-ahead reaches
//! the optimum and beats LLF; and two congested JPL weeks where most drivers leave full (in one,
//! as many as EDF serves, which needs a driver about to leave finished in its last period). On the
//! Caltech ACN's own topology (examples/networks/caltech-acn.toml: 54 line-to-line EVSEs, two
//! pods, a delta–wye transformer) no controlled policy breaks a line, pod or primary limit while
//! uncontrolled charging does, chargegrid's replay delivers at 30 kVA at least what acnportal's ASA
//! delivered on the same sessions in acnportal's simulator (which reads chargegrid itself about
//! 0.15 points lower: docs/BENCHMARKS.md) — also when told only the EVSEs' 32 A, as ASA is, by
//! learning each vehicle's top from what it draws — and a station missing from the network is
//! named.

use std::path::PathBuf;

use std::collections::BTreeMap;

use chargegrid_core::network::Network;
use chargegrid_core::{Amperes, Kilowatts};
use chargegrid_scheduler::replay::{
    AcnSession, Algorithm, ArrivalsInput, ReplayError, ReplayNetwork, ReplayOptions, ReplayReport,
    Rows, read_sessions, run_replay,
};
use chrono::NaiveDate;

/// The session files: `CHARGEGRID_ACN_DIR`, or the copies inside the repository (`data/acn-sessions/`).
fn data_dir() -> PathBuf {
    std::env::var_os("CHARGEGRID_ACN_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/acn-sessions"),
        PathBuf::from,
    )
}

fn sessions() -> Vec<AcnSession> {
    read("caltech-2019-05-01_2019-08-31.csv.gz")
}

fn read(file: &str) -> Vec<AcnSession> {
    let path = data_dir().join(file);
    read_sessions(&path, Rows::Strict)
        .unwrap_or_else(|e| panic!("ACN data needed at {}: {e}", path.display()))
}

fn two_days(limit_kw: f64) -> ReplayOptions {
    let mut o = ReplayOptions::new(Kilowatts(limit_kw));
    o.from = NaiveDate::from_ymd_opt(2019, 6, 3);
    o.days = Some(2);
    o
}

fn run(s: &[AcnSession], o: &ReplayOptions, a: Algorithm) -> ReplayReport {
    run_replay(s, o, a).unwrap()
}

/// `days` from the given date, no limit yet.
fn window(year: i32, month: u32, day: u32, days: u32) -> ReplayOptions {
    let mut o = ReplayOptions::new(Kilowatts(10_000.0));
    o.from = NaiveDate::from_ymd_opt(year, month, day);
    o.days = Some(days);
    o
}

/// The options with the limit at 30 % of the window's uncontrolled peak, and the uncontrolled
/// run that measured it.
fn at_30_percent(s: &[AcnSession], mut o: ReplayOptions) -> (ReplayOptions, ReplayReport) {
    let free = run(s, &o, Algorithm::Uncontrolled);
    o.site_limit = Kilowatts((free.peak_kw * 3.0).round() / 10.0);
    (o, free)
}

#[test]
fn chargegrid_beats_llf_and_edf_at_a_tight_limit_without_violations() {
    let s = sessions();
    let free = run(&s, &two_days(10_000.0), Algorithm::Uncontrolled);
    assert!(free.sessions > 50, "{} sessions", free.sessions);
    assert_eq!(free.limit_violations, 0);
    let limit = (free.peak_kw * 0.3).round();
    let o = two_days(limit);

    let reports: Vec<ReplayReport> = Algorithm::ALL.iter().map(|&a| run(&s, &o, a)).collect();
    let get = |a: Algorithm| reports.iter().find(|r| r.algorithm == a).unwrap();
    let (cg, llf, edf, opt) = (
        get(Algorithm::Chargegrid),
        get(Algorithm::Llf),
        get(Algorithm::Edf),
        get(Algorithm::OfflineOptimal),
    );
    for r in &reports {
        if r.algorithm != Algorithm::Uncontrolled {
            assert_eq!(r.limit_violations, 0, "{}", r.algorithm);
            assert!(
                r.peak_kw <= limit + 1e-6,
                "{}: {} kW",
                r.algorithm,
                r.peak_kw
            );
        }
        if r.algorithm != Algorithm::OfflineOptimal {
            assert_eq!(r.floor_violations, 0, "{}", r.algorithm);
        }
        assert!(
            r.energy_delivered_kwh <= opt.energy_delivered_kwh + 1e-3
                || r.algorithm == Algorithm::Uncontrolled,
            "{} beat the optimum",
            r.algorithm
        );
    }
    assert!(get(Algorithm::Uncontrolled).limit_violations > 0);
    // The limit bites: even the optimum cannot serve everyone.
    assert!(opt.delivered_pct < free.delivered_pct - 1.0);
    assert!(
        cg.delivered_pct >= llf.delivered_pct - 0.05,
        "{} vs LLF {}",
        cg.delivered_pct,
        llf.delivered_pct
    );
    assert!(
        cg.delivered_pct >= edf.delivered_pct - 0.05,
        "{} vs EDF {}",
        cg.delivered_pct,
        edf.delivered_pct
    );
    assert!(
        opt.delivered_pct - cg.delivered_pct < 1.0,
        "{} vs optimum {}",
        cg.delivered_pct,
        opt.delivered_pct
    );
    // Smoother than greedy LLF.
    assert!(cg.interruptions < llf.interruptions);
    assert!(cg.timing.overall.calls > 0 && opt.timing.offline_solve_ms.is_some());
}

#[test]
fn without_a_floor_chargegrid_reaches_the_optimum_and_beats_llf() {
    let s = read("jpl-2019-09-01_2019-12-31.csv.gz");
    let mut o = window(2019, 9, 9, 14);
    o.min_current = Amperes(0.0);
    let (o, free) = at_30_percent(&s, o);
    let cg = run(&s, &o, Algorithm::Chargegrid);
    let llf = run(&s, &o, Algorithm::Llf);
    let opt = run(&s, &o, Algorithm::OfflineOptimal);
    assert_eq!(cg.limit_violations, 0);
    assert!(
        opt.delivered_pct < free.delivered_pct - 1.0,
        "the limit bites"
    );
    // Measured when written: 98.2021 % against the optimum's 98.2021 % and LLF's 98.1912 %
    // (about 1 kWh); asserted only as "more than LLF, beyond rounding".
    assert!(
        cg.energy_delivered_kwh > llf.energy_delivered_kwh + 0.1,
        "{} kWh vs LLF {} kWh",
        cg.energy_delivered_kwh,
        llf.energy_delivered_kwh
    );
    assert!(
        opt.energy_delivered_kwh - cg.energy_delivered_kwh < 0.5,
        "{} kWh vs optimum {} kWh",
        cg.energy_delivered_kwh,
        opt.energy_delivered_kwh
    );
}

#[test]
fn on_a_congested_week_most_drivers_leave_full_without_losing_energy() {
    // Five busy days at JPL at 30 % of their uncontrolled peak (79.2 kW), 6 A floor. Measured
    // when written (delivered % / fully served %): chargegrid 96.49 / 91.6, LLF 96.51 / 75.5,
    // EDF 94.96 / 90.7, offline optimum 96.55 / 98.1; asserted with margins.
    let s = read("jpl-2019-09-01_2019-12-31.csv.gz");
    let (o, _) = at_30_percent(&s, window(2019, 10, 7, 5));
    let [cg, llf, edf, opt] = [
        Algorithm::Chargegrid,
        Algorithm::Llf,
        Algorithm::Edf,
        Algorithm::OfflineOptimal,
    ]
    .map(|a| run(&s, &o, a));
    let full = |r: &ReplayReport| r.sessions_fully_served_pct;
    assert!(
        full(&cg) >= full(&llf) + 10.0,
        "{} vs LLF {}",
        full(&cg),
        full(&llf)
    );
    serves_as_many_as_edf_within_the_optimums_energy(&cg, &edf, &opt);
    // The offline reference serves the most in full and delivers the most.
    for r in [&cg, &llf, &edf] {
        assert!(
            full(&opt) >= full(r),
            "{}: {} in full",
            r.algorithm,
            full(r)
        );
        assert!(opt.energy_delivered_kwh >= r.energy_delivered_kwh - 1e-3);
    }
    assert_eq!(cg.limit_violations + cg.floor_violations, 0);
}

#[test]
fn a_driver_leaving_before_the_next_period_ends_is_finished_in_this_one() {
    // Five days at JPL from 2019-06-03 at 30 % of their uncontrolled peak (85.4 kW), 6 A
    // floor: the window where EDF served more drivers in full than chargegrid. The replay tells
    // the recorded departure but charges only whole 5-minute steps; planned with the minutes
    // after its last one, a driver about to leave was paced to finish in a step it did not
    // get. Measured
    // when written (delivered % / fully served %): chargegrid 98.96 / 94.8 (93.9 before the
    // rule), EDF 96.09 / 94.2, offline optimum 99.06 / 99.0.
    let s = read("jpl-2019-05-01_2019-08-31.csv.gz");
    let (o, _) = at_30_percent(&s, window(2019, 6, 3, 5));
    let [cg, edf, opt] = [
        Algorithm::Chargegrid,
        Algorithm::Edf,
        Algorithm::OfflineOptimal,
    ]
    .map(|a| run(&s, &o, a));
    serves_as_many_as_edf_within_the_optimums_energy(&cg, &edf, &opt);
    assert_eq!(cg.limit_violations + cg.floor_violations, 0);
}

/// The bar on a congested week: chargegrid serves at least as many drivers in full as
/// EDF, and delivers within 0.15 points of the offline optimum's energy.
fn serves_as_many_as_edf_within_the_optimums_energy(
    cg: &ReplayReport,
    edf: &ReplayReport,
    opt: &ReplayReport,
) {
    assert!(
        cg.sessions_fully_served_pct >= edf.sessions_fully_served_pct,
        "{} vs EDF {}",
        cg.sessions_fully_served_pct,
        edf.sessions_fully_served_pct
    );
    assert!(
        cg.delivered_pct >= opt.delivered_pct - 0.15,
        "{} vs optimum {}",
        cg.delivered_pct,
        opt.delivered_pct
    );
}

#[test]
fn report_serialises_to_json_with_the_documented_fields() {
    let s = sessions();
    let mut o = two_days(30.0);
    o.days = Some(1);
    o.record_power = true;
    let r = run(&s, &o, Algorithm::Chargegrid);
    let json = serde_json::to_value(&r).unwrap();
    for field in [
        "energy_delivered_kwh",
        "delivered_pct",
        "sessions_fully_served_pct",
        "peak_kw",
        "worst_utilisation_pct",
        "limit_violations",
        "energy_cost",
        "demand_charge",
        "jain_fairness",
        "timing",
    ] {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    assert_eq!(json["algorithm"], "chargegrid");
    assert_eq!(r.site_power_kw.as_ref().map(Vec::len), Some(r.steps));
    let back: ReplayReport = serde_json::from_value(json).unwrap();
    assert_eq!(back.steps, r.steps);
}

/// The Caltech ACN network file with its transformer rated `kva` (acnportal's
/// `transformer_cap`): both line limits of the transformer group scale with it.
fn caltech_network(kva: f64) -> Network {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/networks/caltech-acn.toml");
    let mut network: Network = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    network.validate().unwrap();
    let t = network.sites[0]
        .limit_groups
        .iter_mut()
        .find(|g| g.id.as_str() == "transformer")
        .unwrap();
    let secondary = kva * 1000.0 / 3.0 / 120.0;
    t.limit.max_current = Some(chargegrid_core::limits::PhaseCurrents::uniform(Amperes(
        secondary,
    )));
    t.delta_primary.as_mut().unwrap().max_current = Amperes(kva * 1000.0 / 3.0 / 277.0);
    network
}

/// The Caltech sessions of `days` from 2019-11-11 on the Caltech topology at 30 kVA.
fn caltech_at_30_kva(days: u32) -> (Vec<AcnSession>, ReplayOptions) {
    let mut o = window(2019, 11, 11, days);
    o.network =
        Some(ReplayNetwork::from_network(&caltech_network(30.0), None, BTreeMap::new()).unwrap());
    (read("caltech-2019-09-01_2019-12-31.csv.gz"), o)
}

#[test]
fn on_the_caltech_topology_no_policy_but_uncontrolled_breaks_a_line_pod_or_primary_limit() {
    let (s, o) = caltech_at_30_kva(2);
    let free = run(&s, &o, Algorithm::Uncontrolled);
    assert!(free.limit_violations > 0, "30 kVA must bind: {free:?}");
    assert!(free.worst_utilisation_pct > 150.0);
    for a in [
        Algorithm::Chargegrid,
        Algorithm::Edf,
        Algorithm::Llf,
        Algorithm::RoundRobin,
    ] {
        let r = run(&s, &o, a);
        assert_eq!(r.limit_violations + r.floor_violations, 0, "{a:?}: {r:?}");
        assert!(r.worst_utilisation_pct > 95.0 && r.worst_utilisation_pct <= 100.0 + 1e-3);
        // A 30 kVA transformer cannot deliver what 54 uncontrolled EVSEs did.
        assert!(
            r.delivered_pct > 40.0 && r.delivered_pct < free.delivered_pct - 10.0,
            "{a:?}: {r:?}"
        );
        // No step's power is above what the transformer's lines can carry: √3 × 208 V × the
        // secondary line limit (30 kVA ÷ 3 ÷ 120 V), 30.02 kW at 208 V rather than 120 × √3.
        let most_kw = 3f64.sqrt() * 208.0 * (30_000.0 / 3.0 / 120.0) / 1000.0;
        assert!(r.peak_kw <= most_kw + 1e-6, "{a:?}: {} kW", r.peak_kw);
    }
    // Line currents that add as phasors have no flow-network optimum.
    assert!(matches!(
        run_replay(&s, &o, Algorithm::OfflineOptimal),
        Err(ReplayError::BadOption(_))
    ));
}

/// What adacharge's ASA (quick charge; acnportal 0.3.3, adacharge b7d5fdd, CLARABEL) delivered,
/// in acnportal's own simulator on its own Caltech site at `transformer_cap = 30`, of the
/// energy these sessions needed: `simulations/acnportal/caltech_asa.py --kva 30 --from
/// 2019-11-11 --days 3` (docs/BENCHMARKS.md, "The Caltech ACN's own topology"). An independent
/// implementation's figure, measured, not chargegrid's.
const ASA_2019_11_11_3_DAYS_PCT: f64 = 72.74;

#[test]
fn on_the_caltech_topology_chargegrid_plans_the_stays_and_delivers_what_asa_does() {
    let (s, o) = caltech_at_30_kva(3);
    let r = run(&s, &o, Algorithm::Chargegrid);
    assert_eq!(r.limit_violations + r.floor_violations, 0, "{r:?}");
    // Maximising power period by period left it at 72.32 % here; the plan over the stays
    // (alloc/throughput.rs) is what reaches ASA, which plans its whole horizon.
    assert!(
        r.delivered_pct >= ASA_2019_11_11_3_DAYS_PCT,
        "{} % against ASA's {ASA_2019_11_11_3_DAYS_PCT} %",
        r.delivered_pct
    );
    // Not by giving up on drivers: more of them leave full than under ASA (52.5 %).
    assert!(r.sessions_fully_served_pct > 52.5, "{r:?}");
    // And LLF, period by period on the same rows, is far behind.
    let llf = run(&s, &o, Algorithm::Llf);
    assert!(r.delivered_pct > llf.delivered_pct + 5.0, "{llf:?}");
}

#[test]
fn told_only_the_evses_32_a_chargegrid_learns_what_the_vehicles_take_from_their_draws() {
    // As acnportal tells ASA: each vehicle may take its EVSE's 32 A; its batteries (6.6 kW at
    // 208 V) draw 31.73 A, and pilot above that is lost where the transformer is full.
    let (s, mut o) = caltech_at_30_kva(3);
    o.evse_top_only = true;
    let live_rule = run(&s, &o, Algorithm::Chargegrid);
    o.exact_meters = true;
    let exact = run(&s, &o, Algorithm::Chargegrid);
    for r in [&live_rule, &exact] {
        assert_eq!(r.limit_violations + r.floor_violations, 0, "{r:?}");
    }
    // The live rule reads a 0.27 A shortfall as the meter; judged exact (they are, here), the
    // draws show each vehicle's top after its first period and the freed current is used.
    assert!(
        exact.delivered_pct > live_rule.delivered_pct + 0.05,
        "{} % learning against {} %",
        exact.delivered_pct,
        live_rule.delivered_pct
    );
    // Told what ASA is told, it delivers what ASA does.
    assert!(
        exact.delivered_pct >= ASA_2019_11_11_3_DAYS_PCT,
        "{} % against ASA's {ASA_2019_11_11_3_DAYS_PCT} %",
        exact.delivered_pct
    );
}

#[test]
fn a_recorded_station_without_an_evse_in_the_network_is_named() {
    let s = read("caltech-2019-09-01_2019-12-31.csv.gz");
    let start = chrono::DateTime::parse_from_rfc3339("2019-11-11T08:00:00Z").unwrap();
    let station = &s.iter().find(|x| x.arrival >= start).unwrap().station_id;
    let mut network = caltech_network(150.0);
    network.chargers.retain(|c| c.id.as_str() != station);
    let mut o = window(2019, 11, 11, 1);
    o.network = Some(ReplayNetwork::from_network(&network, None, BTreeMap::new()).unwrap());
    let err = run_replay(&s, &o, Algorithm::Chargegrid)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(station.as_str()) && err.contains("caltech-acn"),
        "{err}"
    );
    // The same station mapped onto another charger's EVSE replays.
    let other = network.chargers[0].id.clone();
    let mut map = BTreeMap::new();
    map.insert(station.clone(), (other, chargegrid_core::EvseId(1)));
    o.network = Some(ReplayNetwork::from_network(&network, None, map).unwrap());
    assert!(run_replay(&s, &o, Algorithm::Chargegrid).is_ok());
}

/// The marginal emissions rates the repository carries (data/moer/, SCE, Oct–Nov 2019).
fn moer() -> chargegrid_scheduler::replay::Emissions {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/moer");
    let files = [
        dir.join("SGIP_CAISO_SCE_2019-10.csv.gz"),
        dir.join("SGIP_CAISO_SCE_2019-11.csv.gz"),
    ];
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    chargegrid_scheduler::replay::Emissions::read(&paths).unwrap()
}

#[test]
fn with_marginal_emissions_each_report_gives_the_co2_of_the_energy_drawn() {
    let s = read("caltech-2019-09-01_2019-12-31.csv.gz");
    let mut o = window(2019, 11, 11, 2);
    o.site_limit = Kilowatts(30.0);
    assert_eq!(run(&s, &o, Algorithm::Chargegrid).co2_kg, None);
    let rates = moer();
    // The lowest and highest rate over the window and the day after (the last departures).
    let start = chrono::DateTime::parse_from_rfc3339("2019-11-11T08:00:00Z").unwrap();
    let seen: Vec<f64> = (0..3 * 288)
        .filter_map(|k| rates.at(start.to_utc() + chrono::TimeDelta::minutes(5 * k)))
        .collect();
    let (lo, hi) = seen
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(hi > lo, "the rate moves over three days");
    o.emissions = Some(rates);
    for a in [
        Algorithm::Chargegrid,
        Algorithm::Llf,
        Algorithm::Uncontrolled,
    ] {
        let r = run(&s, &o, a);
        // Each kWh drawn at a rate in force: the mean per kWh lies between the extremes.
        let per_kwh = r.co2_kg.unwrap() / r.energy_delivered_kwh;
        assert!(
            per_kwh > lo && per_kwh < hi,
            "{a:?}: {per_kwh} kg/kWh outside {lo}..{hi}"
        );
    }
    // Outside the data: refused, saying what the data covers.
    let mut late = window(2019, 12, 20, 2);
    late.site_limit = Kilowatts(30.0);
    late.emissions = Some(moer());
    let err = run_replay(&s, &late, Algorithm::Chargegrid)
        .unwrap_err()
        .to_string();
    assert!(err.contains("covers"), "{err}");
}

#[test]
fn holding_for_cheaper_hours_leaves_room_for_the_arrivals_the_sites_habit_forecasts() {
    // A congested JPL week, the limit at 30 % of its uncontrolled peak.
    let s = read("jpl-2019-05-01_2019-08-31.csv.gz");
    let (o, _) = at_30_percent(&s, window(2019, 6, 3, 5));
    let llf = run(&s, &o, Algorithm::Llf);
    let plain = run(&s, &o, Algorithm::Chargegrid);
    let mut priced = o.clone();
    priced.cost_aware = true;
    // Without a forecast the cheap midday looks free when the morning is decided; the vehicles
    // that arrive meanwhile fill it, and energy is lost.
    priced.arrivals = ArrivalsInput::None;
    let blind = run(&s, &priced, Algorithm::Chargegrid);
    assert!(
        blind.delivered_pct < plain.delivered_pct - 0.3,
        "without a forecast: {} % against {} %",
        blind.delivered_pct,
        plain.delivered_pct
    );
    // With the habit of the file's earlier weeks: the energy chargegrid delivers without prices,
    // within 0.1 points of LLF's, for less money.
    priced.arrivals = ArrivalsInput::History;
    let told = run(&s, &priced, Algorithm::Chargegrid);
    assert!(
        told.delivered_pct >= plain.delivered_pct - 0.01,
        "with the habit: {} % against {} %",
        told.delivered_pct,
        plain.delivered_pct
    );
    assert!(told.delivered_pct >= llf.delivered_pct - 0.1);
    assert!(
        told.energy_cost < llf.energy_cost && told.energy_cost < plain.energy_cost,
        "cost {} against LLF {} and chargegrid without prices {}",
        told.energy_cost,
        llf.energy_cost,
        plain.energy_cost
    );
    assert_eq!(told.limit_violations, 0);
}

#[test]
fn on_the_inputs_a_live_site_has_holding_for_cheaper_hours_costs_little_energy() {
    // A Caltech week at 50 % of its uncontrolled peak, told what a live site is told: the
    // drivers' app entries where given, else estimates from earlier stays. Departures come
    // earlier than expected: waiting up to the expected one lost 1.2 points here.
    let s = read("caltech-2020-02-01_2020-05-31.csv.gz");
    let mut o = window(2020, 2, 10, 5);
    let free = run(&s, &o, Algorithm::Uncontrolled);
    o.site_limit = Kilowatts((free.peak_kw * 5.0).round() / 10.0);
    o.inputs = chargegrid_scheduler::replay::NeedsInputs::History;
    let plain = run(&s, &o, Algorithm::Chargegrid);
    o.cost_aware = true;
    let priced = run(&s, &o, Algorithm::Chargegrid);
    assert!(
        priced.delivered_pct >= plain.delivered_pct - 0.3,
        "{} % against {} % without prices",
        priced.delivered_pct,
        plain.delivered_pct
    );
    assert!(priced.energy_cost < plain.energy_cost);
}
