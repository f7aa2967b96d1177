//! The replay loop: step through the window, build each step's [`SiteProblem`] from the
//! vehicles plugged in, ask the algorithm, check the answer against the limits, let the
//! vehicles draw, and keep score.
//!
//! Vehicle physics: a vehicle draws `min(allocation, its top rate, what finishes it)`; with
//! `taper` its top rate falls from 100 % at 80 % of its need to 20 % at 100 %. What it drew
//! under its allocation is what chargegrid learns its top from, as live. It leaves at its
//! real departure whatever the scheduler was told. Limits are checked on the allocations (what
//! chargers are told), which bound what vehicles draw.

use std::collections::BTreeMap;
use std::time::Instant;

use chargegrid_core::arrivals::{ArrivalHabit, ArrivingEnergy, PastArrival};
use chargegrid_core::stays;
use chargegrid_core::{Amperes, WattHours, Watts};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::error::ReplayError;
use super::network;
use super::offline_optimal::{self, StepLimits};
use super::options::{Algorithm, ArrivalsInput, DepartureSource, NeedsInputs, ReplayOptions};
use super::report::{ReplayReport, jain, timing};
use super::site_model::{Grid, build_grid};
use super::tariff::LocalTariff;
use crate::alloc::{
    AllocContext, DrawRule, Policy, SessionDemand, SiteProblem, TouSignal, allocate,
};
use chargegrid_acn::AcnSession;

/// Relative tolerance when checking a limit (float rounding only).
const LIMIT_TOLERANCE: f64 = 1e-6;

/// Live state of one session during the replay.
#[derive(Debug, Clone, Default)]
struct Live {
    delivered_wh: f64,
    previous_a: Option<f64>,
    /// What the vehicle has shown it takes, judged as the live scheduler does.
    learned_max: Option<Amperes>,
}

