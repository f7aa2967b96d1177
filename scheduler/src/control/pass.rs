//! One pass over a site, with I/O: read the site, decide ([`super::plan`]), send the profiles in
//! the safe order ([`super::send`]), learn from the answers (retries, exclusions, boots
//! handled), check chargers obey, and write the allocation the API reads for dispatch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use chargegrid_core::arrivals::{self, ArrivalHabit};
use chargegrid_core::network::Site;
use chargegrid_core::stays::{self, PastStay};
use chargegrid_core::supply::MonthDemand;
use chargegrid_core::{ChargerId, Clock, SessionId, SiteId, Watts};
use chargegrid_store::{SessionAllocation, SiteAllocation, Store};
use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use super::config::ControlConfig;
use super::error::ServiceError;
use super::metrics::SchedulerMetrics;
use super::plan::{Plan, PlanInput, plan};
use super::profiles::Installed;
use super::send::{Outcome, Round, send_changes};
use super::snapshot::SiteSnapshot;
use super::tree::{evse_max, next_boundary};
use super::verify::{check_draw, millis, read_back};
use super::watch::SiteWatch;

/// What a pass is for, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// The first pass after taking the lease.
    Takeover,
    /// A change notice.
    Change,
    /// The periodic pass (or a limit window starting or ending).
    Periodic,
    /// A pass right after one that could not finish its changes.
    Retry,
}

impl Trigger {
    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Trigger::Takeover => "takeover",
            Trigger::Change => "change",
            Trigger::Periodic => "periodic",
            Trigger::Retry => "retry",
        }
    }
}

/// Everything a site's passes share.
#[derive(Debug, Clone)]
pub(crate) struct SiteContext {
    /// The site.
    pub site: SiteId,
    /// The store (and command bus).
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: Arc<ControlConfig>,
    /// Metrics.
    pub metrics: SchedulerMetrics,
}

/// What the loop needs to know after a pass.
#[derive(Debug, Clone, Default)]
pub(crate) struct PassReport {
    /// Changes could not all be made: run again soon.
    pub retry: bool,
    /// The next moment the limit in force changes by itself.
    pub next_boundary: Option<DateTime<Utc>>,
}

/// Estimates, once per session, the stay of every active session that did not state its
/// energy or departure, from its driver's earlier sessions; forgets sessions that ended. A
/// store error leaves the session without an estimate this pass (it is tried again next pass).
async fn estimate_stays(ctx: &SiteContext, watch: &mut SiteWatch, snapshot: &SiteSnapshot) {
    let active: HashSet<&SessionId> = snapshot.sessions.iter().map(|s| &s.session.id).collect();
    watch.estimates.retain(|id, _| active.contains(id));
    for input in &snapshot.sessions {
        let session = &input.session;
        let stated = input
            .needs
            .as_ref()
            .is_some_and(|n| n.energy.is_some() && n.departure.is_some());
        if stated || watch.estimates.contains_key(&session.id) {
            continue;
        }
        let Some(driver) = &session.driver else {
            watch.estimates.insert(session.id.clone(), None);
            continue;
        };
        let page = ctx
            .store
            .sessions_of_driver(driver, Some(session.started_at), stays::MAX_STAYS)
            .await;
        match page {
            Ok(page) => {
                let past: Vec<PastStay> = page
                    .sessions
                    .iter()
                    .filter_map(|p| {
                        let ended = p.ended_at?;
                        Some(PastStay {
                            arrived: p.started_at,
                            stay: ended - p.started_at,
                            energy: p.energy,
                        })
                    })
                    .collect();
                let estimate = stays::estimate(&past, session.started_at);
                watch.estimates.insert(session.id.clone(), estimate);
            }
            Err(e) => {
                tracing::warn!(site = %ctx.site, session = %session.id, error = %e, "driver history not read");
            }
        }
    }
}

/// How long the site's correction of stated energies is used before it is read again: one more
/// ended session barely moves the median of up to 200.
const STATEMENT_CORRECTION_FRESH: TimeDelta = TimeDelta::hours(1);

