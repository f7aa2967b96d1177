//! Real workplace sessions from ACN-Data (Caltech/JPL, gzip CSV, columns `arrival, departure,
//! requested_energy (kWh), delivered_energy (kWh), station_id, ...`, local times with their
//! UTC offset), read here so a scenario can replay real arrivals, stays and energy needs.

use std::io::Read;
use std::path::Path;

use chargegrid_core::WattHours;
use chrono::{DateTime, Utc};
use flate2::read::GzDecoder;

use crate::SimError;

/// One recorded session.
#[derive(Debug, Clone, PartialEq)]
pub struct AcnSession {
    /// The station it used.
    pub station: String,
    /// Plug-in time (UTC).
    pub arrival: DateTime<Utc>,
    /// Unplug time (UTC).
    pub departure: DateTime<Utc>,
    /// Energy the driver asked for.
    pub requested: WattHours,
    /// Energy the uncontrolled site delivered.
    pub delivered: WattHours,
}

/// Reads a session file (`.csv.gz`, or plain `.csv`), sorted by arrival; rows with unreadable
/// times or a departure before the arrival are skipped.
pub fn read_acn_sessions(path: &Path) -> Result<Vec<AcnSession>, SimError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| SimError::Read {
        path: name.clone(),
        source,
    })?;
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(GzDecoder::new(file))
    } else {
        Box::new(file)
    };
    parse(reader, &name)
}

fn parse(reader: impl Read, name: &str) -> Result<Vec<AcnSession>, SimError> {
    let bad = |m: String| SimError::invalid(format!("session file {name}"), m);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    let headers = csv.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |wanted: &str| {
        headers
            .iter()
            .position(|h| h.trim() == wanted)
            .ok_or_else(|| bad(format!("missing column {wanted:?}")))
    };
    let (ca, cd, cr, cdl, cs) = (
        col("arrival")?,
        col("departure")?,
        col("requested_energy (kWh)")?,
        col("delivered_energy (kWh)")?,
        col("station_id")?,
    );
    let mut out = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let field = |c: usize| record.get(c).unwrap_or("").trim();
        let time = |c: usize| chargegrid_ocpp::timestamp::parse(field(c));
        let kwh = |c: usize| field(c).parse::<f64>().ok().filter(|v| v.is_finite());
        let (Some(arrival), Some(departure)) = (time(ca), time(cd)) else {
            continue;
        };
        if departure <= arrival {
            continue;
        }
        let delivered = kwh(cdl).unwrap_or(0.0).max(0.0);
        out.push(AcnSession {
            station: field(cs).to_string(),
            arrival,
            departure,
            requested: WattHours(kwh(cr).unwrap_or(delivered).max(0.0) * 1000.0),
            delivered: WattHours(delivered * 1000.0),
        });
    }
    out.sort_by_key(|s| s.arrival);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_in_utc_and_skips_broken_ones() {
        let text = "arrival,departure,requested_energy (kWh),delivered_energy (kWh),station_id,session_id,estimated_departure,claimed\n\
            2019-05-01 06:33:14-07:00,2019-05-01 11:50:55-07:00,21.84,17.666,CA-314,x,2019-05-01 11:27:14-07:00,True\n\
            2019-05-01 01:18:45-07:00,2019-05-01 15:52:36-07:00,60.0,44.069,CA-305,y,,True\n\
            nonsense,2019-05-01 15:52:36-07:00,1,1,CA-1,z,,False\n";
        let s = parse(text.as_bytes(), "t").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].station, "CA-305", "sorted by arrival");
        assert_eq!(
            s[1].arrival,
            "2019-05-01T13:33:14Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!((s[1].requested.0 - 21_840.0).abs() < 1e-6);
        assert!((s[1].delivered.0 - 17_666.0).abs() < 1e-6);
    }
}
