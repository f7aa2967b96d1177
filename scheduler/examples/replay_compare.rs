//! Replays ACN-Data session files through every algorithm at limits set as a share of what
//! uncontrolled charging peaks at, and prints one markdown table per file and limit (for
//! docs/BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p chargegrid-scheduler --example replay_compare -- \
//!     [--from 2019-05-01] [--days 30] [--shares 0.3,0.4,0.5] [--three-phase] [--min-current 0] \
//!     [--demand delivered|requested] [--departure actual|estimated] \
//!     [--inputs perfect|stated|history] [--cost-aware] [--taper] \
//!     [--algorithms chargegrid,llf,...] FILE.csv.gz...
//! ```

use std::process::ExitCode;

use chargegrid_core::{Amperes, Kilowatts};
use chargegrid_scheduler::replay::{
    Algorithm, DemandSource, DepartureSource, ReplayOptions, ReplayReport, Rows, read_sessions,
    run_replay,
};

struct Args {
    opts: ReplayOptions,
    shares: Vec<f64>,
    algorithms: Vec<Algorithm>,
    files: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut opts = ReplayOptions::new(Kilowatts(1.0));
    let mut shares = vec![0.3, 0.4, 0.5];
    let mut algorithms = Algorithm::ALL.to_vec();
    let mut files = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--from" => opts.from = Some(value()?.parse().map_err(|e| format!("--from: {e}"))?),
            "--days" => opts.days = Some(value()?.parse().map_err(|e| format!("--days: {e}"))?),
            "--shares" => {
                shares = value()?
                    .split(',')
                    .map(|s| s.parse::<f64>().map_err(|e| format!("--shares: {e}")))
                    .collect::<Result<_, _>>()?;
            }
            "--algorithms" => {
                algorithms = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--three-phase" => opts.three_phase = true,
            "--min-current" => {
                opts.min_current = Amperes(
                    value()?
                        .parse()
                        .map_err(|e| format!("--min-current: {e}"))?,
                )
            }
            "--taper" => opts.taper = true,
            "--cost-aware" => opts.cost_aware = true,
            "--peak-guard" => opts.peak_guard = true,
            "--demand" => {
                opts.demand = match value()?.as_str() {
                    "delivered" => DemandSource::Delivered,
                    "requested" => DemandSource::Requested,
                    other => return Err(format!("--demand {other}?")),
                }
            }
            "--departure" => {
                opts.departure = match value()?.as_str() {
                    "actual" => DepartureSource::Actual,
                    "estimated" => DepartureSource::Estimated,
                    other => return Err(format!("--departure {other}?")),
                }
            }
            "--inputs" => opts.inputs = value()?.parse()?,
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        return Err("no session file given".into());
    }
    Ok(Args {
        opts,
        shares,
        algorithms,
        files,
    })
}

fn row(r: &ReplayReport) -> String {
    let t = &r.timing;
    let speed = match t.offline_solve_ms {
        Some(ms) => format!("whole window {ms:.0} ms"),
        None => format!(
            "{:.0} / {:.0} / {:.0}",
            t.overall.p50_us, t.overall.p95_us, t.overall.max_us
        ),
    };
    format!(
        "| {} | {:.2} | {:.1} | {:.1} | {:.1} | {} | {:.0} | {:.0} | {:.3} | {} | {} |",
        r.algorithm,
        r.delivered_pct,
        r.sessions_fully_served_pct,
        r.peak_kw,
        r.worst_utilisation_pct,
        r.limit_violations,
        r.energy_cost,
        r.demand_charge,
        r.jain_fairness,
        r.interruptions,
        speed
    )
}

fn run(args: Args) -> Result<(), String> {
    for file in &args.files {
        let sessions = read_sessions(file, Rows::Strict).map_err(|e| e.to_string())?;
        let mut free = args.opts.clone();
        free.site_limit = Kilowatts(1e6);
        let base =
            run_replay(&sessions, &free, Algorithm::Uncontrolled).map_err(|e| e.to_string())?;
        let name = std::path::Path::new(file)
            .file_name()
            .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
        println!(
            "\n### {name}: {} sessions, {:.0} kWh demanded, uncontrolled peak {:.1} kW\n",
            base.sessions, base.energy_demanded_kwh, base.peak_kw
        );
        for share in &args.shares {
            let mut opts = args.opts.clone();
            opts.site_limit = Kilowatts((base.peak_kw * share * 10.0).round() / 10.0);
            println!(
                "#### limit {:.1} kW ({:.0} % of uncontrolled peak){}\n",
                opts.site_limit.0,
                share * 100.0,
                if opts.three_phase {
                    ", three-phase"
                } else {
                    ""
                }
            );
            println!(
                "| algorithm | delivered % | fully served % | peak kW | worst util % | violations | energy $ | demand $ | Jain | interruptions | µs p50 / p95 / max |"
            );
            println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            for &alg in &args.algorithms {
                let r = run_replay(&sessions, &opts, alg).map_err(|e| e.to_string())?;
                println!("{}", row(&r));
            }
            println!();
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replay_compare: {e}");
            ExitCode::FAILURE
        }
    }
}