/// Replays `sessions` with `algorithm` under `opts`.
pub fn run_replay(
    sessions: &[AcnSession],
    opts: &ReplayOptions,
    algorithm: Algorithm,
) -> Result<ReplayReport, ReplayError> {
    check_options(opts)?;
    let tariff = LocalTariff::new(&opts.tariff)?;
    let grid = build_grid(sessions, opts, &tariff)?;
    let v = opts.voltage.0;
    let limits = StepLimits {
        site_w: opts.site_limit.0 * 1000.0,
        phase_a: opts
            .three_phase
            .then(|| opts.site_limit.0 * 1000.0 / 3.0 / v),
        voltage: v,
        ev_max_w: opts.evse_max.0 * 1000.0,
    };
    let (plan, solve) = match algorithm {
        Algorithm::OfflineOptimal if opts.network.is_some() => {
            return Err(ReplayError::BadOption(
                "offline-optimal needs the single-node site model (line currents that add as \
                 phasors are not a flow network); leave out --network"
                    .into(),
            ));
        }
        Algorithm::OfflineOptimal => {
            let (plan, took) = offline_optimal::plan(&grid, limits);
            (Some(plan), Some(took.as_secs_f64() * 1000.0))
        }
        _ => (None, None),
    };
    if let Some(e) = &opts.emissions {
        e.check_covers(grid.start, grid.time(grid.steps))?;
    }
    let hours = grid.step_hours();
    let mut live = vec![Live::default(); grid.sessions.len()];
    let rule = if opts.exact_meters {
        DrawRule::EXACT
    } else {
        DrawRule::default()
    };
    let mut score = Score::default();
    let mut next_arrival = 0;
    let mut active: Vec<usize> = Vec::new();
    let mut month_peak: BTreeMap<(i32, u32), f64> = BTreeMap::new();
    let mut quarter: (i64, f64, usize) = (i64::MIN, 0.0, 0);
    let mut habit: Option<(NaiveDate, ArrivalHabit)> = None;

    for k in 0..grid.steps {
        let now = grid.time(k);
        while next_arrival < grid.sessions.len() && grid.sessions[next_arrival].arrive <= k {
            active.push(next_arrival);
            next_arrival += 1;
        }
        active.retain(|&i| grid.sessions[i].leave > k);
        let charging: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&i| grid.sessions[i].need_wh - live[i].delivered_wh > 1e-6)
            .collect();
        // Sessions that are still here but full get nothing; forget their history.
        for &i in &active {
            if !charging.contains(&i) {
                live[i].previous_a = Some(0.0);
            }
        }

        let month = tariff.month_of(now);
        let alloc_a: Vec<f64> = match (&plan, algorithm.policy()) {
            (Some(plan), _) => charging
                .iter()
                .map(|&i| plan[i][k - grid.sessions[i].arrive] / (v * hours))
                .collect(),
            (None, Some(policy)) => {
                let problem = site_problem(&grid, &live, &charging, opts, now);
                let mut ctx = AllocContext::new(now, grid.step);
                ctx.default_dwell = TimeDelta::hours(4);
                if opts.cost_aware && policy == Policy::Chargegrid {
                    ctx.tou = Some(price_signal(&tariff, opts, now));
                    ctx = told_arrivals(ctx, &grid, sessions, opts, &tariff, &mut habit, k);
                    if opts.peak_guard {
                        ctx.month_peak = Some(Watts(
                            month_peak.get(&month).copied().unwrap_or(0.0) * 1000.0,
                        ));
                    }
                }
                let started = Instant::now();
                let answer = allocate(policy, &problem, &ctx)?;
                let took = started.elapsed().as_secs_f64() * 1e6;
                if !charging.is_empty() {
                    score.timing.push((charging.len(), took));
                }
                answer.sessions.iter().map(|a| a.current.0).collect()
            }
            (None, None) => unreachable!("every algorithm but the offline one has a policy"),
        };

        // Limits, on what the chargers were told.
        let mut loads = Vec::with_capacity(charging.len());
        for (&i, &a) in charging.iter().zip(&alloc_a) {
            let place = grid.sessions[i].place;
            loads.push((place.node, place.wiring, Amperes(a)));
            if a > 1e-9 && a < opts.min_current.0 - 1e-6 {
                score.floor_violations += 1;
            }
        }
        let utilisation = network::utilisation(&grid.nodes, &loads, grid.voltage);
        score.worst_utilisation = score.worst_utilisation.max(utilisation);
        if utilisation > 1.0 + LIMIT_TOLERANCE {
            score.violations += 1;
        }

        // Physics.
        let mut drawn_w = 0.0;
        for (&i, &a) in charging.iter().zip(&alloc_a) {
            let s = &grid.sessions[i];
            let l = &mut live[i];
            let wpa = s.watts_per_amp;
            let mut top = s.place.max_a;
            if opts.taper && s.need_wh > 0.0 {
                let done = l.delivered_wh / s.need_wh;
                if done > 0.8 {
                    top *= 1.0 - 0.8 * ((done - 0.8) / 0.2).min(1.0);
                }
            }
            let finish = (s.need_wh - l.delivered_wh) / (wpa * hours);
            let draw = a.min(top).min(finish).max(0.0);
            if let Some(prev) = l.previous_a {
                score.current_change_sum += (a - prev).abs();
                score.current_change_count += 1;
                if prev > 0.0 && a <= 0.0 {
                    score.interruptions += 1;
                }
            }
            l.delivered_wh += draw * wpa * hours;
            l.previous_a = Some(a);
            l.learned_max = rule.learn(l.learned_max, Amperes(a), Amperes(draw));
            drawn_w += draw * wpa;
        }
        score.energy_cost += drawn_w / 1000.0 * hours * tariff.price_at(now);
        if let Some(e) = &opts.emissions {
            score.co2_kg += drawn_w / 1000.0 * hours * e.at(now).unwrap_or(0.0);
        }
        score.peak_kw = score.peak_kw.max(drawn_w / 1000.0);
        if opts.record_power {
            score.power.push(drawn_w / 1000.0);
        }

        // Demand charge: the month's highest 15-minute average (clock quarters).
        let q = now.timestamp().div_euclid(900);
        if q != quarter.0 {
            close_quarter(&mut quarter, &mut month_peak, month);
            quarter = (q, 0.0, 0);
        }
        quarter.1 += drawn_w / 1000.0;
        quarter.2 += 1;
        // Steps longer than a quarter are their own average.
        if grid.step >= TimeDelta::minutes(15) {
            close_quarter(&mut quarter, &mut month_peak, month);
        }
    }
    let last_month = tariff.month_of(grid.time(grid.steps));
    close_quarter(&mut quarter, &mut month_peak, last_month);

    Ok(finish(
        sessions,
        &grid,
        &live,
        opts,
        algorithm,
        score,
        &month_peak,
        &tariff,
        solve,
    ))
}

