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
    ApiKey, AuditEntry, AuditPage, AuditQuery, BootInfo, EvNeeds, KeyScope, LimitWindow,
    NeedsSource, Reservation, ReservationState, SessionAllocation, SiteAllocation, Store,
    StoreError, TokenRecord,
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
            driver_updates_and_fleet_members, token_families, change_feed, api_keys, audit_trail, device_states,
            sites_version_follows_site_changes, records_outbox_holds_every_ended_session_once);
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

mod accounts;
mod audit;
mod bus;
mod changes;
mod health;
mod network;
mod reservations;
mod scheduling;
mod sessions;

pub use accounts::*;
pub use audit::*;
pub use bus::*;
pub use changes::*;
pub use health::*;
pub use network::*;
pub use reservations::*;
pub use scheduling::*;
pub use sessions::*;

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap() + Span::minutes(minute)
}

pub fn site(id: &str) -> Site {
    Site {
        tariff: None,
        supply: None,
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
        tariff: None,
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
        previous_password_hash: None,
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
