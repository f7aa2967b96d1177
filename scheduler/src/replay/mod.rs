//! Offline replay of recorded charging sessions (ACN-Data) through any allocation policy, or
//! through the perfect-foresight optimum, to compare energy delivered, limit safety, cost,
//! fairness and scheduler speed on real arrivals and departures.
//!
//! ```text
//! let sessions = read_sessions("caltech-2019-05-01_2019-08-31.csv.gz", Rows::Strict)?;
//! let report = run_replay(&sessions, &ReplayOptions::new(Kilowatts(40.0)), Algorithm::Chargegrid)?;
//! ```

mod emissions;
mod error;
mod network;
mod offline_optimal;
mod options;
mod report;
mod simulate;
mod site_model;
mod stepper;
mod tariff;

pub use chargegrid_acn::{AcnError, AcnSession, Rows, parse_sessions, read_sessions};
pub use emissions::Emissions;
pub use error::ReplayError;
pub use network::ReplayNetwork;
pub use options::{
    Algorithm, ArrivalsInput, DemandSource, DepartureSource, NeedsInputs, ReplayOptions,
};
pub use report::{ReplayReport, TimingBucket, TimingReport};
pub use simulate::run_replay;
pub use stepper::{StepSession, Stepper};
pub use tariff::Tariff;
