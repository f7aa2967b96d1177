//! What a vehicle has shown it takes. Many vehicles draw less than they are offered: an
//! on-board charger smaller than the EVSE (a 16 A car on a 32 A point, a 6.6 kW car under a
//! 32 A pilot at 208 V), a battery tapering near full, a cold pack. Current offered but not
//! drawn is site capacity nobody uses while other drivers wait.
//!
//! From each meter reading taken under a known limit, [`DrawRule::learn`] keeps the most the
//! vehicle is now believed to take; chargegrid caps the session there
//! ([`SessionDemand::learned_max`](super::SessionDemand::learned_max)). The belief is kept
//! across decisions: a vehicle later held below it (the site is full) says nothing new, and
//! forgetting would offer it its EVSE's maximum again at the next free moment, to waste what it
//! cannot draw. It is lowered when the vehicle draws less again (tapering) and dropped when it
//! draws all of a limit at or above it (it may take more than was believed). The margin above
//! what it drew lets a vehicle that can take more show it.
//!
//! Meters are not exact, and a current derived from power at the nominal voltage reads a few
//! percent low when the supply sags: the rule's tolerance and margin grow with the limit
//! ([`DrawRule::share`]). With the live rule a reading up to 4 % low (or 1 A) is never read as
//! a vehicle limit; one up to 8 % low (or 2 A) may be, but the belief then sits at or above the
//! limit, so nothing is held back; a reading more than 8 % low (a supply 10 % under nominal)
//! does hold a vehicle below its top, at about 2 A ÷ the bias (the rule it replaced held it at
//! 2 A ÷ the bias from 1 A of bias on). The margin is always above the tolerance, so a vehicle
//! at its learned top keeps it rather than losing it every other decision.

use chargegrid_core::Amperes;

use super::PilotSteps;

/// How readings are judged: what shortfall means "the vehicle took all it could", and how
/// far above its draw the learned top sits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawRule {
    /// A vehicle drawing at least this much less than its limit is taking all it can.
    pub tolerance: Amperes,
    /// The learned top sits this far above what the vehicle drew.
    pub margin: Amperes,
    /// Share of the limit that the tolerance (once) and the margin (twice) are at least: a
    /// meter's or the voltage's relative error.
    pub share: f64,
}

impl Default for DrawRule {
    /// The live scheduler's rule: a vehicle's current is derived from its metered power at
    /// the site's nominal voltage, so a 1 A or 4 % shortfall (whichever is larger) may be the
    /// meter; the learned top sits 2 A or 8 % above the draw.
    fn default() -> Self {
        Self {
            tolerance: Amperes(1.0),
            margin: Amperes(2.0),
            share: 0.04,
        }
    }
}

/// Why a rule cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DrawRuleError {
    /// A field is negative or not a number.
    #[error("draw rule: tolerance, margin and share must be finite and >= 0")]
    NotFinite,
    /// The margin is not above the tolerance: a vehicle at its learned top would look as if it
    /// drew all it was offered, lose its top, and be offered too much every other decision.
    #[error("draw rule: the margin ({margin} A) must be above the tolerance ({tolerance} A)")]
    MarginNotAboveTolerance {
        /// The margin given.
        margin: f64,
        /// The tolerance given.
        tolerance: f64,
    },
}

impl DrawRule {
    /// For a simulator whose vehicles draw exactly what they report (acnportal): 0.005 A
    /// tolerance (float rounding), 0.01 A margin, nothing relative.
    pub const EXACT: DrawRule = DrawRule {
        tolerance: Amperes(0.005),
        margin: Amperes(0.01),
        share: 0.0,
    };

    /// Checks the rule can be used.
    pub fn validate(&self) -> Result<(), DrawRuleError> {
        let (t, m, s) = (self.tolerance.0, self.margin.0, self.share);
        if ![t, m, s].iter().all(|x| x.is_finite() && *x >= 0.0) {
            return Err(DrawRuleError::NotFinite);
        }
        if m <= t {
            return Err(DrawRuleError::MarginNotAboveTolerance {
                margin: m,
                tolerance: t,
            });
        }
        Ok(())
    }

    /// The shortfall under `limit` that is read as the vehicle's own limit.
    pub fn tolerance_at(&self, limit: Amperes) -> Amperes {
        Amperes(self.tolerance.0.max(self.share * limit.0))
    }

