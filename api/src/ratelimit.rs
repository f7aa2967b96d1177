//! Rate limiting in two steps: every request by client address before anything else (so a
//! flood of made-up bearer tokens or logins cannot mint fresh buckets: the address is the only
//! key that costs the client something), then every authenticated request by account (see
//! [`crate::auth::caller`]). Token buckets refilled at a rate per minute with a burst of a tenth
//! of it. Buckets live on each API node (a client spread over N nodes gets up to N× the rate;
//! noted in docs). Memory is bounded: a bucket that has refilled is the same as no bucket and
//! is dropped first, then the least recently used.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiState, Problem};

/// Buckets kept at most per limiter.
const MAX_BUCKETS: usize = 100_000;

/// How many times the per-account rate one client address may use before authentication (many
/// drivers share an address behind a carrier's NAT).
pub(crate) const ADDRESS_FACTOR: u32 = 5;

/// Buckets by client key.
#[derive(Debug)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    max_buckets: usize,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::with_capacity(MAX_BUCKETS)
    }
}

impl RateLimiter {
    /// A limiter remembering at most `max_buckets` clients.
    pub fn with_capacity(max_buckets: usize) -> Self {
        Self {
            buckets: Mutex::new(HashMap::new()),
            max_buckets: max_buckets.max(1),
        }
    }

    /// Takes one request from `key`'s bucket; false when it is empty.
    pub fn allow(&self, key: &str, per_minute: u32, now: Instant) -> bool {
        let rate = f64::from(per_minute) / 60.0;
        let burst = (f64::from(per_minute) / 10.0).max(5.0);
        let refilled = |tokens: f64, at: Instant| {
            (tokens + now.saturating_duration_since(at).as_secs_f64() * rate).min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= self.max_buckets && !buckets.contains_key(key) {
            buckets.retain(|_, (tokens, at)| refilled(*tokens, *at) < burst);
            if buckets.len() >= self.max_buckets {
                // Still full of active clients: drop the least recently seen tenth.
                let mut seen: Vec<Instant> = buckets.values().map(|(_, at)| *at).collect();
                let cut = seen.len() / 10;
                seen.select_nth_unstable(cut);
                let before = seen[cut];
                buckets.retain(|_, (_, at)| *at > before);
            }
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((burst, now));
        *tokens = refilled(*tokens, *at);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Clients remembered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The client's address: the peer, or behind a trusted proxy the one `X-Forwarded-For` names.
pub(crate) fn client_ip(state: &ApiState, req: &Request) -> Option<std::net::IpAddr> {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    Some(state.config.trusted_proxies.client_of(peer, forwarded))
}

fn address_key(state: &ApiState, req: &Request) -> String {
    client_ip(state, req).map_or_else(|| "ip:unknown".to_string(), |ip| format!("ip:{ip}"))
}

/// The middleware: the per-address step.
pub(crate) async fn limit(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let key = address_key(&state, &req);
    let per_minute = state
        .config
        .rate_limit_per_minute
        .saturating_mul(ADDRESS_FACTOR);
    if state.limiter.allow(&key, per_minute, Instant::now()) {
        next.run(req).await
    } else {
        state.metrics.rate_limited.inc();
        Problem::too_many_requests().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_a_burst_then_refills_at_the_rate() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        // 60/min: burst of 6, then one per second.
        let allowed = (0..10).filter(|_| limiter.allow("k", 60, t0)).count();
        assert_eq!(allowed, 6);
        assert!(!limiter.allow("k", 60, t0));
        assert!(limiter.allow("k", 60, t0 + Duration::from_millis(1100)));
        assert!(!limiter.allow("k", 60, t0 + Duration::from_millis(1200)));
        assert!(limiter.allow("other", 60, t0), "buckets are per client");
    }

    #[test]
    fn memory_stays_bounded_and_an_active_client_keeps_its_empty_bucket() {
        let limiter = RateLimiter::with_capacity(1_000);
        let t0 = Instant::now();
        // An abusive client empties its bucket...
        while limiter.allow("abuser", 60, t0) {}
        // ...then a flood of new keys arrives, each newer than the abuser's last request.
        for i in 0..10_000 {
            limiter.allow(&format!("k{i}"), 60, t0 + Duration::from_millis(1 + i));
        }
        assert!(limiter.len() <= 1_000, "{}", limiter.len());
        // The abuser was seen before the flood, so the least-recently-used step may drop it;
        // a bucket that has merely refilled is dropped before any active one.
        let limiter = RateLimiter::with_capacity(3);
        limiter.allow("refilled", 60, t0);
        while limiter.allow("active", 60, t0 + Duration::from_secs(60)) {}
        limiter.allow("recent", 60, t0 + Duration::from_secs(60));
        limiter.allow("new", 60, t0 + Duration::from_secs(61));
        assert_eq!(
            limiter.len(),
            2,
            "the refilled buckets went (\"refilled\", \"recent\")"
        );
        // The emptied bucket was kept: one token refilled in that second, not a fresh burst.
        let later = t0 + Duration::from_secs(61);
        assert_eq!(
            (0..6)
                .filter(|_| limiter.allow("active", 60, later))
                .count(),
            1
        );
    }
}
