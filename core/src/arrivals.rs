//! Energy still to come: a forecast of what the vehicles not yet plugged in will want, from the
//! site's earlier days.
//!
//! A scheduler that holds charging back for a cheaper hour must know whether that hour will
//! have room. The vehicles present say what they need; the ones that will arrive in the
//! meantime do not, and on a congested workplace site they are what fills the cheap hours. Sites
//! are creatures of habit as drivers are: the same hours of the same kind of day (weekday or
//! weekend, in the site's time zone) bring about the same energy. The forecast for a
//! quarter-hour ahead is the mean energy that arrived in that quarter-hour of the site's local
//! day over the earlier days of the same kind, up to [`LOOKBACK`] back, counting days on which
//! nothing arrived (a quiet Monday is a fact, not a gap). Only days whose vehicles have all
//! left count: a session's energy is known at its end, so yesterday's, some still plugged in,
//! is left out until tomorrow.
//!
//! The choices were made on the ACN-Data replays (docs/BENCHMARKS.md, "Cost and carbon with a
//! forecast of arrivals").

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::units::{WattHours, hours};

/// How far back the days a forecast rests on reach (from today).
pub const LOOKBACK: TimeDelta = TimeDelta::days(28);

/// Hours ahead a forecast covers.
pub const FORECAST_HOURS: usize = 24;

/// Quarter-hours in a day.
pub const SLOTS: usize = 96;

/// A quarter-hour.
const QUARTER: TimeDelta = TimeDelta::minutes(15);

/// Energy that arrived: one session's (when it plugged in, what it took over its stay), or all
/// that arrived in one quarter-hour (its start, their energy), as a store keeps them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastArrival {
    /// When the vehicle plugged in, or the start of the quarter-hour.
    pub arrived: DateTime<Utc>,
    /// Energy delivered over the whole session (or sessions).
    pub energy: WattHours,
}

/// The quarter-hour of its day (0–95) holding `t`, in `t`'s own zone.
fn slot_of<Z: TimeZone>(t: &DateTime<Z>) -> usize {
    (t.hour() * 4 + t.minute() / 15) as usize
}

/// The UTC day and quarter-hour of that day holding `t`: how a store keeps arrivals (every
/// time zone's offset is a whole number of quarter-hours, so a UTC quarter-hour is a local one).
pub fn utc_quarter(t: DateTime<Utc>) -> (NaiveDate, usize) {
    (t.date_naive(), slot_of(&t))
}

/// The start of quarter-hour `slot` of UTC day `day`.
pub fn utc_quarter_start(day: NaiveDate, slot: usize) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc() + QUARTER * slot as i32
}

/// Weekday (0) or weekend (1).
fn kind(date: NaiveDate) -> usize {
    usize::from(matches!(date.weekday(), Weekday::Sat | Weekday::Sun))
}

/// Energy expected to arrive with vehicles not yet plugged in, hour by hour from a moment.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ArrivingEnergy {
    /// `by_hour[h]`: the energy of the vehicles expected between `h` and `h + 1` hours ahead.
    pub by_hour: [WattHours; FORECAST_HOURS],
}

impl ArrivingEnergy {
    /// Nothing expected.
    pub const NONE: Self = Self {
        by_hour: [WattHours::ZERO; FORECAST_HOURS],
    };

    /// Energy expected within `ahead` (whole hours counted in full, the last part-hour in
    /// proportion; at most [`FORECAST_HOURS`]).
    pub fn within(&self, ahead: TimeDelta) -> WattHours {
        let h = hours(ahead).clamp(0.0, FORECAST_HOURS as f64);
        let whole = h.floor() as usize;
        let mut wh: WattHours = self.by_hour[..whole].iter().copied().sum();
        if whole < FORECAST_HOURS {
            wh += self.by_hour[whole] * (h - whole as f64);
        }
        wh
    }

    /// Energy expected over the whole forecast.
    pub fn total(&self) -> WattHours {
        self.by_hour.iter().copied().sum()
    }
}

/// The site's habit: the mean energy arriving per quarter-hour of its local day, for weekdays
/// and weekends.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalHabit {
    tz: Tz,
    /// Mean Wh arriving in each local quarter-hour, `[kind][slot]`; zero where no day of the
    /// kind is on record.
    mean: [[f64; SLOTS]; 2],
    /// Days of each kind the means rest on.
    days: [usize; 2],
}