/// How much lower (share) a coming price must be to count as cheaper when carbon is priced: the
/// marginal rate moves every 5 minutes, and holding charging back for a dip of a few percent
/// only moves it.
const CHEAPER_BY: f64 = 0.1;
/// How far ahead (5-minute steps) the marginal rate is looked at: the 3 hours the SGIP signal
/// forecasts. The replay reads the recorded rates, i.e. a perfect forecast.
const CARBON_LOOKAHEAD_STEPS: i32 = 36;

/// The price chargegrid is told: the tariff's, plus the carbon price at the marginal rate when
/// both are given, and the first clearly cheaper moment ahead (within the rates' look-ahead,
/// else the tariff's next cheaper period). With carbon priced, a moment counts as cheaper only
/// when it is neither dearer on the tariff nor dirtier than now: waiting for it then lowers the
/// bill and the emissions together, never one at the other's expense.
fn price_signal(tariff: &LocalTariff<'_>, opts: &ReplayOptions, now: DateTime<Utc>) -> TouSignal {
    let carbon = opts
        .emissions
        .as_ref()
        .filter(|_| opts.carbon_price_per_kg > 0.0);
    // The tariff's price and the marginal rate (kg a kWh, 0 without carbon priced) at `t`.
    let parts = |t: DateTime<Utc>| {
        (
            tariff.price_at(t),
            carbon.map_or(0.0, |e| e.at(t).unwrap_or(0.0)),
        )
    };
    let total = |(p, kg): (f64, f64)| p + opts.carbon_price_per_kg * kg;
    let (tariff_now, kg_now) = parts(now);
    let price_now = total((tariff_now, kg_now));
    // Neither dearer on the tariff nor dirtier than now, and below `bound` in all.
    let cheaper_than = |bound: f64| {
        move |&(_, (p, kg)): &(DateTime<Utc>, (f64, f64))| {
            p <= tariff_now && kg <= kg_now && total((p, kg)) < bound
        }
    };
    let ahead = carbon.and_then(|_| {
        (1..=CARBON_LOOKAHEAD_STEPS)
            .map(|k| now + TimeDelta::minutes(5 * i64::from(k)))
            .map(|t| (t, parts(t)))
            .find(cheaper_than(price_now * (1.0 - CHEAPER_BY)))
    });
    let cheaper = ahead
        .or_else(|| {
            tariff
                .next_cheaper(now)
                .map(|(t, _)| (t, parts(t)))
                .filter(cheaper_than(price_now))
        })
        .map(|(t, parts)| (t, total(parts)));
    TouSignal { price_now, cheaper }
}

/// `ctx` told the energy still to arrive at step `k`, by `opts.arrivals`. The habit is learned
/// again when the local day changes (`habit` keeps it with its day), from the file's sessions
/// that had left by now (as live, where a session's energy is recorded at its stop), never a
/// later one; without a day on record nothing waits for cheaper hours
/// ([`AllocContext::with_habit`]).
fn told_arrivals(
    ctx: AllocContext,
    grid: &Grid,
    sessions: &[AcnSession],
    opts: &ReplayOptions,
    tariff: &LocalTariff<'_>,
    habit: &mut Option<(NaiveDate, ArrivalHabit)>,
    k: usize,
) -> AllocContext {
    let now = ctx.now;
    match opts.arrivals {
        ArrivalsInput::None => ctx,
        ArrivalsInput::Perfect => {
            // The grid's sessions are in arrival order: from the first still to come, until a
            // day ahead.
            let mut by_hour = ArrivingEnergy::NONE.by_hour;
            let next = grid.sessions.partition_point(|s| s.arrive <= k);
            for s in &grid.sessions[next..] {
                let h = ((s.arrive - k) as f64 * grid.step_hours()) as usize;
                let Some(w) = by_hour.get_mut(h) else { break };
                *w += sessions[s.source].delivered;
            }
            AllocContext {
                arriving: Some(ArrivingEnergy { by_hour }),
                ..ctx
            }
        }
        ArrivalsInput::History => {
            let tz = tariff.tz();
            let today = now.with_timezone(&tz).date_naive();
            if habit.as_ref().is_none_or(|(day, _)| *day != today) {
                let past: Vec<PastArrival> = sessions
                    .iter()
                    .filter(|s| s.departure <= now)
                    .map(|s| PastArrival {
                        arrived: s.arrival,
                        energy: s.delivered,
                    })
                    .collect();
                *habit = Some((today, ArrivalHabit::learn(&past, today, tz)));
            }
            ctx.with_habit(habit.as_ref().map(|(_, h)| h))
        }
    }
}

