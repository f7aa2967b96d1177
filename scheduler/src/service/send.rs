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

/// Sends `changes` in the safe order. Stops before a batch once `lost` is cancelled.
pub(crate) async fn send_changes(
    store: &Arc<dyn Store>,
    site: &SiteId,
    changes: Vec<Change>,
    timeout: Duration,
    lost: &CancellationToken,
) -> Round {
    let (mut down, mut up): (Vec<Change>, Vec<Change>) =
        changes.into_iter().partition(Change::is_decrease);
    down.sort_by(|a, b| a.new.0.total_cmp(&b.new.0));
    up.sort_by(|a, b| a.new.0.total_cmp(&b.new.0));
    let mut round = Round::default();
    if lost.is_cancelled() {
        round.held_back = down.len() + up.len();
        return round;
    }
    let decreases = batch(store, site, down, timeout).await;
    let all_down = decreases.iter().all(|s| s.outcome == Outcome::Accepted);
    round.sent = decreases;
    if !all_down || lost.is_cancelled() {
        round.held_back = up.len();
        return round;
    }
    round.sent.extend(batch(store, site, up, timeout).await);
    round
}

/// Sends changes in parallel and waits for every answer.
async fn batch(
    store: &Arc<dyn Store>,
    site: &SiteId,
    changes: Vec<Change>,
    timeout: Duration,
) -> Vec<Sent> {
    let mut tasks = JoinSet::new();
    for (i, change) in changes.into_iter().enumerate() {
        let store = store.clone();
        let site = site.clone();
        tasks.spawn(async move {
            let outcome = send_one(store.as_ref(), &site, &change, timeout).await;
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

async fn send_one(store: &dyn Store, site: &SiteId, change: &Change, timeout: Duration) -> Outcome {
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
            if let Err(e) = store
                .put_sent_profile(site, &change.charger, change.evse, &change.limit)
                .await
            {
                // Applied but not recorded: the next pass sends it again.
                tracing::warn!(charger = %change.charger, error = %e, "accepted profile not recorded");
            }
            Outcome::Accepted
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
