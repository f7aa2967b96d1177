//! OCPP messages as typed payloads, one module per action (or per family of actions that share
//! their types), each holding the 1.6 and 2.0.1 forms side by side with what they share. The
//! types serialise *and* deserialise, so the gateway (which reads requests and writes answers)
//! and the simulated chargers (which do the opposite) use the same definitions, and a payload
//! is checked against the official schemas by the same code path either way
//! ([`crate::schema::SchemaSet`]).
//!
//! Reading is lenient where the field demands it (timestamps, see [`crate::timestamp`]; unknown
//! fields are ignored, the schema check is what refuses them); writing follows the schemas.

pub mod charging;
pub mod common;
pub mod operations;
pub mod remote;
pub mod reply;
