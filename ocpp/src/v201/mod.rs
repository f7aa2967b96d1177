//! OCPP 2.0.1: the requests charging stations send (typed, lenient where the field needs it),
//! their conversion to domain types, and the rendering of domain commands as 2.0.1 CALLs.

pub mod commands;
pub mod meter;
pub mod requests;
