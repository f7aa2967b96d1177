//! [`SchedulerStore`] for the in-memory store; lease expiry follows the injected clock.

use std::time::Duration;

use async_trait::async_trait;
use chargegrid_core::arrivals::{self, PastArrival};
use chargegrid_core::command::ChargingLimit;
use chargegrid_core::{ChargerId, EvseId, SessionId, SiteId};
use chrono::{DateTime, Utc};

use super::{MemoryStore, ttl};
use crate::scheduling::days_between;
use crate::{
    ARRIVALS_RETENTION, EvNeeds, Lease, LimitWindow, STATEMENT_RATIOS_KEPT, SchedulerStore,
    SiteAllocation, StoreResult,
};

#[async_trait]
impl SchedulerStore for MemoryStore {
    async fn put_allocation(&self, allocation: &SiteAllocation, fence: u64) -> StoreResult<()> {
        let mut state = self.lock();
        fenced(&mut state.fences, &allocation.site, fence)?;
        state
            .allocations
            .insert(allocation.site.clone(), allocation.clone());
        Ok(())
    }

    async fn get_allocation(&self, site: &SiteId) -> StoreResult<Option<SiteAllocation>> {
        Ok(self.lock().allocations.get(site).cloned())
    }

    async fn put_limit_window(&self, site: &SiteId, window: &LimitWindow) -> StoreResult<()> {
        self.lock()
            .windows
            .entry(site.clone())
            .or_default()
            .insert(window.id.clone(), window.clone());
        Ok(())
    }

    async fn delete_limit_window(&self, site: &SiteId, id: &str) -> StoreResult<bool> {
        Ok(self
            .lock()
            .windows
            .get_mut(site)
            .and_then(|w| w.remove(id))
            .is_some())
    }

    async fn limit_windows(&self, site: &SiteId) -> StoreResult<Vec<LimitWindow>> {
        let mut windows: Vec<LimitWindow> = self
            .lock()
            .windows
            .get(site)
            .map(|w| w.values().cloned().collect())
            .unwrap_or_default();
        windows.sort_by(|a, b| a.from.cmp(&b.from).then_with(|| a.id.cmp(&b.id)));
        Ok(windows)
    }

    async fn put_ev_needs(
        &self,
        site: &SiteId,
        session: &SessionId,
        needs: &EvNeeds,
    ) -> StoreResult<()> {
        self.lock()
            .needs
            .insert((site.clone(), session.clone()), needs.clone());
        Ok(())
    }

    async fn get_ev_needs(
        &self,
        site: &SiteId,
        session: &SessionId,
    ) -> StoreResult<Option<EvNeeds>> {
        Ok(self
            .lock()
            .needs
            .get(&(site.clone(), session.clone()))
            .cloned())
    }

    async fn delete_ev_needs(&self, site: &SiteId, session: &SessionId) -> StoreResult<()> {
        self.lock().needs.remove(&(site.clone(), session.clone()));
        Ok(())
    }

    async fn push_statement_ratio(&self, site: &SiteId, ratio: f64) -> StoreResult<()> {
        let mut state = self.lock();
        let kept = state.statement_ratios.entry(site.clone()).or_default();
        kept.push_front(ratio);
        kept.truncate(STATEMENT_RATIOS_KEPT);
        Ok(())
    }

    async fn statement_ratios(&self, site: &SiteId) -> StoreResult<Vec<f64>> {
        Ok(self
            .lock()
            .statement_ratios
            .get(site)
            .map(|r| r.iter().copied().collect())
            .unwrap_or_default())
    }

    async fn push_arrival(&self, site: &SiteId, arrival: &PastArrival) -> StoreResult<()> {
        let (day, slot) = arrivals::utc_quarter(arrival.arrived);
        let now = self.clock.now();
        let mut state = self.lock();
        let kept = state.past_arrivals.entry(site.clone()).or_default();
        kept.retain(|_, (_, expires)| *expires > now);
        let (wh, expires) = kept.entry(day).or_insert(([None; arrivals::SLOTS], now));
        *wh[slot].get_or_insert(0.0) += arrival.energy.0;
        *expires = now + ARRIVALS_RETENTION;
        Ok(())
    }

