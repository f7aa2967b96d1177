//! Reading ACN-Data session files (Caltech/JPL Adaptive Charging Network, gzip CSV with the
//! columns `arrival, departure, requested_energy (kWh), delivered_energy (kWh), station_id,
//! session_id, estimated_departure, claimed`). Local times carry their UTC offset and become
//! UTC here.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chargegrid_core::WattHours;
use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;
use serde::{Deserialize, Serialize};

use super::error::ReplayError;

/// One recorded charging session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplaySession {
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

/// Reads a `.csv.gz` session file, sorted by arrival.
pub fn read_acn_csv_gz(path: impl AsRef<Path>) -> Result<Vec<ReplaySession>, ReplayError> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| ReplayError::Io {
        path: name.clone(),
        source,
    })?;
    parse_acn_csv(GzDecoder::new(file), &name)
}

/// Parses session CSV from any reader (uncompressed); `name` is used in errors.
pub fn parse_acn_csv(reader: impl Read, name: &str) -> Result<Vec<ReplaySession>, ReplayError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| bad_row(name, 1, e.to_string()))?
        .clone();
    let col = |wanted: &str| {
        headers
            .iter()
            .position(|h| h.trim() == wanted)
            .ok_or_else(|| bad_row(name, 1, format!("missing column {wanted:?}")))
    };
    let c_arrival = col("arrival")?;
    let c_departure = col("departure")?;
    let c_requested = col("requested_energy (kWh)")?;
    let c_delivered = col("delivered_energy (kWh)")?;
    let c_station = col("station_id")?;
    let c_session = col("session_id")?;
    let c_estimated = col("estimated_departure")?;
    let c_claimed = col("claimed")?;

    let mut sessions = Vec::new();
    for (i, record) in csv.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| bad_row(name, line, e.to_string()))?;
        let field = |c: usize| record.get(c).unwrap_or("").trim();
        let time = |c: usize| {
            parse_time(field(c))
                .ok_or_else(|| bad_row(name, line, format!("bad time {:?}", field(c))))
        };
        let kwh = |c: usize| {
            field(c)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(WattHours::from_kwh)
                .ok_or_else(|| bad_row(name, line, format!("bad energy {:?}", field(c))))
        };
        let arrival = time(c_arrival)?;
        let departure = time(c_departure)?;
        if departure < arrival {
            return Err(bad_row(name, line, "departure before arrival".into()));
        }
        sessions.push(ReplaySession {
            session_id: field(c_session).to_string(),
            station_id: field(c_station).to_string(),
            arrival,
            departure,
            estimated_departure: parse_time(field(c_estimated)),
            requested: kwh(c_requested)?,
            delivered: kwh(c_delivered)?,
            claimed: field(c_claimed).eq_ignore_ascii_case("true"),
        });
    }
    sessions.sort_by_key(|a| a.arrival);
    Ok(sessions)
}

/// `2019-05-01 01:18:45-07:00`, with or without fractional seconds or a `T`.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%:z"]
        .iter()
        .find_map(|f| DateTime::parse_from_str(text, f).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn bad_row(path: &str, line: u64, reason: String) -> ReplayError {
    ReplayError::BadRow {
        path: path.to_string(),
        line,
        reason,
    }
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
        let s = parse_acn_csv(SAMPLE.as_bytes(), "sample").unwrap();
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

    #[test]
    fn bad_rows_name_their_line() {
        let text = SAMPLE.replace("21.84", "lots");
        let err = parse_acn_csv(text.as_bytes(), "sample").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
