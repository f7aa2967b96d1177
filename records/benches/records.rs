//! Records written per second and the size of a session, SQLite and PostgreSQL side by side in
//! one run (issue #22). Each session is a realistic one: an hour of DC charging sampled every
//! 30 s with energy, power, current, voltage, SoC and temperature (720 samples).
//!
//!     cargo bench -p chargegrid-records --bench records
//!
//! PostgreSQL is a private server started for the run (as the tests do); SQLite is a file in a
//! temporary directory. Writes go one at a time, each its own transaction with the session's
//! charge detail record (as the records pump writes them).

use std::time::Instant;

use chargegrid_core::meter::{Measurand, MeterLocation, MeterSample, MeterUnit, ReadingContext};
use chargegrid_core::session::Session;
use chargegrid_core::{ChargerId, ConnectorId, DriverId, EvseId, SessionId, SiteId, WattHours};
use chrono::{Duration, TimeZone, Utc};

const SESSIONS: usize = 300;

fn session(i: usize) -> (Session, Vec<MeterSample>) {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(i as i64);
    let mut s = Session::new(
        SessionId::new(format!("bench-{i:06}")).unwrap(),
        format!("{i}"),
        SiteId::new("site-a").unwrap(),
        ChargerId::new("CP-1").unwrap(),
        (EvseId(1), ConnectorId(1)),
        start,
    );
    s.driver = Some(DriverId::new(format!("d{}", i % 50)).unwrap());
    s.meter_start = Some(WattHours(0.0));
    s.meter_last = Some(WattHours(60_000.0));
    s.ended_at = Some(start + Duration::hours(1));
    s.energy = WattHours(60_000.0);
    s.tariff = Some(chargegrid_core::tariff::Tariff::flat("flat", "CNY", 1.2));
    let kinds = [
        (Measurand::EnergyActiveImportRegister, MeterUnit::Wh),
        (Measurand::PowerActiveImport, MeterUnit::W),
        (Measurand::CurrentImport, MeterUnit::A),
        (Measurand::Voltage, MeterUnit::V),
        (Measurand::SoC, MeterUnit::Percent),
        (Measurand::Temperature, MeterUnit::Celsius),
    ];
    let samples = (0..120)
        .flat_map(|k| {
            kinds.iter().map(move |(measurand, unit)| MeterSample {
                timestamp: start + Duration::seconds(30 * k),
                measurand: measurand.clone(),
                phase: None,
                unit: unit.clone(),
                value: 1000.0 + k as f64 * 3.7,
                context: ReadingContext::SamplePeriodic,
                location: MeterLocation::Outlet,
            })
        })
        .collect();
    (s, samples)
}

async fn measure(url: &str) -> (f64, f64) {
    let store = chargegrid_records::open(url).await.unwrap();
    let data: Vec<_> = (0..SESSIONS).map(session).collect();
    let started = Instant::now();
    for (s, samples) in &data {
        // Pricing is part of the work per session, as in the pump.
        let cdr = chargegrid_core::cdr::Cdr::issue(s, samples, chrono_tz::UTC, None, Utc::now());
        assert!(
            store
                .record_session(s, samples, Some(&cdr), Utc::now())
                .await
                .unwrap()
        );
    }
    let rate = SESSIONS as f64 / started.elapsed().as_secs_f64();
    let json = serde_json::to_string(&data[0].0).unwrap().len()
        + serde_json::to_string(&data[0].1).unwrap().len();
    (rate, json as f64)
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = std::env::temp_dir().join(format!("chargegrid-records-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("records.db");
    let (sqlite_rate, json) = rt.block_on(measure(&format!("sqlite://{}", file.display())));
    // The file with its write-ahead log, per session.
    let on_disk: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    let postgres = chargegrid_test_support::PostgresServer::start();
    let (pg_rate, _) = rt.block_on(measure(&postgres.url()));
    let pg_size = rt.block_on(sqlx_size(&postgres.url()));
    println!("records: {SESSIONS} sessions of 720 samples, one write each");
    println!("| backend | sessions written / s | bytes stored per session |");
    println!("|---|---:|---:|");
    println!(
        "| SQLite (file, WAL) | {sqlite_rate:.0} | {:.0} (file and WAL) |",
        on_disk as f64 / SESSIONS as f64
    );
    println!(
        "| PostgreSQL 15 (fsync off, test server) | {pg_rate:.0} | {:.0} (table, TOAST and indexes) |",
        pg_size as f64 / SESSIONS as f64
    );
    println!("JSON of one session with its samples: {json:.0} bytes");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The sessions table's total size in PostgreSQL.
async fn sqlx_size(url: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let (size,): (i64,) = sqlx::query_as("SELECT pg_total_relation_size('sessions')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    size
}
