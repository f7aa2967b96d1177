//! Reservations of a connector for a driver, as sent to the charger with ReserveNow. Kept so a
//! driver can list and cancel them and so dispatch counts reserved connectors as taken.

use async_trait::async_trait;
use chargegrid_core::{ChargerId, DriverId, EvseId, IdTag, SiteId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    /// Accepted by the charger and not yet used, cancelled or expired.
    Active,
    /// Cancelled by the driver.
    Cancelled,
    /// Used by a transaction.
    Used,
}

/// A reservation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    /// The OCPP reservation id (positive 32-bit, network-unique).
    pub id: i32,
    /// Who reserved.
    pub driver: DriverId,
    /// The token the charger will accept for it.
    pub id_tag: IdTag,
    /// Where.
    pub site: SiteId,
    /// Which charger.
    pub charger: ChargerId,
    /// Which EVSE.
    pub evse: EvseId,
    /// When made (UTC).
    pub created_at: DateTime<Utc>,
    /// When it lapses (UTC).
    pub expires_at: DateTime<Utc>,
    /// State, apart from expiry (an Active one past `expires_at` has expired).
    pub state: ReservationState,
}

impl Reservation {
    /// Whether it still holds the connector at `now`.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        self.state == ReservationState::Active && self.expires_at > now
    }
}

/// Reservations.
#[async_trait]
pub trait ReservationStore: Send + Sync {
    /// A new reservation id, unique across the network.
    async fn next_reservation_id(&self) -> StoreResult<i32>;

    /// Writes a reservation (new or changed).
    async fn put_reservation(&self, reservation: &Reservation) -> StoreResult<()>;

    /// Reads one.
    async fn get_reservation(&self, id: i32) -> StoreResult<Option<Reservation>>;

    /// A driver's reservations, newest first.
    async fn reservations_of_driver(&self, driver: &DriverId) -> StoreResult<Vec<Reservation>>;

    /// A site's reservations that are active at `now`.
    async fn active_reservations_of_site(
        &self,
        site: &SiteId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Reservation>>;
}
