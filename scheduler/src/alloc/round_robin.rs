//! acnportal's `RoundRobin`: sessions queue in arrival order (the problem's order); each turn
//! the head is raised by one pilot step (0.1 A on a continuous pilot, as acnportal's
//! `continuous_inc`; from 0 the first step is the floor) and goes back in the queue if that is
//! feasible, or leaves the queue with its previous current if not. The result is an equal share
//! in steps.

use std::collections::VecDeque;

use super::bounds::session_bounds;
use super::constraints::Constraints;
use super::problem::{AllocContext, SiteProblem};

/// The increment on a continuous pilot, in amperes.
pub(crate) const CONTINUOUS_INCREMENT: f64 = 0.1;

/// Equal-share increments.
pub(crate) fn allocate(problem: &SiteProblem, ctx: &AllocContext, cons: &Constraints) -> Vec<f64> {
    let b = session_bounds(problem, ctx, false);
    let mut x = vec![0.0; b.hi.len()];
    let mut load = vec![0.0; cons.rows()];
    let mut queue: VecDeque<usize> = (0..b.hi.len()).filter(|&s| b.hi[s] > 0.0).collect();
    while let Some(s) = queue.pop_front() {
        let pilot = &problem.sessions[s].pilot;
        let Some(next) = pilot.next_above(x[s], b.lo[s], CONTINUOUS_INCREMENT) else {
            continue;
        };
        let next = next.min(b.hi[s]);
        if next <= x[s] {
            continue;
        }
        if cons.slack(&load, s) >= next - x[s] {
            cons.add(&mut load, s, next - x[s]);
            x[s] = next;
            queue.push_back(s);
        }
    }
    x
}