/// Reads how the site's drivers' statements of energy turned out and keeps the correction they
/// give, when an active session's energy was stated by its driver and the correction is missing
/// or older than [`STATEMENT_CORRECTION_FRESH`]. A store error leaves statements uncorrected
/// until a later pass reads them.
async fn read_statement_correction(
    ctx: &SiteContext,
    watch: &mut SiteWatch,
    snapshot: &SiteSnapshot,
    now: DateTime<Utc>,
) {
    let wanted = snapshot
        .sessions
        .iter()
        .any(|s| s.needs.as_ref().and_then(|n| n.driver_energy()).is_some());
    let fresh = watch
        .statement_correction
        .is_some_and(|(at, _)| now - at < STATEMENT_CORRECTION_FRESH && at <= now);
    if !wanted || fresh {
        return;
    }
    match ctx.store.statement_ratios(&ctx.site).await {
        Ok(ratios) => {
            let correction = stays::statement_correction(&ratios);
            watch.statement_correction = Some((now, correction));
            if let Some(c) = correction {
                ctx.metrics
                    .statement_correction
                    .with_label_values(&[ctx.site.as_str()])
                    .set(c);
            }
        }
        Err(e) => {
            tracing::warn!(site = %ctx.site, error = %e, "statement ratios not read");
        }
    }
}

/// Reads the site's recorded arrivals and learns its habit (`chargegrid_core::arrivals`) when
/// the site has a supply contract in a known time zone (the only use of the habit: holding
/// charging for a cheaper hour leaves room for the vehicles still to come) and the habit
/// kept is not for today's local day, and shows what it expects over the next 24 hours. A
/// store error leaves the habit kept (or none) until a later pass reads it.
async fn read_arrival_habit(
    ctx: &SiteContext,
    watch: &mut SiteWatch,
    site: &Site,
    now: DateTime<Utc>,
) {
    let Some(tz) = site
        .supply
        .as_ref()
        .and_then(|_| site.timezone.parse::<chrono_tz::Tz>().ok())
    else {
        // A site without prices (any more) needs no habit, and shows none.
        if watch.arrival_habit.take().is_some() {
            let _ = ctx
                .metrics
                .arrivals_expected_wh
                .remove_label_values(&[ctx.site.as_str()]);
        }
        return;
    };
    let today = now.with_timezone(&tz).date_naive();
    if watch
        .arrival_habit
        .as_ref()
        .is_none_or(|(day, _)| *day != today)
    {
        let since = now - arrivals::LOOKBACK - TimeDelta::days(1);
        match ctx.store.arrivals(&ctx.site, since, now).await {
            Ok(past) => {
                watch.arrival_habit = Some((today, ArrivalHabit::learn(&past, today, tz)));
            }
            Err(e) => {
                tracing::warn!(site = %ctx.site, error = %e, "arrivals not read");
            }
        }
    }
    if let Some((_, habit)) = &watch.arrival_habit {
        ctx.metrics
            .arrivals_expected_wh
            .with_label_values(&[ctx.site.as_str()])
            .set(habit.ahead(now).total().0);
    }
}

