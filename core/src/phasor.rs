//! Line currents as phasors. A single-phase load between two lines (208 V between L1 and L2 on
//! a North American 120/208 V service) draws its current out of one line and back on the
//! other, 30° away from each line's own voltage, so two such loads on one line add up to less
//! than the sum of their currents (two equal loads on L1–L2 and L3–L1: √3 × I on L1, not 2 × I).
//! A breaker or transformer winding carries the magnitude of that sum; these are the figures
//! every per-phase limit is checked against. Unity power factor and balanced voltages are
//! assumed (angles of L1, L2, L3: 0°, −120°, +120°).
//!
//! Hand-written rather than `num-complex`: three operations on a two-field value.

use std::ops::{Add, AddAssign, Mul, Sub};

use crate::limits::Phase;

/// A current phasor, amperes (real and imaginary parts).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Phasor {
    /// Real part.
    pub re: f64,
    /// Imaginary part.
    pub im: f64,
}

impl Phasor {
    /// Zero.
    pub const ZERO: Phasor = Phasor { re: 0.0, im: 0.0 };

    /// Magnitude `magnitude` at `degrees`.
    pub fn polar(magnitude: f64, degrees: f64) -> Self {
        let (sin, cos) = degrees.to_radians().sin_cos();
        Self {
            re: magnitude * cos,
            im: magnitude * sin,
        }
    }

    /// Magnitude.
    pub fn norm(self) -> f64 {
        self.re.hypot(self.im)
    }

    /// Angle in degrees, in (−180, 180].
    pub fn degrees(self) -> f64 {
        self.im.atan2(self.re).to_degrees()
    }

    /// The component along the unit phasor `direction` (negative when it points away).
    pub fn along(self, direction: Phasor) -> f64 {
        self.re * direction.re + self.im * direction.im
    }
}

impl Add for Phasor {
    type Output = Phasor;
    fn add(self, o: Phasor) -> Phasor {
        Phasor {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
}

impl AddAssign for Phasor {
    fn add_assign(&mut self, o: Phasor) {
        *self = *self + o;
    }
}

impl Sub for Phasor {
    type Output = Phasor;
    fn sub(self, o: Phasor) -> Phasor {
        Phasor {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
}

impl Mul<f64> for Phasor {
    type Output = Phasor;
    fn mul(self, k: f64) -> Phasor {
        Phasor {
            re: self.re * k,
            im: self.im * k,
        }
    }
}

/// Angle of a phase's line-to-neutral voltage, degrees.
pub fn voltage_angle(phase: Phase) -> f64 {
    match phase {
        Phase::L1 => 0.0,
        Phase::L2 => -120.0,
        Phase::L3 => 120.0,
    }
}

/// The three line currents of a set of loads, summed as phasors.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LineCurrents(pub [Phasor; 3]);

impl LineCurrents {
    /// Adds a load whose line currents per ampere are `per_amp`, drawing `amps`.
    pub fn add(&mut self, per_amp: [Phasor; 3], amps: f64) {
        for (line, p) in self.0.iter_mut().zip(per_amp) {
            *line += p * amps;
        }
    }

    /// The current each line carries, amperes.
    pub fn magnitudes(&self) -> [f64; 3] {
        self.0.map(Phasor::norm)
    }

    /// The currents on the primary lines of a delta–wye transformer with turns ratio `ratio`
    /// feeding these secondary lines: each pairwise difference ÷ the ratio.
    pub fn delta_primary(&self, ratio: f64) -> [f64; 3] {
        PRIMARY_PAIRS.map(|(x, y)| (self.0[x] - self.0[y]).norm() / ratio)
    }
}

/// The secondary line pairs whose difference each delta primary line carries.
pub const PRIMARY_PAIRS: [(usize, usize); 3] = [(0, 2), (1, 0), (2, 1)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polar_round_trips_and_projects() {
        let p = Phasor::polar(2.0, 30.0);
        assert!((p.norm() - 2.0).abs() < 1e-12);
        assert!((p.degrees() - 30.0).abs() < 1e-12);
        assert!((p.along(Phasor::polar(1.0, 30.0)) - 2.0).abs() < 1e-12);
        assert!((p.along(Phasor::polar(1.0, -60.0))).abs() < 1e-12);
        assert!(((p - p).norm()).abs() < 1e-12);
    }

    #[test]
    fn two_loads_thirty_degrees_either_side_add_to_root_three() {
        let mut lines = LineCurrents::default();
        lines.add([Phasor::polar(1.0, 30.0), Phasor::ZERO, Phasor::ZERO], 10.0);
        lines.add(
            [Phasor::polar(1.0, -30.0), Phasor::ZERO, Phasor::ZERO],
            10.0,
        );
        assert!((lines.magnitudes()[0] - 10.0 * 3f64.sqrt()).abs() < 1e-9);
        assert_eq!(lines.magnitudes()[1], 0.0);
    }
}
