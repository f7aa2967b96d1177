//! Power and current limits: what a grid connection, a feeder, a charger or an EVSE may draw,
//! as kW and/or per-phase current. Either side may be absent; when both are set both hold.

use serde::{Deserialize, Serialize};

use crate::{Amperes, DomainError, Watts};

/// One of the three AC phases a load is wired to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    /// Phase 1.
    L1,
    /// Phase 2.
    L2,
    /// Phase 3.
    L3,
}

impl Phase {
    /// All three phases in order.
    pub const ALL: [Phase; 3] = [Phase::L1, Phase::L2, Phase::L3];

    /// 0, 1 or 2.
    pub fn index(self) -> usize {
        match self {
            Phase::L1 => 0,
            Phase::L2 => 1,
            Phase::L3 => 2,
        }
    }
}

/// A current per phase (L1, L2, L3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseCurrents(pub [Amperes; 3]);

impl PhaseCurrents {
    /// The same current on every phase.
    pub fn uniform(a: Amperes) -> Self {
        Self([a; 3])
    }

    /// The current on one phase.
    pub fn get(&self, phase: Phase) -> Amperes {
        self.0[phase.index()]
    }
}

/// The primary side of a delta–wye transformer (a site's service transformer): each primary
/// line carries the difference of two secondary line currents divided by the turns ratio, and
/// may carry at most `max_current`. Which pair feeds which primary line depends on the vector
/// group, but the three differences, and so the limits, are the same for all of them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeltaPrimary {
    /// Primary line-to-line voltage over secondary line-to-neutral voltage (480 V / 120 V: 4).
    pub turns_ratio: f64,
    /// Largest current on each primary line.
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    pub max_current: Amperes,
}

impl DeltaPrimary {
    /// Checks that the ratio is > 0 and the current finite and not negative.
    pub fn validate(&self, what: &str) -> Result<(), DomainError> {
        let ratio_ok = self.turns_ratio.is_finite() && self.turns_ratio > 0.0;
        let current_ok = self.max_current.is_finite() && self.max_current.0 >= 0.0;
        if !(ratio_ok && current_ok) {
            return Err(DomainError::InvalidQuantity {
                quantity: "delta_primary",
                reason: format!("{what}: turns_ratio must be > 0 and max_current finite and >= 0"),
            });
        }
        Ok(())
    }
}

/// A limit on a node of the network tree. `None` on a side means "no limit of that kind".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Largest total active power.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub max_power: Option<Watts>,
    /// Largest current on each phase (L1, L2, L3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<f64>>, min_items = 3, max_items = 3))]
    pub max_current: Option<PhaseCurrents>,
}

impl Limit {
    /// A power-only limit.
    pub fn power(max: Watts) -> Self {
        Self {
            max_power: Some(max),
            max_current: None,
        }
    }

    /// A current-only limit, the same on every phase.
    pub fn current(per_phase: Amperes) -> Self {
        Self {
            max_power: None,
            max_current: Some(PhaseCurrents::uniform(per_phase)),
        }
    }

    /// Whether neither side is set.
    pub fn is_unbounded(&self) -> bool {
        self.max_power.is_none() && self.max_current.is_none()
    }

    /// Checks that every value is finite and not negative.
    pub fn validate(&self, what: &str) -> Result<(), DomainError> {
        let bad = |reason: String| DomainError::InvalidQuantity {
            quantity: "limit",
            reason,
        };
        if let Some(p) = self.max_power
            && (!p.is_finite() || p.0 < 0.0)
        {
            return Err(bad(format!(
                "{what}: max power {p} must be finite and >= 0"
            )));
        }
        if let Some(c) = self.max_current {
            for a in c.0 {
                if !a.is_finite() || a.0 < 0.0 {
                    return Err(bad(format!(
                        "{what}: max current {a} must be finite and >= 0"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The tighter of two limits, side by side.
    pub fn intersect(&self, other: &Limit) -> Limit {
        let max_power = match (self.max_power, other.max_power) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let max_current = match (self.max_current, other.max_current) {
            (Some(a), Some(b)) => Some(PhaseCurrents([
                a.0[0].min(b.0[0]),
                a.0[1].min(b.0[1]),
                a.0[2].min(b.0[2]),
            ])),
            (a, b) => a.or(b),
        };
        Limit {
            max_power,
            max_current,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_takes_the_tighter_side() {
        let a = Limit::power(Watts(10_000.0));
        let b = Limit {
            max_power: Some(Watts(8_000.0)),
            max_current: Some(PhaseCurrents::uniform(Amperes(16.0))),
        };
        let c = a.intersect(&b);
        assert_eq!(c.max_power, Some(Watts(8_000.0)));
        assert_eq!(c.max_current, Some(PhaseCurrents::uniform(Amperes(16.0))));
        assert!(Limit::default().is_unbounded());
    }

    #[test]
    fn validate_refuses_negative_and_nan() {
        assert!(Limit::power(Watts(-1.0)).validate("x").is_err());
        assert!(Limit::current(Amperes(f64::NAN)).validate("x").is_err());
        assert!(Limit::power(Watts(0.0)).validate("x").is_ok());
    }
}
