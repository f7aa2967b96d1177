//! The conformance suite: what every records backend must do. The end-to-end test crate runs
//! it on SQLite (a file in a temporary directory) and a private PostgreSQL.

#![allow(missing_docs, clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;

use chargegrid_core::cdr::Cdr;
use chargegrid_core::meter::{Measurand, MeterLocation, MeterSample, MeterUnit, ReadingContext};
use chargegrid_core::session::Session;
use chargegrid_core::tariff::Tariff;
use chargegrid_core::{
    ChargerId, ConnectorId, DriverId, EvseId, FleetId, SessionId, SiteId, WattHours,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::{CdrQuery, RecordsStore};

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
            .record_session(&first, &samples(0), None, t(2))
            .await
            .unwrap()
    );
    // Delivered again (an outbox retrying): nothing changes, the first record stays.
    let mut changed = first.clone();
    changed.meter_last = Some(WattHours(1.0));
    assert!(
        !store
            .record_session(&changed, &[], None, t(3))
            .await
            .unwrap()
    );
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
                .record_session(&s, &samples(hours), None, t(12))
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

/// A session's charge detail record is written with it, once; corrections are new records;
/// lists filter by owner, site and start time and page without splitting a start time.
pub async fn cdrs(store: Arc<dyn RecordsStore>) {
    let priced = |id: &str, driver: Option<&str>, fleet: Option<&str>, hours: i64| {
        let mut s = ended(id, driver, fleet, hours);
        s.energy = WattHours(7200.0);
        s.tariff = Some(Tariff::flat("flat", "EUR", 0.5));
        let cdr = Cdr::issue(&s, &samples(hours), chrono_tz::UTC, None, t(hours + 2));
        (s, cdr)
    };
    let (s1, c1) = priced("c1", Some("d1"), Some("f1"), 0);
    assert!(
        store
            .record_session(&s1, &samples(0), Some(&c1), t(2))
            .await
            .unwrap()
    );
    // Delivered again with a different record (a retry after prices changed): the first stays.
    let mut other = c1.clone();
    other.issued_at = t(30);
    assert!(
        !store
            .record_session(&s1, &[], Some(&other), t(3))
            .await
            .unwrap()
    );
    let read = store.cdr(&c1.id).await.unwrap().unwrap();
    assert_eq!(read, c1);
    assert_eq!(read.cost.as_ref().unwrap().total, 3.6);
    // A correction is a new record; adding it twice keeps one.
    let fix = c1
        .correction(std::slice::from_ref(&c1), 3.0, "meter fault".into(), t(5))
        .unwrap();
    assert!(store.add_cdr(&fix).await.unwrap());
    assert!(!store.add_cdr(&fix).await.unwrap());
    assert_eq!(
        store.cdrs_of_session(&s1.id).await.unwrap(),
        vec![c1.clone(), fix.clone()]
    );
    assert_eq!(fix.cost.as_ref().unwrap().total, -0.6);
    for (id, driver, fleet, hours) in [
        ("c2", Some("d1"), None, 4),
        ("c3", Some("d2"), Some("f1"), 4),
        ("c4", Some("d1"), Some("f1"), 8),
    ] {
        let (s, c) = priced(id, driver, fleet, hours);
        assert!(
            store
                .record_session(&s, &[], Some(&c), t(12))
                .await
                .unwrap()
        );
    }
    let ids = |v: Vec<Cdr>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let all = CdrQuery {
        limit: 100,
        ..CdrQuery::default()
    };
    assert_eq!(
        ids(store.cdrs(&all).await.unwrap()),
        ["cdr-c4", "cdr-c3", "cdr-c2", "cdr-c1", "cdr-c1-c1"]
    );
    let d1 = CdrQuery {
        driver: Some(DriverId::new("d1").unwrap()),
        ..all.clone()
    };
    assert_eq!(
        ids(store.cdrs(&d1).await.unwrap()),
        ["cdr-c4", "cdr-c2", "cdr-c1", "cdr-c1-c1"]
    );
    let f1_since = CdrQuery {
        fleet: Some(FleetId::new("f1").unwrap()),
        since: Some(t(1)),
        ..all.clone()
    };
    assert_eq!(
        ids(store.cdrs(&f1_since).await.unwrap()),
        ["cdr-c4", "cdr-c3"]
    );
    let other_site = CdrQuery {
        site: Some(SiteId::new("site-b").unwrap()),
        ..all.clone()
    };
    assert!(store.cdrs(&other_site).await.unwrap().is_empty());
    // A page of two ends inside start time 4 h (c3 and c2): it carries both, and the next page
    // starts before that time.
    let page = CdrQuery {
        limit: 2,
        ..all.clone()
    };
    let first_page = store.cdrs(&page).await.unwrap();
    assert_eq!(ids(first_page.clone()), ["cdr-c4", "cdr-c3", "cdr-c2"]);
    let next = CdrQuery {
        before: Some(first_page.last().unwrap().started_at),
        ..page
    };
    assert_eq!(
        ids(store.cdrs(&next).await.unwrap()),
        ["cdr-c1", "cdr-c1-c1"]
    );
    assert_eq!(store.cdr("cdr-none").await.unwrap(), None);
}

