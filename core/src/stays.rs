//! What a session that states nothing will probably need: its departure and energy estimated
//! from earlier stays of the same driver (or, failing that, of anyone at the site).
//!
//! Most sessions arrive without needs: the vehicle does not speak ISO 15118 and the driver does
//! not open the app. A scheduler that assumes a fixed stay and energy for all of them ranks a
//! commuter who always leaves at five like a visitor who leaves within the hour. People are
//! creatures of habit, so the estimate is drawn from the stays that began at a similar time of
//! day (within [`TIME_OF_DAY_WINDOW`]), or from all of them when too few did.
//!
//! Figures a driver typed into an app are corrected by how the site's earlier statements
//! turned out ([`statement_correction`], [`calibrated_energy`]).
//!
//! The stay is a low quantile of the past ones (telling the scheduler a departure later than the
//! real one is what leaves drivers short; an early one only ranks them sooner), the energy the
//! median. The choices were made on one congested ACN-Data window (Caltech, October 2019) and
//! checked on five others of Caltech and JPL (docs/BENCHMARKS.md, "Needs nobody stated").

use chrono::{DateTime, TimeDelta, Timelike, Utc};

use crate::units::WattHours;

/// Past stays needed before an estimate is made.
pub const MIN_STAYS: usize = 3;

/// The most recent stays considered (older habits fade).
pub const MAX_STAYS: usize = 30;

/// Stays that began within this much of the new arrival's time of day are "similar".
pub const TIME_OF_DAY_WINDOW: TimeDelta = TimeDelta::hours(2);

/// The least energy an estimate gives: a guess of nothing would leave a vehicle that wants
/// charge with none.
pub const MIN_ENERGY: WattHours = WattHours(1000.0);

/// How long a vehicle still here after the departure it was given is assumed to stay on.
pub const OVERDUE_GRACE: TimeDelta = TimeDelta::minutes(30);

/// One finished stay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PastStay {
    /// When it began.
    pub arrived: DateTime<Utc>,
    /// How long the vehicle stayed plugged in.
    pub stay: TimeDelta,
    /// Energy delivered.
    pub energy: WattHours,
}

/// The quantile of the past stays an estimated stay is.
const STAY_QUANTILE: f64 = 0.25;

/// The quantile of the past energies an estimated energy is.
const ENERGY_QUANTILE: f64 = 0.5;

/// An estimated stay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StayEstimate {
    /// Expected departure.
    pub departure: DateTime<Utc>,
    /// Expected energy for the whole session (at least [`MIN_ENERGY`]).
    pub energy: WattHours,
    /// How many past stays it rests on.
    pub from: usize,
}

/// Estimates a stay beginning at `arrival` from `past` (any order; only stays that began before
/// `arrival` count). `None` when fewer than [`MIN_STAYS`] are usable.
pub fn estimate(past: &[PastStay], arrival: DateTime<Utc>) -> Option<StayEstimate> {
    let mut usable: Vec<&PastStay> = past
        .iter()
        .filter(|p| {
            p.arrived < arrival
                && p.stay > TimeDelta::zero()
                && p.energy.0.is_finite()
                && p.energy.0 >= 0.0
        })
        .collect();
    usable.sort_by_key(|p| std::cmp::Reverse(p.arrived));
    usable.truncate(MAX_STAYS);
    if usable.len() < MIN_STAYS {
        return None;
    }
    let similar: Vec<&PastStay> = usable
        .iter()
        .copied()
        .filter(|p| time_of_day_apart(p.arrived, arrival) <= TIME_OF_DAY_WINDOW)
        .collect();
    let chosen = if similar.len() >= MIN_STAYS {
        similar
    } else {
        usable
    };
    let stays: Vec<f64> = chosen.iter().map(|p| p.stay.as_seconds_f64()).collect();
    let energies: Vec<f64> = chosen.iter().map(|p| p.energy.0).collect();
    let stay = TimeDelta::milliseconds((quantile(stays, STAY_QUANTILE) * 1000.0).round() as i64);
    Some(StayEstimate {
        departure: arrival + stay,
        energy: WattHours(quantile(energies, ENERGY_QUANTILE).max(MIN_ENERGY.0)),
        from: chosen.len(),
    })
}

/// A guessed energy (a default, an estimate, a corrected statement) is never taken as met: at
/// least this share of it stays wanted while the vehicle is plugged in, so a vehicle that needs
/// more than the guess keeps a fair claim on power (the vehicle stops by itself when full).
pub const GUESS_FLOOR: f64 = 0.3;

/// The energy still to plan for after `delivered`, for a session told `told` for its whole
/// stay: a stated figure is where it stops; a guess is never taken as met.
pub fn energy_to_plan(told: WattHours, delivered: WattHours, guessed: bool) -> WattHours {
    let left = (told - delivered).max(WattHours::ZERO);
    if guessed {
        left.max(told * GUESS_FLOOR)
    } else {
        left
    }
}

