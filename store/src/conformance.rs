//! The conformance suite: behaviour every [`Store`](crate::Store) implementation must share.
//! The end-to-end test crate runs it against the memory store and a real `redis-server` with
//! [`store_conformance_suite!`](crate::store_conformance_suite); a new backend is done when it
//! passes here too.

#![allow(missing_docs, clippy::unwrap_used, clippy::missing_panics_doc)]

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::command::{
    ChargerCommand, ChargingLimit, CommandReply, ProfilePurpose, RateUnit, SchedulePeriod,
};
use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, IdTagStatus, Role, Vehicle};
use chargegrid_core::limits::Limit;
use chargegrid_core::meter::{Measurand, MeterLocation, MeterSample, MeterUnit, ReadingContext};
use chargegrid_core::network::{
    Charger, Connector, ConnectorState, ConnectorStatus, ConnectorType, Evse, Location, Network,
    OcppVersion, Registration, Site, Wiring,
};
use chargegrid_core::session::{Session, SessionState};
use chargegrid_core::{
    Amperes, ChargerId, ConnectorId, DriverId, EvseId, FleetId, IdTag, NodeId, SessionId, SiteId,
    VehicleId, WattHours, Watts,
};
use chrono::{DateTime, Duration as Span, TimeZone, Utc};

use crate::{
    BootInfo, EvNeeds, LimitWindow, NeedsSource, Reservation, ReservationState, SessionAllocation,
    SiteAllocation, Store, StoreError, TokenRecord,
};

/// Generates one `#[tokio::test]` per conformance check. `$factory` is an async closure-like
/// expression returning `(Arc<dyn Store>, guard)`; the guard (a Redis server, say) lives for
/// the test. `store_conformance_suite!(one_test NAME, $setup, $factory)` instead generates one
/// test that evaluates `$setup` once (a backend that is costly to start, like a Redis Cluster)
/// and runs every check in turn, calling `$factory(&setup)` before each (which empties it).
#[macro_export]
macro_rules! store_conformance_suite {
    ($factory:expr) => {
        $crate::store_conformance_suite!(@checks [@each $factory]);
    };
    (one_test $test:ident, $setup:expr, $factory:expr) => {
        $crate::store_conformance_suite!(@checks [@sequence $test; $setup; $factory]);
    };
    (@checks [$($head:tt)*]) => {
        $crate::store_conformance_suite!($($head)*;
            network_round_trip, network_replace, connector_state_keeps_newest, registry_ownership,
            boot_info_round_trip, refused_handshakes, transaction_ids_are_unique, session_lifecycle,
            session_conflicts, history_pages, accounts, id_tags_and_tokens, fleets_and_vehicles,
            scheduler_state, leases, health_documents, command_bus_round_trip,
            command_bus_offline_and_timeout, reservations, expected_arrivals,
            driver_updates_and_fleet_members, token_families, change_feed);
    };
    (@each $factory:expr; $($name:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = ($factory)().await;
                $crate::conformance::$name(store).await;
            }
        )+
    };
    (@sequence $test:ident; $setup:expr; $factory:expr; $($name:ident),+) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let setup = $setup;
            $(
                let (store, _guard) = ($factory)(&setup).await;
                $crate::conformance::$name(store).await;
            )+
        }
    };
}

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap() + Span::minutes(minute)
}

pub fn site(id: &str) -> Site {
    Site {
        id: SiteId::new(id).unwrap(),
        name: format!("Site {id}"),
        location: Location::new(36.07, 120.38).unwrap(),
        timezone: "Asia/Shanghai".into(),
        grid_limit: Limit::power(Watts(100_000.0)),
        limit_groups: vec![],
        price_per_kwh: Some(1.5),
        currency: "CNY".into(),
    }
}

pub fn charger(id: &str, site: &str) -> Charger {
    Charger {
        id: ChargerId::new(id).unwrap(),
        site: SiteId::new(site).unwrap(),
        limit_group: None,
        vendor: "Vendor".into(),
        model: "AC22".into(),
        ocpp_version: OcppVersion::V16,
        wiring: Wiring::ThreePhase,
        max_power: Watts(22_000.0),
        min_current: Amperes(6.0),
        registration: Registration::Accepted,
        password_hash: None,
        security_profile: None,
        evses: vec![Evse {
            id: EvseId(1),
            max_current: Amperes(32.0),
            max_power: Watts(22_000.0),
            connectors: vec![Connector {
                id: ConnectorId(1),
                kind: ConnectorType::Type2,
                max_current: None,
                max_power: None,
            }],
        }],
    }
}

