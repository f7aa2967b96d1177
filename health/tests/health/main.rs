//! The health crate's integration tests, in one binary: features on known curves, per-vehicle
//! and fleet reports, and the accuracy validation on a synthetic fleet.

mod features;
mod support;
mod validation;
mod vehicle;
