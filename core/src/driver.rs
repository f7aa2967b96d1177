//! People and vehicles: drivers, their id tags (RFID cards), fleets and vehicles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DriverId, FleetId, IdTag, VehicleId, WattHours};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A driver: sees and acts on their own sessions and reservations.
    Driver,
    /// A fleet manager: sees their fleet's vehicles, drivers and sessions.
    FleetManager,
    /// A network operator: sees and acts on everything.
    Operator,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// Its id.
    pub id: DriverId,
    /// Login e-mail (unique, lower-cased).
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the account may do.
    pub role: Role,
    /// The fleet the account belongs to (drivers of a fleet, and fleet managers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Argon2 PHC hash of the password.
    pub password_hash: String,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// Fleets whose manager invited this driver; the driver joins one only by accepting it
    /// (a manager cannot enrol anyone, and so read their sessions, without their consent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fleet_invitations: Vec<FleetId>,
}

/// Invitations one driver may hold at once (older ones are dropped first).
pub const MAX_FLEET_INVITATIONS: usize = 8;

/// Whether a token may charge (OCPP `AuthorizationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdTagStatus {
    /// May charge.
    Accepted,
    /// Blocked by the operator.
    Blocked,
    /// Past its expiry date.
    Expired,
    /// Unknown or not valid.
    Invalid,
    /// Already in use in another transaction and not allowed twice.
    ConcurrentTx,
}

/// A token (RFID card, app token) known to the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdTagRecord {
    /// The token.
    pub tag: IdTag,
    /// Its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<DriverId>,
    /// The vehicle it is tied to (fleet cards often are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vehicle: Option<VehicleId>,
    /// The fleet it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Blocked, or accepted.
    pub status: IdTagStatus,
    /// Expiry, if any (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// OCPP parent id tag (group), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<IdTag>,
    /// Whether the token may be used in two transactions at once.
    #[serde(default)]
    pub allow_concurrent: bool,
}

impl IdTagRecord {
    /// The status to answer at `now`: an accepted token past its expiry is `Expired`.
    pub fn status_at(&self, now: DateTime<Utc>) -> IdTagStatus {
        match (self.status, self.expires_at) {
            (IdTagStatus::Accepted, Some(exp)) if exp <= now => IdTagStatus::Expired,
            (s, _) => s,
        }
    }
}

/// A fleet: a company's vehicles and drivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    /// Its id.
    pub id: FleetId,
    /// Its name.
    pub name: String,
    /// Default departure for fleet vehicles, hours after plug-in (used when nothing is said).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_dwell_hours: Option<f64>,
}

/// A vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    /// Its id (the VIN when known).
    pub id: VehicleId,
    /// Fleet it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<FleetId>,
    /// Make and model, used to compare it with its cohort.
    pub model: String,
    /// Nominal usable battery capacity when new.
    pub nominal_capacity: WattHours,
    /// Registration plate or the fleet's own number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn accepted_tag_expires() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(10);
        let mut rec = IdTagRecord {
            tag: IdTag::new("AA").unwrap(),
            driver: None,
            vehicle: None,
            fleet: None,
            status: IdTagStatus::Accepted,
            expires_at: Some(now - Duration::seconds(1)),
            parent: None,
            allow_concurrent: false,
        };
        assert_eq!(rec.status_at(now), IdTagStatus::Expired);
        rec.expires_at = Some(now + Duration::days(1));
        assert_eq!(rec.status_at(now), IdTagStatus::Accepted);
        rec.status = IdTagStatus::Blocked;
        assert_eq!(rec.status_at(now), IdTagStatus::Blocked);
    }
}
