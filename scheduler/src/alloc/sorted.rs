//! The sorted greedy baselines of acnportal (`SortedSchedulingAlgo`): sort the sessions by a
//! key, then give each in turn the largest feasible current given those before it. Earliest
//! deadline first sorts by departure, least laxity first by
//! `laxity = (departure - now) - remaining energy / max rate`. As in acnportal the ceiling is
//! `min(max rate, what finishes the session this period)`; here the 6 A floor and pilot steps
//! are honoured as well (a session that cannot get its floor gets 0).

use super::bounds::{Bounds, session_bounds};
use super::constraints::Constraints;
use super::exact;
use super::problem::{AllocContext, SiteProblem};

/// Hours from `now` to the session's (told) departure.
pub(crate) fn hours_left(problem: &SiteProblem, ctx: &AllocContext, s: usize) -> f64 {
    let dep = problem.sessions[s]
        .departure
        .unwrap_or(ctx.now + ctx.default_dwell);
    (dep - ctx.now).num_milliseconds() as f64 / 3_600_000.0
}

/// Sessions by earliest (told) departure.
fn edf_order(problem: &SiteProblem, ctx: &AllocContext, b: &Bounds) -> Vec<usize> {
    let key: Vec<f64> = (0..b.hi.len())
        .map(|s| hours_left(problem, ctx, s))
        .collect();
    sorted_by(&key)
}

/// Sessions by least laxity: hours left minus the hours their remaining energy takes at full
/// rate.
pub(crate) fn llf_order(problem: &SiteProblem, ctx: &AllocContext, b: &Bounds) -> Vec<usize> {
    let key: Vec<f64> = (0..b.hi.len())
        .map(|s| {
            let rate = b.top[s].max(problem.sessions[s].max_current.0).max(1e-9);
            hours_left(problem, ctx, s) - b.amp_hours[s] / rate
        })
        .collect();
    sorted_by(&key)
}

/// Earliest deadline first.
pub(crate) fn edf(problem: &SiteProblem, ctx: &AllocContext, cons: &Constraints) -> Vec<f64> {
    let b = session_bounds(problem, ctx, false);
    greedy(problem, cons, &b, &edf_order(problem, ctx, &b))
}

/// Least laxity first.
pub(crate) fn llf(problem: &SiteProblem, ctx: &AllocContext, cons: &Constraints) -> Vec<f64> {
    let b = session_bounds(problem, ctx, false);
    greedy(problem, cons, &b, &llf_order(problem, ctx, &b))
}

/// Session indices by ascending key; ties keep input order.
pub(crate) fn sorted_by(key: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..key.len()).collect();
    order.sort_by(|&a, &b| key[a].total_cmp(&key[b]));
    order
}

/// Largest feasible current for each session in `order`, given those before it; then, where
/// the rows are a polygon inside the exact limits, what it gave away ([`exact::top_up`]).
fn greedy(problem: &SiteProblem, cons: &Constraints, b: &Bounds, order: &[usize]) -> Vec<f64> {
    let mut x = vec![0.0; b.hi.len()];
    let mut load = vec![0.0; cons.rows()];
    for &s in order {
        if b.hi[s] <= 0.0 {
            continue;
        }
        let room = cons.slack(&load, s).min(b.hi[s]);
        let v = problem.sessions[s].pilot.floor_current(room, b.lo[s]);
        if v > 0.0 {
            cons.add(&mut load, s, v);
            x[s] = v;
        }
    }
    exact::top_up(problem, cons, b, &mut x, order, false);
    x
}
