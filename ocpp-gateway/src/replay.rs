//! Answers to recent CALLs by message id, so a charger that retransmits a CALL (because our
//! answer was lost) gets the same answer again instead of a second transaction. Bounded per
//! charger; kept per node across reconnects of the same charger.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chargegrid_core::ChargerId;

/// Answers remembered per charger.
pub(crate) const PER_CHARGER: usize = 32;

#[derive(Debug, Default)]
pub(crate) struct ReplayCache {
    map: Mutex<HashMap<ChargerId, VecDeque<(String, String)>>>,
}

impl ReplayCache {
    /// The answer already sent for this CALL id, if recent.
    pub fn get(&self, charger: &ChargerId, id: &str) -> Option<String> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(charger)?
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.clone())
    }

    /// Remembers the answer sent for a CALL id.
    pub fn put(&self, charger: &ChargerId, id: &str, answer: &str) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let entries = map.entry(charger.clone()).or_default();
        if entries.len() >= PER_CHARGER {
            entries.pop_front();
        }
        entries.push_back((id.to_string(), answer.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_recent_answers_per_charger_within_bounds() {
        let cache = ReplayCache::default();
        let a = ChargerId::new("a").unwrap();
        let b = ChargerId::new("b").unwrap();
        cache.put(&a, "1", "answer-1");
        assert_eq!(cache.get(&a, "1").as_deref(), Some("answer-1"));
        assert_eq!(cache.get(&b, "1"), None);
        for i in 2..=(PER_CHARGER + 1) {
            cache.put(&a, &i.to_string(), "x");
        }
        assert_eq!(cache.get(&a, "1"), None, "oldest entry evicted");
        assert!(cache.get(&a, "2").is_some());
    }
}