    async fn arrivals(
        &self,
        site: &SiteId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<PastArrival>> {
        let now = self.clock.now();
        let state = self.lock();
        let Some(kept) = state.past_arrivals.get(site) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for day in days_between(since, until) {
            let Some((wh, _)) = kept.get(&day).filter(|(_, expires)| *expires > now) else {
                continue;
            };
            out.extend(wh.iter().enumerate().filter_map(|(slot, w)| {
                w.map(|w| PastArrival {
                    arrived: arrivals::utc_quarter_start(day, slot),
                    energy: chargegrid_core::WattHours(w),
                })
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
        let mut state = self.lock();
        fenced(&mut state.fences, site, fence)?;
        state
            .sent
            .entry(site.clone())
            .or_default()
            .insert((charger.clone(), evse), limit.clone());
        Ok(())
    }

    async fn check_fence(&self, site: &SiteId, fence: u64) -> StoreResult<()> {
        fenced(&mut self.lock().fences, site, fence)
    }

    async fn sent_profiles(
        &self,
        site: &SiteId,
    ) -> StoreResult<Vec<(ChargerId, EvseId, ChargingLimit)>> {
        Ok(self
            .lock()
            .sent
            .get(site)
            .map(|m| {
                m.iter()
                    .map(|((c, e), l)| (c.clone(), *e, l.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn add_expected_arrival(
        &self,
        site: &SiteId,
        token: &str,
        until: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        self.lock()
            .arrivals
            .entry(site.clone())
            .or_default()
            .insert(token.to_string(), until);
        Ok(())
    }

    async fn expected_arrivals(
        &self,
        site: &SiteId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<usize> {
        let mut state = self.lock();
        let Some(holds) = state.arrivals.get_mut(site) else {
            return Ok(0);
        };
        holds.retain(|_, until| *until > now);
        Ok(holds.len())
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        time_to_live: Duration,
    ) -> StoreResult<Option<Lease>> {
        let now = self.now();
        let until = now + ttl(time_to_live);
        let mut state = self.lock();
        if let Some((lease, expiry)) = state.leases.get_mut(name)
            && *expiry > now
        {
            if lease.holder == holder {
                *expiry = until;
                return Ok(Some(lease.clone()));
            }
            return Ok(None);
        }
        let token = state.lease_tokens.entry(name.to_string()).or_default();
        *token += 1;
        let lease = Lease {
            holder: holder.to_string(),
            token: *token,
        };
        state
            .leases
            .insert(name.to_string(), (lease.clone(), until));
        Ok(Some(lease))
    }

    async fn renew_lease(
        &self,
        name: &str,
        lease: &Lease,
        time_to_live: Duration,
    ) -> StoreResult<bool> {
        let now = self.now();
        let mut state = self.lock();
        match state.leases.get_mut(name) {
            Some((current, expiry)) if current == lease && *expiry > now => {
                *expiry = now + ttl(time_to_live);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_lease(&self, name: &str, lease: &Lease) -> StoreResult<()> {
        let mut state = self.lock();
        if state.leases.get(name).is_some_and(|(l, _)| l == lease) {
            state.leases.remove(name);
        }
        Ok(())
    }
}

/// Refuses `fence` when a newer one was seen for `site`; records it otherwise.
fn fenced(
    fences: &mut std::collections::HashMap<SiteId, u64>,
    site: &SiteId,
    fence: u64,
) -> StoreResult<()> {
    let seen = fences.entry(site.clone()).or_default();
    if fence < *seen {
        return Err(crate::StoreError::Fenced(format!(
            "site {site}: token {fence} is older than {seen}"
        )));
    }
    *seen = fence;
    Ok(())
}
