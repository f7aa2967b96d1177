//! [`ReservationStore`] for the in-memory store.

use async_trait::async_trait;
use chargegrid_core::{DriverId, SiteId};
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::{Reservation, ReservationStore, StoreResult};

#[async_trait]
impl ReservationStore for MemoryStore {
    async fn next_reservation_id(&self) -> StoreResult<i32> {
        let mut state = self.lock();
        state.last_reservation_id = state.last_reservation_id.checked_add(1).unwrap_or(1);
        Ok(state.last_reservation_id)
    }

    async fn put_reservation(&self, reservation: &Reservation) -> StoreResult<()> {
        self.lock()
            .reservations
            .insert(reservation.id, reservation.clone());
        Ok(())
    }

    async fn get_reservation(&self, id: i32) -> StoreResult<Option<Reservation>> {
        Ok(self.lock().reservations.get(&id).cloned())
    }

    async fn reservations_of_driver(&self, driver: &DriverId) -> StoreResult<Vec<Reservation>> {
        let mut list: Vec<Reservation> = self
            .lock()
            .reservations
            .values()
            .filter(|r| &r.driver == driver)
            .cloned()
            .collect();
        list.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(list)
    }

    async fn active_reservations_of_site(
        &self,
        site: &SiteId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Reservation>> {
        Ok(self
            .lock()
            .reservations
            .values()
            .filter(|r| &r.site == site && r.is_active_at(now))
            .cloned()
            .collect())
    }
}
