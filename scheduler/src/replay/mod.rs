//! Offline replay of recorded charging sessions (ACN-Data) through any allocation policy, or
//! through the perfect-foresight optimum, to compare energy delivered, limit safety, cost,
//! fairness and scheduler speed on real arrivals and departures.
//!
//! ```text
//! let sessions = read_acn_csv_gz("caltech-2019-05-01_2019-08-31.csv.gz")?;
//! let report = run_replay(&sessions, &ReplayOptions::new(Kilowatts(40.0)), Algorithm::Chargegrid)?;
//! ```

mod acn_csv;
mod error;
mod offline_optimal;
mod options;
mod report;
mod simulate;
mod site_model;
mod tariff;

pub use acn_csv::{ReplaySession, parse_acn_csv, read_acn_csv_gz};
pub use error::ReplayError;
pub use options::{Algorithm, DemandSource, DepartureSource, ReplayOptions};
pub use report::{ReplayReport, TimingBucket, TimingReport};
pub use simulate::run_replay;
pub use tariff::{Tariff, TouWindow};
