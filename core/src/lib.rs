//! chargegrid domain core: the vocabulary every other crate speaks.
//!
//! Ids, physical units as types, the network model (site → limit groups → charger → EVSE →
//! connector), drivers and fleets, charging sessions, meter samples, the version-neutral charger
//! command set and an injectable [`Clock`]. Nothing in here performs I/O, so every rule can be
//! tested in isolation and reused by the gateway, scheduler, API and health crates alike.

pub mod arrivals;
pub mod audit;
pub mod cdr;
pub mod clock;
pub mod command;
pub mod device;
pub mod driver;
pub mod error;
pub mod ids;
pub mod limits;
pub mod meter;
pub mod network;
pub mod phasor;
pub mod proxies;
pub mod session;
pub mod stays;
pub mod supply;
pub mod tariff;
mod text_enum;
pub mod throttle;
pub mod units;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::DomainError;
pub use ids::{
    ChargerId, ConnectorId, DriverId, EvseId, FleetId, IdTag, NodeId, SessionId, SiteId, VehicleId,
};
pub use units::{AmpereHours, Amperes, Kilowatts, Volts, WattHours, Watts};
