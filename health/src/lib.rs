//! chargegrid-health: turns the meter values of charging sessions into battery-health features,
//! per-vehicle estimates (state of health, resistance, acceptance, trend, usage) with honest
//! intervals and alerts, and fleet roll-ups (sortable rows, CSV, an SVG chart).
//!
//! Everything here is a pure function of its inputs: no I/O, no clock, no randomness. The flow is
//! [`session_features`] when a session ends → [`VehicleHealth::update`] → [`VehicleReport`] →
//! [`FleetReport::build`]. Every report carries [`DISCLAIMER`]: these are estimates from charging
//! data, not a certificate.

pub mod config;
pub mod error;
pub mod features;
pub mod fleet;
pub mod quality;
pub mod stats;
pub mod units;
pub mod validation;
pub mod vehicle;

pub use config::HealthConfig;
pub use error::HealthError;
pub use features::{SessionContext, SessionFeatures, StatusChange, session_features};
pub use fleet::{FleetFilter, FleetReport, FleetRow, SortKey};
pub use quality::{Quality, QualityFlag, QualityReason};
pub use units::Ohms;
pub use vehicle::{
    Alert, AlertKind, AssessContext, Severity, SohEstimate, SohMethod, VehicleHealth,
    VehicleReport, VehicleSpec,
};

/// The statement every vehicle and fleet report carries.
pub const DISCLAIMER: &str = "Estimate computed from charging-session data (energy, current, \
voltage and state of charge reported by chargers and vehicles); it is not a battery certificate \
or a manufacturer's diagnosis.";
