//! Redis key names, in one place. A site's keys share the hash tag `{s:<site>}` so a Redis
//! Cluster keeps them in one slot and multi-key updates of one site stay atomic; keys looked
//! up by charger share `{c:<charger>}`. Ids cannot contain `{` or `}` (checked in the core),
//! so a tag can never be broken by an id.

use chargegrid_core::{ChargerId, DriverId, FleetId, NodeId, SessionId, SiteId, VehicleId};

/// Every key starts with this, so chargegrid can share a Redis with other programs.
pub const PREFIX: &str = "cg";

pub fn sites() -> String {
    format!("{PREFIX}:sites")
}
/// Bumped whenever a site is written or deleted.
pub fn sites_version() -> String {
    format!("{PREFIX}:sites-version")
}
pub fn site(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:site")
}
pub fn site_chargers(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:chargers")
}
pub fn charger(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:charger")
}
pub fn connector_states(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:connectors")
}
pub fn connector_times(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:connector-times")
}
pub fn connection(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:node")
}
pub fn boot(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:boot")
}
/// A charger's latest firmware and upload statuses (hash: operation → JSON).
pub fn device_operations(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:operations")
}
/// When a charger's last connection ended (ms).
pub fn last_seen(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:last-seen")
}
/// A charger's settings as last reported (hash: key → JSON).
pub fn device_settings(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:settings")
}
pub fn transaction_counter() -> String {
    format!("{PREFIX}:transaction-id")
}
pub fn transaction(charger: &ChargerId, transaction_id: &str) -> String {
    format!("{PREFIX}:{{c:{charger}}}:tx:{transaction_id}")
}
pub fn charger_active(charger: &ChargerId) -> String {
    format!("{PREFIX}:{{c:{charger}}}:active")
}
pub fn session(site: &SiteId, session: &SessionId) -> String {
    format!("{PREFIX}:{{s:{site}}}:session:{session}")
}
pub fn session_samples(site: &SiteId, session: &SessionId) -> String {
    format!("{PREFIX}:{{s:{site}}}:samples:{session}")
}
/// Ended sessions of a site waiting to be copied to the records store (a list, oldest
/// first), in the site's slot so it is written in the same transaction as the session.
pub fn records_outbox(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:records-outbox")
}
/// Where a session's document lives (its site is not known from the id alone).
pub fn session_index(session: &SessionId) -> String {
    format!("{PREFIX}:session:{session}")
}
pub fn site_active(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:active")
}
pub fn driver_sessions(driver: &DriverId) -> String {
    format!("{PREFIX}:driver:{driver}:sessions")
}
pub fn fleet_sessions(fleet: &FleetId) -> String {
    format!("{PREFIX}:fleet:{fleet}:sessions")
}
pub fn driver(driver: &DriverId) -> String {
    format!("{PREFIX}:driver:{driver}")
}
pub fn driver_email(email: &str) -> String {
    format!("{PREFIX}:driver-email:{email}")
}
pub fn id_tag(key: &str) -> String {
    format!("{PREFIX}:id-tag:{key}")
}
pub fn id_tag_active(key: &str) -> String {
    format!("{PREFIX}:id-tag:{key}:active")
}
pub fn driver_tags(driver: &DriverId) -> String {
    format!("{PREFIX}:driver:{driver}:id-tags")
}
pub fn fleet(fleet: &FleetId) -> String {
    format!("{PREFIX}:fleet:{fleet}")
}
pub fn fleet_vehicles(fleet: &FleetId) -> String {
    format!("{PREFIX}:fleet:{fleet}:vehicles")
}
/// The latest refused charger handshakes (a capped list, newest first).
pub fn refusals() -> String {
    format!("{PREFIX}:handshake-refusals")
}
/// The ids of operator accounts.
pub fn operators() -> String {
    format!("{PREFIX}:operators")
}
pub fn fleet_models(fleet: &FleetId) -> String {
    format!("{PREFIX}:fleet:{fleet}:models")
}
pub fn vehicle(vehicle: &VehicleId) -> String {
    format!("{PREFIX}:vehicle:{vehicle}")
}
pub fn token(secret_hash: &str) -> String {
    format!("{PREFIX}:token:{secret_hash}")
}
/// An API key's record (JSON).
pub fn api_key(id: &str) -> String {
    format!("{PREFIX}:api-key:{id}")
}
/// When an API key was last used (ms), apart from its record.
pub fn api_key_used(id: &str) -> String {
    format!("{PREFIX}:api-key:{id}:used")
}
/// The id of the API key whose secret hashes to `secret_hash`.
pub fn api_key_secret(secret_hash: &str) -> String {
    format!("{PREFIX}:api-key-secret:{secret_hash}")
}
/// The ids of every API key.
pub fn api_keys() -> String {
    format!("{PREFIX}:api-keys")
}
/// The ids of one account's API keys.
pub fn driver_api_keys(driver: &DriverId) -> String {
    format!("{PREFIX}:driver:{driver}:api-keys")
}
/// The audit trail's id counter (same slot as its entries).
pub fn audit_counter() -> String {
    format!("{PREFIX}:{{audit}}:seq")
}
/// The audit trail: a sorted set scored by entry id, members `<id>:<json>`.
pub fn audit_entries() -> String {
    format!("{PREFIX}:{{audit}}:entries")
}
pub fn allocation(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:allocation")
}
pub fn limit_windows(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:limit-windows")
}
pub fn ev_needs(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:ev-needs")
}
/// The highest scheduler fencing token seen for a site (same slot as its allocation).
pub fn site_fence(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:fence")
}
/// How a site's drivers' statements of energy turned out, newest first (a capped list).
pub fn statement_ratios(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:statement-ratios")
}
/// The energy of a site's ended sessions by the UTC quarter-hour of one UTC day they arrived in
/// (a hash: field the quarter-hour 0-95, value Wh), for its habit of arrivals.
pub fn past_arrivals(site: &SiteId, day: chrono::NaiveDate) -> String {
    format!("{PREFIX}:{{s:{site}}}:past-arrivals:{day}")
}
pub fn sent_profiles(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:sent-profiles")
}
pub fn lease(name: &str) -> String {
    format!("{PREFIX}:{{lease:{name}}}")
}
pub fn lease_counter(name: &str) -> String {
    format!("{PREFIX}:{{lease:{name}}}:token")
}
pub fn health_features(vehicle: &VehicleId) -> String {
    format!("{PREFIX}:{{v:{vehicle}}}:health-features")
}
pub fn health_report(vehicle: &VehicleId) -> String {
    format!("{PREFIX}:{{v:{vehicle}}}:health-report")
}
pub fn fleet_reports(fleet: &FleetId) -> String {
    format!("{PREFIX}:fleet:{fleet}:health-vehicles")
}
pub fn reservation_counter() -> String {
    format!("{PREFIX}:reservation-id")
}
pub fn reservation(id: i32) -> String {
    format!("{PREFIX}:reservation:{id}")
}
pub fn driver_reservations(driver: &DriverId) -> String {
    format!("{PREFIX}:driver:{driver}:reservations")
}
pub fn site_reservations(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:reservations")
}
pub fn site_arrivals(site: &SiteId) -> String {
    format!("{PREFIX}:{{s:{site}}}:arrivals")
}
pub fn revoked_family(family: &str) -> String {
    format!("{PREFIX}:token-family-revoked:{family}")
}
pub fn fleet_drivers(fleet: &FleetId) -> String {
    format!("{PREFIX}:fleet:{fleet}:drivers")
}
pub fn changes_channel() -> String {
    format!("{PREFIX}:site-changes")
}
pub fn fleet_documents(fleet: &FleetId) -> String {
    format!("{PREFIX}:fleet:{fleet}:documents")
}
pub fn command_channel(node: &NodeId) -> String {
    format!("{PREFIX}:cmd:{node}")
}
pub fn reply_channel(node: &NodeId) -> String {
    format!("{PREFIX}:reply:{node}")
}
