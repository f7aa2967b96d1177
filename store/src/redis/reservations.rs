//! [`ReservationStore`] for the Redis store: a document per reservation, a sorted set per driver
//! (by creation) and per site (by expiry, so active ones are a range query).

use async_trait::async_trait;
use chargegrid_core::{DriverId, SiteId};
use chrono::{DateTime, Utc};
use redis::AsyncCommands;

use super::{RedisStore, encode, keys, scripts};
use crate::{Reservation, ReservationState, ReservationStore, StoreError, StoreResult};

#[async_trait]
impl ReservationStore for RedisStore {
    async fn next_reservation_id(&self) -> StoreResult<i32> {
        let id: i64 = scripts::NEXT_TRANSACTION_ID
            .key(keys::reservation_counter())
            .invoke_async(&mut self.conn())
            .await?;
        i32::try_from(id).map_err(|_| StoreError::Corrupt {
            key: keys::reservation_counter(),
            reason: format!("{id} is not a 32-bit id"),
        })
    }

    async fn put_reservation(&self, r: &Reservation) -> StoreResult<()> {
        let mut pipe = redis::pipe();
        pipe.set(keys::reservation(r.id), encode(r)?)
            .ignore()
            .zadd(
                keys::driver_reservations(&r.driver),
                r.id,
                r.created_at.timestamp_millis(),
            )
            .ignore();
        if r.state == ReservationState::Active {
            pipe.zadd(
                keys::site_reservations(&r.site),
                r.id,
                r.expires_at.timestamp_millis(),
            )
            .ignore();
        } else {
            pipe.zrem(keys::site_reservations(&r.site), r.id).ignore();
        }
        let () = pipe.query_async(&mut self.conn()).await?;
        Ok(())
    }

    async fn get_reservation(&self, id: i32) -> StoreResult<Option<Reservation>> {
        self.get_json(&keys::reservation(id)).await
    }

    async fn reservations_of_driver(&self, driver: &DriverId) -> StoreResult<Vec<Reservation>> {
        let ids: Vec<i32> = self
            .conn()
            .zrevrange(keys::driver_reservations(driver), 0, -1)
            .await?;
        let keys: Vec<String> = ids.into_iter().map(keys::reservation).collect();
        self.mget_json(&keys).await
    }

    async fn active_reservations_of_site(
        &self,
        site: &SiteId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Reservation>> {
        let key = keys::site_reservations(site);
        let now_ms = now.timestamp_millis();
        let _: i64 = self.conn().zrembyscore(&key, "-inf", now_ms).await?;
        let ids: Vec<i32> = self
            .conn()
            .zrangebyscore(&key, format!("({now_ms}"), "+inf")
            .await?;
        let keys: Vec<String> = ids.into_iter().map(keys::reservation).collect();
        let all: Vec<Reservation> = self.mget_json(&keys).await?;
        Ok(all.into_iter().filter(|r| r.is_active_at(now)).collect())
    }
}
