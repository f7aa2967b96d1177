//! `chargegrid simulate replay`: runs the scheduler (or a baseline) offline on recorded
//! ACN-Data sessions and prints the comparison figures; `--json` writes the full report.

use std::path::PathBuf;

use anyhow::Context;
use std::collections::BTreeMap;

use chargegrid_core::{Amperes, ChargerId, EvseId, Kilowatts, Volts};
use chargegrid_scheduler::alloc::DrawRule;
use chargegrid_scheduler::replay::{
    Algorithm, ArrivalsInput, DemandSource, DepartureSource, Emissions, NeedsInputs, ReplayNetwork,
    ReplayOptions, ReplayReport, Rows, StepSession, Stepper, read_sessions, run_replay,
};
use chrono::{NaiveDate, TimeDelta};
use clap::{Args, ValueEnum};

/// Which energy figure is each EV's need.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Demand {
    /// What the uncontrolled site delivered.
    Delivered,
    /// What the driver asked for in the app.
    Requested,
}

/// Which departure the scheduler is told.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Departure {
    /// The real one.
    Actual,
    /// What the driver said (the real one where they said nothing: use --inputs for what a
    /// live system knows).
    Estimated,
}

/// What the scheduler is told a vehicle takes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VehicleTop {
    /// Its own top current.
    Known,
    /// Only its EVSE's limit.
    Evse,
}

