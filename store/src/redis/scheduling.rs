//! [`SchedulerStore`] for the Redis store. Leases are a key with an expiry plus a counter that
//! hands out fencing tokens, changed only by Lua scripts.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::arrivals::{self, PastArrival};
use chargegrid_core::command::ChargingLimit;
use chargegrid_core::{ChargerId, EvseId, SessionId, SiteId, WattHours};
use chrono::{DateTime, Utc};
use redis::AsyncCommands;

use super::{RedisStore, decode, encode, keys, millis, scripts};
use crate::scheduling::days_between;
use crate::{
    ARRIVALS_RETENTION, EvNeeds, Lease, LimitWindow, STATEMENT_RATIOS_KEPT, SchedulerStore,
    SiteAllocation, StoreError, StoreResult,
};

fn lease_value(lease: &Lease) -> String {
    format!("{}:{}", lease.token, lease.holder)
}

fn parse_lease(key: &str, value: &str) -> StoreResult<Lease> {
    let corrupt = || StoreError::Corrupt {
        key: key.to_string(),
        reason: format!("bad lease value {value:?}"),
    };
    let (token, holder) = value.split_once(':').ok_or_else(corrupt)?;
    Ok(Lease {
        holder: holder.to_string(),
        token: token.parse().map_err(|_| corrupt())?,
    })
}

#[async_trait]
impl SchedulerStore for RedisStore {
    async fn put_allocation(&self, allocation: &SiteAllocation, fence: u64) -> StoreResult<()> {
        let site = &allocation.site;
        self.fenced(
            site,
            fence,
            &keys::allocation(site),
            &["set", &encode(allocation)?],
        )
        .await
    }

    async fn get_allocation(&self, site: &SiteId) -> StoreResult<Option<SiteAllocation>> {
        self.get_json(&keys::allocation(site)).await
    }

    async fn put_limit_window(&self, site: &SiteId, window: &LimitWindow) -> StoreResult<()> {
        let () = self
            .conn()
            .hset(keys::limit_windows(site), &window.id, encode(window)?)
            .await?;
        Ok(())
    }

    async fn delete_limit_window(&self, site: &SiteId, id: &str) -> StoreResult<bool> {
        let n: i32 = self.conn().hdel(keys::limit_windows(site), id).await?;
        Ok(n == 1)
    }

    async fn limit_windows(&self, site: &SiteId) -> StoreResult<Vec<LimitWindow>> {
        let key = keys::limit_windows(site);
        let all: Vec<(String, String)> = self.conn().hgetall(&key).await?;
        let mut windows = all
            .iter()
            .map(|(_, text)| decode::<LimitWindow>(&key, text))
            .collect::<StoreResult<Vec<_>>>()?;
        windows.sort_by(|a, b| a.from.cmp(&b.from).then_with(|| a.id.cmp(&b.id)));
        Ok(windows)
    }

    async fn put_ev_needs(
        &self,
        site: &SiteId,
        session: &SessionId,
        needs: &EvNeeds,
    ) -> StoreResult<()> {
        let () = self
            .conn()
            .hset(keys::ev_needs(site), session.as_str(), encode(needs)?)
            .await?;
        Ok(())
    }

    async fn get_ev_needs(
        &self,
        site: &SiteId,
        session: &SessionId,
    ) -> StoreResult<Option<EvNeeds>> {
        let key = keys::ev_needs(site);
        let raw: Option<String> = self.conn().hget(&key, session.as_str()).await?;
        raw.map(|text| decode(&key, &text)).transpose()
    }

    async fn delete_ev_needs(&self, site: &SiteId, session: &SessionId) -> StoreResult<()> {
        let _: i32 = self
            .conn()
            .hdel(keys::ev_needs(site), session.as_str())
            .await?;
        Ok(())
    }