pub fn session(id: &str, site: &str, charger: &str, tx: &str, started: DateTime<Utc>) -> Session {
    Session {
        id_tag: Some(IdTag::new("TAG-1").unwrap()),
        meter_start: Some(WattHours(1000.0)),
        meter_last: Some(WattHours(1000.0)),
        ..Session::new(
            SessionId::new(id).unwrap(),
            tx.into(),
            SiteId::new(site).unwrap(),
            ChargerId::new(charger).unwrap(),
            (EvseId(1), ConnectorId(1)),
            started,
        )
    }
}

pub fn sample(at: DateTime<Utc>, wh: f64) -> MeterSample {
    MeterSample {
        timestamp: at,
        measurand: Measurand::EnergyActiveImportRegister,
        phase: None,
        unit: MeterUnit::Wh,
        value: wh,
        context: ReadingContext::SamplePeriodic,
        location: MeterLocation::Outlet,
    }
}

fn node(id: &str) -> NodeId {
    NodeId::new(id).unwrap()
}

pub async fn network_round_trip(store: Arc<dyn Store>) {
    let (a, b) = (site("site-a"), site("site-b"));
    store.put_site(&b).await.unwrap();
    store.put_site(&a).await.unwrap();
    assert_eq!(
        store.list_sites().await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(store.get_site(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.get_site(&SiteId::new("zz").unwrap()).await.unwrap(),
        None
    );

    let c2 = charger("c2", "site-a");
    let c1 = charger("c1", "site-a");
    store.put_charger(&c2).await.unwrap();
    store.put_charger(&c1).await.unwrap();
    assert_eq!(
        store.chargers_of_site(&a.id).await.unwrap(),
        vec![c1.clone(), c2.clone()]
    );
    // Moving a charger takes it off the old site's list.
    let moved = charger("c2", "site-b");
    store.put_charger(&moved).await.unwrap();
    assert_eq!(
        store.chargers_of_site(&a.id).await.unwrap(),
        vec![c1.clone()]
    );
    assert_eq!(
        store.chargers_of_site(&b.id).await.unwrap(),
        vec![moved.clone()]
    );
    assert_eq!(store.get_charger(&moved.id).await.unwrap(), Some(moved));

    let orphan = charger("c9", "nowhere");
    assert!(matches!(
        store.put_charger(&orphan).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn network_replace(store: Arc<dyn Store>) {
    let (a, b) = (site("site-a"), site("site-b"));
    let old = Network {
        sites: vec![a.clone(), b.clone()],
        chargers: vec![
            charger("c1", "site-a"),
            charger("c2", "site-a"),
            charger("c3", "site-b"),
        ],
    };
    store.put_network(&old).await.unwrap();
    let c3 = ChargerId::new("c3").unwrap();
    let state = ConnectorState {
        charger: c3.clone(),
        connector: ConnectorId(1),
        status: ConnectorStatus::Available,
        error_code: "NoError".into(),
        info: None,
        since: t(0),
    };
    store.put_connector_state(&state).await.unwrap();
    // A site with chargers cannot go first.
    assert!(matches!(
        store.delete_site(&b.id).await,
        Err(StoreError::Conflict(_))
    ));
    let new = Network {
        sites: vec![a.clone()],
        chargers: vec![charger("c2", "site-a"), charger("c4", "site-a")],
    };
    let mut deleted = store.replace_network(&new).await.unwrap();
    deleted.sort();
    assert_eq!(deleted, vec![ChargerId::new("c1").unwrap(), c3.clone()]);
    assert_eq!(store.list_sites().await.unwrap(), vec![a.clone()]);
    let ids: Vec<String> = store
        .chargers_of_site(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    assert_eq!(ids, ["c2", "c4"]);
    assert_eq!(store.get_charger(&c3).await.unwrap(), None);
    assert!(store.connector_states(&c3).await.unwrap().is_empty());
    assert!(store.chargers_of_site(&b.id).await.unwrap().is_empty());
    // Deleting what is absent is fine.
    store.delete_charger(&c3).await.unwrap();
}

pub async fn connector_state_keeps_newest(store: Arc<dyn Store>) {
    let id = ChargerId::new("c1").unwrap();
    let state = |connector: u32, status: ConnectorStatus, at: DateTime<Utc>| ConnectorState {
        charger: id.clone(),
        connector: ConnectorId(connector),
        status,
        error_code: "NoError".into(),
        info: None,
        since: at,
    };
    assert!(
        store
            .put_connector_state(&state(2, ConnectorStatus::Available, t(0)))
            .await
            .unwrap()
    );
    assert!(
        store
            .put_connector_state(&state(1, ConnectorStatus::Charging, t(5)))
            .await
            .unwrap()
    );
    // An older report (replayed from the charger's queue) does not overwrite a newer one.
    assert!(
        !store
            .put_connector_state(&state(1, ConnectorStatus::Preparing, t(1)))
            .await
            .unwrap()
    );
    let states = store.connector_states(&id).await.unwrap();
    assert_eq!(states.len(), 2);
    assert_eq!(states[0].connector, ConnectorId(1));
    assert_eq!(states[0].status, ConnectorStatus::Charging);
    assert_eq!(states[1].status, ConnectorStatus::Available);
}

pub async fn registry_ownership(store: Arc<dyn Store>) {
    let c = ChargerId::new("c1").unwrap();
    let ttl = Duration::from_secs(60);
    assert_eq!(store.locate(&c).await.unwrap(), None);
    store
        .register_connection(&c, &node("n1"), ttl)
        .await
        .unwrap();
    assert_eq!(store.locate(&c).await.unwrap(), Some(node("n1")));
    assert!(
        store
            .refresh_connection(&c, &node("n1"), ttl)
            .await
            .unwrap()
    );
    // The charger reconnects to n2; n1's late refresh and disconnect must not undo that.
    store
        .register_connection(&c, &node("n2"), ttl)
        .await
        .unwrap();
    assert!(
        !store
            .refresh_connection(&c, &node("n1"), ttl)
            .await
            .unwrap()
    );
    assert!(!store.unregister_connection(&c, &node("n1")).await.unwrap());
    assert_eq!(store.locate(&c).await.unwrap(), Some(node("n2")));
    assert!(store.unregister_connection(&c, &node("n2")).await.unwrap());
    assert_eq!(store.locate(&c).await.unwrap(), None);
    assert!(
        !store
            .refresh_connection(&c, &node("n2"), ttl)
            .await
            .unwrap()
    );
}

pub async fn refused_handshakes(store: Arc<dyn Store>) {
    assert!(store.recent_refusals(10).await.unwrap().is_empty());
    let refusal = |i: usize| crate::RefusedHandshake {
        at: t(i as i64),
        charger: format!("CP-{i}"),
        remote: Some("192.0.2.1".into()),
        reason: "auth".into(),
        node: node("n1"),
    };
    for i in 0..crate::REFUSALS_KEPT + 5 {
        store.record_refusal(&refusal(i)).await.unwrap();
    }
    let latest = store.recent_refusals(3).await.unwrap();
    let last = crate::REFUSALS_KEPT + 4;
    assert_eq!(
        latest,
        vec![refusal(last), refusal(last - 1), refusal(last - 2)]
    );
    let all = store.recent_refusals(100_000).await.unwrap();
    assert_eq!(all.len(), crate::REFUSALS_KEPT, "only the latest are kept");
}

pub async fn boot_info_round_trip(store: Arc<dyn Store>) {
    let c = ChargerId::new("c1").unwrap();
    let info = BootInfo {
        vendor: "ABB".into(),
        model: "Terra AC".into(),
        serial_number: Some("SN1".into()),
        firmware_version: None,
        ocpp_version: OcppVersion::V201,
        booted_at: t(0),
    };
    assert_eq!(store.boot_info(&c).await.unwrap(), None);
    store.put_boot_info(&c, &info).await.unwrap();
    assert_eq!(store.boot_info(&c).await.unwrap(), Some(info));
}

pub async fn transaction_ids_are_unique(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.next_transaction_id().await.unwrap() })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    assert!(ids.iter().all(|&id| id > 0));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50);
}

pub async fn session_lifecycle(store: Arc<dyn Store>) {
    store.put_site(&site("s1")).await.unwrap();
    store.put_charger(&charger("c1", "s1")).await.unwrap();
    store.put_charger(&charger("c2", "s1")).await.unwrap();
    let mut a = session("sess-a", "s1", "c1", "17", t(0));
    let b = session("sess-b", "s1", "c2", "18", t(1));
    store.create_session(&a).await.unwrap();
    store.create_session(&b).await.unwrap();

    assert_eq!(store.get_session(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.find_by_transaction(&a.charger, "17").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.find_by_transaction(&b.charger, "17").await.unwrap(),
        None
    );
    let site_id = SiteId::new("s1").unwrap();
    assert_eq!(
        store.active_sessions(&site_id).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(
        store.active_sessions_of_charger(&a.charger).await.unwrap(),
        vec![a.clone()]
    );

    a.energy = WattHours(500.0);
    store
        .update_session(&a, &[sample(t(1), 1200.0), sample(t(2), 1500.0)])
        .await
        .unwrap();
    store
        .update_session(&a, &[sample(t(3), 1600.0)])
        .await
        .unwrap();
    let samples = store.samples(&a.id).await.unwrap();
    assert_eq!(
        samples.iter().map(|s| s.value).collect::<Vec<_>>(),
        vec![1200.0, 1500.0, 1600.0]
    );

    let tag = IdTag::new("tag-1").unwrap();
    assert_eq!(
        store
            .active_session_of_id_tag(&tag)
            .await
            .unwrap()
            .map(|s| s.id),
        Some(a.id.clone()),
        "id tags match case-insensitively"
    );
    a.state = SessionState::Ended;
    a.ended_at = Some(t(30));
    store.update_session(&a, &[]).await.unwrap();
    let left = store.active_session_of_id_tag(&tag).await.unwrap().unwrap();
    assert_eq!(
        left.id, b.id,
        "the other session with the same card is still active"
    );
    assert_eq!(
        store.active_sessions(&site_id).await.unwrap(),
        vec![b.clone()]
    );
    assert!(
        store
            .active_sessions_of_charger(&a.charger)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get_session(&a.id).await.unwrap(), Some(a.clone()));

    let ghost = session("ghost", "s1", "c1", "99", t(0));
    assert!(matches!(
        store.update_session(&ghost, &[]).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn session_conflicts(store: Arc<dyn Store>) {
    store.put_site(&site("s1")).await.unwrap();
    store.put_charger(&charger("c1", "s1")).await.unwrap();
    // Two nodes racing to record the same charger transaction: exactly one wins.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.create_session(&session(&format!("race-{i}"), "s1", "c1", "5", t(0)))
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(won, 1);
    let again = session("race-0", "s1", "c1", "6", t(0));
    let exists = store.get_session(&again.id).await.unwrap().is_some();
    let result = store.create_session(&again).await;
    if exists {
        assert!(matches!(result, Err(StoreError::Conflict(_))));
    }
    let active = store
        .active_sessions(&SiteId::new("s1").unwrap())
        .await
        .unwrap();
    assert_eq!(active.len(), if exists { 1 } else { 2 });
}

pub async fn history_pages(store: Arc<dyn Store>) {
    store.put_site(&site("s1")).await.unwrap();
    store.put_charger(&charger("c1", "s1")).await.unwrap();
    let driver = DriverId::new("d1").unwrap();
    let fleet = FleetId::new("f1").unwrap();
    for i in 0..5 {
        let mut s = session(&format!("h{i}"), "s1", "c1", &format!("{i}"), t(i * 60));
        s.driver = Some(driver.clone());
        if i % 2 == 0 {
            s.fleet = Some(fleet.clone());
        }
        store.create_session(&s).await.unwrap();
    }
    let p1 = store.sessions_of_driver(&driver, None, 2).await.unwrap();
    let ids = |p: &crate::HistoryPage| {
        p.sessions
            .iter()
            .map(|s| s.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&p1), ["h4", "h3"]);
    let p2 = store
        .sessions_of_driver(&driver, p1.next_before, 2)
        .await
        .unwrap();
    assert_eq!(ids(&p2), ["h2", "h1"]);
    let p3 = store
        .sessions_of_driver(&driver, p2.next_before, 2)
        .await
        .unwrap();
    assert_eq!(ids(&p3), ["h0"]);
    assert_eq!(p3.next_before, None);
    let f = store.sessions_of_fleet(&fleet, None, 10).await.unwrap();
    assert_eq!(ids(&f), ["h4", "h2", "h0"]);
    let nobody = store
        .sessions_of_driver(&DriverId::new("d2").unwrap(), None, 10)
        .await
        .unwrap();
    assert!(nobody.sessions.is_empty());
}

fn driver(id: &str, email: &str) -> Driver {
    Driver {
        id: DriverId::new(id).unwrap(),
        email: email.into(),
        name: "Li Wei".into(),
        role: Role::Driver,
        fleet: None,
        password_hash: "$argon2id$v=19$...".into(),
        created_at: t(0),
        fleet_invitations: Vec::new(),
        disabled: false,
    }
}

pub async fn accounts(store: Arc<dyn Store>) {
    let d = driver("d1", "Li.Wei@example.com");
    store.create_driver(&d).await.unwrap();
    assert_eq!(store.get_driver(&d.id).await.unwrap(), Some(d.clone()));
    assert_eq!(
        store
            .find_driver_by_email("li.wei@EXAMPLE.com")
            .await
            .unwrap(),
        Some(d.clone())
    );
    assert!(matches!(
        store
            .create_driver(&driver("d2", "LI.WEI@example.com"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_driver(&driver("d1", "other@example.com"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // The failed attempt must not have claimed the other e-mail.
    store
        .create_driver(&driver("d3", "other@example.com"))
        .await
        .unwrap();
    // Operators are listed, and follow role changes either way.
    assert!(store.operators().await.unwrap().is_empty());
    let mut op = driver("op1", "op@example.com");
    op.role = Role::Operator;
    store.create_driver(&op).await.unwrap();
    assert_eq!(store.operators().await.unwrap(), vec![op.clone()]);
    op.role = Role::Driver;
    store.update_driver(&op).await.unwrap();
    assert!(store.operators().await.unwrap().is_empty());
    op.role = Role::Operator;
    op.disabled = true;
    store.update_driver(&op).await.unwrap();
    assert_eq!(store.operators().await.unwrap(), vec![op]);
}

pub async fn id_tags_and_tokens(store: Arc<dyn Store>) {
    let d = DriverId::new("d1").unwrap();
    let record = |tag: &str, driver: Option<&DriverId>| IdTagRecord {
        tag: IdTag::new(tag).unwrap(),
        driver: driver.cloned(),
        vehicle: None,
        fleet: None,
        status: IdTagStatus::Accepted,
        expires_at: None,
        parent: None,
        allow_concurrent: false,
    };
    store.put_id_tag(&record("bb01", Some(&d))).await.unwrap();
    store.put_id_tag(&record("AA01", Some(&d))).await.unwrap();
    let got = store
        .get_id_tag(&IdTag::new("BB01").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.tag.as_str(), "bb01");
    let tags = store.id_tags_of_driver(&d).await.unwrap();
    assert_eq!(
        tags.iter().map(|r| r.tag.key()).collect::<Vec<_>>(),
        ["AA01", "BB01"]
    );
    // Handing a card to nobody removes it from its old owner's list.
    store.put_id_tag(&record("AA01", None)).await.unwrap();
    assert_eq!(store.id_tags_of_driver(&d).await.unwrap().len(), 1);

    let token = TokenRecord {
        driver: d.clone(),
        expires_at: Utc::now() + Span::hours(1),
        family: "fam".into(),
    };
    store.put_token("hash1", &token).await.unwrap();
    assert_eq!(store.get_token("hash1").await.unwrap(), Some(token));
    store.revoke_token("hash1").await.unwrap();
    assert_eq!(store.get_token("hash1").await.unwrap(), None);
    assert_eq!(store.get_token("never").await.unwrap(), None);
}

pub async fn fleets_and_vehicles(store: Arc<dyn Store>) {
    let f1 = Fleet {
        id: FleetId::new("f1").unwrap(),
        name: "Qingdao Taxi".into(),
        default_dwell_hours: Some(8.0),
    };
    store.put_fleet(&f1).await.unwrap();
    assert_eq!(store.get_fleet(&f1.id).await.unwrap(), Some(f1.clone()));
    let vehicle = |id: &str, fleet: &str| Vehicle {
        id: VehicleId::new(id).unwrap(),
        fleet: Some(FleetId::new(fleet).unwrap()),
        model: "BYD e6".into(),
        nominal_capacity: WattHours(80_000.0),
        label: None,
        battery: None,
        first_registration: None,
    };
    // Vehicle models per fleet, with the battery their vehicles inherit.
    let model = |fleet: &str, name: &str, ah: f64| chargegrid_core::driver::VehicleModel {
        fleet: FleetId::new(fleet).unwrap(),
        name: name.into(),
        battery: chargegrid_core::driver::BatterySpec {
            nominal_capacity_ah: Some(chargegrid_core::AmpereHours(ah)),
            ..Default::default()
        },
    };
    store
        .put_vehicle_model(&model("f1", "Van", 160.0))
        .await
        .unwrap();
    store
        .put_vehicle_model(&model("f1", "Car", 115.0))
        .await
        .unwrap();
    store
        .put_vehicle_model(&model("f1", "Van", 190.0))
        .await
        .unwrap();
    store
        .put_vehicle_model(&model("f2", "Bus", 500.0))
        .await
        .unwrap();
    assert_eq!(
        store
            .vehicle_models_of_fleet(&FleetId::new("f1").unwrap())
            .await
            .unwrap(),
        vec![model("f1", "Car", 115.0), model("f1", "Van", 190.0)]
    );
    store.put_vehicle(&vehicle("v2", "f1")).await.unwrap();
    store.put_vehicle(&vehicle("v1", "f1")).await.unwrap();
    let ids = |vs: Vec<Vehicle>| vs.into_iter().map(|v| v.id.to_string()).collect::<Vec<_>>();
    assert_eq!(
        ids(store.vehicles_of_fleet(&f1.id).await.unwrap()),
        ["v1", "v2"]
    );
    store.put_vehicle(&vehicle("v2", "f2")).await.unwrap();
    assert_eq!(ids(store.vehicles_of_fleet(&f1.id).await.unwrap()), ["v1"]);
    assert_eq!(
        store
            .get_vehicle(&VehicleId::new("v2").unwrap())
            .await
            .unwrap(),
        Some(vehicle("v2", "f2"))
    );
}

pub async fn scheduler_state(store: Arc<dyn Store>) {
    let s = SiteId::new("s1").unwrap();
    let alloc = SiteAllocation {
        site: s.clone(),
        computed_at: t(0),
        limit: Watts(50_000.0),
        headroom: Watts(8_000.0),
        sessions: vec![SessionAllocation {
            session: SessionId::new("x").unwrap(),
            charger: ChargerId::new("c1").unwrap(),
            evse: EvseId(1),
            power: Watts(11_000.0),
        }],
    };
    store.put_allocation(&alloc, 1).await.unwrap();
    assert_eq!(store.get_allocation(&s).await.unwrap(), Some(alloc.clone()));

    let window = |id: &str, from: i64| LimitWindow {
        id: id.into(),
        from: t(from),
        to: Some(t(from + 60)),
        limit: Limit::power(Watts(20_000.0)),
        reason: "demand response".into(),
    };
    store
        .put_limit_window(&s, &window("late", 120))
        .await
        .unwrap();
    store
        .put_limit_window(&s, &window("early", 0))
        .await
        .unwrap();
    let ws = store.limit_windows(&s).await.unwrap();
    assert_eq!(
        ws.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["early", "late"]
    );
    assert!(store.delete_limit_window(&s, "early").await.unwrap());
    assert!(!store.delete_limit_window(&s, "early").await.unwrap());
    assert_eq!(store.limit_windows(&s).await.unwrap().len(), 1);

    let sess = SessionId::new("x").unwrap();
    let needs = EvNeeds {
        energy: Some(WattHours(20_000.0)),
        departure: Some(t(480)),
        min_power: None,
        max_power: Some(Watts(7_400.0)),
        source: NeedsSource::Vehicle,
        updated_at: t(0),
    };
    store.put_ev_needs(&s, &sess, &needs).await.unwrap();
    assert_eq!(store.get_ev_needs(&s, &sess).await.unwrap(), Some(needs));
    store.delete_ev_needs(&s, &sess).await.unwrap();
    assert_eq!(store.get_ev_needs(&s, &sess).await.unwrap(), None);

    let profile = ChargingLimit {
        profile_id: 100,
        stack_level: 1,
        purpose: ProfilePurpose::Tx,
        transaction_id: Some("17".into()),
        start: None,
        unit: RateUnit::A,
        periods: vec![SchedulePeriod {
            start_offset_s: 0,
            limit: 16.0,
            phases: None,
        }],
        valid_to: None,
    };
    let c1 = ChargerId::new("c1").unwrap();
    store
        .put_sent_profile(&s, &c1, EvseId(2), &profile, 1)
        .await
        .unwrap();
    store
        .put_sent_profile(&s, &c1, EvseId(1), &profile, 1)
        .await
        .unwrap();
    let sent = store.sent_profiles(&s).await.unwrap();
    assert_eq!(sent.iter().map(|(_, e, _)| e.0).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(sent[0].2, profile);

    // Fencing: once a newer holder (token 2) wrote, the old one (token 1) is refused, for the
    // allocation, the sent profiles and commands alike; other sites are not affected.
    store.check_fence(&s, 2).await.unwrap();
    let mut stale = alloc.clone();
    stale.headroom = Watts(1.0);
    assert!(matches!(
        store.put_allocation(&stale, 1).await,
        Err(StoreError::Fenced(_))
    ));
    assert_eq!(store.get_allocation(&s).await.unwrap(), Some(alloc.clone()));
    assert!(matches!(
        store
            .put_sent_profile(&s, &c1, EvseId(3), &profile, 1)
            .await,
        Err(StoreError::Fenced(_))
    ));
    assert_eq!(store.sent_profiles(&s).await.unwrap().len(), 2);
    assert!(matches!(
        store.check_fence(&s, 1).await,
        Err(StoreError::Fenced(_))
    ));
    store.put_allocation(&alloc, 2).await.unwrap();
    store.put_allocation(&alloc, 3).await.unwrap();
    let other = SiteId::new("s2").unwrap();
    store.check_fence(&other, 1).await.unwrap();
}

pub async fn leases(store: Arc<dyn Store>) {
    let ttl = Duration::from_secs(30);
    let a = store
        .acquire_lease("site:s1", "sched-a", ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.holder, "sched-a");
    assert!(
        store
            .acquire_lease("site:s1", "sched-b", ttl)
            .await
            .unwrap()
            .is_none()
    );
    // Re-acquiring by the holder keeps the same fencing token.
    let again = store
        .acquire_lease("site:s1", "sched-a", ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, a);
    assert!(store.renew_lease("site:s1", &a, ttl).await.unwrap());
    store.release_lease("site:s1", &a).await.unwrap();
    let b = store
        .acquire_lease("site:s1", "sched-b", ttl)
        .await
        .unwrap()
        .unwrap();
    assert!(b.token > a.token, "fencing tokens must grow");
    // The old holder's lease is stale: it can neither renew nor release b's.
    assert!(!store.renew_lease("site:s1", &a, ttl).await.unwrap());
    store.release_lease("site:s1", &a).await.unwrap();
    assert!(
        store
            .acquire_lease("site:s1", "sched-a", ttl)
            .await
            .unwrap()
            .is_none()
    );
    // Leases are independent by name.
    assert!(
        store
            .acquire_lease("site:s2", "sched-a", ttl)
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn health_documents(store: Arc<dyn Store>) {
    let v1 = VehicleId::new("v1").unwrap();
    let v2 = VehicleId::new("v2").unwrap();
    let f = FleetId::new("f1").unwrap();
    let s1 = SessionId::new("s1").unwrap();
    store
        .put_session_features(&v1, &s1, &serde_json::json!({"v": 1}))
        .await
        .unwrap();
    store
        .put_session_features(&v1, &s1, &serde_json::json!({"v": 2}))
        .await
        .unwrap();
    store
        .put_session_features(
            &v1,
            &SessionId::new("s2").unwrap(),
            &serde_json::json!({"v": 3}),
        )
        .await
        .unwrap();
    assert_eq!(
        store.session_features(&v1).await.unwrap(),
        vec![serde_json::json!({"v": 2}), serde_json::json!({"v": 3})]
    );
    store
        .put_vehicle_report(&v2, Some(&f), &serde_json::json!({"vehicle": "v2"}))
        .await
        .unwrap();
    store
        .put_vehicle_report(&v1, Some(&f), &serde_json::json!({"vehicle": "v1"}))
        .await
        .unwrap();
    assert_eq!(
        store.vehicle_report(&v1).await.unwrap(),
        Some(serde_json::json!({"vehicle": "v1"}))
    );
    assert_eq!(
        store.fleet_reports(&f).await.unwrap(),
        vec![
            serde_json::json!({"vehicle": "v1"}),
            serde_json::json!({"vehicle": "v2"})
        ]
    );
}

pub async fn command_bus_round_trip(store: Arc<dyn Store>) {
    let gateway = node("gw-1");
    let charger = ChargerId::new("c1").unwrap();
    let mut incoming = store.subscribe_commands(&gateway).await.unwrap();
    store
        .register_connection(&charger, &gateway, Duration::from_secs(60))
        .await
        .unwrap();
    let responder = tokio::spawn(async move {
        let cmd = incoming.recv().await.unwrap();
        let seen = cmd.envelope.clone();
        cmd.reply(CommandReply::status("Accepted")).await;
        seen
    });
    let command = ChargerCommand::Reset {
        kind: chargegrid_core::command::ResetKind::Soft,
    };
    let reply = store
        .send_command(&charger, command.clone(), Duration::from_secs(10))
        .await
        .unwrap();
    assert!(reply.is_accepted(), "{reply:?}");
    let seen = responder.await.unwrap();
    assert_eq!(seen.charger, charger);
    assert_eq!(seen.command, command);
}

pub async fn command_bus_offline_and_timeout(store: Arc<dyn Store>) {
    let charger = ChargerId::new("c-off").unwrap();
    let command = ChargerCommand::TriggerMessage {
        message: "Heartbeat".into(),
        evse: None,
    };
    let reply = store
        .send_command(&charger, command.clone(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(reply, CommandReply::Offline);

    // A node that receives but never answers: the sender gets a timeout, not a hang.
    let gateway = node("gw-silent");
    let mut incoming = store.subscribe_commands(&gateway).await.unwrap();
    store
        .register_connection(&charger, &gateway, Duration::from_secs(60))
        .await
        .unwrap();
    let hold = tokio::spawn(async move {
        let cmd = incoming.recv().await;
        // Keep the command (and its reply path) alive without answering.
        std::future::pending::<()>().await;
        drop(cmd);
    });
    let reply = store
        .send_command(&charger, command, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(reply, CommandReply::Timeout);
    hold.abort();
}

pub async fn reservations(store: Arc<dyn Store>) {
    let a = store.next_reservation_id().await.unwrap();
    let b = store.next_reservation_id().await.unwrap();
    assert!(a > 0 && b > a);
    let d = DriverId::new("d1").unwrap();
    let make = |id: i32, created: i64, expires: i64, state: ReservationState| Reservation {
        id,
        driver: d.clone(),
        id_tag: IdTag::new("T1").unwrap(),
        site: SiteId::new("s1").unwrap(),
        charger: ChargerId::new("c1").unwrap(),
        evse: EvseId(1),
        created_at: t(created),
        expires_at: t(expires),
        state,
    };
    let first = make(a, 0, 15, ReservationState::Active);
    let second = make(b, 5, 60, ReservationState::Active);
    store.put_reservation(&first).await.unwrap();
    store.put_reservation(&second).await.unwrap();
    assert_eq!(store.get_reservation(a).await.unwrap(), Some(first.clone()));
    let mine = store.reservations_of_driver(&d).await.unwrap();
    assert_eq!(
        mine.iter().map(|r| r.id).collect::<Vec<_>>(),
        [b, a],
        "newest first"
    );
    let site = SiteId::new("s1").unwrap();
    // At minute 20 the first has expired.
    let active = store
        .active_reservations_of_site(&site, t(20))
        .await
        .unwrap();
    assert_eq!(active.iter().map(|r| r.id).collect::<Vec<_>>(), [b]);
    let mut cancelled = second.clone();
    cancelled.state = ReservationState::Cancelled;
    store.put_reservation(&cancelled).await.unwrap();
    assert!(
        store
            .active_reservations_of_site(&site, t(20))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.get_reservation(b).await.unwrap().unwrap().state,
        ReservationState::Cancelled
    );
}

pub async fn expected_arrivals(store: Arc<dyn Store>) {
    let s = SiteId::new("s1").unwrap();
    assert_eq!(store.expected_arrivals(&s, t(0)).await.unwrap(), 0);
    store.add_expected_arrival(&s, "a", t(30)).await.unwrap();
    store.add_expected_arrival(&s, "b", t(10)).await.unwrap();
    store.add_expected_arrival(&s, "a", t(30)).await.unwrap();
    assert_eq!(
        store.expected_arrivals(&s, t(5)).await.unwrap(),
        2,
        "tokens are counted once"
    );
    assert_eq!(
        store.expected_arrivals(&s, t(20)).await.unwrap(),
        1,
        "holds expire"
    );
    assert_eq!(
        store
            .expected_arrivals(&SiteId::new("s2").unwrap(), t(5))
            .await
            .unwrap(),
        0
    );
}

pub async fn driver_updates_and_fleet_members(store: Arc<dyn Store>) {
    let mut d = driver("d1", "a@example.com");
    store.create_driver(&d).await.unwrap();
    let fleet = FleetId::new("f1").unwrap();
    d.fleet = Some(fleet.clone());
    d.name = "Renamed".into();
    d.email = "changed@example.com".into();
    store.update_driver(&d).await.unwrap();
    let got = store.get_driver(&d.id).await.unwrap().unwrap();
    assert_eq!(got.name, "Renamed");
    assert_eq!(
        got.email, "a@example.com",
        "the e-mail cannot change through an update"
    );
    assert_eq!(store.drivers_of_fleet(&fleet).await.unwrap().len(), 1);
    d.fleet = None;
    store.update_driver(&d).await.unwrap();
    assert!(store.drivers_of_fleet(&fleet).await.unwrap().is_empty());
    let ghost = driver("nobody", "n@example.com");
    assert!(matches!(
        store.update_driver(&ghost).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn token_families(store: Arc<dyn Store>) {
    // Taking a token is one step: the second taker gets nothing.
    let record = crate::TokenRecord {
        driver: DriverId::new("d1").unwrap(),
        expires_at: Utc::now() + Span::days(1),
        family: "fam-0".into(),
    };
    store.put_token("refresh-hash", &record).await.unwrap();
    assert_eq!(
        store.take_token("refresh-hash").await.unwrap(),
        Some(record)
    );
    assert_eq!(store.take_token("refresh-hash").await.unwrap(), None);
    assert_eq!(store.get_token("refresh-hash").await.unwrap(), None);
    assert!(!store.is_family_revoked("fam-1").await.unwrap());
    store
        .revoke_token_family("fam-1", Utc::now() + Span::days(30))
        .await
        .unwrap();
    assert!(store.is_family_revoked("fam-1").await.unwrap());
    assert!(!store.is_family_revoked("fam-2").await.unwrap());
}

pub async fn change_feed(store: Arc<dyn Store>) {
    use crate::{ChangeKind, SiteChange};
    let mut rx = store.subscribe_changes().await.unwrap();
    let change = SiteChange {
        site: SiteId::new("s1").unwrap(),
        kind: ChangeKind::SessionStarted,
        session: Some(SessionId::new("sess-1").unwrap()),
    };
    store.notify_change(change.clone()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a change notice arrives")
        .unwrap();
    assert_eq!(got, change);
}
