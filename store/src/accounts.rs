//! Drivers, fleet managers, operators, their id tags, fleets, vehicles and API tokens.

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
}
