//! The conformance suite: what every records backend must do. The end-to-end test crate runs
//! it on SQLite (a file in a temporary directory) and a private PostgreSQL.

#![allow(missing_docs, clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;

use chargegrid_core::meter::{Measurand, MeterLocation, MeterSample, MeterUnit, ReadingContext};
use chargegrid_core::session::Session;
use chargegrid_core::{
    ChargerId, ConnectorId, DriverId, EvseId, FleetId, SessionId, SiteId, WattHours,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::RecordsStore;

fn t(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).unwrap() + Duration::hours(hours)
}

fn ended(id: &str, driver: Option<&str>, fleet: Option<&str>, started_hours: i64) -> Session {
    let mut s = Session::new(
        SessionId::new(id).unwrap(),
        format!("tx-{id}"),
        SiteId::new("site-a").unwrap(),
        ChargerId::new("CP-1").unwrap(),
        (EvseId(1), ConnectorId(1)),
        t(started_hours),
    );
    s.driver = driver.map(|d| DriverId::new(d).unwrap());
    s.fleet = fleet.map(|f| FleetId::new(f).unwrap());
    s.meter_start = Some(WattHours(1000.0));
    s.meter_last = Some(WattHours(8200.5));
    s.ended_at = Some(t(started_hours + 1));
    s
}

fn samples(started_hours: i64) -> Vec<MeterSample> {
    (0..3)
        .map(|i| MeterSample {
            timestamp: t(started_hours) + Duration::minutes(20 * i),
            measurand: Measurand::EnergyActiveImportRegister,
            phase: None,
            unit: MeterUnit::Wh,
            value: 1000.0 + 2400.0 * i as f64,
            context: ReadingContext::SamplePeriodic,
            location: MeterLocation::Outlet,
        })
        .collect()
}

/// Sessions are written once, read back whole, and paged newest first per driver and fleet.
pub async fn sessions(store: Arc<dyn RecordsStore>) {
    assert_eq!(store.session_count().await.unwrap(), 0);
    let first = ended("s1", Some("d1"), Some("f1"), 0);
    assert!(
        store
            .record_session(&first, &samples(0), t(2))
            .await
            .unwrap()
    );
    // Delivered again (an outbox retrying): nothing changes, the first record stays.
    let mut changed = first.clone();
    changed.meter_last = Some(WattHours(1.0));
    assert!(!store.record_session(&changed, &[], t(3)).await.unwrap());
    let (read, read_samples) = store.session(&first.id).await.unwrap().unwrap();
    assert_eq!(read, first);
    assert_eq!(read_samples, samples(0));
    assert_eq!(
        store
            .session(&SessionId::new("nope").unwrap())
            .await
            .unwrap(),
        None
    );
    for (id, driver, fleet, hours) in [
        ("s2", Some("d1"), None, 5),
        ("s3", Some("d2"), Some("f1"), 6),
        ("s4", Some("d1"), Some("f1"), 9),
        ("s5", None, None, 10),
    ] {
        let s = ended(id, driver, fleet, hours);
        assert!(
            store
                .record_session(&s, &samples(hours), t(12))
                .await
                .unwrap()
        );
    }
    assert_eq!(store.session_count().await.unwrap(), 5);
    let ids = |v: Vec<Session>| v.into_iter().map(|s| s.id.to_string()).collect::<Vec<_>>();
    let d1 = DriverId::new("d1").unwrap();
    assert_eq!(
        ids(store.sessions_of_driver(&d1, None, 10).await.unwrap()),
        ["s4", "s2", "s1"]
    );
    assert_eq!(
        ids(store.sessions_of_driver(&d1, None, 2).await.unwrap()),
        ["s4", "s2"]
    );
    assert_eq!(
        ids(store.sessions_of_driver(&d1, Some(t(5)), 10).await.unwrap()),
        ["s1"]
    );
    let f1 = FleetId::new("f1").unwrap();
    assert_eq!(
        ids(store.sessions_of_fleet(&f1, None, 10).await.unwrap()),
        ["s4", "s3", "s1"]
    );
    assert!(
        store
            .sessions_of_fleet(&FleetId::new("f9").unwrap(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