/// Runs one pass. `since` is when its trigger happened; `lost` is cancelled if the lease is;
/// `fence` is the lease's fencing token, checked by the store on every write and send.
pub(crate) async fn run_pass(
    ctx: &SiteContext,
    watch: &mut Option<SiteWatch>,
    trigger: Trigger,
    since: Instant,
    lost: &CancellationToken,
    fence: u64,
) -> Result<PassReport, ServiceError> {
    let site = ctx.site.as_str();
    let config = &ctx.config;
    let mut snapshot = SiteSnapshot::read(ctx.store.as_ref(), &ctx.site).await?;
    let watch = watch.get_or_insert_with(|| SiteWatch::new(&snapshot));
    // Profiles a charger accepted whose record could not be written: the stored record is not
    // trusted for them, so the plan sends them again.
    for key in &watch.unrecorded {
        snapshot.sent.remove(key);
    }
    estimate_stays(ctx, watch, &snapshot).await;
    let now = ctx.clock.now();
    read_statement_correction(ctx, watch, &snapshot, now).await;
    read_arrival_habit(ctx, watch, &snapshot.site, now).await;
    let observation = watch.observe(&snapshot, now, config);
    let plan = plan(PlanInput {
        snapshot: &snapshot,
        watch,
        observation: &observation,
        config,
        now,
    })?;
    ctx.metrics
        .alloc_seconds
        .observe(plan.alloc_time.as_secs_f64());
    ctx.metrics
        .reallocations
        .with_label_values(&[site, trigger.label()])
        .inc();

    let round = send_changes(
        &ctx.store,
        &ctx.site,
        plan.changes.clone(),
        config.command_timeout,
        lost,
        fence,
    )
    .await;
    let mut retry = round.held_back > 0;
    retry |= count_outcomes(ctx, watch, &snapshot, &observation.booted, &round, now);
    if round.sent.iter().any(|s| s.outcome == Outcome::Accepted) {
        for charger in read_back(&ctx.store, &snapshot, config, &round.sent).await {
            ctx.metrics
                .readback_mismatches
                .with_label_values(&[site])
                .inc();
            tracing::warn!(%charger, site, "read-back mismatch");
        }
    }
    track_caps(watch, &snapshot, &round, config, now);
    for charger in check_draw(watch, &snapshot, now, config) {
        ctx.metrics
            .profiles_ignored
            .with_label_values(&[site])
            .inc();
        watch.exclude(&charger, now, config);
        retry = true;
    }

    let allocation = record(&ctx.site, &plan, &snapshot, now);
    if !lost.is_cancelled() {
        ctx.store.put_allocation(&allocation, fence).await?;
    }
    publish(ctx, &plan, &snapshot, watch, allocation.demand.as_ref());
    ctx.metrics
        .pass_seconds
        .with_label_values(&[trigger.label()])
        .observe(since.elapsed().as_secs_f64());
    tracing::debug!(
        site,
        trigger = trigger.label(),
        sessions = plan.sessions.len(),
        changes = plan.changes.len(),
        constrained = plan.constrained,
        ms = millis(since.elapsed()),
        "site planned"
    );
    Ok(PassReport {
        retry,
        next_boundary: next_boundary(&snapshot.windows, now),
    })
}

/// Counts outcomes: failures towards exclusion, successes reset them, boots handled. Returns
/// whether something should be retried soon.
fn count_outcomes(
    ctx: &SiteContext,
    watch: &mut SiteWatch,
    snapshot: &SiteSnapshot,
    booted: &HashSet<ChargerId>,
    round: &Round,
    now: DateTime<Utc>,
) -> bool {
    let site = ctx.site.as_str();
    let mut retry = false;
    let mut unhandled: HashSet<ChargerId> = HashSet::new();
    for s in &round.sent {
        let purpose = match s.change.limit.purpose {
            chargegrid_core::command::ProfilePurpose::Tx => "tx",
            _ => "tx_default",
        };
        let outcome = match &s.outcome {
            Outcome::Accepted | Outcome::Unrecorded(_) => "accepted",
            Outcome::Rejected(_) => "rejected",
            Outcome::Failed(_) | Outcome::Offline => "failed",
        };
        ctx.metrics
            .profiles_sent
            .with_label_values(&[site, purpose, outcome])
            .inc();
        let key = (s.change.charger.clone(), s.change.evse);
        match &s.outcome {
            Outcome::Accepted => {
                watch.unrecorded.remove(&key);
                watch.succeeded(&s.change.charger);
            }
            Outcome::Unrecorded(_) => {
                watch.unrecorded.insert(key);
                watch.succeeded(&s.change.charger);
                retry = true;
            }
            Outcome::Offline => {
                unhandled.insert(s.change.charger.clone());
            }
            Outcome::Rejected(why) | Outcome::Failed(why) => {
                unhandled.insert(s.change.charger.clone());
                retry = true;
                tracing::warn!(charger = %s.change.charger, site, reason = %why, limit = s.change.new.0, "profile not applied");
                if watch.failed(&s.change.charger, now, &ctx.config) {
                    tracing::warn!(charger = %s.change.charger, site, "charger excluded: assumed at its maximum");
                }
            }
        }
    }
    let handled: HashSet<ChargerId> = booted.difference(&unhandled).cloned().collect();
    watch.boots_handled(snapshot, &handled);
    retry
}

