//! Sending a plan's profiles through the command bus so the site never overshoots during the
//! change: every decrease first (lowest limit first, in parallel), all answered; only then the
//! increases. If any decrease is not confirmed, no increase is sent in this pass (the power it
//! would free may still be drawn); the next pass re-plans. An accepted profile is recorded in
//! the store at once, so another instance continues from what chargers really hold.

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::SiteId;
use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_store::Store;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::plan::Change;

/// How a charger answered one profile.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// Accepted (and recorded).
    Accepted,
    /// Accepted by the charger, but the record of it could not be written: the next passes
    /// must not trust the stored record for this EVSE (they resend until one is written).
    Unrecorded(String),
    /// Refused, or a call error: the charger will not apply it.
    Rejected(String),
    /// No answer in time, or the store failed: unknown whether it applies.
    Failed(String),
    /// The charger is connected nowhere.
    Offline,
}

/// One change and its outcome.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// What was sent.
    pub change: Change,
    /// How it went.
    pub outcome: Outcome,
}

/// What a send round did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Round {
    /// Every change sent, with its outcome.
    pub sent: Vec<Sent>,
    /// Increases not sent because a decrease failed or the lease was lost.
    pub held_back: usize,
}

/// Sends `changes` in the safe order, as the holder of fencing token `fence`. Stops before a
/// batch once `lost` is cancelled or the store has seen a newer holder's token.
pub(crate) async fn send_changes(
    store: &Arc<dyn Store>,
    site: &SiteId,
    changes: Vec<Change>,
    timeout: Duration,
    lost: &CancellationToken,
    fence: u64,
) -> Round {
    let (mut down, mut up): (Vec<Change>, Vec<Change>) =
        changes.into_iter().partition(Change::is_decrease);
    down.sort_by(|a, b| a.new.0.total_cmp(&b.new.0));
    up.sort_by(|a, b| a.new.0.total_cmp(&b.new.0));
    let mut round = Round::default();
    if down.is_empty() && up.is_empty() {
        // Nothing to send: no fencing round trip on a pass that changes nothing.
        return round;
    }
    if lost.is_cancelled() || !fence_holds(store, site, fence).await {
        round.held_back = down.len() + up.len();
        return round;
    }
    let decreases = batch(store, site, down, timeout, fence).await;
    let all_down = decreases
        .iter()
        .all(|s| matches!(s.outcome, Outcome::Accepted | Outcome::Unrecorded(_)));
    round.sent = decreases;
    if up.is_empty() {
        return round;
    }
    if !all_down || lost.is_cancelled() || !fence_holds(store, site, fence).await {
        round.held_back = up.len();
        return round;
    }
    round
        .sent
        .extend(batch(store, site, up, timeout, fence).await);
    round
}

/// Whether this holder's token is still the newest the store has seen for the site (checked
/// before each batch of commands: a holder that lost its lease while blocked must not send).
async fn fence_holds(store: &Arc<dyn Store>, site: &SiteId, fence: u64) -> bool {
    match store.check_fence(site, fence).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(%site, fence, error = %e, "not sending: fencing check failed");
            false
        }
    }
}

/// Sends changes in parallel and waits for every answer.
async fn batch(
    store: &Arc<dyn Store>,
    site: &SiteId,
    changes: Vec<Change>,
    timeout: Duration,
    fence: u64,
) -> Vec<Sent> {
    let mut tasks = JoinSet::new();
    for (i, change) in changes.into_iter().enumerate() {
        let store = store.clone();
        let site = site.clone();
        tasks.spawn(async move {
            let outcome = send_one(store.as_ref(), &site, &change, timeout, fence).await;
            (i, Sent { change, outcome })
        });
    }
    let mut out = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(sent) => out.push(sent),
            Err(e) => tracing::error!(error = %e, "profile send task failed"),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, s)| s).collect()
}

async fn send_one(
    store: &dyn Store,
    site: &SiteId,
    change: &Change,
    timeout: Duration,
    fence: u64,
) -> Outcome {
    let command = ChargerCommand::SetChargingLimit {
        evse: change.evse,
        limit: change.limit.clone(),
    };
    let reply = match store.send_command(&change.charger, command, timeout).await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("store: {e}")),
    };
    match reply {
        r if r.is_accepted() => {
            match store
                .put_sent_profile(site, &change.charger, change.evse, &change.limit, fence)
                .await
            {
                Ok(()) => Outcome::Accepted,
                Err(e) => {
                    // Applied but not recorded: the stored record is stale, and a pass that
                    // trusted it could skip a needed decrease. The watch remembers this EVSE
                    // as unrecorded until a record is written.
                    tracing::warn!(charger = %change.charger, error = %e, "accepted profile not recorded");
                    Outcome::Unrecorded(e.to_string())
                }
            }
        }
        CommandReply::Result { status, .. } => {
            Outcome::Rejected(status.unwrap_or_else(|| "no status".into()))
        }
        CommandReply::CallError { code, description } => {
            Outcome::Rejected(format!("{code}: {description}"))
        }
        CommandReply::Unsupported { reason } => Outcome::Rejected(reason),
        CommandReply::Timeout => Outcome::Failed("no answer".into()),
        CommandReply::Offline => Outcome::Offline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::command::{ChargingLimit, ProfilePurpose, RateUnit, SchedulePeriod};
    use chargegrid_core::{Amperes, ChargerId, EvseId, SystemClock};

    fn change(charger: &str, old: f64, new: f64) -> Change {
        Change {
            charger: ChargerId::new(charger).unwrap(),
            evse: EvseId(1),
            limit: ChargingLimit {
                profile_id: 1,
                stack_level: 1,
                purpose: ProfilePurpose::TxDefault,
                transaction_id: None,
                start: None,
                unit: RateUnit::A,
                periods: vec![SchedulePeriod {
                    start_offset_s: 0,
                    limit: new,
                    phases: None,
                }],
                valid_to: None,
            },
            old: Amperes(old),
            new: Amperes(new),
        }
    }

    #[tokio::test]
    async fn a_holder_fenced_by_a_newer_one_sends_nothing() {
        let store: Arc<dyn Store> =
            Arc::new(chargegrid_store::MemoryStore::new(Arc::new(SystemClock)));
        let site = SiteId::new("s").unwrap();
        // A newer holder (token 5) has already acted for the site.
        store.check_fence(&site, 5).await.unwrap();
        let changes = vec![change("c1", 16.0, 8.0), change("c2", 8.0, 16.0)];
        let round = send_changes(
            &store,
            &site,
            changes,
            Duration::from_millis(50),
            &CancellationToken::new(),
            4,
        )
        .await;
        assert!(round.sent.is_empty(), "{:?}", round.sent);
        assert_eq!(round.held_back, 2);
        // The current holder does send (the chargers are offline here: that is the outcome).
        let round = send_changes(
            &store,
            &site,
            vec![change("c1", 16.0, 8.0)],
            Duration::from_millis(50),
            &CancellationToken::new(),
            5,
        )
        .await;
        assert_eq!(round.sent.len(), 1);
        assert_eq!(round.sent[0].outcome, Outcome::Offline);
    }
}
