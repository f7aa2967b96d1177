//! Reading ACN-Data session files (Caltech/JPL Adaptive Charging Network: gzip or plain CSV
//! with the columns `arrival, departure, requested_energy (kWh), delivered_energy (kWh),
//! station_id, session_id, estimated_departure, claimed`). Local times carry their UTC offset
//! and become UTC here. One reader for the scheduler's replays, which want every row or an
//! error naming the line ([`Rows::Strict`]), and the simulations, which skip what they cannot
//! use ([`Rows::Lenient`]).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chargegrid_core::WattHours;
use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One recorded charging session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcnSession {
    /// ACN's session id.
    pub session_id: String,
    /// The station (EVSE) it used.
    pub station_id: String,
    /// When the vehicle plugged in.
    pub arrival: DateTime<Utc>,
    /// When it really left.
    pub departure: DateTime<Utc>,
    /// When the driver said they would leave, if they did.
    pub estimated_departure: Option<DateTime<Utc>>,
    /// Energy the driver asked for in the app (often overstated).
    pub requested: WattHours,
    /// Energy the (uncontrolled) site actually delivered.
    pub delivered: WattHours,
    /// Whether a user claimed the session in the app.
    pub claimed: bool,
}

/// What to do with a row that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Refuse the file, naming the line: a bad time or energy, a departure before the arrival.
    Strict,
    /// Skip rows with an unreadable time or no stay (departure not after arrival); an
    /// unreadable requested energy becomes the delivered one, an unreadable delivered energy 0.
    Lenient,
}

/// Why a session file could not be read.
#[derive(Debug, Error)]
pub enum AcnError {
    /// The file could not be opened or read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A row (or the header, line 1) could not be parsed.
    #[error("{path} line {line}: {reason}")]
    BadRow {
        /// The file.
        path: String,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Reads a session file (`.csv.gz`, or plain `.csv`), sorted by arrival.
pub fn read_sessions(path: impl AsRef<Path>, rows: Rows) -> Result<Vec<AcnSession>, AcnError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| AcnError::Io {
        path: name.clone(),
        source,
    })?;
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    parse_sessions(reader, &name, rows)
}

/// Parses session CSV from any reader (uncompressed); `name` is used in errors.
pub fn parse_sessions(
    reader: impl Read,
    name: &str,
    rows: Rows,
) -> Result<Vec<AcnSession>, AcnError> {
    let bad_row = |line: u64, reason: String| AcnError::BadRow {
        path: name.to_string(),
        line,
        reason,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| bad_row(1, e.to_string()))?
        .clone();
    let col = |wanted: &str| {
        headers
            .iter()
            .position(|h| h.trim() == wanted)
            .ok_or_else(|| bad_row(1, format!("missing column {wanted:?}")))
    };
    let c_arrival = col("arrival")?;
    let c_departure = col("departure")?;
    let c_requested = col("requested_energy (kWh)")?;
    let c_delivered = col("delivered_energy (kWh)")?;
    let c_station = col("station_id")?;
    // Older exports lack these three; they are optional.
    let c_session = col("session_id").ok();
    let c_estimated = col("estimated_departure").ok();
    let c_claimed = col("claimed").ok();

    let mut sessions = Vec::new();
    for (i, record) in csv.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| bad_row(line, e.to_string()))?;
        let field = |c: usize| record.get(c).unwrap_or("").trim();
        let optional = |c: Option<usize>| c.map(field).unwrap_or("");
        let kwh = |c: usize| {
            field(c)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(WattHours::from_kwh)
        };
        let (arrival, departure) = (parse_time(field(c_arrival)), parse_time(field(c_departure)));
        let (delivered, requested) = (kwh(c_delivered), kwh(c_requested));
        let session = match rows {
            Rows::Strict => {
                let time = |t: Option<DateTime<Utc>>, c: usize| {
                    t.ok_or_else(|| bad_row(line, format!("bad time {:?}", field(c))))
                };
                let energy = |e: Option<WattHours>, c: usize| {
                    e.ok_or_else(|| bad_row(line, format!("bad energy {:?}", field(c))))
                };
                let (arrival, departure) =
                    (time(arrival, c_arrival)?, time(departure, c_departure)?);
                if departure < arrival {
                    return Err(bad_row(line, "departure before arrival".into()));
                }
                (
                    arrival,
                    departure,
                    energy(requested, c_requested)?,
                    energy(delivered, c_delivered)?,
                )
            }
            Rows::Lenient => {
                let (Some(arrival), Some(departure)) = (arrival, departure) else {
                    continue;
                };
                if departure <= arrival {
                    continue;
                }
                let delivered = delivered.unwrap_or(WattHours(0.0));
                (
                    arrival,
                    departure,
                    requested.unwrap_or(delivered),
                    delivered,
                )
            }
        };
        let (arrival, departure, requested, delivered) = session;
        sessions.push(AcnSession {
            session_id: optional(c_session).to_string(),
            station_id: field(c_station).to_string(),
            arrival,
            departure,
            estimated_departure: parse_time(optional(c_estimated)),
            requested,
            delivered,
            claimed: optional(c_claimed).eq_ignore_ascii_case("true"),
        });
    }
    sessions.sort_by_key(|a| a.arrival);
    Ok(sessions)
}