/// Records, per session, the limit it runs under now (what the chargers accepted).
fn track_caps(
    watch: &mut SiteWatch,
    snapshot: &SiteSnapshot,
    round: &Round,
    config: &ControlConfig,
    now: DateTime<Utc>,
) {
    let mut sent = snapshot.sent.clone();
    for s in &round.sent {
        if s.outcome == Outcome::Accepted {
            sent.insert(
                (s.change.charger.clone(), s.change.evse),
                s.change.limit.clone(),
            );
        }
    }
    let installed = Installed {
        sent: &sent,
        voltage: config.voltage,
    };
    let caps: HashMap<_, _> = snapshot
        .sessions
        .iter()
        .filter_map(|s| {
            let c = &snapshot.charger(&s.session.charger)?.charger;
            let max = evse_max(c, s.session.evse, config.voltage);
            let cap = installed.active_cap(c, s.session.evse, &s.session.transaction_id, max);
            Some((s.session.id.clone(), cap))
        })
        .collect();
    for (id, cap) in caps {
        watch.set_cap(&id, cap, now);
    }
}

/// The allocation as the store (and the API's dispatch) keeps it.
fn record(
    site: &SiteId,
    plan: &Plan,
    snapshot: &SiteSnapshot,
    now: DateTime<Utc>,
) -> SiteAllocation {
    SiteAllocation {
        demand: month_demand(snapshot, now),
        site: site.clone(),
        computed_at: now,
        limit: plan.limit_watts,
        headroom: plan.headroom,
        sessions: plan
            .sessions
            .iter()
            .map(|s| SessionAllocation {
                session: s.session.clone(),
                charger: s.charger.clone(),
                evse: s.evse,
                power: s.power,
            })
            .collect(),
    }
}

/// The site's demand this month after this pass, when its supply contract charges for demand:
/// the power its sessions report now, held since the last pass (other loads behind the same
/// meter are not seen).
fn month_demand(snapshot: &SiteSnapshot, now: DateTime<Utc>) -> Option<MonthDemand> {
    snapshot
        .site
        .supply
        .as_ref()
        .filter(|s| s.demand_charge_per_kw > 0.0)?;
    let tz: chrono_tz::Tz = snapshot.site.timezone.parse().ok()?;
    let power: f64 = snapshot
        .sessions
        .iter()
        .filter_map(|s| s.session.power)
        .map(|p| p.0.max(0.0))
        .sum();
    let previous = snapshot.previous.as_ref().and_then(|a| a.demand.as_ref());
    Some(MonthDemand::advance(previous, now, Watts(power), &tz))
}

/// Updates the per-site gauges.
fn publish(
    ctx: &SiteContext,
    plan: &Plan,
    snapshot: &SiteSnapshot,
    watch: &SiteWatch,
    demand: Option<&MonthDemand>,
) {
    let site = [ctx.site.as_str()];
    let m = &ctx.metrics;
    m.limit_watts
        .with_label_values(&site)
        .set(plan.limit_watts.0);
    m.allocated_watts
        .with_label_values(&site)
        .set(plan.allocated.0);
    m.headroom_watts
        .with_label_values(&site)
        .set(plan.headroom.0);
    m.sessions
        .with_label_values(&site)
        .set(plan.sessions.len() as f64);
    let drawn: f64 = snapshot
        .sessions
        .iter()
        .filter_map(|s| s.session.power)
        .map(|p| p.0)
        .sum();
    m.drawn_watts.with_label_values(&site).set(drawn);
    m.excluded
        .with_label_values(&site)
        .set(watch.excluded() as f64);
    if let Some(d) = demand {
        m.month_peak_watts.with_label_values(&site).set(d.peak.0);
    }
}

