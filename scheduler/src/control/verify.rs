//! Checking that chargers do what their profiles say: the composite schedule read back after a
//! profile is accepted (for models with `read_back`), and metered draw compared with the limit
//! a session runs under (a charger whose sessions keep drawing clearly more ignores profiles).

use std::sync::Arc;
use std::time::Duration;

use chargegrid_core::command::{
    ChargerCommand, CommandReply, CompositeSchedule, RateUnit, ReplyDetails,
};
use chargegrid_core::{Amperes, ChargerId, EvseId, Watts};
use chargegrid_store::Store;
use chrono::{DateTime, Utc};

use super::config::ControlConfig;
use super::profiles::{limit_amps, unit_for};
use super::send::{Outcome, Sent};
use super::snapshot::SiteSnapshot;
use super::watch::SiteWatch;

/// Metered power may exceed the limit by this share before it counts (meter and pilot error)…
const OVER_SHARE: f64 = 0.10;
/// …plus this much.
const OVER_MARGIN: Watts = Watts(300.0);
/// How far a read-back limit may lie above what was sent, in amperes.
const READ_BACK_SLACK: f64 = 0.2;

/// Reads back every accepted per-EVSE profile of a model with `read_back`; returns the chargers
/// whose composite schedule allows more than was sent.
pub(crate) async fn read_back(
    store: &Arc<dyn Store>,
    snapshot: &SiteSnapshot,
    config: &ControlConfig,
    sent: &[Sent],
) -> Vec<ChargerId> {
    let mut mismatched = Vec::new();
    for s in sent {
        if s.outcome != Outcome::Accepted || s.change.evse == EvseId(0) {
            continue;
        }
        let Some(input) = snapshot.charger(&s.change.charger) else {
            continue;
        };
        let knobs = config.knobs(&input.charger.model);
        if !knobs.read_back {
            continue;
        }
        let command = ChargerCommand::GetCompositeSchedule {
            evse: s.change.evse,
            duration_s: 60,
            unit: Some(unit_for(&input.charger, knobs)),
        };
        let reply = store
            .send_command(&s.change.charger, command, config.command_timeout)
            .await;
        let Ok(CommandReply::Result {
            details: Some(ReplyDetails::CompositeSchedule(schedule)),
            ..
        }) = reply
        else {
            continue;
        };
        let Some(read) = composite_amps(&schedule, &input.charger, config) else {
            continue;
        };
        let sent_amps = limit_amps(&s.change.limit, &input.charger, config.voltage);
        if read.0 > sent_amps.0 + READ_BACK_SLACK {
            tracing::warn!(
                charger = %s.change.charger,
                evse = s.change.evse.0,
                sent = sent_amps.0,
                read = read.0,
                "composite schedule allows more than the profile sent"
            );
            mismatched.push(s.change.charger.clone());
        }
    }
    mismatched
}

/// The first period's limit of a composite schedule, as a per-phase current.
fn composite_amps(
    schedule: &CompositeSchedule,
    charger: &chargegrid_core::network::Charger,
    config: &ControlConfig,
) -> Option<Amperes> {
    let limit = schedule.periods.first()?.limit;
    Some(match schedule.unit {
        RateUnit::A => Amperes(limit),
        RateUnit::W => charger.wiring.current(Watts(limit), config.voltage),
    })
}

/// Compares each session's fresh metered power with the limit it runs under; returns the
/// chargers whose sessions drew clearly above it for `ignore_passes` passes in a row.
pub(crate) fn check_draw(
    watch: &mut SiteWatch,
    snapshot: &SiteSnapshot,
    now: DateTime<Utc>,
    config: &ControlConfig,
) -> Vec<ChargerId> {
    let mut ignoring = Vec::new();
    for input in &snapshot.sessions {
        let s = &input.session;
        let Some(charger) = snapshot.charger(&s.charger) else {
            continue;
        };
        let (Some(w), Some(power)) = (watch.sessions.get_mut(&s.id), s.power) else {
            continue;
        };
        if w.cap.0.is_nan() || w.readings < 2 || now - w.since < config.verify_grace {
            continue;
        }
        let allowed = charger.charger.wiring.power(w.cap, config.voltage);
        if power > allowed * (1.0 + OVER_SHARE) + OVER_MARGIN {
            w.over += 1;
            w.readings = 0;
            if w.over >= config.ignore_passes {
                w.over = 0;
                tracing::warn!(
                    charger = %s.charger,
                    session = %s.id,
                    drawn_w = power.0,
                    allowed_w = allowed.0,
                    "charger draws above its limit: it ignores profiles"
                );
                ignoring.push(s.charger.clone());
            }
        } else {
            w.over = 0;
        }
    }
    ignoring
}

/// A short duration for logs.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
