//! The last line of defence for feasibility: lowers currents until no row is over its limit,
//! taking from the least important sessions first. The algorithms hand out only measured
//! slack, so this normally changes nothing; it exists so that no rounding path can ever send a
//! charger a current that breaks a limit.

use super::bounds::Bounds;
use super::constraints::Constraints;
use super::problem::SiteProblem;

/// Makes `x` feasible. `order` lists sessions most important first. Returns how many sessions
/// were lowered.
pub(crate) fn repair(
    problem: &SiteProblem,
    cons: &Constraints,
    bounds: &Bounds,
    x: &mut [f64],
    order: &[usize],
) -> usize {
    let mut rank = vec![0usize; x.len()];
    for (i, &s) in order.iter().enumerate() {
        rank[s] = i;
    }
    let mut load = cons.loads(x);
    let mut lowered = 0;
    for r in 0..cons.rows() {
        if !cons.is_over(&load, r) {
            continue;
        }
        let mut members: Vec<usize> = cons.sessions_in(r).to_vec();
        members.sort_by_key(|&s| std::cmp::Reverse(rank[s]));
        for s in members {
            if !cons.is_over(&load, r) {
                break;
            }
            if x[s] <= 0.0 {
                continue;
            }
            let coef = cons
                .rows_of(s)
                .iter()
                .find(|&&(rr, _)| rr == r)
                .map_or(1.0, |&(_, c)| c);
            let excess = (load[r] - cons.cap[r]) / coef;
            let target = problem.sessions[s]
                .pilot
                .floor_current(x[s] - excess - 1e-6, bounds.lo[s]);
            cons.add(&mut load, s, target - x[s]);
            x[s] = target;
            lowered += 1;
        }
    }
    lowered
}