/// Past statements needed before a stated figure is corrected.
pub const MIN_CALIBRATION: usize = 20;

/// The most recent statements a correction is drawn from.
pub const MAX_CALIBRATION: usize = 200;

/// How one driver's statement turned out: the energy the session delivered ÷ the energy its
/// driver stated for it (the session's total); `None` when either is not a usable figure.
pub fn statement_ratio(delivered: WattHours, stated: WattHours) -> Option<f64> {
    let ratio = delivered.0 / stated.0;
    (stated.0 > 0.0 && delivered.0 >= 0.0 && ratio.is_finite()).then_some(ratio)
}

/// The factor a driver's stated energy is corrected by, from how earlier statements turned
/// out: `ratios` are [`statement_ratio`]s of earlier stays, newest first; the median of the
/// newest [`MAX_CALIBRATION`] usable ones, `None` (no correction: plan with statements as
/// stated) with fewer than [`MIN_CALIBRATION`]. Drivers typing a figure into an app ask for
/// about twice what their car takes (ACN-Data: median ratio 0.53 at Caltech, 0.64 at JPL); a
/// vehicle's own figure (ISO 15118) needs no correction.
pub fn statement_correction(ratios: &[f64]) -> Option<f64> {
    let usable: Vec<f64> = ratios
        .iter()
        .copied()
        .filter(|r| r.is_finite() && *r >= 0.0)
        .take(MAX_CALIBRATION)
        .collect();
    (usable.len() >= MIN_CALIBRATION).then(|| quantile(usable, 0.5))
}

/// A driver's stated energy scaled by a [`statement_correction`], at least [`MIN_ENERGY`] (a
/// guess of nothing would leave a vehicle that wants charge with none) but never more than
/// stated. The result is a guess (see [`GUESS_FLOOR`]).
pub fn calibrated_energy(stated: WattHours, correction: f64) -> WattHours {
    WattHours((stated.0 * correction).max(MIN_ENERGY.0.min(stated.0)))
}

/// The departure to plan with: `told`, or a little past `now` for a vehicle that is still here
/// after it (it may leave any moment, so its remaining energy is urgent).
pub fn planning_departure(told: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    if told > now {
        told
    } else {
        now + OVERDUE_GRACE
    }
}

/// How far apart two instants are on the clock face (0 to 12 h), in UTC.
fn time_of_day_apart(a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
    let secs = |t: DateTime<Utc>| i64::from(t.num_seconds_from_midnight());
    let d = (secs(a) - secs(b)).rem_euclid(86_400);
    TimeDelta::seconds(d.min(86_400 - d))
}

