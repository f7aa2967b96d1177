//! Rounding currents onto what a charger can signal: 0, or a pilot value between the
//! session's floor and its maximum.

use super::problem::PilotSteps;

/// Rounding slack when comparing currents, in amperes (far below any pilot resolution).
const EPS: f64 = 1e-9;

impl PilotSteps {
    /// The largest current this charger can signal that is at most `x` and at least `lo`, or
    /// 0 when there is none.
    pub(crate) fn floor_current(&self, x: f64, lo: f64) -> f64 {
        if x < lo - EPS || x <= 0.0 {
            return 0.0;
        }
        let v = match self {
            PilotSteps::Continuous => x.max(lo),
            PilotSteps::Step(step) => ((x + EPS) / step.0).floor() * step.0,
            PilotSteps::Levels(levels) => levels
                .iter()
                .rev()
                .map(|a| a.0)
                .find(|&a| a <= x + EPS)
                .unwrap_or(0.0),
        };
        if v < lo - EPS { 0.0 } else { v.min(x.max(lo)) }
    }

    /// The smallest current this charger can signal that is above `x` (and at least `lo`), if
    /// one exists; for a continuous pilot, `x + resolution`.
    pub(crate) fn next_above(&self, x: f64, lo: f64, resolution: f64) -> Option<f64> {
        let v = match self {
            PilotSteps::Continuous => {
                if x < lo {
                    lo
                } else {
                    x + resolution
                }
            }
            PilotSteps::Step(step) => {
                let mut v = ((x + EPS) / step.0).floor() * step.0 + step.0;
                while v < lo - EPS {
                    v += step.0;
                }
                v
            }
            PilotSteps::Levels(levels) => levels
                .iter()
                .map(|a| a.0)
                .find(|&a| a > x + EPS && a >= lo - EPS)?,
        };
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use chargegrid_core::Amperes;

    use super::*;

    #[test]
    fn continuous_keeps_values_above_the_floor() {
        let p = PilotSteps::Continuous;
        assert_eq!(p.floor_current(7.3, 6.0), 7.3);
        assert_eq!(p.floor_current(5.9, 6.0), 0.0);
        assert_eq!(p.next_above(0.0, 6.0, 0.1), Some(6.0));
    }

    #[test]
    fn steps_round_down_to_a_multiple_at_or_above_the_floor() {
        let p = PilotSteps::Step(Amperes(4.0));
        assert_eq!(p.floor_current(11.0, 6.0), 8.0);
        assert_eq!(p.floor_current(7.0, 6.0), 0.0);
        assert_eq!(p.next_above(0.0, 6.0, 0.1), Some(8.0));
        assert_eq!(p.next_above(8.0, 6.0, 0.1), Some(12.0));
    }

    #[test]
    fn levels_pick_the_largest_level_that_fits() {
        let p = PilotSteps::Levels(vec![Amperes(8.0), Amperes(16.0), Amperes(32.0)]);
        assert_eq!(p.floor_current(20.0, 6.0), 16.0);
        assert_eq!(p.floor_current(7.9, 6.0), 0.0);
        assert_eq!(p.next_above(16.0, 6.0, 0.1), Some(32.0));
        assert_eq!(p.next_above(32.0, 6.0, 0.1), None);
    }
}
