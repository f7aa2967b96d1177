//! The scheduler's integration tests, in one binary: allocation cases with exact values,
//! property tests on random sites, and replays of real ACN-Data sessions.

mod alloc_cases;
mod alloc_properties;
mod replay_acn;
