//! Whether a charger is still there: the socket must carry something (a frame or a pong)
//! within two ping intervals, and at every ping this node renews its claim on the charger in
//! the store's connection registry, or learns that another node now holds it.

use std::time::Duration;

use tokio::time::Instant;

use crate::context::ConnectionContext;

/// When the charger was last heard from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Liveness {
    ping_every: Duration,
    last_heard: Instant,
}

impl Liveness {
    /// A charger just heard at `now`, pinged every `ping_every`.
    pub(crate) fn new(ping_every: Duration, now: Instant) -> Self {
        Self {
            ping_every,
            last_heard: now,
        }
    }

    /// The charger sent something at `now`.
    pub(crate) fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// Whether the charger has been silent for more than two ping intervals at `now`.
    pub(crate) fn is_dead(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_heard) > self.ping_every * 2
    }
}

/// What the registry says about this node's claim on the charger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Still ours (renewed, or re-made after it lapsed).
    Held,
    /// Another node holds the charger now: this socket is stale.
    TakenOver,
}

/// Keeps this node recorded as the charger's owner.
pub(crate) async fn renew_claim(ctx: &ConnectionContext) -> Claim {
    let inner = &ctx.gateway.inner;
    let (charger, node, ttl) = (
        &ctx.charger,
        &inner.config.node,
        inner.config.registry_ttl(),
    );
    match inner.store.refresh_connection(charger, node, ttl).await {
        Ok(true) => Claim::Held,
        Ok(false) => match inner.store.locate(charger).await {
            Ok(Some(other)) if &other != node => Claim::TakenOver,
            _ => {
                let _ = inner.store.register_connection(charger, node, ttl).await;
                Claim::Held
            }
        },
        Err(e) => {
            tracing::warn!(%charger, error = %e, "registry refresh failed");
            Claim::Held
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_of_two_ping_intervals_is_death() {
        let start = Instant::now();
        let ping = Duration::from_secs(30);
        let mut live = Liveness::new(ping, start);
        assert!(!live.is_dead(start + ping * 2));
        assert!(live.is_dead(start + ping * 2 + Duration::from_millis(1)));
        live.heard(start + ping);
        assert!(!live.is_dead(start + ping * 3));
    }
}