/// Arguments of `simulate replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// ACN-Data session file (.csv.gz), e.g. data/acn-sessions/caltech-2019-05-01_2019-08-31.csv.gz.
    pub file: PathBuf,
    /// First day (YYYY-MM-DD, site-local); the whole file when absent.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Number of days from --from.
    #[arg(long)]
    pub days: Option<u32>,
    /// Aggregate site limit, kW (required without --network; with it, an extra cap on the
    /// site's grid connection).
    #[arg(long, required_unless_present = "network")]
    pub site_limit_kw: Option<f64>,
    /// Replay on a site of this network file (chargegrid's network TOML: limit groups, per-phase
    /// line limits, delta–wye transformers, chargers wired line to neutral or line to line);
    /// each recorded station charges at the charger of the same id (EVSE 1) unless
    /// --station-map says otherwise. --voltage is then the line-to-line voltage.
    #[arg(long, conflicts_with = "three_phase")]
    pub network: Option<PathBuf>,
    /// The site of --network to use (needed when the file has several).
    #[arg(long, requires = "network")]
    pub site: Option<String>,
    /// TOML table mapping recorded station ids to chargers: `"CA-322" = "charger-id"` or
    /// `"CA-322" = { charger = "charger-id", evse = 2 }`.
    #[arg(long, requires = "network")]
    pub station_map: Option<PathBuf>,
    /// Marginal emissions rate files (CSV with `time` and `moer` in kg CO₂/kWh, e.g.
    /// data/moer/SGIP_CAISO_SCE_2019-11.csv.gz; repeat or comma-separate to cover the window):
    /// each report then gives `co2_kg`.
    #[arg(long, value_delimiter = ',')]
    pub moer: Vec<PathBuf>,
    /// Tell chargegrid the tariff (and with --carbon-price the marginal emissions) so that it
    /// holds flexible charging for cheaper periods; the baselines ignore it.
    #[arg(long)]
    pub cost_aware: bool,
    /// Price of a kg of CO₂ added to the energy price chargegrid is told (needs --moer and
    /// --cost-aware), e.g. 0.19 ($190/t).
    #[arg(long, default_value_t = 0.0, requires_all = ["moer", "cost_aware"])]
    pub carbon_price: f64,
    /// The tariff's demand charge per kW of the month's highest 15-minute average, for the
    /// report (default: the SCE-like tariff's 15).
    #[arg(long)]
    pub demand_charge_per_kw: Option<f64>,
    /// With --cost-aware: also tell chargegrid the month's peak so far, holding charging that
    /// can wait under it (the live scheduler does not: measured to raise cost here).
    #[arg(long, requires = "cost_aware")]
    pub peak_guard: bool,
    /// With --cost-aware: what chargegrid is told of the energy still to arrive, so that
    /// holding charging for a cheaper hour leaves room for it: none (the sessions present only);
    /// history (the site's habit from the sessions that had left, as live); perfect (the
    /// recorded arrivals of the next 24 h, a bound).
    #[arg(long, default_value = "history", requires = "cost_aware")]
    pub arrivals: ArrivalsInput,
    /// Station voltage, V (line to line with --network).
    #[arg(long, default_value_t = 208.0)]
    pub voltage: f64,
    /// Three-phase mode: stations on L1/L2/L3, per-phase current limit = limit / 3 / voltage.
    #[arg(long)]
    pub three_phase: bool,
    /// Largest power of each EVSE, kW (with --network: of each vehicle, the EVSE's own current
    /// limit also applies).
    #[arg(long, default_value_t = 6.6)]
    pub evse_max_kw: f64,
    /// What the scheduler is told a vehicle takes: `known` (its own top, the smaller of its
    /// EVSE's and --evse-max-kw) or `evse` (only its EVSE's limit, as a live site knows it: the
    /// vehicle's top shows in what it draws, which chargegrid learns from).
    #[arg(long, value_enum, default_value_t = VehicleTop::Known)]
    pub vehicle_top: VehicleTop,
    /// Judge what vehicles draw as exact (they are in the replay): a 0.005 A shortfall is the
    /// vehicle's own limit, instead of the live rule's 1 A or 4 % (meters read power at a nominal
    /// voltage).
    #[arg(long)]
    pub exact_meters: bool,
    /// The least current a charging EVSE may be given, A (0 = no floor, acnportal's model).
    #[arg(long, default_value_t = 6.0)]
    pub min_current_a: f64,
    /// Scheduling step (e.g. 5m, 60s, 1h).
    #[arg(long, default_value = "5m")]
    pub step: String,
    /// Each EV's need.
    #[arg(long, value_enum, default_value_t = Demand::Delivered)]
    pub demand: Demand,
    /// The departure the scheduler is told.
    #[arg(long, value_enum, default_value_t = Departure::Actual)]
    pub departure: Departure,
    /// What the scheduler is told of energy and departure: perfect (the real need, the
    /// departure --departure names), stated (the app entries where the session was claimed,
    /// else the live defaults) or history (the app entries, else estimated from earlier stays).
    #[arg(long, default_value = "perfect")]
    pub inputs: NeedsInputs,
    /// chargegrid, uncontrolled, round-robin, edf, llf, offline-optimal; repeat or comma-separate
    /// to compare side by side.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "chargegrid,llf,edf,round-robin,uncontrolled,offline-optimal"
    )]
    pub algorithm: Vec<String>,
    /// Write the reports as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Put the site power of every step (kW) into the JSON reports (`site_power_kw`), for plots.
    #[arg(long)]
    pub record_power: bool,
}

/// Arguments of `simulate allocate`.
#[derive(Debug, Args)]
pub struct AllocateArgs {
    /// The network file whose site is allocated.
    #[arg(long)]
    pub network: PathBuf,
    /// The site of --network (needed when the file has several).
    #[arg(long)]
    pub site: Option<String>,
    /// TOML table mapping station ids to chargers, as for `simulate replay`.
    #[arg(long)]
    pub station_map: Option<PathBuf>,
    /// The service's line-to-line voltage, V.
    #[arg(long, default_value_t = 208.0)]
    pub voltage: f64,
    /// The least current a charging EVSE may be given, A (0 = no floor).
    #[arg(long, default_value_t = 6.0)]
    pub min_current_a: f64,
    /// chargegrid, round-robin, edf or llf.
    #[arg(long, default_value = "chargegrid")]
    pub algorithm: String,
    /// The simulator's vehicles draw exactly what it reports (`drawn_a`): read a shortfall of
    /// 0.005 A as the vehicle's own limit, with a 0.01 A margin, instead of the live rule
    /// (1 A or 4 %, a margin of 2 A or 8 %) made for meters that read power at a nominal voltage.
    #[arg(long)]
    pub exact_meters: bool,
}

