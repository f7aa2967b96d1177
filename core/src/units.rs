//! Physical units as types. Power, energy, current and voltage never travel as bare `f64`
//! between modules, so a kW can never be read as a W (a real field fault: chargers that send kW
//! while declaring W).

use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};

macro_rules! unit {
    ($(#[$doc:meta])* $name:ident, $symbol:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// Zero of this unit.
            pub const ZERO: Self = Self(0.0);

            /// The bare number, in this unit.
            pub const fn value(self) -> f64 {
                self.0
            }

            /// The smaller of two quantities.
            pub fn min(self, other: Self) -> Self {
                Self(self.0.min(other.0))
            }

            /// The larger of two quantities.
            pub fn max(self, other: Self) -> Self {
                Self(self.0.max(other.0))
            }

            /// Whether the number is finite (not NaN or infinite).
            pub fn is_finite(self) -> bool {
                self.0.is_finite()
            }
        }

        impl Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: Self) {
                self.0 += rhs.0;
            }
        }

        impl Sub for $name {
            type Output = Self;
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, rhs: Self) {
                self.0 -= rhs.0;
            }
        }

        impl Neg for $name {
            type Output = Self;
            fn neg(self) -> Self {
                Self(-self.0)
            }
        }

        impl Mul<f64> for $name {
            type Output = Self;
            fn mul(self, rhs: f64) -> Self {
                Self(self.0 * rhs)
            }
        }

        impl Div<f64> for $name {
            type Output = Self;
            fn div(self, rhs: f64) -> Self {
                Self(self.0 / rhs)
            }
        }

        impl Div for $name {
            type Output = f64;
            fn div(self, rhs: Self) -> f64 {
                self.0 / rhs.0
            }
        }

        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                Self(iter.map(|x| x.0).sum())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", self.0, $symbol)
            }
        }
    };
}

unit!(
    /// Power in watts.
    Watts, "W"
);
unit!(
    /// Power in kilowatts; used in configuration and display, converted to [`Watts`] for work.
    Kilowatts, "kW"
);
unit!(
    /// Energy in watt-hours.
    WattHours, "Wh"
);
unit!(
    /// Current in amperes (per phase unless said otherwise).
    Amperes, "A"
);
unit!(
    /// Voltage in volts (phase-to-neutral unless said otherwise).
    Volts, "V"
);
unit!(
    /// Electric charge in ampere-hours (a battery's capacity in the charge domain).
    AmpereHours, "Ah"
);

impl From<Kilowatts> for Watts {
    fn from(kw: Kilowatts) -> Self {
        Watts(kw.0 * 1000.0)
    }
}

impl From<Watts> for Kilowatts {
    fn from(w: Watts) -> Self {
        Kilowatts(w.0 / 1000.0)
    }
}

impl Watts {
    /// Energy delivered at this power for `hours`.
    pub fn over_hours(self, hours: f64) -> WattHours {
        WattHours(self.0 * hours)
    }

    /// The per-phase current this power draws on `phases` phases at `voltage` phase-to-neutral.
    pub fn to_amperes(self, voltage: Volts, phases: u8) -> Amperes {
        Amperes(self.0 / (voltage.0 * f64::from(phases.max(1))))
    }
}

impl Amperes {
    /// The power drawn by this per-phase current on `phases` phases at `voltage`.
    pub fn to_watts(self, voltage: Volts, phases: u8) -> Watts {
        Watts(self.0 * voltage.0 * f64::from(phases.max(1)))
    }
}

impl WattHours {
    /// In kilowatt-hours, for display and tariffs.
    pub fn kwh(self) -> f64 {
        self.0 / 1000.0
    }

    /// From kilowatt-hours.
    pub fn from_kwh(kwh: f64) -> Self {
        WattHours(kwh * 1000.0)
    }
}

impl Mul<Volts> for Amperes {
    type Output = Watts;
    fn mul(self, rhs: Volts) -> Watts {
        Watts(self.0 * rhs.0)
    }
}

/// A span of time in hours, the unit energy is reckoned in (W × h = Wh), to the millisecond.
pub fn hours(d: chrono::TimeDelta) -> f64 {
    d.num_milliseconds() as f64 / 3_600_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(Watts::from(Kilowatts(7.4)), Watts(7400.0));
        assert_eq!(Kilowatts::from(Watts(11_000.0)), Kilowatts(11.0));
        assert_eq!(Amperes(16.0) * Volts(230.0), Watts(3680.0));
        assert_eq!(Amperes(16.0).to_watts(Volts(230.0), 3), Watts(11_040.0));
        assert_eq!(Watts(11_040.0).to_amperes(Volts(230.0), 3), Amperes(16.0));
        assert_eq!(Watts(7000.0).over_hours(0.5), WattHours(3500.0));
        assert_eq!(WattHours::from_kwh(1.5).kwh(), 1.5);
    }

    #[test]
    fn units_serialize_as_bare_numbers() {
        assert_eq!(serde_json::to_string(&Watts(1.5)).unwrap(), "1.5");
        let a: Amperes = serde_json::from_str("32").unwrap();
        assert_eq!(a, Amperes(32.0));
    }
}