/// The `q` quantile (linear between order statistics) of a non-empty list.
fn quantile(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, h, m, 0).unwrap()
    }

    fn stay(day: u32, h: u32, hours: i64, kwh: f64) -> PastStay {
        PastStay {
            arrived: at(day, h, 0),
            stay: TimeDelta::hours(hours),
            energy: WattHours::from_kwh(kwh),
        }
    }

    #[test]
    fn too_few_stays_give_no_estimate() {
        let past = [stay(1, 8, 9, 10.0), stay(2, 8, 9, 10.0)];
        assert_eq!(estimate(&past, at(3, 8, 0)), None);
    }

    #[test]
    fn stays_after_the_arrival_are_not_seen() {
        let past = [
            stay(1, 8, 9, 10.0),
            stay(2, 8, 9, 10.0),
            stay(4, 8, 1, 1.0),
            stay(5, 8, 1, 1.0),
        ];
        assert_eq!(estimate(&past, at(3, 8, 0)), None);
    }

    #[test]
    fn a_commuter_is_told_from_the_morning_stays_not_the_evening_ones() {
        // Mornings: 9 h, 8 h, 10 h, 9 h stays of 12-18 kWh. Evenings: 1 h top-ups of 3 kWh.
        let past = [
            stay(1, 8, 9, 12.0),
            stay(2, 8, 8, 14.0),
            stay(3, 9, 10, 18.0),
            stay(4, 7, 9, 16.0),
            stay(1, 19, 1, 3.0),
            stay(2, 19, 1, 3.0),
            stay(3, 20, 1, 3.0),
        ];
        let e = estimate(&past, at(10, 8, 30)).unwrap();
        assert_eq!(e.from, 4);
        // Stays sorted 8, 9, 9, 10 h: the 25 % quantile is 8.75 h.
        assert_eq!(e.departure, at(10, 8, 30) + TimeDelta::minutes(525));
        // Energies 12, 14, 16, 18 kWh: the median is 15 kWh.
        assert!((e.energy.0 - 15_000.0).abs() < 1e-6, "{:?}", e.energy);
        let evening = estimate(&past, at(10, 19, 30)).unwrap();
        assert_eq!(evening.from, 3);
        assert_eq!(evening.departure, at(10, 20, 30));
    }

    #[test]
    fn time_of_day_wraps_around_midnight() {
        assert_eq!(
            time_of_day_apart(at(1, 23, 30), at(2, 0, 30)),
            TimeDelta::hours(1)
        );
        let past = [
            stay(1, 23, 7, 20.0),
            stay(2, 0, 7, 20.0),
            stay(3, 23, 7, 20.0),
        ];
        let e = estimate(&past, at(5, 0, 15)).unwrap();
        assert_eq!(e.from, 3);
    }

    #[test]
    fn with_few_similar_stays_all_are_used_and_old_ones_fade() {
        let mut past: Vec<PastStay> = (1..=3).map(|d| stay(d, 14, 2, 5.0)).collect();
        past.push(stay(4, 8, 9, 20.0));
        let e = estimate(&past, at(10, 8, 0)).unwrap();
        assert_eq!(e.from, 4, "one similar stay is too few: all four are used");
        // Only the newest MAX_STAYS count: 40 old 1 h stays are pushed out by 30 new 9 h ones.
        let mut long: Vec<PastStay> = (0..40)
            .map(|i| PastStay {
                arrived: at(1, 8, 0) + TimeDelta::days(i),
                stay: TimeDelta::hours(1),
                energy: WattHours(1000.0),
            })
            .collect();
        long.extend((40..70).map(|i| PastStay {
            arrived: at(1, 8, 0) + TimeDelta::days(i),
            stay: TimeDelta::hours(9),
            energy: WattHours(1000.0),
        }));
        let now = at(1, 8, 0) + TimeDelta::days(80);
        let e = estimate(&long, now).unwrap();
        assert_eq!(e.from, MAX_STAYS);
        assert_eq!(e.departure, now + TimeDelta::hours(9));
    }

    #[test]
    fn a_stated_energy_is_scaled_by_how_earlier_statements_turned_out() {
        let stated = WattHours::from_kwh(20.0);
        let few = [0.5; MIN_CALIBRATION - 1];
        assert_eq!(statement_correction(&few), None, "too few to correct");
        // Newest first: 120 recent halves, then 300 older full deliveries; of the newest 200
        // (MAX_CALIBRATION), 120 are halves.
        let mut ratios = vec![0.5; 120];
        ratios.extend(std::iter::repeat_n(1.0, 300));
        let e = calibrated_energy(stated, statement_correction(&ratios).unwrap());
        // Of the newest 200: 120 halves, 80 wholes: the median is 0.5.
        assert!((e.0 - 10_000.0).abs() < 1e-6, "{e:?}");
        ratios.reverse();
        let e = calibrated_energy(stated, statement_correction(&ratios).unwrap());
        assert!((e.0 - 20_000.0).abs() < 1e-6, "{e:?}");
        // A correction never takes a statement below the least energy, nor above itself.
        assert_eq!(calibrated_energy(WattHours(5_000.0), 0.1), MIN_ENERGY);
        assert_eq!(calibrated_energy(WattHours(500.0), 0.5), WattHours(500.0));
        assert_eq!(calibrated_energy(WattHours::ZERO, 0.5), WattHours::ZERO);
        let broken = [f64::NAN; MIN_CALIBRATION];
        assert_eq!(statement_correction(&broken), None);
        // What a statement turned out to be: only from usable figures.
        assert_eq!(
            statement_ratio(WattHours(4_500.0), WattHours(8_000.0)),
            Some(0.5625)
        );
        assert_eq!(statement_ratio(WattHours(4_500.0), WattHours::ZERO), None);
        assert_eq!(statement_ratio(WattHours(-1.0), WattHours(8_000.0)), None);
        assert_eq!(
            statement_ratio(WattHours(f64::NAN), WattHours(8_000.0)),
            None
        );
    }

    #[test]
    fn a_stated_energy_is_where_planning_stops_and_a_guess_never_runs_out() {
        let kwh = WattHours::from_kwh;
        assert_eq!(energy_to_plan(kwh(20.0), kwh(5.0), false), kwh(15.0));
        assert_eq!(energy_to_plan(kwh(20.0), kwh(25.0), false), WattHours::ZERO);
        assert_eq!(energy_to_plan(kwh(20.0), kwh(5.0), true), kwh(15.0));
        assert_eq!(
            energy_to_plan(kwh(20.0), kwh(25.0), true),
            kwh(20.0) * GUESS_FLOOR
        );
    }

    #[test]
    fn an_overdue_vehicle_is_planned_as_leaving_soon() {
        let now = at(3, 12, 0);
        assert_eq!(planning_departure(at(3, 13, 0), now), at(3, 13, 0));
        assert_eq!(planning_departure(at(3, 11, 0), now), now + OVERDUE_GRACE);
        assert_eq!(planning_departure(now, now), now + OVERDUE_GRACE);
    }
}