/// One period's question on stdin.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocateRequest {
    now: chrono::DateTime<chrono::Utc>,
    period_s: i64,
    sessions: Vec<StepSession>,
}

/// `simulate allocate`: answers one JSON line per JSON line read, for an outside simulator
/// (acnportal) that keeps its own clock and vehicles. Each request is
/// `{"now": RFC 3339, "period_s": 300, "sessions": [{"station", "remaining_wh", "departure",
/// "max_a", "session"?, "drawn_a"?}]}`; each answer `{"pilots": [A, ...]}` in the sessions' order, or `{"error": "..."}`
/// (the next request is still answered). Ends at the end of stdin.
pub fn allocate(args: &AllocateArgs) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let algorithm: Algorithm = args
        .algorithm
        .parse()
        .map_err(|e| anyhow::anyhow!("--algorithm: {e}"))?;
    let policy = algorithm
        .policy()
        .filter(|p| *p != chargegrid_scheduler::alloc::Policy::Uncontrolled)
        .ok_or_else(|| anyhow::anyhow!("--algorithm {algorithm} cannot allocate one period"))?;
    let net = replay_network(
        &args.network,
        args.site.as_deref(),
        args.station_map.as_deref(),
    )?;
    let mut stepper = Stepper::new(
        &net,
        Volts(args.voltage),
        Amperes(args.min_current_a),
        policy,
    )?;
    if args.exact_meters {
        stepper = stepper.judging_draws_by(DrawRule::EXACT)?;
    }
    let stdin = std::io::stdin().lock();
    let mut out = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line.context("reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = match serde_json::from_str::<AllocateRequest>(&line) {
            Err(e) => serde_json::json!({ "error": format!("bad request: {e}") }),
            Ok(r) if r.period_s <= 0 => serde_json::json!({ "error": "period_s must be > 0" }),
            Ok(r) => match stepper.step(r.now, TimeDelta::seconds(r.period_s), &r.sessions) {
                Ok(pilots) => serde_json::json!({ "pilots": pilots }),
                Err(e) => serde_json::json!({ "error": e.to_string() }),
            },
        };
        writeln!(out, "{answer}").context("writing stdout")?;
        out.flush().context("writing stdout")?;
    }
    Ok(())
}

/// Reads a network file (and a station map) into the site to replay on.
fn replay_network(
    path: &std::path::Path,
    site: Option<&str>,
    station_map: Option<&std::path::Path>,
) -> anyhow::Result<ReplayNetwork> {
    let network = chargegrid::network::read_network(path)?;
    let mut stations = BTreeMap::new();
    if let Some(map) = station_map {
        let text =
            std::fs::read_to_string(map).with_context(|| format!("reading {}", map.display()))?;
        let table: BTreeMap<String, StationTarget> =
            toml::from_str(&text).with_context(|| format!("parsing {}", map.display()))?;
        for (station, target) in table {
            let (charger, evse) = match target {
                StationTarget::Charger(c) => (c, 1),
                StationTarget::Evse { charger, evse } => (charger, evse),
            };
            let charger = ChargerId::new(&charger)
                .map_err(|e| anyhow::anyhow!("{}: station {station:?}: {e}", map.display()))?;
            stations.insert(station, (charger, EvseId(evse)));
        }
    }
    Ok(ReplayNetwork::from_network(&network, site, stations)?)
}

/// Where a recorded station charges, in a --station-map file.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum StationTarget {
    /// A charger id (its EVSE 1).
    Charger(String),
    /// A charger and one of its EVSEs.
    Evse { charger: String, evse: u32 },
}

