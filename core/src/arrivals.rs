//! Energy still to come: a forecast of what the vehicles not yet plugged in will want, from the
//! site's earlier days.
//!
//! A scheduler that holds charging back for a cheaper hour must know whether that hour will
//! have room. The vehicles present say what they need; the ones that will arrive in the
//! meantime do not, and on a congested workplace site they are what fills the cheap hours. Sites
//! are creatures of habit as drivers are: the same hours of the same kind of day (weekday or
//! weekend, in the site's time zone) bring about the same energy. The forecast for a
//! quarter-hour ahead is the mean energy that arrived in that quarter-hour of the site's local
//! day over the earlier whole days of the same kind, up to [`LOOKBACK_DAYS`] back, counting
//! days on which nothing arrived (a quiet Monday is a fact, not a gap).
//!
//! The choices were made on the ACN-Data replays (docs/BENCHMARKS.md, "Cost and carbon").

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::units::WattHours;

/// Days of history a forecast uses at most.
pub const LOOKBACK_DAYS: i64 = 28;

/// Hours ahead a forecast covers.
pub const FORECAST_HOURS: usize = 24;

/// Quarter-hours in a day.
pub const SLOTS: usize = 96;

/// The UTC day and quarter-hour of that day (0–95) holding `t`: how arrivals are kept (every
/// time zone's offset is a whole number of quarter-hours, so a UTC quarter-hour is a local one).
pub fn utc_quarter(t: DateTime<Utc>) -> (NaiveDate, usize) {
    (t.date_naive(), (t.hour() * 4 + t.minute() / 15) as usize)
}

/// The start of quarter-hour `slot` of UTC day `day`.
pub fn utc_quarter_start(day: NaiveDate, slot: usize) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc() + TimeDelta::minutes(15 * slot as i64)
}

/// One earlier arrival: when it plugged in and the energy it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastArrival {
    /// When the vehicle plugged in.
    pub arrived: DateTime<Utc>,
    /// Energy delivered over the whole session.
    pub energy: WattHours,
}

/// Weekday (0) or weekend (1).
fn kind(date: NaiveDate) -> usize {
    usize::from(matches!(date.weekday(), Weekday::Sat | Weekday::Sun))
}

/// The site's habit: the mean energy arriving per quarter-hour of its local day, for weekdays
/// and weekends, over the whole days before `today`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalHabit {
    tz: Tz,
    /// Mean Wh arriving in each local quarter-hour, `[kind][slot]`; zero where no day of the
    /// kind is on record.
    mean: [[f64; SLOTS]; 2],
    /// Whole days of each kind the means rest on.
    days: [usize; 2],
}

impl ArrivalHabit {
    /// Learns the habit from `past` (any order) for the local day `today` in `tz`: arrivals on
    /// the [`LOOKBACK_DAYS`] whole local days before `today` count, starting from the day of the
    /// earliest arrival on record (days before it are unknown, not quiet). Arrivals with energy
    /// that is not a finite non-negative figure are left out.
    pub fn learn(past: &[PastArrival], today: NaiveDate, tz: Tz) -> Self {
        let first_kept = today - TimeDelta::days(LOOKBACK_DAYS);
        let local = |t: DateTime<Utc>| t.with_timezone(&tz);
        let earliest = past
            .iter()
            .map(|p| local(p.arrived).date_naive())
            .filter(|&d| d >= first_kept && d < today)
            .min();
        let mut sum = [[0.0; SLOTS]; 2];
        let mut days = [0usize; 2];
        if let Some(start) = earliest {
            let mut d = start;
            while d < today {
                days[kind(d)] += 1;
                d += TimeDelta::days(1);
            }
        }
        for p in past {
            let at = local(p.arrived);
            let d = at.date_naive();
            if d < first_kept || d >= today || !(p.energy.0.is_finite() && p.energy.0 >= 0.0) {
                continue;
            }
            let slot = (at.hour() * 4 + at.minute() / 15) as usize;
            sum[kind(d)][slot] += p.energy.0;
        }
        let mut mean = [[0.0; SLOTS]; 2];
        for k in 0..2 {
            if days[k] > 0 {
                for (m, s) in mean[k].iter_mut().zip(&sum[k]) {
                    *m = s / days[k] as f64;
                }
            }
        }
        Self { tz, mean, days }
    }

    /// Whole days of history (weekdays, weekend days) the habit rests on.
    pub fn days(&self) -> (usize, usize) {
        (self.days[0], self.days[1])
    }

