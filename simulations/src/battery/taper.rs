//! How much current the BMS accepts: a manufacturer-like staircase of C-rates by SoC (the
//! steps give the charger current steps that resistance estimates need), derated in the cold
//! and when hot, and always capped by the constant-voltage limit computed by the pack.

use serde::{Deserialize, Serialize};

/// A staircase of (upper SoC in percent, C-rate) pairs, in increasing SoC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaperCurve {
    steps: Vec<(f64, f64)>,
}

impl TaperCurve {
    /// A typical fast-charging profile of a 400 V car.
    pub fn manufacturer_like() -> Self {
        Self {
            steps: vec![
                (50.0, 1.6),
                (60.0, 1.2),
                (70.0, 0.9),
                (80.0, 0.6),
                (90.0, 0.35),
                (100.0, 0.2),
            ],
        }
    }

    /// Constant current at `c_rate` up to the voltage limit (classic CC/CV).
    pub fn cc_cv(c_rate: f64) -> Self {
        Self {
            steps: vec![(100.0, c_rate)],
        }
    }

    /// From explicit steps; `None` if empty, unsorted or with a non-positive rate.
    pub fn from_steps(steps: Vec<(f64, f64)>) -> Option<Self> {
        let ok = !steps.is_empty()
            && steps.windows(2).all(|w| w[0].0 < w[1].0)
            && steps.iter().all(|s| s.1 > 0.0);
        ok.then_some(Self { steps })
    }

    /// Accepted C-rate at `soc_pct` and cell temperature `temp_c`.
    pub fn c_rate(&self, soc_pct: f64, temp_c: f64) -> f64 {
        let base = self
            .steps
            .iter()
            .find(|s| soc_pct < s.0)
            .or(self.steps.last())
            .map_or(0.0, |s| s.1);
        let derate = if temp_c < 10.0 {
            (0.3 + 0.07 * (temp_c - 0.0)).clamp(0.3, 1.0)
        } else if temp_c > 45.0 {
            (1.0 - 0.1 * (temp_c - 45.0)).clamp(0.2, 1.0)
        } else {
            1.0
        };
        base * derate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_and_derating() {
        let t = TaperCurve::manufacturer_like();
        assert_eq!(t.c_rate(20.0, 25.0), 1.6);
        assert_eq!(t.c_rate(65.0, 25.0), 0.9);
        assert_eq!(t.c_rate(100.0, 25.0), 0.2);
        assert!(t.c_rate(20.0, 0.0) < 0.5 * 1.6);
        assert!(t.c_rate(20.0, 50.0) < 1.6);
        assert!(TaperCurve::from_steps(vec![(60.0, 1.0), (50.0, 0.5)]).is_none());
    }
}