/// `2019-05-01 01:18:45-07:00`, with or without fractional seconds, a `T`, or `Z` for UTC.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%:z"]
        .iter()
        .find_map(|f| DateTime::parse_from_str(text, f).ok())
        .or_else(|| DateTime::parse_from_rfc3339(text).ok())
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const SAMPLE: &str = "arrival,departure,requested_energy (kWh),delivered_energy (kWh),station_id,session_id,estimated_departure,claimed
2019-05-01 06:33:14-07:00,2019-05-01 11:50:55-07:00,21.84,17.666,CA-314,2_39_88_24_2019-05-01 13:33:13.958599,2019-05-01 11:27:14-07:00,True
2019-05-01 01:18:45-07:00,2019-05-01 15:52:36-07:00,60.0,44.069,CA-305,2_39_131_30_2019-05-01 08:18:44.595638,,False
";

    #[test]
    fn parses_rows_to_utc_sorted_by_arrival() {
        for rows in [Rows::Strict, Rows::Lenient] {
            let s = parse_sessions(SAMPLE.as_bytes(), "sample", rows).unwrap();
            assert_eq!(s.len(), 2);
            assert_eq!(s[0].station_id, "CA-305");
            assert_eq!(
                s[0].arrival,
                Utc.with_ymd_and_hms(2019, 5, 1, 8, 18, 45).unwrap()
            );
            assert_eq!(s[0].estimated_departure, None);
            assert!(!s[0].claimed);
            assert_eq!(s[1].requested, WattHours(21_840.0));
            assert!((s[1].delivered.0 - 17_666.0).abs() < 1e-6);
            assert_eq!(
                s[1].estimated_departure,
                Some(Utc.with_ymd_and_hms(2019, 5, 1, 18, 27, 14).unwrap())
            );
            assert!(s[1].claimed);
        }
    }

    #[test]
    fn strict_reading_names_the_bad_line_and_lenient_reading_skips_or_fills_it() {
        let text = SAMPLE.replace("21.84", "lots");
        let err = parse_sessions(text.as_bytes(), "sample", Rows::Strict).unwrap_err();
        assert!(err.to_string().contains("sample line 2"), "{err}");
        let s = parse_sessions(text.as_bytes(), "sample", Rows::Lenient).unwrap();
        assert_eq!(
            s[1].requested, s[1].delivered,
            "requested falls back to delivered"
        );

        let text = format!("{SAMPLE}nonsense,2019-05-01 15:52:36-07:00,1,1,CA-1,z,,False\n");
        let err = parse_sessions(text.as_bytes(), "sample", Rows::Strict).unwrap_err();
        assert!(err.to_string().contains("line 4"), "{err}");
        let s = parse_sessions(text.as_bytes(), "sample", Rows::Lenient).unwrap();
        assert_eq!(s.len(), 2, "the broken row is skipped");
    }

    #[test]
    fn a_missing_required_column_is_named() {
        let text = SAMPLE.replace("station_id", "station");
        let err = parse_sessions(text.as_bytes(), "sample", Rows::Lenient).unwrap_err();
        assert!(err.to_string().contains("\"station_id\""), "{err}");
    }
}
