//! chargegrid-simulations: charger and EV simulators, scenarios and load runs that exercise the
//! chargegrid server as a black box (over OCPP WebSockets and HTTP, never through its
//! internals).
//!
//! - [`battery`]: the synthetic EV battery with known ground truth;
//! - [`ev`]: EVs that arrive, plug in and draw what their battery accepts, live;
//! - [`charger`]: simulated OCPP 1.6J / 2.0.1 chargers;
//! - [`scenario`]: scenario files and [`run_scenario`], with KPIs in a [`RunReport`];
//! - [`report`]: KPI tables, JSON and SVG plots;
//! - [`load`]: the load benchmark, [`run_load`];
//! - [`clock`]: simulated time running `time_scale` times faster than the wall.

pub mod battery;
pub mod charger;
pub mod clock;
mod error;
pub mod ev;
pub mod load;
pub mod report;
pub mod scenario;
pub mod stats;

pub use clock::SimClock;
pub use error::SimError;
pub use load::{LoadOptions, LoadReport, run_load};
pub use report::RunReport;
pub use scenario::{RunOptions, Scenario, Target, load_scenario, run_scenario};
