//! What a site pays for the energy it draws from the grid (its supply contract), as opposed to
//! what drivers pay ([`crate::tariff`]): daily time-of-use price windows in the site's local
//! time (written and read as a driver tariff's windows are, [`DailyWindow`]), a price outside
//! them, and a monthly demand charge on the month's highest 15-minute average power, optionally
//! a price on the grid's marginal emissions by hour. The scheduler reads it to move charging
//! that can wait into cheaper (and cleaner) hours and tracks the month's demand
//! ([`MonthDemand`]); the replay prices its runs with it.

use chrono::{DateTime, Datelike, NaiveTime, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::tariff::{DailyWindow, TariffDay, window_edges};
use crate::{WattHours, Watts};

/// A daily price window in the site's local time, the same shape as a driver tariff's window
/// ([`DailyWindow`]): `days` (every day when empty), `start` and `end` as `HH:MM`, past midnight
/// when the end is not after the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupplyWindow {
    /// Name for display (`valley`, `peak`, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Days it applies (`mon` … `sun`, the day the window starts); every day when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<TariffDay>,
    /// Local start time, `HH:MM`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub start: NaiveTime,
    /// Local end time, `HH:MM`; a window whose end is not after its start runs past midnight.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub end: NaiveTime,
    /// Energy price in the window, per kWh.
    pub price_per_kwh: f64,
}

impl DailyWindow for SupplyWindow {
    fn days(&self) -> &[TariffDay] {
        &self.days
    }
    fn start(&self) -> NaiveTime {
        self.start
    }
    fn end(&self) -> NaiveTime {
        self.end
    }
}

/// A site's supply contract: time-of-use energy prices and a demand charge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupplyTariff {
    /// Price windows; the first one that applies wins.
    #[serde(default)]
    pub windows: Vec<SupplyWindow>,
    /// Price outside every window, per kWh.
    pub base_price_per_kwh: f64,
    /// Charge per kW of the month's highest 15-minute average power (0: none).
    #[serde(default)]
    pub demand_charge_per_kw: f64,
    /// The grid's marginal emissions at the site and the price put on them: charging that can
    /// wait moves to cleaner hours as it does to cheaper ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carbon: Option<CarbonSignal>,
}

/// Marginal emissions of a typical day by local hour, and what a kilogram costs the operator.
/// A static profile (for example the hourly means of a month of the grid's marginal operating
/// emissions rate); a live forecast feed is not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CarbonSignal {
    /// Price of a kg of CO₂, in the tariff's currency.
    pub price_per_kg: f64,
    /// kg CO₂ per kWh for local hours 0–23 (24 values).
    pub kg_per_kwh_by_hour: Vec<f64>,
}

/// With a carbon signal, a later hour counts as cheaper only when its price (energy and carbon)
/// is at least this share below now's: the hourly profile differs a little from hour to hour,
/// and waiting for a hair less is not worth it.
pub const CLEARLY_CHEAPER: f64 = 0.1;

