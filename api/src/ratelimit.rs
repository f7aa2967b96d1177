//! Rate limiting per bearer token (or per client IP without one): a token bucket refilled at
//! `rate_limit_per_minute`, with a burst of a tenth of it. Buckets live on each API node (a
//! client spread over N nodes gets up to N× the rate; the load balancer's stickiness or a
//! Redis-backed limiter would close that, noted in docs). Idle buckets are dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiState, Problem};

/// Buckets by client key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes one request from `key`'s bucket; false when it is empty.
    pub fn allow(&self, key: &str, per_minute: u32, now: Instant) -> bool {
        let rate = f64::from(per_minute) / 60.0;
        let burst = (f64::from(per_minute) / 10.0).max(5.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, (tokens, at)| {
                *tokens < burst || now.duration_since(*at).as_secs() < 600
            });
        }
        let (tokens, at) = buckets.entry(key.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn client_key(req: &Request) -> String {
    if let Some(token) = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return format!("t:{}", crate::auth::tokens::hash(token.trim()));
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "ip:unknown".to_string(), |c| format!("ip:{}", c.0.ip()))
}

/// The middleware.
pub(crate) async fn limit(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let key = client_key(&req);
    if state
        .limiter
        .allow(&key, state.config.rate_limit_per_minute, Instant::now())
    {
        next.run(req).await
    } else {
        state.metrics.rate_limited.inc();
        let mut response = Problem::too_many_requests().into_response();
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("5"),
        );
        response
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
}
