//! Scenarios: a file names the network, the EV arrivals, the events (demand response, network
//! outages), the duration and the time scale; [`run_scenario`] runs it against a server and
//! returns the KPIs. Driver dispatch and grid-operator signals are pluggable
//! ([`Dispatcher`], [`Operator`]) because the server's API for them is still being written.

mod arrivals;
mod dispatch;
mod file;
mod generate;
mod manager;
mod operator;
mod run;

pub use arrivals::plan_evs;
pub use async_trait::async_trait;
pub use dispatch::{
    ApiDispatcher, DispatchDecision, DispatchMethod, DispatchRequest, Dispatcher, NearestDispatcher,
};
pub use file::{
    AcnReplay, ArrivalGroup, BootPlan, DispatchPlan, Event, QuirkAssignment, Scenario,
    load_scenario,
};
pub use generate::{ChargerTemplate, NetworkGenerator};
pub use manager::{DriverRecord, LimitWindow, ManagerOutcome};
pub use operator::Operator;
pub use run::{RunOptions, Target, run_scenario};