/// Documents are written, replaced and removed by kind and id.
pub async fn documents(store: Arc<dyn RecordsStore>) {
    assert!(store.documents().await.unwrap().is_empty());
    store
        .put_document("driver", "d1", Some("{\"a\":1}"))
        .await
        .unwrap();
    store
        .put_document("driver", "d2", Some("{}"))
        .await
        .unwrap();
    store.put_document("site", "d1", Some("[]")).await.unwrap();
    store
        .put_document("driver", "d1", Some("{\"a\":2}"))
        .await
        .unwrap();
    store.put_document("driver", "d2", None).await.unwrap();
    store.put_document("driver", "gone", None).await.unwrap();
    assert_eq!(
        store.documents().await.unwrap(),
        vec![
            (
                "driver".to_string(),
                "d1".to_string(),
                "{\"a\":2}".to_string()
            ),
            ("site".to_string(), "d1".to_string(), "[]".to_string()),
        ]
    );
}

/// Audit entries are archived once by id and read back newest first.
pub async fn audit(store: Arc<dyn RecordsStore>) {
    use chargegrid_core::audit::AuditEntry;
    use chargegrid_core::driver::Role;
    assert_eq!(store.last_audit_id().await.unwrap(), 0);
    let entry = |id: u64| AuditEntry {
        id,
        at: t(id as i64),
        actor: DriverId::new("op1").unwrap(),
        role: Role::Operator,
        fleet: None,
        api_key: None,
        action: "POST /api/v1/fleets".into(),
        object: format!("/api/v1/fleets/f{id}"),
        status: 201,
    };
    assert_eq!(store.record_audit(&[entry(1), entry(2)]).await.unwrap(), 2);
    // A pump that copied 2 and died before noting it copies 2 again: one row each.
    assert_eq!(store.record_audit(&[entry(2), entry(3)]).await.unwrap(), 1);
    assert_eq!(store.last_audit_id().await.unwrap(), 3);
    let ids = |v: Vec<AuditEntry>| v.iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.archived_audit(None, 10).await.unwrap()),
        [3, 2, 1]
    );
    assert_eq!(ids(store.archived_audit(Some(3), 1).await.unwrap()), [2]);
    assert_eq!(store.archived_audit(None, 10).await.unwrap()[0], entry(3));
}

/// Health reports are kept per vehicle and time, replaced by a rebuild of the same time, and
/// read newest first.
pub async fn health_reports(store: Arc<dyn RecordsStore>) {
    let v1 = chargegrid_core::VehicleId::new("v1").unwrap();
    let f1 = FleetId::new("f1").unwrap();
    store
        .record_health_report(&v1, Some(&f1), t(1), "{\"soh\":99}")
        .await
        .unwrap();
    store
        .record_health_report(&v1, Some(&f1), t(5), "{\"soh\":97}")
        .await
        .unwrap();
    store
        .record_health_report(&v1, Some(&f1), t(5), "{\"soh\":96}")
        .await
        .unwrap();
    store
        .record_health_report(
            &chargegrid_core::VehicleId::new("v2").unwrap(),
            None,
            t(2),
            "{}",
        )
        .await
        .unwrap();
    assert_eq!(
        store.health_history(&v1, 10).await.unwrap(),
        vec![
            (t(5), "{\"soh\":96}".to_string()),
            (t(1), "{\"soh\":99}".to_string())
        ]
    );
    assert_eq!(store.health_history(&v1, 1).await.unwrap().len(), 1);
}
