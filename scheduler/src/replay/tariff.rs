//! A simple time-of-use tariff with a monthly demand charge, to put a price on each replay.
//!
//! The default is modelled on Southern California Edison's commercial EV rates (the ACN sites
//! are in California), simplified to the same schedule every day, in local time:
//! on-peak 16:00–21:00 at 0.40 $/kWh, super-off-peak 09:00–14:00 at 0.12 $/kWh, off-peak the
//! rest at 0.20 $/kWh; demand charge 15 $/kW on the month's highest 15-minute average power.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::error::ReplayError;

/// One daily price window `[start_hour, end_hour)` in local time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TouWindow {
    /// Name for display (`on-peak`, ...).
    pub name: String,
    /// First local hour of the window.
    pub start_hour: u32,
    /// Local hour the window ends (exclusive).
    pub end_hour: u32,
    /// Energy price in the window, per kWh.
    pub price_per_kwh: f64,
}

/// A daily time-of-use schedule plus a demand charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tariff {
    /// IANA time zone the windows are in.
    pub timezone: String,
    /// Price windows; the first one containing an hour wins.
    pub windows: Vec<TouWindow>,
    /// Price outside every window, per kWh.
    pub base_price_per_kwh: f64,
    /// Charge per kW of the month's highest 15-minute average power.
    pub demand_charge_per_kw: f64,
}

impl Default for Tariff {
    fn default() -> Self {
        Self {
            timezone: "America/Los_Angeles".into(),
            windows: vec![
                TouWindow {
                    name: "on-peak".into(),
                    start_hour: 16,
                    end_hour: 21,
                    price_per_kwh: 0.40,
                },
                TouWindow {
                    name: "super-off-peak".into(),
                    start_hour: 9,
                    end_hour: 14,
                    price_per_kwh: 0.12,
                },
            ],
            base_price_per_kwh: 0.20,
            demand_charge_per_kw: 15.0,
        }
    }
}

/// A tariff with its time zone resolved.
#[derive(Debug, Clone)]
pub(crate) struct LocalTariff<'a> {
    tariff: &'a Tariff,
    tz: chrono_tz::Tz,
}

impl<'a> LocalTariff<'a> {
    /// Resolves the time zone.
    pub fn new(tariff: &'a Tariff) -> Result<Self, ReplayError> {
        let tz = tariff
            .timezone
            .parse()
            .map_err(|_| ReplayError::UnknownTimeZone(tariff.timezone.clone()))?;
        Ok(Self { tariff, tz })
    }

    /// The time zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// Energy price at `t`, per kWh.
    pub fn price_at(&self, t: DateTime<Utc>) -> f64 {
        let hour = t.with_timezone(&self.tz).hour();
        self.tariff
            .windows
            .iter()
            .find(|w| w.start_hour <= hour && hour < w.end_hour)
            .map_or(self.tariff.base_price_per_kwh, |w| w.price_per_kwh)
    }

    /// The start and price of the first cheaper period within the next 24 h, if any.
    pub fn next_cheaper(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, f64)> {
        let now = self.price_at(t);
        // Windows start on whole hours: check each coming hour boundary.
        let mut at = t
            - TimeDelta::seconds(i64::from(t.with_timezone(&self.tz).minute()) * 60)
            - TimeDelta::seconds(i64::from(t.second()));
        for _ in 0..24 {
            at += TimeDelta::hours(1);
            let p = self.price_at(at);
            if p < now {
                return Some((at, p));
            }
        }
        None
    }

    /// The billing month of `t` (year, month) in local time.
    pub fn month_of(&self, t: DateTime<Utc>) -> (i32, u32) {
        let local = t.with_timezone(&self.tz);
        (local.year(), local.month())
    }

    /// Demand charge for a month whose highest 15-minute average power was `peak_kw`.
    pub fn demand_charge(&self, peak_kw: f64) -> f64 {
        peak_kw * self.tariff.demand_charge_per_kw
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn default_tariff_prices_by_local_hour() {
        let t = Tariff::default();
        let lt = LocalTariff::new(&t).unwrap();
        // 17:30 PDT = 00:30 UTC next day: on-peak.
        let on_peak = Utc.with_ymd_and_hms(2019, 6, 2, 0, 30, 0).unwrap();
        assert_eq!(lt.price_at(on_peak), 0.40);
        // 10:00 PDT = 17:00 UTC: super-off-peak.
        let midday = Utc.with_ymd_and_hms(2019, 6, 1, 17, 0, 0).unwrap();
        assert_eq!(lt.price_at(midday), 0.12);
        // 07:10 PDT: off-peak now, super-off-peak from 09:00 PDT (16:00 UTC).
        let morning = Utc.with_ymd_and_hms(2019, 6, 1, 14, 10, 0).unwrap();
        assert_eq!(lt.price_at(morning), 0.20);
        assert_eq!(
            lt.next_cheaper(morning),
            Some((Utc.with_ymd_and_hms(2019, 6, 1, 16, 0, 0).unwrap(), 0.12))
        );
        assert_eq!(lt.next_cheaper(midday), None);
    }
}