fn parse_step(text: &str) -> anyhow::Result<TimeDelta> {
    let (num, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = num
        .parse()
        .with_context(|| format!("--step {text:?}: expected a number and s, m or h"))?;
    let step = match unit {
        "s" => TimeDelta::seconds(n),
        "m" | "" => TimeDelta::minutes(n),
        "h" => TimeDelta::hours(n),
        other => anyhow::bail!("--step {text:?}: unknown unit {other:?}"),
    };
    anyhow::ensure!(step > TimeDelta::zero(), "--step must be positive");
    Ok(step)
}

/// Runs the replay for each algorithm and prints a table.
pub fn run(args: &ReplayArgs) -> anyhow::Result<Vec<ReplayReport>> {
    let sessions = read_sessions(&args.file, Rows::Strict)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let network = match &args.network {
        Some(path) => Some(replay_network(
            path,
            args.site.as_deref(),
            args.station_map.as_deref(),
        )?),
        None => None,
    };
    let site_limit = match (args.site_limit_kw, &network) {
        (Some(kw), _) => kw,
        // No extra cap: the site's own grid limit (or, without a kW side, far above any load).
        (None, Some(n)) => n.site.grid_limit.max_power.map_or(1.0e6, |w| w.0 / 1000.0),
        (None, None) => anyhow::bail!("--site-limit-kw is required without --network"),
    };
    let mut options = ReplayOptions::new(Kilowatts(site_limit));
    options.network = network;
    options.cost_aware = args.cost_aware;
    options.carbon_price_per_kg = args.carbon_price;
    options.peak_guard = args.peak_guard;
    options.arrivals = args.arrivals;
    if let Some(charge) = args.demand_charge_per_kw {
        if !(charge.is_finite() && charge >= 0.0) {
            anyhow::bail!("--demand-charge-per-kw must be a number >= 0, got {charge}");
        }
        options.tariff.supply.demand_charge_per_kw = charge;
    }
    if !args.moer.is_empty() {
        let paths: Vec<&std::path::Path> = args.moer.iter().map(PathBuf::as_path).collect();
        options.emissions = Some(Emissions::read(&paths)?);
    }
    options.voltage = Volts(args.voltage);
    options.from = args.from;
    options.days = args.days;
    options.three_phase = args.three_phase;
    options.record_power = args.record_power;
    options.evse_max = Kilowatts(args.evse_max_kw);
    options.evse_top_only = matches!(args.vehicle_top, VehicleTop::Evse);
    options.exact_meters = args.exact_meters;
    options.min_current = Amperes(args.min_current_a);
    options.step = parse_step(&args.step)?;
    options.demand = match args.demand {
        Demand::Delivered => DemandSource::Delivered,
        Demand::Requested => DemandSource::Requested,
    };
    options.departure = match args.departure {
        Departure::Actual => DepartureSource::Actual,
        Departure::Estimated => DepartureSource::Estimated,
    };
    options.inputs = args.inputs;
    let mut reports = Vec::new();
    println!(
        "| algorithm | delivered % | fully served % | peak kW | worst util % | violations | energy cost | demand charge | kg CO₂ | Jain | interruptions | µs p50 / p95 / max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for name in &args.algorithm {
        let algorithm: Algorithm = name
            .parse()
            .map_err(|e| anyhow::anyhow!("--algorithm {name:?}: {e}"))?;
        if algorithm == Algorithm::OfflineOptimal && options.network.is_some() {
            println!(
                "| {name} | not available with --network (phasor line limits are not a flow network) |"
            );
            continue;
        }
        let r = run_replay(&sessions, &options, algorithm)
            .with_context(|| format!("replaying with {name}"))?;
        let t = &r.timing.overall;
        println!(
            "| {name} | {:.2} | {:.1} | {:.1} | {:.1} | {} | {:.0} | {:.0} | {} | {:.3} | {} | {:.0} / {:.0} / {:.0} |",
            r.delivered_pct,
            r.sessions_fully_served_pct,
            r.peak_kw,
            r.worst_utilisation_pct,
            r.limit_violations,
            r.energy_cost,
            r.demand_charge,
            r.co2_kg.map_or("-".to_string(), |kg| format!("{kg:.0}")),
            r.jain_fairness,
            r.interruptions,
            t.p50_us,
            t.p95_us,
            t.max_us,
        );
        reports.push(r);
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&reports)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(reports)
}
