//! Answers to recent CALLs, so a charger that retransmits a CALL (because our answer was lost,
//! possibly with the connection) gets the same answer again instead of a second transaction.
//!
//! A retransmission is the same message: the same id, the same action and the same payload.
//! Message ids are only unique per connection (OCPP-J), and a charger that reboots may start
//! counting again, so an id alone never answers: a new CALL that reuses an id with another
//! action or payload is handled as new. Internal errors are never remembered (the retry must
//! be handled again), nor are heartbeats (nothing to repeat). Bounded per charger; kept per
//! node across reconnects.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use chargegrid_core::ChargerId;
use chargegrid_ocpp::Call;

/// Answers remembered per charger.
pub(crate) const PER_CHARGER: usize = 32;

/// What identifies one message: its id, action and a hash of its payload. Computed once per
/// CALL (the look-up and the store after the answer share it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    id: String,
    action: String,
    payload: u64,
}

impl Key {
    /// The key of a CALL worth remembering; `None` for a Heartbeat, which changes nothing and is
    /// answered with the current time: answered afresh, it needs no entry (an idle charger's
    /// entries were nearly all heartbeats, kept for every charger this node has seen). The
    /// payload is hashed as a JSON value (`serde_json::Value`'s own `Hash`, equal for equal
    /// values whatever the whitespace or key order), not serialised again.
    pub fn of(call: &Call) -> Option<Self> {
        if call.action == "Heartbeat" {
            return None;
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        call.payload.hash(&mut hasher);
        Some(Self {
            id: call.id.clone(),
            action: call.action.clone(),
            payload: hasher.finish(),
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct RetransmissionCache {
    map: Mutex<HashMap<ChargerId, VecDeque<(Key, String)>>>,
}

impl RetransmissionCache {
    /// The answer already sent for this very message, if recent.
    pub fn get(&self, charger: &ChargerId, key: &Key) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(charger)?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Remembers the answer sent for a message (replacing an older one with its id).
    pub fn put(&self, charger: &ChargerId, key: Key, answer: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let entries = map.entry(charger.clone()).or_default();
        entries.retain(|(k, _)| k.id != key.id);
        if entries.len() >= PER_CHARGER {
            entries.pop_front();
        }
        entries.push_back((key, answer.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(id: &str, action: &str, payload: serde_json::Value) -> Call {
        Call {
            id: id.into(),
            action: action.into(),
            payload,
        }
    }

    fn key(call: &Call) -> Key {
        Key::of(call).expect("remembered")
    }

    #[test]
    fn heartbeats_are_not_remembered_and_key_order_does_not_matter() {
        assert!(Key::of(&call("1", "Heartbeat", json!({}))).is_none());
        let a = call(
            "7",
            "MeterValues",
            serde_json::from_str(r#"{"a": 1, "b": [1.5, "x"]}"#).unwrap(),
        );
        let b = call(
            "7",
            "MeterValues",
            serde_json::from_str(r#"{ "b": [1.5,"x"], "a": 1 }"#).unwrap(),
        );
        assert_eq!(key(&a), key(&b));
        let c = call("7", "MeterValues", json!({"a": 1, "b": [1.5, "y"]}));
        assert_ne!(key(&a), key(&c));
    }

    #[test]
    fn remembers_recent_answers_per_charger_within_bounds() {
        let cache = RetransmissionCache::default();
        let a = ChargerId::new("a").unwrap();
        let b = ChargerId::new("b").unwrap();
        let first = call("1", "DataTransfer", json!({}));
        cache.put(&a, key(&first), "answer-1");
        assert_eq!(cache.get(&a, &key(&first)).as_deref(), Some("answer-1"));
        assert_eq!(cache.get(&b, &key(&first)), None);
        for i in 2..=(PER_CHARGER + 1) {
            cache.put(
                &a,
                key(&call(&i.to_string(), "DataTransfer", json!({}))),
                "x",
            );
        }
        assert_eq!(cache.get(&a, &key(&first)), None, "oldest entry evicted");
        assert!(
            cache
                .get(&a, &key(&call("2", "DataTransfer", json!({}))))
                .is_some()
        );
    }

    #[test]
    fn a_reused_id_with_another_action_or_payload_is_a_new_message() {
        let cache = RetransmissionCache::default();
        let a = ChargerId::new("a").unwrap();
        let before = call("1", "StartTransaction", json!({"meterStart": 10}));
        cache.put(&a, key(&before), "answer");
        assert!(
            cache.get(&a, &key(&before)).is_some(),
            "a true retransmission"
        );
        let rebooted = call("1", "StartTransaction", json!({"meterStart": 99}));
        assert_eq!(cache.get(&a, &key(&rebooted)), None);
        assert_eq!(
            cache.get(
                &a,
                &key(&call("1", "DataTransfer", json!({"meterStart": 10})))
            ),
            None
        );
        cache.put(&a, key(&rebooted), "second");
        assert_eq!(cache.get(&a, &key(&rebooted)).as_deref(), Some("second"));
        assert_eq!(
            cache.get(&a, &key(&before)),
            None,
            "the id's older message is forgotten"
        );
    }
}
