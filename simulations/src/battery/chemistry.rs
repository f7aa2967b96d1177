//! Cell open-circuit voltage against state of charge, by chemistry. Tables are shaped after
//! published curves (NMC: a steady slope; LFP: a long flat plateau, which is why SoC is hard
//! to read from voltage on LFP packs) and interpolated linearly.

use serde::{Deserialize, Serialize};

/// Cell chemistry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chemistry {
    /// Nickel-manganese-cobalt: 3.0–4.2 V per cell.
    Nmc,
    /// Lithium iron phosphate: flat around 3.3 V, 3.65 V at full.
    Lfp,
}

/// An OCV curve: (SoC fraction, cell volts) points, increasing in both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcvCurve {
    points: Vec<(f64, f64)>,
}

const NMC: [(f64, f64); 11] = [
    (0.0, 3.30),
    (0.1, 3.52),
    (0.2, 3.60),
    (0.3, 3.65),
    (0.4, 3.70),
    (0.5, 3.76),
    (0.6, 3.84),
    (0.7, 3.92),
    (0.8, 4.00),
    (0.9, 4.08),
    (1.0, 4.18),
];

const LFP: [(f64, f64); 11] = [
    (0.0, 2.90),
    (0.05, 3.15),
    (0.1, 3.22),
    (0.2, 3.26),
    (0.4, 3.29),
    (0.6, 3.31),
    (0.7, 3.32),
    (0.9, 3.34),
    (0.95, 3.37),
    (0.98, 3.45),
    (1.0, 3.55),
];

impl OcvCurve {
    /// The curve of a chemistry.
    pub fn of(chemistry: Chemistry) -> Self {
        let pts: &[(f64, f64)] = match chemistry {
            Chemistry::Nmc => &NMC,
            Chemistry::Lfp => &LFP,
        };
        Self {
            points: pts.to_vec(),
        }
    }

    /// Cell OCV at `soc` (fraction, clamped to 0–1).
    pub fn cell_volts(&self, soc: f64) -> f64 {
        let s = soc.clamp(0.0, 1.0);
        let i = self
            .points
            .partition_point(|p| p.0 < s)
            .clamp(1, self.points.len() - 1);
        let (a, b) = (self.points[i - 1], self.points[i]);
        a.1 + (s - a.0) / (b.0 - a.0) * (b.1 - a.1)
    }

    /// Mean cell OCV over 0–100 %: the nominal cell voltage in the energy sense.
    pub fn mean_cell_volts(&self) -> f64 {
        let n = 1000;
        (0..n)
            .map(|k| self.cell_volts((f64::from(k) + 0.5) / f64::from(n)))
            .sum::<f64>()
            / f64::from(n)
    }
}

impl Chemistry {
    /// Largest cell voltage while charging (the CV set point).
    pub fn max_cell_volts(self) -> f64 {
        match self {
            Chemistry::Nmc => 4.2,
            Chemistry::Lfp => 3.65,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_monotonic_and_hit_their_table_points() {
        for c in [Chemistry::Nmc, Chemistry::Lfp] {
            let curve = OcvCurve::of(c);
            let mut last = 0.0;
            for k in 0..=100 {
                let v = curve.cell_volts(f64::from(k) / 100.0);
                assert!(v >= last, "{c:?} at {k}");
                last = v;
            }
            assert!(last < c.max_cell_volts());
        }
        let nmc = OcvCurve::of(Chemistry::Nmc);
        assert!((nmc.cell_volts(0.5) - 3.76).abs() < 1e-12);
        assert!((nmc.cell_volts(0.55) - 3.80).abs() < 1e-12);
        assert!((nmc.mean_cell_volts() - 3.78).abs() < 0.05);
    }
}
