//! OCPP 1.6J: the requests chargers send (typed, lenient where the field needs it), their
//! conversion to domain types, and the rendering of domain commands as 1.6 CALLs.

pub mod commands;
pub mod meter;
pub mod requests;
