//! End-to-end tests: the one test binary of the workspace. Real parts only: a private
//! `redis-server` per test, real sockets, the real binary where process behaviour matters.

#![allow(missing_docs, clippy::unwrap_used)]

mod admin;
mod api;
mod api_authz;
mod api_bad_input;
mod api_client;
mod api_keys;
mod app;
mod architecture;
mod binary;
mod dashboards;
mod faults;
mod harness;
mod health;
mod health_physics;
mod hostile;
mod hot_path;
mod metrics_start;
mod network_registry;
mod ocpp16;
mod ocpp16_field;
mod ocpp201;
mod ocpp_bad_input;
mod operator_commands;
mod peer;
mod proxies;
mod records;
mod security;
mod simulate;
mod smart_charging;
mod store_memory;
mod store_redis;
mod vehicles;