    /// Energy (Wh) expected to arrive in each of the [`FORECAST_HOURS`] hours after `now`: the
    /// `q`-th quarter-hour ahead takes the mean of the local slot holding `now + 15 min × q` on
    /// days of that slot's kind, so every slot of the next day is counted once.
    pub fn ahead(&self, now: DateTime<Utc>) -> [f64; FORECAST_HOURS] {
        let mut out = [0.0; FORECAST_HOURS];
        for q in 0..FORECAST_HOURS * 4 {
            let at = (now + TimeDelta::minutes(15 * q as i64)).with_timezone(&self.tz);
            let slot = (at.hour() * 4 + at.minute() / 15) as usize;
            out[q / 4] += self.mean[kind(at.date_naive())][slot];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const TZ: Tz = chrono_tz::America::Los_Angeles;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        TZ.with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn arrival(t: DateTime<Utc>, kwh: f64) -> PastArrival {
        PastArrival {
            arrived: t,
            energy: WattHours(kwh * 1000.0),
        }
    }

    #[test]
    fn weekday_mornings_forecast_weekday_mornings_and_quiet_days_count() {
        // Mon 2 Dec 2019 .. Fri 6 Dec: 10 kWh at 08:10 local on Monday and Tuesday only.
        let past = [
            arrival(at(2019, 12, 2, 8, 10), 10.0),
            arrival(at(2019, 12, 3, 8, 10), 10.0),
            // Today's arrival is no history yet.
            arrival(at(2019, 12, 6, 7, 0), 50.0),
        ];
        let today = NaiveDate::from_ymd_opt(2019, 12, 6).unwrap();
        let habit = ArrivalHabit::learn(&past, today, TZ);
        // Mon..Thu on record: four weekdays, no weekend day.
        assert_eq!(habit.days(), (4, 0));
        // From Friday 06:00 local: 20 kWh over 4 weekdays = 5 kWh in the 08:00-09:00 hour.
        let ahead = habit.ahead(at(2019, 12, 6, 6, 0));
        assert!((ahead[2] - 5000.0).abs() < 1e-9, "{ahead:?}");
        assert!((ahead.iter().sum::<f64>() - 5000.0).abs() < 1e-9);
        // From Friday 09:00 the next weekday morning is Monday's: Saturday, Sunday have no
        // history, so nothing is forecast within the 24 hours.
        assert_eq!(habit.ahead(at(2019, 12, 6, 9, 0)).iter().sum::<f64>(), 0.0);
    }

    #[test]
    fn only_the_lookback_counts_and_bad_energies_are_left_out() {
        let today = NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
        let old = at(2019, 11, 1, 8, 0);
        let past = [
            arrival(old, 100.0),
            arrival(at(2019, 12, 30, 8, 0), f64::NAN),
            arrival(at(2019, 12, 30, 8, 5), -3.0),
            arrival(at(2019, 12, 30, 8, 20), 7.0),
        ];
        let habit = ArrivalHabit::learn(&past, today, TZ);
        // Only Monday 30 December is on record (the November arrival is beyond the lookback).
        assert_eq!(habit.days(), (1, 0));
        let ahead = habit.ahead(at(2019, 12, 31, 7, 30));
        assert!((ahead[0] - 7000.0).abs() < 1e-9, "{ahead:?}");
        assert!((ahead.iter().sum::<f64>() - 7000.0).abs() < 1e-9);
    }

    #[test]
    fn a_utc_quarter_hour_names_its_day_and_slot_and_starts_where_it_says() {
        let t: DateTime<Utc> = "2026-03-01T23:59:59Z".parse().unwrap();
        let (day, slot) = utc_quarter(t);
        assert_eq!(
            (day, slot),
            (NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), 95)
        );
        let start = utc_quarter_start(day, slot);
        assert_eq!(
            start,
            "2026-03-01T23:45:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(utc_quarter(start), (day, slot));
    }

    #[test]
    fn no_history_forecasts_nothing() {
        let today = NaiveDate::from_ymd_opt(2019, 12, 31).unwrap();
        let habit = ArrivalHabit::learn(&[], today, TZ);
        assert_eq!(habit.days(), (0, 0));
        assert!(
            habit
                .ahead(at(2019, 12, 31, 0, 0))
                .iter()
                .all(|&w| w == 0.0)
        );
    }
}