    fn margin_at(&self, limit: f64) -> f64 {
        self.margin.0.max(2.0 * self.share * limit)
    }

    /// The cap to plan a vehicle believed to take `learned` at, on a charger that signals
    /// `pilot` (floor `lo`). The allocator rounds caps down to a pilot value; where that value
    /// would sit more than the tolerance below the belief, a vehicle held there that could take
    /// more could never show it (a cold battery warming up, on a charger with 8/16/32 A levels,
    /// would stay at 8 A), so the cap goes up to the next pilot value instead.
    pub fn cap_on(&self, learned: Amperes, pilot: &PilotSteps, lo: Amperes) -> Amperes {
        let m = learned.0.max(lo.0);
        let down = pilot.floor_current(m, lo.0);
        if down >= m - self.tolerance_at(Amperes(m)).0 {
            return Amperes(m);
        }
        Amperes(pilot.next_above(m, lo.0, 0.0).unwrap_or(m))
    }

    /// The vehicle's top after it drew `drawn` under `limit`, `known` being what was believed
    /// before (`None`: nothing, it takes what it is offered).
    pub fn learn(&self, known: Option<Amperes>, limit: Amperes, drawn: Amperes) -> Option<Amperes> {
        let (limit, drawn) = (limit.0, drawn.0.max(0.0));
        if !(limit.is_finite() && drawn.is_finite()) {
            return known;
        }
        let tolerance = self.tolerance_at(Amperes(limit)).0;
        if drawn < limit - tolerance {
            // It took less than it was allowed: that is all it takes now.
            Some(Amperes(drawn + self.margin_at(limit)))
        } else if known.is_some_and(|top| limit >= top.0 - tolerance) {
            // It took all of a limit at its believed top: it may take more.
            None
        } else {
            // Held below its top, it drew what it was allowed: nothing new.
            known
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(x: f64) -> Amperes {
        Amperes(x)
    }

    #[test]
    fn a_vehicle_drawing_less_than_its_limit_is_believed_at_its_draw_plus_the_margin() {
        let rule = DrawRule::default();
        // A 16 A car under 32 A: believed at 16 + max(2, 8 % of 32) = 18.56 A.
        let top = rule.learn(None, a(32.0), a(16.0)).unwrap();
        assert!((top.0 - 18.56).abs() < 1e-9, "{top:?}");
        // Held at 10 A by a full site, it draws 10: the belief is kept, not forgotten.
        assert_eq!(rule.learn(Some(top), a(10.0), a(10.0)), Some(top));
        // Offered its believed top, it draws 16 again: still believed there.
        let again = rule.learn(Some(top), top, a(16.0)).unwrap();
        assert!((again.0 - 18.0).abs() < 1e-9, "{again:?}");
        // Tapering: it draws 9 under 18: lowered.
        assert_eq!(rule.learn(Some(again), again, a(9.0)), Some(a(11.0)));
    }

    #[test]
    fn a_vehicle_drawing_all_of_its_believed_top_may_take_more() {
        let rule = DrawRule::default();
        // Believed at 11 A, offered 11, draws 10.8 (within the 1 A tolerance): dropped.
        assert_eq!(rule.learn(Some(a(11.0)), a(11.0), a(10.8)), None);
        // Nothing believed and it draws its limit: still nothing.
        assert_eq!(rule.learn(None, a(32.0), a(31.9)), None);
    }

    /// Where a vehicle that takes 80 A is held after `decisions` readings `bias` low, the site
    /// offering it 80 A whenever nothing is believed, and its belief otherwise.
    fn held_at(rule: &DrawRule, bias: f64, start: f64, decisions: usize) -> f64 {
        let (mut top, mut limit) = (None, start);
        for _ in 0..decisions {
            top = rule.learn(top, a(limit), a(limit.min(80.0) * (1.0 - bias)));
            limit = top.map_or(80.0, |t| t.0.min(80.0));
        }
        limit
    }

    #[test]
    fn a_meter_reading_a_few_percent_low_is_not_taken_for_a_vehicle_limit() {
        let rule = DrawRule::default();
        // 3.75 % low at 80 A: within 4 % (3.2 A), the meter.
        assert_eq!(rule.learn(None, a(80.0), a(77.0)), None);
        // 5 % low: read as a limit, but the belief (76 + 6.4 A) sits above the limit, over and
        // over: nothing is held back.
        assert!((held_at(&rule, 0.05, 80.0, 50) - 80.0).abs() < 1e-9);
        // Held at 60 A by a full site while it read 5 % low, then freed: it climbs back.
        assert!((held_at(&rule, 0.05, 60.0, 50) - 80.0).abs() < 1e-9);
        // 10 % low (a supply 10 % under nominal): held below its top, settling where the 2 A
        // margin makes up the bias, 2 A ÷ 10 % = 20 A: the documented limit of the live rule.
        let ten = held_at(&rule, 0.10, 80.0, 200);
        assert!((ten - 20.0).abs() < 0.5, "{ten} A");
        // The exact rule, made for simulators, would be ratcheted by any bias: not for meters.
        assert!(held_at(&DrawRule::EXACT, 0.05, 80.0, 200) < 1.0);
    }

    #[test]
    fn a_paused_vehicle_keeps_its_belief_and_nonsense_readings_change_nothing() {
        let rule = DrawRule::default();
        assert_eq!(rule.learn(Some(a(12.0)), a(0.0), a(0.0)), Some(a(12.0)));
        assert_eq!(
            rule.learn(Some(a(12.0)), a(f64::NAN), a(3.0)),
            Some(a(12.0))
        );
        assert_eq!(rule.learn(None, a(32.0), a(f64::INFINITY)), None);
    }

    #[test]
    fn the_exact_rule_sees_a_quarter_of_an_ampere() {
        // acnportal's 6.6 kW vehicles under a 32 A pilot at 208 V draw 31.73 A.
        let top = DrawRule::EXACT.learn(None, a(32.0), a(31.73)).unwrap();
        assert!((top.0 - 31.74).abs() < 1e-9, "{top:?}");
        assert!(DrawRule::default().learn(None, a(32.0), a(31.73)).is_none());
    }

    #[test]
    fn a_cap_goes_up_to_a_pilot_value_where_rounding_down_would_hide_a_vehicle_that_takes_more() {
        let rule = DrawRule::default();
        let lo = a(6.0);
        // Continuous and 1 A steps: the belief itself (the allocator rounds 18.56 down to 18,
        // within the tolerance, and a vehicle drawing all of 18 drops its belief).
        assert_eq!(rule.cap_on(a(18.56), &PilotSteps::Continuous, lo), a(18.56));
        assert_eq!(
            rule.cap_on(a(18.56), &PilotSteps::Step(a(1.0)), lo),
            a(18.56)
        );
        // 2 A steps, believed at 11.9: 10 would be 1.9 A under it, so 12.
        assert_eq!(rule.cap_on(a(11.9), &PilotSteps::Step(a(2.0)), lo), a(12.0));
        // Levels 8/16/32, believed at 12: 8 would hide a warming battery, so 16; at 16.5,
        // 16 is within the tolerance and kept.
        let levels = PilotSteps::Levels(vec![a(8.0), a(16.0), a(32.0)]);
        assert_eq!(rule.cap_on(a(12.0), &levels, lo), a(16.0));
        assert_eq!(rule.cap_on(a(16.5), &levels, lo), a(16.5));
        // Below the floor: the floor.
        assert_eq!(rule.cap_on(a(2.0), &PilotSteps::Continuous, lo), lo);
        // Held at 12 under 2 A steps, a vehicle that drew 9.9 keeps its belief; one that
        // draws all 12 drops it: the rounding no longer locks it.
        let belief = rule.learn(None, a(32.0), a(9.9)).unwrap();
        let cap = rule.cap_on(belief, &PilotSteps::Step(a(2.0)), lo);
        assert!(rule.learn(Some(belief), cap, a(9.9)).is_some());
        assert!(rule.learn(Some(belief), cap, cap).is_none());
    }

    #[test]
    fn a_margin_not_above_the_tolerance_is_refused() {
        assert!(DrawRule::default().validate().is_ok());
        assert!(DrawRule::EXACT.validate().is_ok());
        let bad = DrawRule {
            tolerance: a(1.0),
            margin: a(1.0),
            share: 0.0,
        };
        let e = bad.validate().unwrap_err();
        assert!(e.to_string().contains("above the tolerance"), "{e}");
        let nan = DrawRule {
            share: f64::NAN,
            ..DrawRule::default()
        };
        assert_eq!(nan.validate(), Err(DrawRuleError::NotFinite));
    }
}
