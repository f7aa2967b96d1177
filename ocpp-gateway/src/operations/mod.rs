//! The version-neutral operations behind the protocol handlers: registration, authorisation,
//! transactions and meter data, connector status. The 1.6 and 2.0.1 adapters translate their
//! messages into these calls and render the results back, so the store, the scheduler, the API
//! and the health reports never see a protocol version.

pub(crate) mod authorization;
pub(crate) mod changes;
pub(crate) mod device;
pub(crate) mod meter;
pub(crate) mod registration;
pub(crate) mod security;
pub(crate) mod status;
pub(crate) mod transactions;