#[cfg(test)]
mod tests {
    use chargegrid_core::SystemClock;
    use chargegrid_core::session::{Session, SessionState};
    use chargegrid_core::{ConnectorId, DriverId, EvseId, SessionId, WattHours};
    use chrono::{TimeDelta, TimeZone};

    use super::*;
    use crate::control::snapshot::SessionInput;

    /// A site's context on `store` with the default settings and fresh metrics.
    fn test_context(site: SiteId, store: Arc<dyn Store>) -> SiteContext {
        SiteContext {
            site,
            store,
            clock: Arc::new(SystemClock),
            config: Arc::new(ControlConfig::new("t")),
            metrics: SchedulerMetrics::new(&prometheus::Registry::new()).unwrap(),
        }
    }

    fn session(id: &str, driver: Option<&str>, started: DateTime<Utc>) -> Session {
        let mut s = Session::new(
            SessionId::new(id).unwrap(),
            id.into(),
            SiteId::new("s").unwrap(),
            ChargerId::new("c").unwrap(),
            (EvseId(1), ConnectorId(1)),
            started,
        );
        s.driver = driver.map(|d| DriverId::new(d).unwrap());
        s
    }

    #[test]
    fn the_months_demand_rides_along_with_each_allocation_for_a_site_that_pays_for_it() {
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let mut charging = session("x", None, start);
        charging.power = Some(Watts(20_000.0));
        let mut snapshot = SiteSnapshot {
            site: crate::control::fixtures::site(50_000.0),
            chargers: vec![],
            windows: vec![],
            sessions: vec![SessionInput {
                session: charging,
                needs: None,
            }],
            sent: HashMap::new(),
            previous: None,
        };
        let plan = Plan {
            changes: vec![],
            sessions: vec![],
            limit_watts: Watts(50_000.0),
            allocated: Watts(0.0),
            headroom: Watts(50_000.0),
            alloc_time: std::time::Duration::ZERO,
            constrained: false,
        };
        let site = SiteId::new("s").unwrap();
        // No demand charge: nothing kept.
        assert_eq!(record(&site, &plan, &snapshot, start).demand, None);
        snapshot.site.supply = Some(chargegrid_core::supply::SupplyTariff {
            windows: vec![],
            base_price_per_kwh: 0.2,
            demand_charge_per_kw: 10.0,
            carbon: None,
        });
        // Passes every 5 minutes at 20 kW: once the quarter hour 08:00–08:15 closes, the
        // month's peak is 20 kW, whichever pass wrote the record before.
        for min in (0..=15).step_by(5) {
            let at = start + TimeDelta::minutes(min);
            snapshot.previous = Some(record(&site, &plan, &snapshot, at));
        }
        let demand = snapshot.previous.clone().unwrap().demand.unwrap();
        assert_eq!(demand.month, "2026-03");
        assert!((demand.peak.0 - 20_000.0).abs() < 1e-6, "{demand:?}");
        // Operators see it.
        let ctx = test_context(
            site.clone(),
            Arc::new(chargegrid_store::MemoryStore::new(Arc::new(SystemClock))),
        );
        let watch = SiteWatch::new(&snapshot);
        publish(&ctx, &plan, &snapshot, &watch, Some(&demand));
        let shown = ctx.metrics.month_peak_watts.with_label_values(&["s"]).get();
        assert!((shown - 20_000.0).abs() < 1e-6, "{shown}");
    }

