//! The API's routes, one module per resource.

/// The statuses of every command route (the charger's own answer, or why there is none).
macro_rules! responses_doc {
    () => {
        "200: the charger's answer; 404: unknown charger; 409: refused; 422: no form in its OCPP version; 502: CALLERROR; 503: not connected; 504: no answer in time"
    };
}

pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod cards;
pub(crate) mod cdrs;
pub(crate) mod chargers;
pub(crate) mod diagnostics;
pub(crate) mod docs;
pub(crate) mod fleets;
#[cfg(test)]
mod handler_tests;
pub(crate) mod health;
pub(crate) mod health_reports;
pub(crate) mod maintenance;
pub(crate) mod me;
pub(crate) mod network;
pub(crate) mod recommendations;
pub(crate) mod replies;
pub(crate) mod reservations;
pub(crate) mod sessions;
pub(crate) mod sites;
pub(crate) mod stations;
pub(crate) mod stream;
pub(crate) mod vehicles;