impl SupplyTariff {
    /// Checks prices are finite and not negative and windows have some length.
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
        if let Some(c) = &self.carbon {
            if !price_ok(c.price_per_kg) {
                return bad(format!(
                    "carbon.price_per_kg {} must be a number >= 0",
                    c.price_per_kg
                ));
            }
            if c.kg_per_kwh_by_hour.len() != 24
                || !c.kg_per_kwh_by_hour.iter().all(|&r| price_ok(r))
            {
                return bad(format!(
                    "carbon.kg_per_kwh_by_hour needs 24 numbers >= 0 (local hours 0-23), got {:?}",
                    c.kg_per_kwh_by_hour
                ));
            }
        }
        for (i, w) in self.windows.iter().enumerate() {
            let which = if w.name.is_empty() {
                format!("window {}", i + 1)
            } else {
                format!("window {} ({:?})", i + 1, w.name)
            };
            if let Some(problem) = w.length_problem() {
                return bad(format!("{which}: {problem}"));
            }
            if !price_ok(w.price_per_kwh) {
                return bad(format!(
                    "{which}: price_per_kwh {} must be a number >= 0",
                    w.price_per_kwh
                ));
            }
        }
        Ok(())
    }

    /// Energy price at `t`, per kWh, with the windows in zone `tz`.
    pub fn price_at(&self, t: DateTime<Utc>, tz: &Tz) -> f64 {
        let local = t.with_timezone(tz).naive_local();
        self.windows
            .iter()
            .find(|w| w.applies_at(local))
            .map_or(self.base_price_per_kwh, |w| w.price_per_kwh)
    }

    /// What a kWh at `t` costs the operator: its energy price plus, with a carbon signal, the
    /// price of the hour's marginal emissions.
    pub fn cost_at(&self, t: DateTime<Utc>, tz: &Tz) -> f64 {
        self.cost_of(self.price_and_kg_at(t, tz))
    }

    /// The energy price at `t` and the marginal emissions of its local hour, kg a kWh (0 without
    /// a carbon signal).
    fn price_and_kg_at(&self, t: DateTime<Utc>, tz: &Tz) -> (f64, f64) {
        let kg = self.carbon.as_ref().map_or(0.0, |c| {
            let hour = t.with_timezone(tz).hour() as usize;
            c.kg_per_kwh_by_hour.get(hour).copied().unwrap_or(0.0)
        });
        (self.price_at(t, tz), kg)
    }

    /// What a kWh costs at an energy price and marginal emissions ([`Self::price_and_kg_at`]).
    fn cost_of(&self, (price, kg): (f64, f64)) -> f64 {
        price + self.carbon.as_ref().map_or(0.0, |c| c.price_per_kg) * kg
    }

    /// The start and cost ([`SupplyTariff::cost_at`]) of the first cheaper time within the next
    /// 24 h, if any. With a carbon signal it must be [`CLEARLY_CHEAPER`] cheaper and neither
    /// dearer on the tariff nor dirtier than now: waiting for it lowers the energy bill and the
    /// emissions together, never one at the other's expense.
    pub fn next_cheaper(&self, t: DateTime<Utc>, tz: &Tz) -> Option<(DateTime<Utc>, f64)> {
        let (price_now, kg_now) = self.price_and_kg_at(t, tz);
        let now = self.cost_of((price_now, kg_now));
        let below = if self.carbon.is_some() {
            now * (1.0 - CLEARLY_CHEAPER)
        } else {
            now
        };
        // The cost changes only where a window starts or ends and, with a carbon signal, on
        // whole local hours.
        let horizon = t + TimeDelta::hours(24);
        let mut changes = window_edges(&self.windows, t, horizon, tz);
        if self.carbon.is_some() {
            let mut at = t
                - TimeDelta::seconds(i64::from(t.with_timezone(tz).minute()) * 60)
                - TimeDelta::seconds(i64::from(t.second()))
                - TimeDelta::nanoseconds(i64::from(t.nanosecond()));
            for _ in 0..24 {
                at += TimeDelta::hours(1);
                changes.push(at);
            }
            changes.sort();
            changes.dedup();
        }
        changes
            .into_iter()
            .filter(|at| *at > t)
            .map(|at| (at, self.price_and_kg_at(at, tz)))
            .filter(|&(_, (price, kg))| price <= price_now && kg <= kg_now)
            .map(|(at, parts)| (at, self.cost_of(parts)))
            .find(|(_, cost)| *cost < below)
    }

    /// Demand charge for a month whose highest 15-minute average power was `peak_kw`.
    pub fn demand_charge(&self, peak_kw: f64) -> f64 {
        peak_kw * self.demand_charge_per_kw
    }
}

/// Length of a demand-charge interval, minutes: the month's peak is the highest average over
/// one of these quarter hours.
pub const DEMAND_INTERVAL_MINUTES: i64 = 15;

/// Longest time between two readings of a site's power that is bridged by holding the first:
/// over a longer gap (no leader, say) the draw is unknown and the open quarter hour restarts.
pub const DEMAND_GAP_MINUTES: i64 = 15;

/// A site's metered demand in one billing month: the highest 15-minute average power of the
/// quarter hours closed so far, and the quarter hour being averaged. The scheduler carries it
/// from pass to pass in the stored allocation, so a new leader continues it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthDemand {
    /// The billing month, `YYYY-MM` in the site's time zone.
    pub month: String,
    /// Highest quarter-hour average this month (0 before the first quarter closes).
    pub peak: Watts,
    /// Start of the quarter hour being averaged.
    pub quarter_start: DateTime<Utc>,
    /// Energy drawn in it so far.
    pub quarter_energy: WattHours,
    /// The site's power at the last reading, held until the next.
    pub power: Watts,
    /// When that reading was taken.
    pub at: DateTime<Utc>,
}

/// The billing month of `t` (year, month) in zone `tz`.
pub fn month_of(t: DateTime<Utc>, tz: &Tz) -> (i32, u32) {
    let local = t.with_timezone(tz);
    (local.year(), local.month())
}

/// `YYYY-MM` of `t` in zone `tz`.
pub fn month_label(t: DateTime<Utc>, tz: &Tz) -> String {
    let (y, m) = month_of(t, tz);
    format!("{y:04}-{m:02}")
}

/// Start of the quarter hour holding `t` (quarter hours are the same in every zone whose offset
/// is a multiple of 15 minutes, i.e. all of them in use).
fn quarter_of(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = DEMAND_INTERVAL_MINUTES * 60;
    let ts = t.timestamp();
    DateTime::from_timestamp(ts - ts.rem_euclid(secs), 0).unwrap_or(t)
}

