//! `chargegrid simulate replay`: runs the scheduler (or a baseline) offline on recorded
//! ACN-Data sessions and prints the comparison figures; `--json` writes the full report.

use std::path::PathBuf;

use anyhow::Context;
use chargegrid_core::{Amperes, Kilowatts};
use chargegrid_scheduler::replay::{
    Algorithm, DemandSource, DepartureSource, ReplayOptions, ReplayReport, Rows, read_sessions,
    run_replay,
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
    /// What the driver said.
    Estimated,
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
    /// Aggregate site limit, kW.
    #[arg(long)]
    pub site_limit_kw: f64,
    /// Three-phase mode: stations on L1/L2/L3, per-phase current limit = limit / 3 / voltage.
    #[arg(long)]
    pub three_phase: bool,
    /// Largest power of each EVSE, kW.
    #[arg(long, default_value_t = 6.6)]
    pub evse_max_kw: f64,
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
    let mut options = ReplayOptions::new(Kilowatts(args.site_limit_kw));
    options.from = args.from;
    options.days = args.days;
    options.three_phase = args.three_phase;
    options.record_power = args.record_power;
    options.evse_max = Kilowatts(args.evse_max_kw);
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
    let mut reports = Vec::new();
    println!(
        "| algorithm | delivered % | fully served % | peak kW | worst util % | violations | energy cost | demand charge | Jain | interruptions | µs p50 / p95 / max |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for name in &args.algorithm {
        let algorithm: Algorithm = name
            .parse()
            .map_err(|e| anyhow::anyhow!("--algorithm {name:?}: {e}"))?;
        let r = run_replay(&sessions, &options, algorithm)
            .with_context(|| format!("replaying with {name}"))?;
        let t = &r.timing.overall;
        println!(
            "| {name} | {:.2} | {:.1} | {:.1} | {:.1} | {} | {:.0} | {:.0} | {:.3} | {} | {:.0} / {:.0} / {:.0} |",
            r.delivered_pct,
            r.sessions_fully_served_pct,
            r.peak_kw,
            r.worst_utilisation_pct,
            r.limit_violations,
            r.energy_cost,
            r.demand_charge,
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