/// Scores gathered along the way.
#[derive(Debug, Default)]
struct Score {
    violations: usize,
    floor_violations: usize,
    worst_utilisation: f64,
    peak_kw: f64,
    energy_cost: f64,
    co2_kg: f64,
    interruptions: usize,
    current_change_sum: f64,
    current_change_count: usize,
    timing: Vec<(usize, f64)>,
    power: Vec<f64>,
}

fn close_quarter(
    quarter: &mut (i64, f64, usize),
    month_peak: &mut BTreeMap<(i32, u32), f64>,
    month: (i32, u32),
) {
    if quarter.2 > 0 {
        let avg = quarter.1 / quarter.2 as f64;
        let peak = month_peak.entry(month).or_insert(0.0);
        *peak = peak.max(avg);
    }
    quarter.1 = 0.0;
    quarter.2 = 0;
}

fn check_options(opts: &ReplayOptions) -> Result<(), ReplayError> {
    let positive = |what: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(ReplayError::BadOption(format!("{what} must be > 0")))
        }
    };
    positive("site limit", opts.site_limit.0)?;
    positive("voltage", opts.voltage.0)?;
    positive("EVSE max", opts.evse_max.0)?;
    if !(opts.min_current.is_finite() && opts.min_current.0 >= 0.0) {
        return Err(ReplayError::BadOption("min current must be >= 0".into()));
    }
    if opts.inputs != NeedsInputs::Perfect && opts.departure != DepartureSource::Actual {
        return Err(ReplayError::BadOption(
            "the told departure comes from the inputs: use --departure estimated only with \
             --inputs perfect"
                .into(),
        ));
    }
    if opts.days == Some(0) {
        return Err(ReplayError::BadOption("days must be >= 1".into()));
    }
    Ok(())
}

