//! OCPP 1.6J: the requests chargers send (typed, lenient where the field needs it), their
//! conversion to domain types. The commands chargegrid sends are in [`crate::messages`].

pub mod requests;
