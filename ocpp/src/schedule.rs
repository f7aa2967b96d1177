//! What the 1.6 and 2.0.1 charging profiles share: the checks on a [`ChargingLimit`], the rate
//! unit, and the schedule periods, whose limits are rounded *down* to 0.1 (1.6's `multipleOf`;
//! kept for 2.0.1 too) so rounding can never raise a limit.

use chargegrid_core::command::{ChargingLimit, RateUnit};
use serde_json::{Value, json};

/// The OCPP name of a rate unit.
pub(crate) fn unit_name(u: RateUnit) -> &'static str {
    match u {
        RateUnit::A => "A",
        RateUnit::W => "W",
    }
}

/// A limit rounded down to one decimal.
pub(crate) fn tenth_floor(v: f64) -> f64 {
    ((v * 10.0) + 1e-9).floor() / 10.0
}

/// The `chargingSchedulePeriod` array of a limit, after checking it has periods starting at 0.
pub(crate) fn periods(limit: &ChargingLimit) -> Result<Vec<Value>, String> {
    if limit.periods.is_empty() {
        return Err("a charging limit needs at least one period".into());
    }
    if limit.periods[0].start_offset_s != 0 {
        return Err("the first period must start at offset 0".into());
    }
    Ok(limit
        .periods
        .iter()
        .map(|p| {
            let mut v =
                json!({ "startPeriod": p.start_offset_s, "limit": tenth_floor(p.limit.max(0.0)) });
            if let Some(n) = p.phases {
                v["numberPhases"] = json!(n);
            }
            v
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_down_never_up() {
        assert_eq!(tenth_floor(16.19), 16.1);
        assert_eq!(tenth_floor(16.1), 16.1);
        assert_eq!(tenth_floor(7399.97), 7399.9);
        assert_eq!(tenth_floor(0.0), 0.0);
    }
}