    async fn push_statement_ratio(&self, site: &SiteId, ratio: f64) -> StoreResult<()> {
        let key = keys::statement_ratios(site);
        let last = STATEMENT_RATIOS_KEPT as isize - 1;
        let () = redis::pipe()
            .atomic()
            .lpush(&key, ratio.to_string())
            .ignore()
            .ltrim(&key, 0, last)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn statement_ratios(&self, site: &SiteId) -> StoreResult<Vec<f64>> {
        let key = keys::statement_ratios(site);
        let raw: Vec<String> = self.conn().lrange(&key, 0, -1).await?;
        raw.iter()
            .map(|text| {
                text.parse().map_err(|_| StoreError::Corrupt {
                    key: key.clone(),
                    reason: format!("bad statement ratio {text:?}"),
                })
            })
            .collect()
    }

    async fn push_arrival(&self, site: &SiteId, arrival: &PastArrival) -> StoreResult<()> {
        let (day, slot) = arrivals::utc_quarter(arrival.arrived);
        let key = keys::past_arrivals(site, day);
        let keep = ARRIVALS_RETENTION.num_seconds();
        let () = redis::pipe()
            .atomic()
            .cmd("HINCRBYFLOAT")
            .arg(&key)
            .arg(slot)
            .arg(arrival.energy.0)
            .ignore()
            .expire(&key, keep)
            .ignore()
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn arrivals(
        &self,
        site: &SiteId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<PastArrival>> {
        let days = days_between(since, until);
        if days.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for &day in &days {
            pipe.hgetall(keys::past_arrivals(site, day));
        }
        let raw: Vec<Vec<(usize, String)>> = pipe.query_async(&mut self.conn()).await?;
        let mut out = Vec::new();
        for (&day, fields) in days.iter().zip(raw) {
            let mut slots: Vec<(usize, f64)> = Vec::with_capacity(fields.len());
            for (slot, wh) in fields {
                let energy = wh.parse::<f64>().ok().filter(|_| slot < arrivals::SLOTS);
                let Some(energy) = energy else {
                    return Err(StoreError::Corrupt {
                        key: keys::past_arrivals(site, day),
                        reason: format!("bad arrivals {wh:?} in quarter-hour {slot}"),
                    });
                };
                slots.push((slot, energy));
            }
            slots.sort_by_key(|&(slot, _)| slot);
            out.extend(slots.into_iter().map(|(slot, wh)| PastArrival {
                arrived: arrivals::utc_quarter_start(day, slot),
                energy: WattHours(wh),
            }));
        }
        Ok(out)
    }

    async fn put_sent_profile(
        &self,
        site: &SiteId,
        charger: &ChargerId,
        evse: EvseId,
        limit: &ChargingLimit,
        fence: u64,
    ) -> StoreResult<()> {
        let field = format!("{charger}/{}", evse.0);
        self.fenced(
            site,
            fence,
            &keys::sent_profiles(site),
            &["hset", &field, &encode(limit)?],
        )
        .await
    }

    async fn check_fence(&self, site: &SiteId, fence: u64) -> StoreResult<()> {
        self.fenced(site, fence, &keys::site_fence(site), &["none"])
            .await
    }

    async fn sent_profiles(
        &self,
        site: &SiteId,
    ) -> StoreResult<Vec<(ChargerId, EvseId, ChargingLimit)>> {
        let key = keys::sent_profiles(site);
        let all: Vec<(String, String)> = self.conn().hgetall(&key).await?;
        let mut out = Vec::with_capacity(all.len());
        for (field, text) in &all {
            let parsed = field
                .rsplit_once('/')
                .and_then(|(c, e)| Some((ChargerId::new(c).ok()?, EvseId(e.parse().ok()?))));
            let Some((charger, evse)) = parsed else {
                return Err(StoreError::Corrupt {
                    key: key.clone(),
                    reason: format!("bad field {field:?}"),
                });
            };
            out.push((charger, evse, decode(&key, text)?));
        }
        out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        Ok(out)
    }

    async fn add_expected_arrival(
        &self,
        site: &SiteId,
        token: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        let () = self
            .conn()
            .zadd(keys::site_arrivals(site), token, until.timestamp_millis())
            .await?;
        Ok(())
    }

    async fn expected_arrivals(
        &self,
        site: &SiteId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<usize> {
        let key = keys::site_arrivals(site);
        let now_ms = now.timestamp_millis();
        let (_, count): (i64, usize) = redis::pipe()
            .zrembyscore(&key, "-inf", now_ms)
            .zcount(&key, format!("({now_ms}"), "+inf")
            .query_async(&mut self.conn())
            .await?;
        Ok(count)
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> StoreResult<Option<Lease>> {
        let key = keys::lease(name);
        let value: Option<String> = scripts::ACQUIRE_LEASE
            .key(&key)
            .key(keys::lease_counter(name))
            .arg(holder)
            .arg(millis(ttl))
            .invoke_async(&mut self.conn())
            .await?;
        value.map(|v| parse_lease(&key, &v)).transpose()
    }

    async fn renew_lease(&self, name: &str, lease: &Lease, ttl: Duration) -> StoreResult<bool> {
        let extended: i32 = scripts::EXPIRE_IF_EQUAL
            .key(keys::lease(name))
            .arg(lease_value(lease))
            .arg(millis(ttl))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(extended == 1)
    }

    async fn release_lease(&self, name: &str, lease: &Lease) -> StoreResult<()> {
        let _: i32 = scripts::DELETE_IF_EQUAL
            .key(keys::lease(name))
            .arg(lease_value(lease))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }
}

impl RedisStore {
    /// One fenced write (see `scripts::FENCED_WRITE`).
    async fn fenced(
        &self,
        site: &SiteId,
        fence: u64,
        target: &str,
        args: &[&str],
    ) -> StoreResult<()> {
        let mut invocation = super::scripts::FENCED_WRITE.key(keys::site_fence(site));
        invocation.key(target).arg(fence);
        for a in args {
            invocation.arg(*a);
        }
        let written: i32 = invocation.invoke_async(&mut self.conn()).await?;
        if written == 1 {
            Ok(())
        } else {
            Err(crate::StoreError::Fenced(format!(
                "site {site}: token {fence} is older than one already seen"
            )))
        }
    }
}