    #[tokio::test]
    async fn a_session_nobody_spoke_for_is_estimated_from_its_drivers_earlier_stays() {
        let store: Arc<dyn Store> =
            Arc::new(chargegrid_store::MemoryStore::new(Arc::new(SystemClock)));
        let day = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
        // Three mornings of 9 h and 12 kWh for driver d.
        for d in 1..=3 {
            let mut s = session(&format!("past-{d}"), Some("d"), day(d, 8));
            s.state = SessionState::Ended;
            s.ended_at = Some(day(d, 17));
            s.energy = WattHours::from_kwh(12.0);
            store.create_session(&s).await.unwrap();
        }
        let now = day(10, 8);
        let with_driver = session("now-d", Some("d"), now);
        let anonymous = session("now-x", None, now);
        let newcomer = session("now-n", Some("n"), now);
        for s in [&with_driver, &anonymous, &newcomer] {
            store.create_session(s).await.unwrap();
        }
        let snapshot = SiteSnapshot {
            site: crate::control::fixtures::site(11_000.0),
            chargers: vec![],
            windows: vec![],
            sessions: [with_driver, anonymous, newcomer]
                .into_iter()
                .map(|session| SessionInput {
                    session,
                    needs: None,
                })
                .collect(),
            sent: HashMap::new(),
            previous: None,
        };
        let ctx = test_context(SiteId::new("s").unwrap(), store);
        let mut watch = SiteWatch::new(&snapshot);
        watch
            .estimates
            .insert(SessionId::new("gone").unwrap(), None);
        estimate_stays(&ctx, &mut watch, &snapshot).await;
        let e = watch.estimates[&SessionId::new("now-d").unwrap()].unwrap();
        assert_eq!(e.departure, now + TimeDelta::hours(9));
        assert!((e.energy.0 - 12_000.0).abs() < 1e-6);
        assert_eq!(e.from, 3);
        assert_eq!(watch.estimates[&SessionId::new("now-x").unwrap()], None);
        assert_eq!(watch.estimates[&SessionId::new("now-n").unwrap()], None);
        assert!(
            !watch
                .estimates
                .contains_key(&SessionId::new("gone").unwrap()),
            "an ended session is forgotten"
        );
    }

    #[tokio::test]
    async fn the_statement_correction_is_read_when_a_driver_states_an_energy_and_kept_an_hour() {
        let store: Arc<dyn Store> =
            Arc::new(chargegrid_store::MemoryStore::new(Arc::new(SystemClock)));
        let site = SiteId::new("s").unwrap();
        for _ in 0..stays::MIN_CALIBRATION {
            store.push_statement_ratio(&site, 0.5).await.unwrap();
        }
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap();
        let mut snapshot = SiteSnapshot {
            site: crate::control::fixtures::site(11_000.0),
            chargers: vec![],
            windows: vec![],
            sessions: vec![SessionInput {
                session: session("now", Some("d"), now),
                needs: Some(chargegrid_store::EvNeeds {
                    energy: Some(WattHours::from_kwh(20.0)),
                    departure: None,
                    min_power: None,
                    max_power: None,
                    source: chargegrid_store::NeedsSource::Vehicle,
                    updated_at: now,
                }),
            }],
            sent: HashMap::new(),
            previous: None,
        };
        let ctx = test_context(site.clone(), store.clone());
        let mut watch = SiteWatch::new(&snapshot);
        // A vehicle's figure needs no correction: nothing read.
        read_statement_correction(&ctx, &mut watch, &snapshot, now).await;
        assert!(watch.statement_correction.is_none());
        snapshot.sessions[0].needs.as_mut().unwrap().source = chargegrid_store::NeedsSource::Driver;
        read_statement_correction(&ctx, &mut watch, &snapshot, now).await;
        assert_eq!(watch.statement_correction, Some((now, Some(0.5))));
        // Operators see it.
        let shown = |ctx: &SiteContext| {
            ctx.metrics
                .statement_correction
                .with_label_values(&["s"])
                .get()
        };
        assert_eq!(shown(&ctx), 0.5);
        // Within the hour the figure read is used; after it the record is read again (21 more
        // ratios at 1.0 than the 20 halves: the median moves to 1.0).
        for _ in 0..21 {
            store.push_statement_ratio(&site, 1.0).await.unwrap();
        }
        let later = now + TimeDelta::minutes(30);
        read_statement_correction(&ctx, &mut watch, &snapshot, later).await;
        assert_eq!(watch.statement_correction, Some((now, Some(0.5))));
        let later = now + STATEMENT_CORRECTION_FRESH;
        read_statement_correction(&ctx, &mut watch, &snapshot, later).await;
        assert_eq!(watch.statement_correction, Some((later, Some(1.0))));
        assert_eq!(shown(&ctx), 1.0);
    }

