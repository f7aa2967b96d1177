//! Each session's own bounds for one decision: its floor and the most it can use, from its
//! EVSE and vehicle maxima, the energy it still needs this period, its pilot steps and — for
//! chargegrid — what the vehicle has shown it takes (a tapering vehicle, or one whose own
//! charger is smaller than its EVSE, does not need what it cannot draw; see [`super::draw`]).

use super::problem::{AllocContext, SiteProblem};

/// Floors and ceilings, in amperes per phase, one per session.
#[derive(Debug, Clone)]
pub(crate) struct Bounds {
    /// 0 or the session's minimum current (0 when it cannot run at all).
    pub lo: Vec<f64>,
    /// The most the session can use now, on a pilot step; 0 when it needs nothing.
    pub hi: Vec<f64>,
    /// The session's top rate regardless of its remaining energy (its future speed), on a
    /// pilot step; 0 when it cannot run.
    pub top: Vec<f64>,
    /// The energy still needed, in ampere-hours per phase.
    pub amp_hours: Vec<f64>,
}

/// Computes the bounds. `reclaim` caps a session at what its vehicle has shown it takes.
pub(crate) fn session_bounds(problem: &SiteProblem, ctx: &AllocContext, reclaim: bool) -> Bounds {
    let hours = ctx.period_hours();
    let n = problem.sessions.len();
    let mut b = Bounds {
        lo: vec![0.0; n],
        hi: vec![0.0; n],
        top: vec![0.0; n],
        amp_hours: vec![0.0; n],
    };
    for (i, s) in problem.sessions.iter().enumerate() {
        let wpa = s.watts_per_amp();
        let lo = s.min_current.0;
        let mut max = s.max_current.0;
        if let Some(p) = s.max_power {
            max = max.min(p.0 / wpa);
        }
        if reclaim && let Some(shown) = s.learned_max {
            max = max.min(shown.0.max(lo));
        }
        let amp_hours = s.energy_needed.0 / wpa;
        b.amp_hours[i] = amp_hours;
        if amp_hours <= 0.0 {
            continue;
        }
        // What finishes the session within this period; a session needing less than its floor
        // for a whole period still gets the floor (it stops drawing once full).
        // Rounded up to a pilot step: the vehicle stops drawing once full anyway.
        let top = s.pilot.floor_current(max, lo);
        let want = (amp_hours / hours).max(lo).min(top);
        let down = s.pilot.floor_current(want, lo);
        let hi = if down >= want - 1e-9 {
            down
        } else {
            s.pilot.next_above(down, lo, 0.0).unwrap_or(top).min(top)
        };
        if top > 0.0 && hi > 0.0 {
            b.top[i] = top;
            b.lo[i] = lo;
            b.hi[i] = hi;
        }
    }
    b
}
