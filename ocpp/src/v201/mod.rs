//! OCPP 2.0.1: the requests charging stations send (typed, lenient where the field needs it),
//! their conversion to domain types. The commands chargegrid sends are in [`crate::messages`].

pub mod requests;
