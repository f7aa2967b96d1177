//! A synthetic EV battery for generating charging sessions with known ground truth.
//!
//! An open-circuit-voltage curve (NMC- or LFP-like, N cells in series), capacity, an internal
//! resistance that depends on SoC and temperature, a lumped thermal mass heated by I²R and
//! cooled passively and actively, a manufacturer-like taper ending in constant voltage, a BMS
//! whose reported SoC may be mis-scaled, and auxiliary loads. Capacity and resistance age with
//! calendar time and cycles, and faults can be injected. [`simulate_session`] returns what a
//! charger would report, sample by sample, plus the truth of that moment. No networking: the
//! part that sends these as OCPP MeterValues through the gateway builds on this.

mod ageing;
mod chemistry;
mod error;
mod fleet;
mod noise;
mod pack;
mod reporting;
mod session;
mod taper;
mod vehicle;

pub use ageing::{AgeingModel, Fault, GroundTruth};
pub use chemistry::{Chemistry, OcvCurve};
pub use error::BatteryError;
pub use fleet::{FleetScenario, FleetSession, SyntheticFleet, generate_fleet};
pub use pack::PackSpec;
pub use reporting::ReportingProfile;
pub use session::{ChargeKind, ChargerReading, SessionRequest, SimulatedSession, simulate_session};
pub use taper::TaperCurve;
pub use vehicle::SyntheticEv;