    #[tokio::test]
    async fn the_arrival_habit_is_learned_once_a_local_day_where_supply_prices_are_known() {
        let store: Arc<dyn Store> =
            Arc::new(chargegrid_store::MemoryStore::new(Arc::new(SystemClock)));
        let site = SiteId::new("s").unwrap();
        // 11:00 UTC on Tuesday 10 March 2026 is 01:00 on Wednesday 11 March at a site on
        // Kiritimati (UTC+14): the local day, not the UTC one, decides.
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 11, 0, 0).unwrap();
        // 12 kWh arrived at 21:00 local on Sunday 8 and Monday 2 March.
        let push = |days: i64, kwh: f64| {
            let store = store.clone();
            let site = site.clone();
            async move {
                let arrival = arrivals::PastArrival {
                    arrived: now - TimeDelta::days(days) - TimeDelta::hours(4),
                    energy: WattHours::from_kwh(kwh),
                };
                store.push_arrival(&site, &arrival).await.unwrap();
            }
        };
        push(2, 12.0).await;
        push(8, 12.0).await;
        let mut snapshot = SiteSnapshot {
            site: crate::control::fixtures::site(11_000.0),
            chargers: vec![],
            windows: vec![],
            sessions: vec![],
            sent: HashMap::new(),
            previous: None,
        };
        snapshot.site.timezone = "Pacific/Kiritimati".into();
        let ctx = test_context(site.clone(), store.clone());
        let mut watch = SiteWatch::new(&snapshot);
        // No supply contract: prices never move, the habit is not needed.
        read_arrival_habit(&ctx, &mut watch, &snapshot.site, now).await;
        assert!(watch.arrival_habit.is_none());
        let mut priced = snapshot.site.clone();
        priced.supply = Some(chargegrid_core::supply::SupplyTariff {
            windows: vec![],
            base_price_per_kwh: 0.2,
            demand_charge_per_kw: 0.0,
            carbon: None,
        });
        read_arrival_habit(&ctx, &mut watch, &priced, now).await;
        let (day, habit) = watch.arrival_habit.clone().unwrap();
        assert_eq!(day, chrono::NaiveDate::from_ymd_opt(2026, 3, 11).unwrap());
        // Monday 2 to Monday 9 March (not yesterday, Tuesday 10): six weekdays, two weekend
        // days. Wednesday's 21:00 is ahead: 12 kWh over six weekdays.
        assert_eq!(habit.days(), (6, 2));
        assert!((habit.ahead(now).total().0 - 2_000.0).abs() < 1e-6);
        // Operators see it.
        let shown = || {
            ctx.metrics
                .arrivals_expected_wh
                .with_label_values(&["s"])
                .get()
        };
        assert!((shown() - 2_000.0).abs() < 1e-6, "{}", shown());
        // Within the local day the habit kept is used, though Monday 9 March has gained an
        // arrival; the next local day it is learned again with it.
        push(1, 50.0).await;
        read_arrival_habit(&ctx, &mut watch, &priced, now + TimeDelta::hours(3)).await;
        assert_eq!(watch.arrival_habit.as_ref().unwrap().1, habit);
        let tomorrow = now + TimeDelta::days(1);
        read_arrival_habit(&ctx, &mut watch, &priced, tomorrow).await;
        let (day, habit) = watch.arrival_habit.clone().unwrap();
        assert_eq!(day, chrono::NaiveDate::from_ymd_opt(2026, 3, 12).unwrap());
        assert_eq!(habit.days(), (7, 2));
        assert!((habit.ahead(tomorrow).total().0 - 62_000.0 / 7.0).abs() < 1e-6);
        // The contract ends: the habit and its figure go.
        read_arrival_habit(&ctx, &mut watch, &snapshot.site, tomorrow).await;
        assert!(watch.arrival_habit.is_none());
        let shown = prometheus::core::Collector::collect(&ctx.metrics.arrivals_expected_wh);
        assert!(shown.iter().all(|f| f.get_metric().is_empty()), "{shown:?}");
    }
}
