//! The chargegrid application: configuration, the network file, and [`App`], which opens the
//! store and starts the OCPP gateway, the driver API and the metrics endpoint on bound
//! listeners, then shuts them down in order. The `chargegrid` binary is a thin clap front end
//! over this library, and the end-to-end tests start [`App`] in-process on port 0.

pub mod app;
pub mod config;
pub mod health_worker;
pub mod journal;
pub mod metrics;
pub mod network;
pub mod network_admin;
pub mod network_metrics;
pub mod records_pump;

pub use app::{App, Role, StartError};
pub use config::Config;
