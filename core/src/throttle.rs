//! Failed attempts per key (a client address, an account) and the back-off they earn: after
//! `limit` failures within a window, the key waits before any more of its attempts are even
//! checked. Used where checking is costly or guessable (charger passwords at the OCPP
//! handshake, drivers' logins). Memory stays bounded whatever the keys: a flood of new keys
//! first drops entries that no longer matter, then the oldest.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// One key's recent failures.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
}

/// Failures per key with a back-off.
#[derive(Debug)]
pub struct FailureThrottle<K> {
    map: Mutex<HashMap<K, Failures>>,
    limit: u32,
    window: Duration,
    backoff: Duration,
    max_tracked: usize,
}

impl<K: Hash + Eq + Clone> FailureThrottle<K> {
    /// `limit` failures (0: never) within `window` make a key wait `backoff`; at most
    /// `max_tracked` keys are remembered.
    pub fn new(limit: u32, window: Duration, backoff: Duration, max_tracked: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            limit,
            window,
            backoff,
            max_tracked: max_tracked.max(1),
        }
    }

    /// How long `key` must still wait, if it is backing off.
    pub fn blocked(&self, key: &K, now: DateTime<Utc>) -> Option<Duration> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .and_then(|f| f.blocked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// Records a failure of `key`; returns whether that started a back-off.
    pub fn failed(&self, key: K, now: DateTime<Utc>) -> bool {
        if self.limit == 0 {
            return false;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max_tracked && !map.contains_key(&key) {
            let window = self.window;
            map.retain(|_, f| now - f.since < window || f.blocked_until.is_some_and(|u| u > now));
            if map.len() >= self.max_tracked {
                // The oldest that is not backing off (a back-off is what the map is for).
                let oldest = map
                    .iter()
                    .min_by_key(|(_, f)| (f.blocked_until.is_some_and(|u| u > now), f.since))
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        let fresh = Failures {
            count: 0,
            since: now,
            blocked_until: None,
        };
        let f = map.entry(key).or_insert(fresh);
        if now - f.since >= self.window || f.blocked_until.is_some_and(|u| u <= now) {
            *f = fresh;
        }
        f.count += 1;
        if f.count >= self.limit && f.blocked_until.is_none() {
            f.blocked_until = Some(now + self.backoff);
            return true;
        }
        false
    }

    /// Forgets `key`'s failures (after a success).
    pub fn forget(&self, key: &K) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Keys remembered now.
    pub fn tracked(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(s)
    }

    #[test]
    fn a_key_that_keeps_failing_backs_off_then_is_forgiven() {
        let t = FailureThrottle::new(3, Duration::seconds(60), Duration::seconds(60), 100);
        assert!(!t.failed("a", at(0)));
        assert!(!t.failed("a", at(0)));
        assert!(t.blocked(&"a", at(0)).is_none());
        assert!(t.failed("a", at(1)), "third failure backs off");
        assert_eq!(t.blocked(&"a", at(1)), Some(Duration::seconds(60)));
        assert!(
            t.blocked(&"b", at(1)).is_none(),
            "other keys are not affected"
        );
        assert!(t.blocked(&"a", at(61)).is_none());
        // After the back-off the count starts again.
        assert!(!t.failed("a", at(62)));
        // Failures spread wider than the window never add up.
        for minute in 0..10 {
            assert!(!t.failed("slow", at(61 * minute)));
        }
        t.forget(&"a");
        assert!(!t.failed("a", at(63)) && !t.failed("a", at(63)));
        let never = FailureThrottle::new(0, Duration::seconds(60), Duration::seconds(60), 10);
        assert!((0..100).all(|_| !never.failed("x", at(0))));
    }

    #[test]
    fn tracked_keys_stay_bounded() {
        let t = FailureThrottle::new(5, Duration::seconds(60), Duration::seconds(60), 1_000);
        for i in 0..5_000u32 {
            t.failed(i, at(0));
        }
        assert!(t.tracked() <= 1_000, "{}", t.tracked());
        // A key that is backing off survives a flood of others, even past its window.
        let t = FailureThrottle::new(2, Duration::seconds(60), Duration::seconds(600), 10);
        t.failed(u32::MAX, at(0));
        t.failed(u32::MAX, at(0));
        for i in 0..100u32 {
            t.failed(i, at(120 + i64::from(i)));
        }
        assert!(t.blocked(&u32::MAX, at(300)).is_some());
    }
}
