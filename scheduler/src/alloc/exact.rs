//! The last step where line currents add as phasors ([`Constraints::phasor_rows`]): the rows
//! every algorithm works with are a polygon inside each line's exact circle and give away up to
//! 1 − cos 5° ≈ 0.4 % of a line. Here that slack is handed out against the *exact* limits
//! (phasor magnitudes, each session's power at its own voltage): in the policy's priority order, each
//! session is raised to the most every limit on the site still allows, on its pilot steps. This
//! is how acnportal's sorted algorithms use its exact constraint (they bisect on its check;
//! here each limit on the session's path gives its own headroom in closed form: linear for
//! power, a quadratic for a phasor magnitude); without it our EDF delivered
//! 0.58 points less than acnportal's on the Caltech topology, in acnportal's own simulator.

use chargegrid_core::phasor::{LineCurrents, PRIMARY_PAIRS, Phasor};

use super::bounds::Bounds;
use super::constraints::{Constraints, SAFETY_AMPS};
use super::problem::SiteProblem;

/// Raises sessions in `order` to the most the exact limits allow (within `b.hi`); with
/// `only_running`, sessions at 0 stay at 0 (chargegrid decided who runs). Does nothing on sites
/// whose rows are exact already.
pub(crate) fn top_up(
    problem: &SiteProblem,
    cons: &Constraints,
    b: &Bounds,
    x: &mut [f64],
    order: &[usize],
    only_running: bool,
) {
    if !cons.phasor_rows {
        return;
    }
    let mut loads = NodeLoads::of(problem, x);
    for &s in order {
        let hi = b.hi[s];
        let start = x[s];
        if hi <= start || (only_running && start <= 0.0) {
            continue;
        }
        let lo = b.lo[s];
        // From 0, the session must reach its floor to run at all.
        let least = start.max(lo);
        let room = loads.headroom(problem, s);
        if start + room < least {
            continue;
        }
        let v = problem.sessions[s]
            .pilot
            .floor_current((start + room).min(hi), lo);
        if v > start {
            loads.add(problem, s, v - start);
            x[s] = v;
        }
    }
}

/// Every node's power and line currents (phasors) under the current allocation.
struct NodeLoads {
    power: Vec<f64>,
    lines: Vec<LineCurrents>,
}

impl NodeLoads {
    fn of(problem: &SiteProblem, x: &[f64]) -> Self {
        let n = problem.nodes.len();
        let mut me = Self {
            power: vec![0.0; n],
            lines: vec![LineCurrents::default(); n],
        };
        for (s, &a) in x.iter().enumerate() {
            if a != 0.0 {
                me.add(problem, s, a);
            }
        }
        me
    }

    /// Adds `amps` of session `s` along its path to the root.
    fn add(&mut self, problem: &SiteProblem, s: usize, amps: f64) {
        let sess = &problem.sessions[s];
        let watts = amps * sess.watts_per_amp();
        let per_amp = sess.wiring.line_phasors();
        let mut cur = Some(sess.node);
        while let Some(k) = cur {
            self.power[k] += watts;
            self.lines[k].add(per_amp, amps);
            cur = problem.nodes[k].parent;
        }
    }

    /// How many more amperes session `s` can take before a limit on its path (power, a line's
    /// phasor magnitude, a delta primary line's) is reached, [`SAFETY_AMPS`] short of it; 0
    /// when one is reached already.
    fn headroom(&self, problem: &SiteProblem, s: usize) -> f64 {
        let sess = &problem.sessions[s];
        let wpa = sess.watts_per_amp();
        let per_amp = sess.wiring.line_phasors();
        let mut room = f64::INFINITY;
        let mut cur = Some(sess.node);
        while let Some(k) = cur {
            let node = &problem.nodes[k];
            if let Some(p) = node.limit.max_power {
                room = room.min((p.0 - SAFETY_AMPS - self.power[k]) / wpa);
            }
            if let Some(c) = node.limit.max_current {
                for ((line, step), cap) in self.lines[k].0.iter().zip(per_amp).zip(c.0) {
                    room = room.min(along_until(*line, step, cap.0));
                }
            }
            if let Some(t) = node.delta_primary {
                for (a, z) in PRIMARY_PAIRS {
                    let load = (self.lines[k].0[a] - self.lines[k].0[z]) * (1.0 / t.turns_ratio);
                    let step = (per_amp[a] - per_amp[z]) * (1.0 / t.turns_ratio);
                    room = room.min(along_until(load, step, t.max_current.0));
                }
            }
            cur = node.parent;
        }
        room.max(0.0)
    }
}

/// The largest `d ≥ 0` with `|v + d·c| ≤ cap − SAFETY_AMPS` (infinite when `c` is 0 and `v`
/// fits; 0 when `v` is over already).
fn along_until(v: Phasor, c: Phasor, cap: f64) -> f64 {
    let cap = cap - SAFETY_AMPS;
    let vv = v.re * v.re + v.im * v.im;
    if vv > cap * cap {
        return 0.0;
    }
    let cc = c.re * c.re + c.im * c.im;
    if cc <= 1e-18 {
        return f64::INFINITY;
    }
    // |c|² d² + 2 (v·c) d + |v|² − cap² ≤ 0: the larger root.
    let vc = v.re * c.re + v.im * c.im;
    let disc = (vc * vc - cc * (vv - cap * cap)).max(0.0);
    ((-vc + disc.sqrt()) / cc).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headroom_along_a_phasor_reaches_the_circle_exactly() {
        // 10 A at 0°, adding at 90°: |10 + d·i| = 20 at d = √300.
        let d = along_until(Phasor::polar(10.0, 0.0), Phasor::polar(1.0, 90.0), 20.0);
        assert!((d - 300f64.sqrt()).abs() < 1e-6, "{d}");
        // Adding against the load first shrinks it: |10 − d| = 20 at d = 30.
        let d = along_until(Phasor::polar(10.0, 0.0), Phasor::polar(1.0, 180.0), 20.0);
        assert!((d - 30.0).abs() < 1e-6, "{d}");
        assert_eq!(
            along_until(Phasor::polar(25.0, 0.0), Phasor::polar(1.0, 0.0), 20.0),
            0.0
        );
        assert_eq!(along_until(Phasor::ZERO, Phasor::ZERO, 20.0), f64::INFINITY);
    }
}
