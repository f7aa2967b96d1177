//! `chargegrid simulate run | load | network`: scenarios with KPIs and plots, the load
//! benchmark, and the network a scenario needs (to pass to the server with `--network`).

use std::path::PathBuf;

use anyhow::Context;
use chargegrid_core::network::OcppVersion;
use chargegrid_simulations::{
    LoadOptions, RunOptions, Target, load_scenario, run_load, run_scenario,
};
use clap::Args;

/// Arguments of `simulate run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (simulations/scenarios/*.toml).
    pub scenario: PathBuf,
    /// The central system's OCPP base URL.
    #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
    pub against: String,
    /// The driver API's base URL, for scenarios that dispatch drivers.
    #[arg(long)]
    pub api: Option<String>,
    /// Where to write result.json, kpis.txt and the SVG plots.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Simulated seconds per wall second (overrides the scenario's).
    #[arg(long)]
    pub time_scale: Option<f64>,
    /// Basic-auth password the simulated chargers present.
    #[arg(long)]
    pub charger_password: Option<String>,
}

/// Arguments of `simulate load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The central system's OCPP base URL (chargegrid or any other CSMS).
    #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
    pub against: String,
    /// The server's process id, to read its memory (RSS) per connection.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Idle connections to open (heartbeating).
    #[arg(long, default_value_t = 10_000)]
    pub idle: usize,
    /// Connections opened per second.
    #[arg(long, default_value_t = 2_000.0)]
    pub connect_rate: f64,
    /// Seconds to hold the idle connections.
    #[arg(long, default_value_t = 10.0)]
    pub hold_s: f64,
    /// Longest wait, after the last connection attempt, for handshakes and boots still under way
    #[arg(long, default_value_t = 10.0)]
    pub settle_s: f64,
    /// Connections that send MeterValues.
    #[arg(long, default_value_t = 200)]
    pub meter_connections: usize,
    /// MeterValues per second to try, in steps.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "500,1000,2000,5000,10000,20000,50000"
    )]
    pub rates: Vec<f64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 10.0)]
    pub step_s: f64,
    /// Latency target: a step whose p99 exceeds it ends the run.
    #[arg(long, default_value_t = 20.0)]
    pub p99_ms: f64,
    /// Charger id prefix (use different ones for repeated runs against one server).
    #[arg(long, default_value = "LOAD")]
    pub prefix: String,
    /// OCPP version the load chargers speak: 1.6 (MeterValues) or 2.0.1 (TransactionEvent
    /// Updated carrying the meter values).
    #[arg(long = "ocpp", default_value = "1.6", value_parser = parse_version)]
    pub version: OcppVersion,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `simulate run`.
pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let scenario = load_scenario(&args.scenario)
        .with_context(|| format!("loading {}", args.scenario.display()))?;
    let target = Target {
        ocpp_url: args.against,
        api_url: args.api,
        charger_password: args.charger_password,
    };
    let opts = RunOptions {
        output_dir: args.out,
        progress: true,
        time_scale: args.time_scale,
        ..RunOptions::default()
    };
    let report = run_scenario(&scenario, &target, &opts).await?;
    print!("{}", report.table());
    Ok(())
}

/// An OCPP version as written on the command line (`1.6`, `2.0.1`, or the subprotocol name).
fn parse_version(text: &str) -> Result<OcppVersion, String> {
    OcppVersion::from_subprotocol(text)
        .or_else(|| OcppVersion::from_subprotocol(&format!("ocpp{text}")))
        .ok_or_else(|| format!("unknown OCPP version {text:?}: 1.6 or 2.0.1"))
}

/// `simulate load`.
pub async fn load(args: LoadArgs) -> anyhow::Result<()> {
    let target = Target {
        ocpp_url: args.against,
        api_url: None,
        charger_password: None,
    };
    let opts = LoadOptions {
        idle_connections: args.idle,
        connect_rate: args.connect_rate,
        hold_s: args.hold_s,
        settle_s: args.settle_s,
        meter_connections: args.meter_connections,
        rates: args.rates,
        step_s: args.step_s,
        p99_target_ms: args.p99_ms,
        server_pid: args.pid,
        prefix: args.prefix,
        version: args.version,
        ..LoadOptions::default()
    };
    let report = run_load(&target, opts).await?;
    print!("{}", report.table());
    if let Some(path) = args.json {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `simulate network`: prints the network TOML a scenario expects the server to have.
pub fn network(scenario: PathBuf) -> anyhow::Result<()> {
    use std::io::Write;
    let s = load_scenario(&scenario).with_context(|| format!("loading {}", scenario.display()))?;
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(s.network_toml()?.as_bytes());
    Ok(())
}
