//! Drivers, fleet managers, operators, their id tags, fleets, vehicles, login tokens and API
//! keys.

use async_trait::async_trait;
use chargegrid_core::driver::{Driver, Fleet, IdTagRecord, Vehicle, VehicleModel};
use chargegrid_core::{DriverId, FleetId, IdTag, VehicleId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// An issued API token, stored under a hash of its secret (never the secret itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Whose token.
    pub driver: DriverId,
    /// When it stops working (UTC).
    pub expires_at: DateTime<Utc>,
    /// Token family: rotating a refresh token keeps the family; revoking it ends all members.
    pub family: String,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Reads only (`GET`).
    Read,
    /// Everything its owner may do, except managing API keys and the owner's password.
    Manage,
}

/// A long-lived credential for an integration (fleet tool, billing), owned by an operator or a
/// fleet manager and stored under a hash of its secret (never the secret itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Stable id (to list and revoke it; not the secret).
    pub id: String,
    /// Whose key: it acts as this account, within `scope`.
    pub owner: DriverId,
    /// What the owner called it ("billing export").
    pub name: String,
    /// What it may do.
    pub scope: KeyScope,
    /// The secret's last four characters, to tell keys apart.
    pub hint: String,
    /// When it was issued (UTC).
    pub created_at: DateTime<Utc>,
    /// When it stops working (UTC).
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last presented (recorded at most about once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether it still works at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Accounts and the things they own.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account; `Conflict` if the id or the (lower-cased) e-mail is taken.
    async fn create_driver(&self, driver: &Driver) -> StoreResult<()>;

    /// Replaces an existing account (name, fleet, role, password); the e-mail cannot change
    /// here. `NotFound` if it does not exist.
    async fn update_driver(&self, driver: &Driver) -> StoreResult<()>;

    /// Reads an account.
    async fn get_driver(&self, id: &DriverId) -> StoreResult<Option<Driver>>;

    /// Finds an account by e-mail (case-insensitive).
    async fn find_driver_by_email(&self, email: &str) -> StoreResult<Option<Driver>>;

    /// Writes a token record (replacing one with the same tag, case-insensitively).
    async fn put_id_tag(&self, record: &IdTagRecord) -> StoreResult<()>;

    /// Reads a token record (case-insensitive).
    async fn get_id_tag(&self, tag: &IdTag) -> StoreResult<Option<IdTagRecord>>;

    /// A driver's tokens.
    async fn id_tags_of_driver(&self, driver: &DriverId) -> StoreResult<Vec<IdTagRecord>>;

    /// Writes a fleet.
    async fn put_fleet(&self, fleet: &Fleet) -> StoreResult<()>;

    /// Reads a fleet.
    async fn get_fleet(&self, id: &FleetId) -> StoreResult<Option<Fleet>>;

    /// Writes a vehicle.
    async fn put_vehicle(&self, vehicle: &Vehicle) -> StoreResult<()>;

    /// Reads a vehicle.
    async fn get_vehicle(&self, id: &VehicleId) -> StoreResult<Option<Vehicle>>;

    /// A fleet's vehicles, in id order.
    async fn vehicles_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<Vehicle>>;

    /// Writes a fleet's vehicle model (replacing the one with the same name).
    async fn put_vehicle_model(&self, model: &VehicleModel) -> StoreResult<()>;

    /// A fleet's vehicle models, in name order.
    async fn vehicle_models_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<VehicleModel>>;

    /// Stores an API token under the hash of its secret, expiring on its own.
    async fn put_token(&self, secret_hash: &str, record: &TokenRecord) -> StoreResult<()>;

    /// Reads a token by the hash of its secret; expired tokens are not returned.
    async fn get_token(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>>;

    /// Reads and deletes a token in one step: of two callers presenting the same token at once,
    /// only one gets it (refresh-token rotation). Expired tokens are not returned.
    async fn take_token(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>>;

    /// Revokes one token.
    async fn revoke_token(&self, secret_hash: &str) -> StoreResult<()>;

    /// Marks a token family revoked (a refresh token was reused: it leaked), until `until`.
    async fn revoke_token_family(&self, family: &str, until: DateTime<Utc>) -> StoreResult<()>;

    /// Whether a token family has been revoked.
    async fn is_family_revoked(&self, family: &str) -> StoreResult<bool>;

    /// Every operator account (disabled ones included), in id order.
    async fn operators(&self) -> StoreResult<Vec<Driver>>;

    /// The drivers of a fleet (members and managers), in id order.
    async fn drivers_of_fleet(&self, fleet: &FleetId) -> StoreResult<Vec<Driver>>;

    /// Stores a new API key under the hash of its secret. `Conflict` if the id is taken. The
    /// key works only once this returns (its secret's index is written last).
    async fn create_api_key(&self, secret_hash: &str, key: &ApiKey) -> StoreResult<()>;

    /// The key whose secret hashes to `secret_hash`, revoked or expired ones included (the
    /// caller decides), with its last use.
    async fn api_key_by_secret(&self, secret_hash: &str) -> StoreResult<Option<ApiKey>>;

    /// A key by id, with its last use.
    async fn get_api_key(&self, id: &str) -> StoreResult<Option<ApiKey>>;

    /// The keys of `owner` (every key when `None`), oldest first, revoked and expired ones
    /// included.
    async fn api_keys(&self, owner: Option<&DriverId>) -> StoreResult<Vec<ApiKey>>;

    /// Revokes a key at `at` (a key already revoked keeps its first time). The key as it is now,
    /// or `None` if there is no such key.
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>>;

    /// Records a use of a key at `at` (kept apart from the key's record, so it never undoes a
    /// revocation written at the same time).
    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
}
