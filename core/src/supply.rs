//! What a site pays for the energy it draws from the grid (its supply contract), as opposed to
//! what drivers pay ([`crate::tariff`]): daily time-of-use price windows in the site's local
//! time, a price outside them, and a monthly demand charge on the month's highest 15-minute
//! average power. The scheduler reads it to move flexible charging into cheaper hours and to
//! keep charging that can wait under the month's peak; the replay prices its runs with it.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// One daily price window `[start_hour, end_hour)` in the site's local time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupplyWindow {
    /// Name for display (`on-peak`, ...).
    pub name: String,
    /// First local hour of the window (0–23).
    pub start_hour: u32,
    /// Local hour the window ends, exclusive (1–24, after `start_hour`).
    pub end_hour: u32,
    /// Energy price in the window, per kWh.
    pub price_per_kwh: f64,
}

/// A site's supply contract: time-of-use energy prices and a demand charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupplyTariff {
    /// Price windows; the first one containing an hour wins.
    #[serde(default)]
    pub windows: Vec<SupplyWindow>,
    /// Price outside every window, per kWh.
    pub base_price_per_kwh: f64,
    /// Charge per kW of the month's highest 15-minute average power (0: none).
    #[serde(default)]
    pub demand_charge_per_kw: f64,
}

impl SupplyTariff {
    /// Checks prices are finite and not negative and windows lie within a day.
    pub fn validate(&self) -> Result<(), DomainError> {
        let bad = |reason: String| {
            Err(DomainError::InvalidQuantity {
                quantity: "supply tariff",
                reason,
            })
        };
        let price_ok = |p: f64| p.is_finite() && p >= 0.0;
        if !price_ok(self.base_price_per_kwh) {
            return bad(format!(
                "base_price_per_kwh {} must be a number >= 0",
                self.base_price_per_kwh
            ));
        }
        if !price_ok(self.demand_charge_per_kw) {
            return bad(format!(
                "demand_charge_per_kw {} must be a number >= 0",
                self.demand_charge_per_kw
            ));
        }
        for w in &self.windows {
            if w.start_hour >= w.end_hour || w.end_hour > 24 {
                return bad(format!(
                    "window {:?} from hour {} to {}: hours must satisfy 0 <= start < end <= 24",
                    w.name, w.start_hour, w.end_hour
                ));
            }
            if !price_ok(w.price_per_kwh) {
                return bad(format!(
                    "window {:?}: price_per_kwh {} must be a number >= 0",
                    w.name, w.price_per_kwh
                ));
            }
        }
        Ok(())
    }

    /// Energy price at `t`, per kWh, with the windows in zone `tz`.
    pub fn price_at(&self, t: DateTime<Utc>, tz: &Tz) -> f64 {
        let hour = t.with_timezone(tz).hour();
        self.windows
            .iter()
            .find(|w| w.start_hour <= hour && hour < w.end_hour)
            .map_or(self.base_price_per_kwh, |w| w.price_per_kwh)
    }

    /// The start and price of the first cheaper period within the next 24 h, if any.
    pub fn next_cheaper(&self, t: DateTime<Utc>, tz: &Tz) -> Option<(DateTime<Utc>, f64)> {
        let now = self.price_at(t, tz);
        // Windows start on whole local hours: check each coming hour boundary.
        let mut at = t
            - TimeDelta::seconds(i64::from(t.with_timezone(tz).minute()) * 60)
            - TimeDelta::seconds(i64::from(t.second()))
            - TimeDelta::nanoseconds(i64::from(t.nanosecond()));
        for _ in 0..24 {
            at += TimeDelta::hours(1);
            let p = self.price_at(at, tz);
            if p < now {
                return Some((at, p));
            }
        }
        None
    }

    /// The billing month of `t` (year, month) in zone `tz`.
    pub fn month_of(t: DateTime<Utc>, tz: &Tz) -> (i32, u32) {
        let local = t.with_timezone(tz);
        (local.year(), local.month())
    }

    /// Demand charge for a month whose highest 15-minute average power was `peak_kw`.
    pub fn demand_charge(&self, peak_kw: f64) -> f64 {
        peak_kw * self.demand_charge_per_kw
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Southern California Edison's commercial EV rates, simplified (the replay's default).
    fn sce() -> SupplyTariff {
        let w = |name: &str, start_hour, end_hour, price_per_kwh| SupplyWindow {
            name: name.into(),
            start_hour,
            end_hour,
            price_per_kwh,
        };
        SupplyTariff {
            windows: vec![w("on-peak", 16, 21, 0.40), w("super-off-peak", 9, 14, 0.12)],
            base_price_per_kwh: 0.20,
            demand_charge_per_kw: 15.0,
        }
    }

    #[test]
    fn prices_go_by_local_hour_and_the_next_cheaper_hour_is_found() {
        let t = sce();
        let tz: Tz = "America/Los_Angeles".parse().unwrap();
        // 17:30 PDT = 00:30 UTC next day: on-peak.
        let on_peak = Utc.with_ymd_and_hms(2019, 6, 2, 0, 30, 0).unwrap();
        assert_eq!(t.price_at(on_peak, &tz), 0.40);
        let midday = Utc.with_ymd_and_hms(2019, 6, 1, 17, 0, 0).unwrap();
        assert_eq!(t.price_at(midday, &tz), 0.12);
        // 07:10 PDT: off-peak now, super-off-peak from 09:00 PDT (16:00 UTC).
        let morning = Utc.with_ymd_and_hms(2019, 6, 1, 14, 10, 0).unwrap();
        assert_eq!(t.price_at(morning, &tz), 0.20);
        assert_eq!(
            t.next_cheaper(morning, &tz),
            Some((Utc.with_ymd_and_hms(2019, 6, 1, 16, 0, 0).unwrap(), 0.12))
        );
        assert_eq!(t.next_cheaper(midday, &tz), None);
        // A zone with a half-hour offset: windows start on its whole hours.
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        let at = Utc.with_ymd_and_hms(2019, 6, 1, 1, 40, 0).unwrap(); // 07:10 IST
        assert_eq!(
            t.next_cheaper(at, &kolkata),
            Some((Utc.with_ymd_and_hms(2019, 6, 1, 3, 30, 0).unwrap(), 0.12))
        );
    }

    #[test]
    fn bad_contracts_are_named() {
        let mut t = sce();
        t.windows[0].end_hour = 25;
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("on-peak") && e.contains("25"), "{e}");
        let mut t = sce();
        t.base_price_per_kwh = f64::NAN;
        assert!(t.validate().unwrap_err().to_string().contains("base_price"));
        let mut t = sce();
        t.demand_charge_per_kw = -1.0;
        assert!(
            t.validate()
                .unwrap_err()
                .to_string()
                .contains("demand_charge")
        );
        assert!(sce().validate().is_ok());
    }
}