impl MonthDemand {
    /// The record after reading the site's power `power` at `now`: the last reading's power is
    /// held until `now`, quarter hours are closed (their average raising the month's peak) as
    /// they end, and a new month starts from zero. A reading older than the last is ignored.
    pub fn advance(
        previous: Option<&MonthDemand>,
        now: DateTime<Utc>,
        power: Watts,
        tz: &Tz,
    ) -> MonthDemand {
        let month = month_label(now, tz);
        let fresh = |peak: Watts| MonthDemand {
            month: month.clone(),
            peak,
            quarter_start: quarter_of(now),
            quarter_energy: WattHours(0.0),
            power,
            at: now,
        };
        let Some(prev) = previous else {
            return fresh(Watts::ZERO);
        };
        if now < prev.at {
            return prev.clone();
        }
        let same_month_peak = |d: &MonthDemand| {
            if d.month == month {
                d.peak
            } else {
                Watts::ZERO
            }
        };
        if now - prev.at > TimeDelta::minutes(DEMAND_GAP_MINUTES) {
            return fresh(same_month_peak(prev));
        }
        let mut d = prev.clone();
        let quarter = TimeDelta::minutes(DEMAND_INTERVAL_MINUTES);
        let mut t = d.at;
        while t < now {
            let end = d.quarter_start + quarter;
            let until = end.min(now);
            let hours = (until - t).num_milliseconds() as f64 / 3_600_000.0;
            d.quarter_energy = WattHours(d.quarter_energy.0 + d.power.0 * hours);
            t = until;
            if until == end {
                // The quarter closes; it counts in the month it began in.
                let average = Watts(d.quarter_energy.0 / (quarter.num_minutes() as f64 / 60.0));
                if average.0 > d.peak.0 {
                    d.peak = average;
                }
                d.quarter_start = end;
                d.quarter_energy = WattHours(0.0);
                let next_month = month_label(end, tz);
                if next_month != d.month {
                    d.month = next_month;
                    d.peak = Watts::ZERO;
                }
            }
        }
        d.power = power;
        d.at = now;
        d
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Southern California Edison's commercial EV rates, simplified (the replay's default).
    fn sce() -> SupplyTariff {
        let w = |name: &str, start: u32, end: u32, price_per_kwh| SupplyWindow {
            name: name.into(),
            days: vec![],
            start: NaiveTime::from_hms_opt(start, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(end, 0, 0).unwrap(),
            price_per_kwh,
        };
        SupplyTariff {
            windows: vec![w("on-peak", 16, 21, 0.40), w("super-off-peak", 9, 14, 0.12)],
            base_price_per_kwh: 0.20,
            demand_charge_per_kw: 15.0,
            carbon: None,
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
    fn windows_take_minutes_days_and_run_past_midnight_as_a_driver_tariffs_do() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let t: SupplyTariff = serde_json::from_value(serde_json::json!({
            "base_price_per_kwh": 0.68,
            "windows": [
                {"name": "valley", "start": "23:30", "end": "07:00", "price_per_kwh": 0.32},
                {"days": ["sat", "sun"], "start": "10:00", "end": "16:00", "price_per_kwh": 0.40}
            ]
        }))
        .unwrap();
        t.validate().unwrap();
        // Friday 4 December 2026, local times (UTC+8).
        let local = |d: u32, h: u32, m: u32| {
            Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap() - TimeDelta::hours(8)
        };
        assert_eq!(t.price_at(local(4, 23, 29), &tz), 0.68);
        assert_eq!(t.price_at(local(4, 23, 30), &tz), 0.32);
        assert_eq!(t.price_at(local(5, 6, 59), &tz), 0.32);
        assert_eq!(t.price_at(local(4, 12, 0), &tz), 0.68); // a Friday
        assert_eq!(t.price_at(local(5, 12, 0), &tz), 0.40); // a Saturday
        // The next cheaper time is where the valley starts, on the minute.
        assert_eq!(
            t.next_cheaper(local(4, 20, 10), &tz),
            Some((local(4, 23, 30), 0.32))
        );
        // On Saturday at 08:00 the weekend window (0.40) comes first.
        assert_eq!(
            t.next_cheaper(local(5, 8, 0), &tz),
            Some((local(5, 10, 0), 0.40))
        );
        // Read back as written.
        let back: SupplyTariff = serde_json::from_value(serde_json::to_value(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        // An hour number where a time belongs is refused by name.
        let e = serde_json::from_value::<SupplyTariff>(serde_json::json!({
            "base_price_per_kwh": 0.68,
            "windows": [{"start_hour": 0, "end_hour": 7, "price_per_kwh": 0.32}]
        }))
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field") && e.contains("_hour"), "{e}");
    }

    #[test]
    fn carbon_adds_the_hours_emissions_and_only_a_clearly_cheaper_hour_counts() {
        let tz: Tz = "UTC".parse().unwrap();
        let mut rates = vec![0.30; 24];
        rates[1] = 0.28; // 2 % less in all: not worth waiting for
        rates[3] = 0.10;
        let t = SupplyTariff {
            windows: vec![],
            base_price_per_kwh: 0.20,
            demand_charge_per_kw: 0.0,
            carbon: Some(CarbonSignal {
                price_per_kg: 0.5,
                kg_per_kwh_by_hour: rates,
            }),
        };
        let at = |h: u32, m: u32| Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0).unwrap();
        assert!((t.cost_at(at(0, 30), &tz) - 0.35).abs() < 1e-12);
        assert_eq!(t.price_at(at(0, 30), &tz), 0.20);
        let (when, cost) = t.next_cheaper(at(0, 30), &tz).unwrap();
        assert_eq!(when, at(3, 0));
        assert!((cost - 0.25).abs() < 1e-12);
        // An hour cheaper in all but dearer on the tariff is not waited for: with 02:00–06:00
        // at 0.22 (now's tariff is 0.20), 03:00 costs 0.27 in all against now's 0.35, yet
        // waiting for it would raise the bill; no other hour is clearly cheaper.
        let mut dearer = t.clone();
        dearer.windows = vec![SupplyWindow {
            name: "night".into(),
            days: vec![],
            start: NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
            price_per_kwh: 0.22,
        }];
        assert!((dearer.cost_at(at(3, 0), &tz) - 0.27).abs() < 1e-12);
        assert_eq!(dearer.next_cheaper(at(0, 30), &tz), None);
        let mut short = t.clone();
        short.carbon.as_mut().unwrap().kg_per_kwh_by_hour.pop();
        let e = short.validate().unwrap_err().to_string();
        assert!(e.contains("24 numbers"), "{e}");
    }

    #[test]
    fn bad_contracts_are_named() {
        let mut t = sce();
        t.windows[0].end = t.windows[0].start;
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("on-peak") && e.contains("no length"), "{e}");
        t.windows[0].price_per_kwh = -0.1;
        t.windows[0].end = NaiveTime::from_hms_opt(3, 0, 0).unwrap();
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("window 1") && e.contains("price_per_kwh"), "{e}");
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

    #[test]
    fn the_months_peak_is_the_highest_closed_quarter_hour_and_a_new_month_starts_at_zero() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        // 23:50 local on 31 March = 15:50 UTC; readings every 5 minutes.
        let t0 = Utc.with_ymd_and_hms(2026, 3, 31, 15, 50, 0).unwrap();
        let at = |min: i64| t0 + TimeDelta::minutes(min);
        let mut d = MonthDemand::advance(None, at(-35), Watts(0.0), &tz);
        // 20 kW from 15:25 to 15:35 UTC, then 8 kW: the quarter 15:30–15:45 averages
        // (5 × 20 + 10 × 8) / 15 = 12 kW; the quarter before, 15:15–15:30, 5 × 20 / 15.
        for (min, kw) in [(-25, 20.0), (-20, 20.0), (-15, 8.0), (-10, 8.0), (-5, 8.0)] {
            d = MonthDemand::advance(Some(&d), at(min), Watts(kw * 1000.0), &tz);
        }
        d = MonthDemand::advance(Some(&d), at(0), Watts(8_000.0), &tz);
        assert_eq!(d.month, "2026-03");
        assert!((d.peak.0 - 12_000.0).abs() < 1e-6, "{d:?}");
        // The next quarter (15:45–16:00 UTC) closes at local midnight: it is March's, then
        // April starts from zero.
        d = MonthDemand::advance(Some(&d), at(10), Watts(30_000.0), &tz);
        assert_eq!(d.month, "2026-04");
        assert_eq!(d.peak, Watts::ZERO);
        // 16:00–16:15 UTC at the 30 kW read at 16:00: April's first quarter.
        d = MonthDemand::advance(Some(&d), at(25), Watts(0.0), &tz);
        assert!((d.peak.0 - 30_000.0).abs() < 1e-6, "{d:?}");
        // A gap longer than a quarter hour is not bridged: the draw in it is unknown.
        let later = MonthDemand::advance(Some(&d), at(90), Watts(50_000.0), &tz);
        assert_eq!(later.peak, d.peak);
        assert_eq!(later.quarter_energy, WattHours(0.0));
        // A reading from the past changes nothing.
        assert_eq!(MonthDemand::advance(Some(&d), at(20), Watts(1.0), &tz), d);
    }
}