impl ArrivalHabit {
    /// Learns the habit from `past` (any order) on the local day `today` in `tz`: arrivals on
    /// the local days from [`LOOKBACK`] before `today` up to the day before yesterday count
    /// (yesterday's vehicles may not all have left), starting from the day of the earliest
    /// arrival on record (days before it are unknown, not quiet). Energies that are not finite
    /// and non-negative are left out.
    pub fn learn(past: &[PastArrival], today: NaiveDate, tz: Tz) -> Self {
        let first_kept = today - LOOKBACK;
        let yesterday = today - TimeDelta::days(1);
        let counted = |d: NaiveDate| d >= first_kept && d < yesterday;
        // The first day known: that of the earliest arrival on record, or the look-back's.
        let earliest = past
            .iter()
            .map(|p| p.arrived.with_timezone(&tz).date_naive())
            .min()
            .map(|d| d.max(first_kept));
        let mut days = [0usize; 2];
        if let Some(start) = earliest {
            for d in start.iter_days().take_while(|&d| d < yesterday) {
                days[kind(d)] += 1;
            }
        }
        let mut sum = [[0.0; SLOTS]; 2];
        for p in past {
            let at = p.arrived.with_timezone(&tz);
            let d = at.date_naive();
            if counted(d) && p.energy.is_finite() && p.energy.0 >= 0.0 {
                sum[kind(d)][slot_of(&at)] += p.energy.0;
            }
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

    /// Days of history (weekdays, weekend days) the habit rests on.
    pub fn days(&self) -> (usize, usize) {
        (self.days[0], self.days[1])
    }

    /// Whether every kind of day the [`FORECAST_HOURS`] after `now` touch has a day on record:
    /// where one has none, its forecast of nothing is ignorance, not a quiet day.
    pub fn covers(&self, now: DateTime<Utc>) -> bool {
        let end = now + TimeDelta::hours(FORECAST_HOURS as i64);
        let first = now.with_timezone(&self.tz).date_naive();
        let last = end.with_timezone(&self.tz).date_naive();
        first
            .iter_days()
            .take_while(|&d| d <= last)
            .all(|d| self.days[kind(d)] > 0)
    }

    /// Energy expected to arrive in each of the [`FORECAST_HOURS`] hours after `now`: each
    /// quarter-hour of the site's clock that overlaps them brings its slot's mean on days of
    /// its kind, in proportion to the part of it ahead (the quarter-hour under way counts only
    /// for what is left of it: who arrived in it so far is plugged in). Over a change of the
    /// clock (daylight saving) the slots follow the local clock: the hour skipped in spring
    /// brings nothing, the hour repeated in autumn brings its slots twice, as its drivers do.
    pub fn ahead(&self, now: DateTime<Utc>) -> ArrivingEnergy {
        let mut out = ArrivingEnergy::NONE;
        let horizon = now + TimeDelta::hours(FORECAST_HOURS as i64);
        let (day, slot) = utc_quarter(now);
        let mut start = utc_quarter_start(day, slot);
        while start < horizon {
            let at = start.with_timezone(&self.tz);
            let mean = self.mean[kind(at.date_naive())][slot_of(&at)];
            // The part of the quarter-hour ahead, split at the forecast's hour boundaries.
            let mut from = start.max(now);
            let to = (start + QUARTER).min(horizon);
            while from < to {
                let h = (hours(from - now) as usize).min(FORECAST_HOURS - 1);
                let hour_end = (now + TimeDelta::hours(h as i64 + 1)).min(to);
                out.by_hour[h] += WattHours(mean * hours(hour_end - from) / hours(QUARTER));
                from = hour_end;
            }
            start += QUARTER;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TZ: Tz = chrono_tz::America::Los_Angeles;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        TZ.with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn arrival(t: DateTime<Utc>, kwh: f64) -> PastArrival {
        PastArrival {
            arrived: t,
            energy: WattHours::from_kwh(kwh),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn weekday_mornings_forecast_weekday_mornings_and_quiet_days_count() {
        // 10 kWh at 08:10 local on Monday 2 and Tuesday 3 December 2019.
        let past = [
            arrival(at(2019, 12, 2, 8, 10), 10.0),
            arrival(at(2019, 12, 3, 8, 10), 10.0),
            // Yesterday's (Thursday's) vehicles may not all have left: not yet counted.
            arrival(at(2019, 12, 5, 8, 10), 40.0),
            // Today's arrival is no history yet.
            arrival(at(2019, 12, 6, 7, 0), 50.0),
        ];
        let habit = ArrivalHabit::learn(&past, date(2019, 12, 6), TZ);
        // Monday to Wednesday on record (Wednesday quiet): three weekdays, no weekend day.
        assert_eq!(habit.days(), (3, 0));
        // A forecast into Saturday knows nothing of Saturdays; one within Monday does.
        assert!(!habit.covers(at(2019, 12, 6, 6, 0)));
        assert!(habit.covers(at(2019, 12, 9, 0, 0)));
        // From Friday 06:00 local: 20 kWh over 3 weekdays in the 08:00-09:00 hour.
        let ahead = habit.ahead(at(2019, 12, 6, 6, 0));
        assert!(
            (ahead.by_hour[2].0 - 20_000.0 / 3.0).abs() < 1e-9,
            "{ahead:?}"
        );
        assert!((ahead.total().0 - 20_000.0 / 3.0).abs() < 1e-9);
        // From Friday 09:00 the next weekday morning is Monday's: Saturday and Sunday have no
        // history, so nothing is forecast within the 24 hours.
        assert_eq!(habit.ahead(at(2019, 12, 6, 9, 0)).total(), WattHours::ZERO);
        // From 08:20 the 08:15 quarter-hour is a third over: two-thirds of it are ahead (and the
        // 08:15 quarter-hour of Saturday, 24 hours on, has no history).
        let habit = ArrivalHabit::learn(
            &[arrival(at(2019, 12, 2, 8, 20), 9.0)],
            date(2019, 12, 6),
            TZ,
        );
        let ahead = habit.ahead(at(2019, 12, 6, 8, 20));
        assert!(
            (ahead.total().0 - 9_000.0 / 3.0 * 2.0 / 3.0).abs() < 1e-6,
            "{ahead:?}"
        );
        assert!((ahead.within(TimeDelta::minutes(30)).0 - 1_000.0).abs() < 1e-6);
        // A quarter-hour across the forecast's hour boundary is split at it: from 07:20, the
        // 08:15 quarter is 5 minutes in the first hour and 10 in the second.
        let ahead = habit.ahead(at(2019, 12, 6, 7, 20));
        assert!((ahead.by_hour[0].0 - 1_000.0).abs() < 1e-6, "{ahead:?}");
        assert!((ahead.by_hour[1].0 - 2_000.0).abs() < 1e-6, "{ahead:?}");
    }

    #[test]
    fn only_the_lookback_counts_and_bad_energies_are_left_out() {
        let past = [
            // On record since 1 November, beyond the look-back: the days from its start count.
            arrival(at(2019, 11, 1, 8, 0), 100.0),
            // 29 days before Wednesday 1 January 2020: out; 28 days: in.
            arrival(at(2019, 12, 3, 8, 20), 100.0),
            arrival(at(2019, 12, 4, 8, 20), 19.0),
            arrival(at(2019, 12, 30, 8, 0), f64::NAN),
            arrival(at(2019, 12, 30, 8, 5), -3.0),
            arrival(at(2019, 12, 30, 8, 20), 7.0),
        ];
        let habit = ArrivalHabit::learn(&past, date(2020, 1, 1), TZ);
        // 4 to 30 December (Tuesday 31 is yesterday): 19 weekdays and 8 weekend days.
        assert_eq!(habit.days(), (19, 8));
        let ahead = habit.ahead(at(2020, 1, 1, 7, 30));
        assert!(
            (ahead.by_hour[0].0 - 26_000.0 / 19.0).abs() < 1e-6,
            "{ahead:?}"
        );
        assert!((ahead.total().0 - 26_000.0 / 19.0).abs() < 1e-6);
    }

    #[test]
    fn over_a_clock_change_the_slots_follow_the_local_clock() {
        // 4 kWh at 01:05 and 8 kWh at 02:05 local on three Sundays of February 2020.
        let past: Vec<PastArrival> = [9, 16, 23]
            .iter()
            .flat_map(|&d| {
                [
                    arrival(at(2020, 2, d, 1, 5), 4.0),
                    arrival(at(2020, 2, d, 2, 5), 8.0),
                ]
            })
            .collect();
        let habit = ArrivalHabit::learn(&past, date(2020, 3, 7), TZ);
        // Quiet weekend days count: the means are over every weekend day from Sunday 9 February
        // to Sunday 1 March.
        let weekend = habit.days().1 as f64;
        assert_eq!(weekend, 7.0);
        let (one, two) = (12_000.0 / weekend, 24_000.0 / weekend);
        let from_saturday_noon = |m, d| habit.ahead(at(2020, m, d, 12, 0)).total().0;
        // An ordinary Sunday: 01:00 and 02:00 both come once.
        assert!((from_saturday_noon(2, 29) - (one + two)).abs() < 1e-6);
        // 8 March: 02:00-03:00 does not exist.
        assert!((from_saturday_noon(3, 7) - one).abs() < 1e-6);
        // 1 November: 01:00-02:00 comes twice.
        assert!((from_saturday_noon(10, 31) - (2.0 * one + two)).abs() < 1e-6);
    }

    #[test]
    fn a_utc_quarter_hour_names_its_day_and_slot_and_starts_where_it_says() {
        let t: DateTime<Utc> = "2026-03-01T23:59:59Z".parse().unwrap();
        let (day, slot) = utc_quarter(t);
        assert_eq!((day, slot), (date(2026, 3, 1), 95));
        let start = utc_quarter_start(day, slot);
        assert_eq!(
            start,
            "2026-03-01T23:45:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(utc_quarter(start), (day, slot));
    }

    #[test]
    fn no_history_forecasts_nothing() {
        let habit = ArrivalHabit::learn(&[], date(2019, 12, 31), TZ);
        assert_eq!(habit.days(), (0, 0));
        assert_eq!(habit.ahead(at(2019, 12, 31, 0, 0)), ArrivingEnergy::NONE);
    }
}
