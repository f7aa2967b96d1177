//! A simple time-of-use tariff with a monthly demand charge, to put a price on each replay.
//!
//! The default is modelled on Southern California Edison's commercial EV rates (the ACN sites
//! are in California), simplified to the same schedule every day, in local time:
//! on-peak 16:00–21:00 at 0.40 $/kWh, super-off-peak 09:00–14:00 at 0.12 $/kWh, off-peak the
//! rest at 0.20 $/kWh; demand charge 15 $/kW on the month's highest 15-minute average power.

use chargegrid_core::supply::{SupplyTariff, SupplyWindow, month_of};
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::ReplayError;

/// The replay's site: a supply contract ([`SupplyTariff`], the live site model's type) and the
/// time zone its windows are in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tariff {
    /// IANA time zone the windows are in.
    pub timezone: String,
    /// Prices and demand charge.
    pub supply: SupplyTariff,
}

impl Default for Tariff {
    fn default() -> Self {
        let window = |name: &str, start: u32, end: u32, price_per_kwh| SupplyWindow {
            name: name.into(),
            days: vec![],
            start: NaiveTime::from_hms_opt(start, 0, 0).expect("a whole hour"),
            end: NaiveTime::from_hms_opt(end, 0, 0).expect("a whole hour"),
            price_per_kwh,
        };
        Self {
            timezone: "America/Los_Angeles".into(),
            supply: SupplyTariff {
                windows: vec![
                    window("on-peak", 16, 21, 0.40),
                    window("super-off-peak", 9, 14, 0.12),
                ],
                base_price_per_kwh: 0.20,
                demand_charge_per_kw: 15.0,
                carbon: None,
            },
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
        self.tariff.supply.price_at(t, &self.tz)
    }

    /// The start and price of the first cheaper period within the next 24 h, if any.
    pub fn next_cheaper(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, f64)> {
        self.tariff.supply.next_cheaper(t, &self.tz)
    }

    /// The billing month of `t` (year, month) in local time.
    pub fn month_of(&self, t: DateTime<Utc>) -> (i32, u32) {
        month_of(t, &self.tz)
    }

    /// Demand charge for a month whose highest 15-minute average power was `peak_kw`.
    pub fn demand_charge(&self, peak_kw: f64) -> f64 {
        self.tariff.supply.demand_charge(peak_kw)
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
