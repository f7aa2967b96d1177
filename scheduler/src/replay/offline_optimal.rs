//! The offline-optimal reference: with every arrival, departure and need known in advance, the
//! most energy the site could deliver without breaking a limit, and among such plans one that
//! serves as many drivers in full as it can, then keeps the largest shortfall small
//! ([`crate::alloc::lexi`]).
//!
//! As a time-expanded network: source → session (its need) → the session's station phase in
//! each step it is plugged in (its top rate × step) → the step (per-phase limit, in
//! three-phase mode) → sink (the aggregate limit × step). The max flow is exactly the LP
//! optimum of energy (the drivers served in full are the greedy's, a lower bound on the most
//! possible); it ignores the 6 A floor, so it is an upper bound for any online algorithm. The
//! window is split at the moments no vehicle is plugged in, which keeps each network small.

use std::time::{Duration, Instant};

use super::site_model::Grid;
use crate::alloc::lexi::{self, Need};
use crate::alloc::maxflow::{EdgeRef, FlowGraph};

/// Units per Wh in the integer network (1 mWh resolution).
const SCALE: f64 = 1000.0;

/// Limits of the site model, per step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepLimits {
    /// Aggregate power, W.
    pub site_w: f64,
    /// Per-phase current, A, in three-phase mode.
    pub phase_a: Option<f64>,
    /// Station voltage, V.
    pub voltage: f64,
    /// A vehicle's top power, W.
    pub ev_max_w: f64,
}

/// The plan: for each grid session, the energy (Wh) to deliver in each step from its arrival
/// step on; and how long solving took.
pub(crate) fn plan(grid: &Grid, limits: StepLimits) -> (Vec<Vec<f64>>, Duration) {
    let started = Instant::now();
    let mut plan: Vec<Vec<f64>> = grid
        .sessions
        .iter()
        .map(|s| vec![0.0; s.leave.saturating_sub(s.arrive)])
        .collect();
    let mut first = 0;
    while first < grid.sessions.len() {
        let mut end = grid.sessions[first].leave;
        let mut last = first + 1;
        while last < grid.sessions.len() && grid.sessions[last].arrive < end {
            end = end.max(grid.sessions[last].leave);
            last += 1;
        }
        solve_component(grid, limits, first..last, &mut plan);
        first = last;
    }
    (plan, started.elapsed())
}

fn solve_component(
    grid: &Grid,
    limits: StepLimits,
    range: std::ops::Range<usize>,
    plan: &mut [Vec<f64>],
) {
    let sessions = &grid.sessions[range.clone()];
    let Some(t0) = sessions.iter().map(|s| s.arrive).min() else {
        return;
    };
    let t1 = sessions.iter().map(|s| s.leave).max().unwrap_or(t0);
    if t1 <= t0 {
        return;
    }
    let hours = grid.step_hours();
    let units = |wh: f64| (wh * SCALE).floor().max(0.0) as i64;
    let slots = t1 - t0;
    let mut g = FlowGraph::new(2);
    let (src, sink) = (0, 1);
    let slot_nodes: Vec<usize> = (0..slots).map(|_| g.add_node()).collect();
    for &v in &slot_nodes {
        g.add_edge(v, sink, units(limits.site_w * hours));
    }
    // In three-phase mode each step has one node per phase between sessions and the step.
    let phase_nodes: Option<Vec<[usize; 3]>> = limits.phase_a.map(|amps| {
        slot_nodes
            .iter()
            .map(|&v| {
                [0, 1, 2].map(|_| {
                    let p = g.add_node();
                    g.add_edge(p, v, units(amps * limits.voltage * hours));
                    p
                })
            })
            .collect()
    });
    let per_step = units(limits.ev_max_w * hours);
    let mut edges: Vec<(usize, usize, EdgeRef)> = Vec::new();
    let mut needs: Vec<Need> = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        if s.leave <= s.arrive || s.need_wh <= 0.0 {
            continue;
        }
        let node = g.add_node();
        needs.push(Need {
            edge: g.add_edge(src, node, 0),
            units: units(s.need_wh),
        });
        for k in s.arrive..s.leave {
            let target = match &phase_nodes {
                Some(p) => p[k - t0][s.phase().index()],
                None => slot_nodes[k - t0],
            };
            edges.push((
                range.start + i,
                k - s.arrive,
                g.add_edge(node, target, per_step),
            ));
        }
    }
    let full = lexi::serve_in_full(&mut g, src, sink, &mut needs, usize::MAX, None);
    lexi::fill_the_rest(&mut g, src, sink, &mut needs, &full, units(1.0));
    for (session, offset, e) in edges {
        plan[session][offset] = g.flow(e) as f64 / SCALE;
    }
}