/// One step's allocation problem: the site's tree, sessions in arrival order.
fn site_problem(
    grid: &Grid,
    live: &[Live],
    charging: &[usize],
    opts: &ReplayOptions,
    now: DateTime<Utc>,
) -> SiteProblem {
    let sessions = charging
        .iter()
        .map(|&i| {
            let s = &grid.sessions[i];
            let l = &live[i];
            let mut d = SessionDemand::new(
                s.place.node,
                s.place.wiring,
                grid.voltage,
                Amperes(if opts.evse_top_only {
                    s.evse_a
                } else {
                    s.place.max_a
                }),
                WattHours(
                    s.told
                        .remaining_wh(l.delivered_wh, s.need_wh - l.delivered_wh),
                ),
                Some(stays::planning_departure(s.told.departure, now)),
            );
            d.min_current = opts.min_current;
            d.previous = l.previous_a.map(Amperes);
            d.learned_max = l.learned_max;
            d
        })
        .collect();
    SiteProblem {
        nodes: grid.nodes.clone(),
        sessions,
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    sessions: &[AcnSession],
    grid: &Grid,
    live: &[Live],
    opts: &ReplayOptions,
    algorithm: Algorithm,
    score: Score,
    month_peak: &BTreeMap<(i32, u32), f64>,
    tariff: &LocalTariff<'_>,
    solve_ms: Option<f64>,
) -> ReplayReport {
    let demanded: f64 = grid.sessions.iter().map(|s| s.need_wh).sum();
    let delivered: f64 = live.iter().map(|l| l.delivered_wh).sum();
    let requested: f64 = grid
        .sessions
        .iter()
        .map(|s| sessions[s.source].requested.0)
        .sum();
    let ratios: Vec<f64> = grid
        .sessions
        .iter()
        .zip(live)
        .filter(|(s, _)| s.need_wh > 0.0)
        .map(|(s, l)| (l.delivered_wh / s.need_wh).min(1.0))
        .collect();
    let served = ratios.iter().filter(|&&r| r >= 0.99).count();
    let pct = |a: f64, b: f64| if b > 0.0 { 100.0 * a / b } else { 100.0 };
    ReplayReport {
        algorithm,
        options: opts.clone(),
        window_start: grid.start,
        window_end: grid.end,
        sessions: grid.sessions.len(),
        steps: grid.steps,
        energy_demanded_kwh: demanded / 1000.0,
        energy_requested_kwh: requested / 1000.0,
        energy_delivered_kwh: delivered / 1000.0,
        delivered_pct: pct(delivered, demanded),
        sessions_fully_served_pct: pct(served as f64, ratios.len() as f64),
        peak_kw: score.peak_kw,
        worst_utilisation_pct: 100.0 * score.worst_utilisation,
        limit_violations: score.violations,
        floor_violations: score.floor_violations,
        energy_cost: score.energy_cost,
        demand_charge: month_peak.values().map(|&p| tariff.demand_charge(p)).sum(),
        co2_kg: opts.emissions.is_some().then_some(score.co2_kg),
        jain_fairness: jain(&ratios),
        interruptions: score.interruptions,
        mean_current_change_a: if score.current_change_count > 0 {
            score.current_change_sum / score.current_change_count as f64
        } else {
            0.0
        },
        timing: timing(&score.timing, solve_ms),
        site_power_kw: opts.record_power.then_some(score.power),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::replay::Emissions;

    #[test]
    fn a_carbon_price_adds_the_marginal_rate_and_finds_the_cleaner_moment_ahead() {
        // 10:00 PST = 18:00 UTC, super-off-peak (0.12) all around; the rate halves at 18:30.
        let e = Emissions::parse_csv(
            "time,moer\n2019-11-12 17:55:00+00:00,0.4\n2019-11-12 18:30:00+00:00,0.2\n\
             2019-11-12 19:00:00+00:00,0.2\n",
            "test",
        )
        .unwrap();
        let mut opts = ReplayOptions::new(chargegrid_core::Kilowatts(30.0));
        let tariff = LocalTariff::new(&opts.tariff).unwrap();
        let now = Utc.with_ymd_and_hms(2019, 11, 12, 18, 0, 0).unwrap();
        // Without a carbon price: the tariff alone (no cheaper hour before the evening peak).
        opts.emissions = Some(e);
        let plain = price_signal(&tariff, &opts, now);
        assert_eq!(plain.price_now, 0.12);
        assert_eq!(plain.cheaper, None);
        opts.carbon_price_per_kg = 0.5;
        let s = price_signal(&tariff, &opts, now);
        assert!((s.price_now - (0.12 + 0.5 * 0.4)).abs() < 1e-12);
        let (at, price) = s.cheaper.unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2019, 11, 12, 18, 30, 0).unwrap());
        assert!((price - (0.12 + 0.5 * 0.2)).abs() < 1e-12);
    }

    #[test]
    fn a_cleaner_moment_on_a_dearer_tariff_is_not_waited_for() {
        // 13:30 PST = 21:30 UTC, super-off-peak (0.12) until 14:00, then 0.20; the marginal
        // rate falls from 0.4 to 0.1 at 14:10. 14:10 is cheaper in all (0.25 against 0.32),
        // but waiting for it would move energy onto the dearer tariff.
        let mut csv = String::from("time,moer\n");
        let start = Utc.with_ymd_and_hms(2019, 11, 12, 21, 0, 0).unwrap();
        for k in 0..48 {
            let t = start + TimeDelta::minutes(5 * k);
            let rate = if t < Utc.with_ymd_and_hms(2019, 11, 12, 22, 10, 0).unwrap() {
                0.4
            } else {
                0.1
            };
            csv.push_str(&format!("{},{rate}\n", t.format("%Y-%m-%d %H:%M:%S+00:00")));
        }
        let mut opts = ReplayOptions::new(chargegrid_core::Kilowatts(30.0));
        let tariff = LocalTariff::new(&opts.tariff).unwrap();
        opts.emissions = Some(Emissions::parse_csv(&csv, "test").unwrap());
        opts.carbon_price_per_kg = 0.5;
        let now = Utc.with_ymd_and_hms(2019, 11, 12, 21, 30, 0).unwrap();
        let later = Utc.with_ymd_and_hms(2019, 11, 12, 22, 10, 0).unwrap();
        assert_eq!(tariff.price_at(now), 0.12);
        assert_eq!(tariff.price_at(later), 0.20);
        let s = price_signal(&tariff, &opts, now);
        assert!((s.price_now - (0.12 + 0.5 * 0.4)).abs() < 1e-12);
        assert_eq!(s.cheaper, None);
    }
}
