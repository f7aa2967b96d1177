//! Per-action OCPP counters of one charger (or a whole run, once merged): calls sent and
//! answered, latency, CALLERRORs by code, timeouts, and the calls the CSMS made.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::LatencyHistogram;

/// Counters of one action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionStats {
    /// CALLs sent.
    pub sent: u64,
    /// CALLRESULTs received.
    pub answered: u64,
    /// CALLERRORs received, by error code.
    pub errors: BTreeMap<String, u64>,
    /// CALLs that got no answer in time.
    pub timeouts: u64,
    /// Round-trip time of answered calls (wall clock).
    pub latency: LatencyHistogram,
}

/// OCPP counters, charger → CSMS by action, plus what the CSMS asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OcppStats {
    /// Calls we sent, by action.
    pub actions: BTreeMap<String, ActionStats>,
    /// Calls the CSMS sent us, by action.
    pub received: BTreeMap<String, u64>,
    /// Transaction messages sent after having been queued while offline.
    pub replayed: u64,
    /// Of those, how many got a CALLERROR.
    pub replay_errors: u64,
    /// Successful WebSocket connections (the first one included).
    pub connects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
    /// Frames from the CSMS that we could not parse.
    pub bad_frames: u64,
}

impl OcppStats {
    fn action(&mut self, action: &str) -> &mut ActionStats {
        self.actions.entry(action.to_string()).or_default()
    }

    /// A CALL was sent.
    pub fn sent(&mut self, action: &str) {
        self.action(action).sent += 1;
    }

    /// A CALLRESULT arrived after `rtt`.
    pub fn answered(&mut self, action: &str, rtt: Duration) {
        let a = self.action(action);
        a.answered += 1;
        a.latency.record(rtt);
    }

    /// A CALLERROR arrived.
    pub fn error(&mut self, action: &str, code: &str, rtt: Duration) {
        let a = self.action(action);
        *a.errors.entry(code.to_string()).or_default() += 1;
        a.latency.record(rtt);
    }

    /// A CALL timed out.
    pub fn timeout(&mut self, action: &str) {
        self.action(action).timeouts += 1;
    }

    /// The CSMS sent us `action`.
    pub fn received(&mut self, action: &str) {
        *self.received.entry(action.to_string()).or_default() += 1;
    }

    /// Adds another charger's counters.
    pub fn merge(&mut self, other: &OcppStats) {
        for (name, o) in &other.actions {
            let a = self.action(name);
            a.sent += o.sent;
            a.answered += o.answered;
            a.timeouts += o.timeouts;
            for (code, n) in &o.errors {
                *a.errors.entry(code.clone()).or_default() += n;
            }
            a.latency.merge(&o.latency);
        }
        for (name, n) in &other.received {
            *self.received.entry(name.clone()).or_default() += n;
        }
        self.replayed += other.replayed;
        self.replay_errors += other.replay_errors;
        self.connects += other.connects;
        self.connect_failures += other.connect_failures;
        self.bad_frames += other.bad_frames;
    }

    /// Total CALLs sent.
    pub fn total_sent(&self) -> u64 {
        self.actions.values().map(|a| a.sent).sum()
    }

    /// Total CALLERRORs and timeouts.
    pub fn total_errors(&self) -> u64 {
        self.actions
            .values()
            .map(|a| a.errors.values().sum::<u64>() + a.timeouts)
            .sum()
    }

    /// All actions' latencies in one histogram.
    pub fn all_latency(&self) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for a in self.actions.values() {
            h.merge(&a.latency);
        }
        h
    }
}
