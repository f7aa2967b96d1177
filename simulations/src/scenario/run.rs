//! Running a scenario: spawn the chargers (all at once for a boot storm, or spread), plan the
//! EVs, conduct the run in simulated time, then finish every charger (stop transactions, flush
//! queues, close) and compute the KPIs; optionally write the JSON result and SVG plots.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Scenario;
use super::arrivals::plan_evs;
use super::dispatch::{ApiDispatcher, Dispatcher, NearestDispatcher};
use super::manager::Manager;
use super::operator::Operator;
use crate::SimError;
use crate::charger::{ChargerRun, ChargerSettings, ChargerSpec, spawn_charger};
use crate::clock::SimClock;
use crate::report::{RunInputs, RunReport};

/// The server under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// OCPP base URL: chargers connect to `{ocpp_url}/{charger_id}` (e.g. `ws://host:9000/ocpp`).
    pub ocpp_url: String,
    /// API base URL (e.g. `http://host:8080`), for driver dispatch.
    pub api_url: Option<String>,
    /// Basic-auth password every charger presents (security profile 1), if any.
    pub charger_password: Option<String>,
}

/// How to run.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Write `result.json`, `kpis.txt` and the SVG plots here.
    pub output_dir: Option<PathBuf>,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
    /// Override the scenario's time scale.
    pub time_scale: Option<f64>,
    /// Override the simulated start.
    pub start: Option<DateTime<Utc>>,
    /// Receives demand-response signals (none: the KPIs still use the lowered limit).
    pub operator: Option<Arc<dyn Operator>>,
    /// Chooses sites for dispatched drivers (default: the API when `api_url` is set, with the
    /// nearest site as fallback; otherwise the nearest site).
    pub dispatcher: Option<Arc<dyn Dispatcher>>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("output_dir", &self.output_dir)
            .field("progress", &self.progress)
            .field("time_scale", &self.time_scale)
            .field("start", &self.start)
            .field("operator", &self.operator.is_some())
            .field("dispatcher", &self.dispatcher.is_some())
            .finish()
    }
}

fn specs(
    scenario: &Scenario,
    target: &Target,
    network: &chargegrid_core::network::Network,
) -> Vec<ChargerSpec> {
    let mut specs: Vec<ChargerSpec> = network
        .chargers
        .iter()
        .filter(|c| scenario.sites.is_empty() || scenario.sites.contains(&c.site))
        .map(|c| {
            let mut s = ChargerSpec::from_network(c);
            s.password = target.charger_password.clone();
            s
        })
        .collect();
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(scenario.seed ^ 0x0017));
    for q in &scenario.quirks {
        let n = (q.share.clamp(0.0, 1.0) * specs.len() as f64).round() as usize;
        for &i in order.iter().take(n) {
            specs[i].quirks = q.quirks.clone();
        }
        for s in specs
            .iter_mut()
            .filter(|s| q.chargers.iter().any(|c| c == s.id.as_str()))
        {
            s.quirks = q.quirks.clone();
        }
    }
    specs
}

/// Runs `scenario` against `target` and returns its KPIs.
pub async fn run_scenario(
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
) -> Result<RunReport, SimError> {
    // The run's state machine is large: keep it on the heap, not on the caller's stack.
    Box::pin(run_inner(scenario, target, opts)).await
}

async fn run_inner(
    scenario: &Scenario,
    target: &Target,
    opts: &RunOptions,
) -> Result<RunReport, SimError> {
    let network = scenario.network()?;
    let specs = specs(scenario, target, &network);
    if specs.is_empty() {
        return Err(SimError::invalid(
            format!("scenario {}", scenario.name),
            "no chargers selected",
        ));
    }
    let scale = opts.time_scale.unwrap_or(scenario.time_scale);
    let start = opts.start.unwrap_or_else(|| scenario.start_at(Utc::now()));
    let plans = plan_evs(scenario, &network, start)?;
    let requested: Vec<_> = plans.clone();
    let clock = SimClock::new(start, scale);
    let end = start + Duration::milliseconds((scenario.duration_h * 3_600_000.0) as i64);
    let settings = ChargerSettings {
        meter_interval_s: scenario.meter_interval_s,
        step_s: scenario.step_s.unwrap_or(scenario.meter_interval_s.min(60)),
        heartbeat_wall_s: scenario.heartbeat_wall_s,
        ..ChargerSettings::default()
    };
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let wall_start = Instant::now();
    let spread = StdDuration::from_secs_f64(scenario.boot.spread_s.max(0.0));
    let n = specs.len();
    let handles: Vec<_> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let offset = spread.mul_f64(i as f64 / n as f64);
            spawn_charger(
                spec.clone(),
                ChargerRun {
                    index: i,
                    base_url: target.ocpp_url.clone(),
                    clock,
                    settings: settings.clone(),
                    seed: scenario.seed.wrapping_add(i as u64),
                    start: wall_start + offset,
                },
                events_tx.clone(),
            )
        })
        .collect();
    drop(events_tx);
    let dispatcher: Arc<dyn Dispatcher> =
        match (&opts.dispatcher, &target.api_url, &scenario.dispatch) {
            (Some(d), _, _) => d.clone(),
            (None, Some(api), Some(plan)) if plan.use_api => {
                Arc::new(ApiDispatcher::new(api, &network))
            }
            _ => Arc::new(NearestDispatcher::new(&network)),
        };
    let progress = if opts.progress {
        let bar = ProgressBar::with_draw_target(
            Some((end - start).num_minutes().max(1) as u64),
            ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} simulated min ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(scenario.name.clone());
        bar
    } else {
        ProgressBar::hidden()
    };
    let manager = Manager {
        scenario,
        network: &network,
        specs: &specs,
        controls: handles.iter().map(|h| h.control.clone()).collect(),
        clock,
        end,
        dispatcher,
        operator: opts.operator.clone(),
        progress: progress.clone(),
    };
    let outcome = Box::pin(manager.run(plans, events_rx)).await;
    progress.finish_and_clear();
    let run_wall = wall_start.elapsed();
    for h in &handles {
        let _ = h.control.send(crate::charger::ChargerControl::Finish);
    }
    let mut records = Vec::with_capacity(handles.len());
    for h in handles {
        match h.task.await {
            Ok(r) => records.push(r),
            Err(e) => return Err(SimError::invalid("charger task", e.to_string())),
        }
    }
    let report = RunReport::build(RunInputs {
        scenario,
        network: &network,
        target: &target.ocpp_url,
        start,
        end,
        scale,
        wall: run_wall,
        records: &records,
        plans: &requested,
        outcome: &outcome,
    });
    if let Some(dir) = &opts.output_dir {
        report.write(dir)?;
    }
    Ok(report)
}
