//! The OCPP 1.6 handlers: each decodes its typed request, calls the version-neutral operation,
//! and answers with the typed 1.6 message. [`crate::routing`] routes CALLs to them.

pub(crate) mod boot;
pub(crate) mod data;
pub(crate) mod transactions;
