//! Transactions, version-neutral: start (we assign 1.6 transaction ids; 2.0.1 chargers bring
//! their own), meter data, stop. Every write reaches the store before the charger is answered.
//! Field realities handled here: a replayed start is recognised and gets the same id; a start
//! on a connector that still has an open session closes the stale one; meter values and stops
//! for unknown or `-1` transaction ids are reconciled to the open session on the charger, or
//! recorded as an offline session, never refused (a refusal makes chargers retry forever).

use chargegrid_core::meter::MeterSample;
use chargegrid_core::session::{Session, SessionState, StopReason};
use chargegrid_core::stays;
use chargegrid_core::{ConnectorId, EvseId, IdTag, SessionId, SiteId, WattHours, Watts};
use chargegrid_store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};

use super::authorization::{TagInfo, authorize};
use super::meter::{Applied, apply};
use crate::context::ConnectionContext;

use chargegrid_core::network::UNASSIGNED_SITE;

/// A transaction start.
#[derive(Debug, Clone)]
pub(crate) struct StartRequest {
    pub evse: EvseId,
    pub connector: ConnectorId,
    pub id_tag: Option<IdTag>,
    pub meter_start: Option<WattHours>,
    pub started_at: DateTime<Utc>,
    /// The charger's own id (2.0.1); `None` to assign one (1.6).
    pub transaction_id: Option<String>,
    pub reason: Option<String>,
    pub offline: bool,
    pub samples: Vec<MeterSample>,
    /// The reservation the charger says this transaction uses.
    pub reservation: Option<i32>,
}

/// The outcome of a start.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    pub session: Session,
    pub tag: Option<TagInfo>,
    /// The start had been recorded before (a retransmission).
    pub duplicate: bool,
}

/// A transaction stop.
#[derive(Debug, Clone)]
pub(crate) struct StopRequest {
    pub transaction_id: String,
    pub evse: Option<EvseId>,
    pub id_tag: Option<IdTag>,
    pub meter_stop: Option<WattHours>,
    pub stopped_at: DateTime<Utc>,
    pub reason: StopReason,
    pub offline: bool,
    pub samples: Vec<MeterSample>,
}

/// Counts what one message's meter data became: how it found its session, register readings
/// that went backwards, and values that could not be read.
pub(crate) fn count_meter_data(
    ctx: &ConnectionContext,
    matched: Match,
    backwards: usize,
    unreadable: usize,
) {
    let metrics = &ctx.gateway.inner.metrics;
    metrics
        .meter_values
        .with_label_values(&[matched.label()])
        .inc();
    for (kind, n) in [("backwards", backwards), ("unreadable", unreadable)] {
        if n > 0 {
            metrics
                .register_anomalies
                .with_label_values(&[kind])
                .inc_by(n as u64);
        }
    }
}

/// How a message found its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// By its transaction id.
    Exact,
    /// The id was unknown; matched to the open session on the charger/connector.
    Reconciled,
    /// Nothing matched; a new (offline) record was made, or the data was dropped.
    Orphan,
}

impl Match {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Match::Exact => "exact",
            Match::Reconciled => "reconciled",
            Match::Orphan => "orphan",
        }
    }
}

fn max_power(ctx: &ConnectionContext) -> Watts {
    ctx.config
        .as_ref()
        .map_or(chargegrid_core::meter::UNKNOWN_CHARGER_MAX, |c| c.max_power)
}

fn site(ctx: &ConnectionContext) -> SiteId {
    ctx.config.as_ref().map_or_else(
        || SiteId::new(UNASSIGNED_SITE).unwrap_or_else(|_| unreachable!("constant id is valid")),
        |c| c.site.clone(),
    )
}

fn new_session_id() -> SessionId {
    SessionId::new(uuid::Uuid::new_v4().to_string())
        .unwrap_or_else(|_| unreachable!("a UUID is a valid session id"))
}

/// The tariff a session starting now at this charger is priced on: the charger's own, else
/// its site's (none for a charger outside the network).
async fn tariff(ctx: &ConnectionContext) -> StoreResult<Option<chargegrid_core::tariff::Tariff>> {
    let Some(charger) = ctx.config.as_ref() else {
        return Ok(None);
    };
    if let Some(t) = &charger.tariff {
        return Ok(Some(t.clone()));
    }
    Ok(ctx
        .gateway
        .inner
        .store
        .get_site(&charger.site)
        .await?
        .and_then(|s| s.effective_tariff()))
}

/// Keeps the connection's view of `session` in step with the store after a write: the new
/// version when it succeeded, nothing when it failed.
fn written(ctx: &ConnectionContext, session: &Session, result: StoreResult<()>) -> StoreResult<()> {
    match result {
        Ok(()) => {
            ctx.wrote(session);
            Ok(())
        }
        Err(e) => {
            ctx.forget(&session.transaction_id);
            Err(e)
        }
    }
}

/// Records a transaction start.
pub(crate) async fn start(ctx: &ConnectionContext, req: StartRequest) -> StoreResult<Started> {
    let store = &ctx.gateway.inner.store;
    // A start the charger queued while offline already happened: the card cannot be refused
    // for being in use elsewhere now (the charger could not undo it), so only live starts are
    // checked for concurrent use.
    let tag = match &req.id_tag {
        Some(t) => Some(authorize(ctx, t, !req.offline).await?),
        None => None,
    };
    let open = store.active_sessions_of_charger(&ctx.charger).await?;
    for existing in open.iter().filter(|s| s.evse == req.evse) {
        let same_start = existing.started_at == req.started_at && existing.id_tag == req.id_tag;
        let same_id = req.transaction_id.as_deref() == Some(existing.transaction_id.as_str());
        if same_start || same_id {
            return Ok(Started {
                session: existing.clone(),
                tag: tag.map(|mut t| {
                    // The card is in *this* transaction, not a concurrent one.
                    if t.status == chargegrid_core::driver::IdTagStatus::ConcurrentTx {
                        t.status = chargegrid_core::driver::IdTagStatus::Accepted;
                    }
                    t
                }),
                duplicate: true,
            });
        }
        // The charger started anew on this EVSE: the old session's stop was lost.
        let mut stale = existing.clone();
        stale.state = SessionState::Ended;
        stale.ended_at = Some(req.started_at.max(stale.started_at));
        stale.stop_reason = Some(StopReason::Other("Superseded".into()));
        written(
            ctx,
            &stale,
            store.update_session(existing, &stale, &[]).await,
        )?;
        tracing::warn!(charger = %ctx.charger, session = %stale.id, "open session closed by a new start on the same EVSE");
        remember_arrival(ctx, &stale).await;
    }
    let transaction_id = match &req.transaction_id {
        Some(id) => id.clone(),
        None => store.next_transaction_id().await?.to_string(),
    };
    let record = tag.as_ref().and_then(|t| t.record.as_ref());
    let mut session = Session {
        id_tag: req.id_tag.clone(),
        driver: record.and_then(|r| r.driver.clone()),
        fleet: record.and_then(|r| r.fleet.clone()),
        vehicle: record.and_then(|r| r.vehicle.clone()),
        start_reason: req.reason.clone(),
        offline: req.offline,
        ..Session::new(
            new_session_id(),
            transaction_id,
            site(ctx),
            ctx.charger.clone(),
            (req.evse, req.connector),
            req.started_at,
        )
    };
    session.tariff = tariff(ctx).await?;
    if let Some(wh) = req.meter_start {
        session.record_register(wh, req.started_at, max_power(ctx));
    }
    apply(&mut session, &req.samples, max_power(ctx));
    match store.create_session(&session).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            // Another node recorded the same charger transaction id first (2.0.1 retransmit).
            if let Some(existing) = store
                .find_by_transaction(&ctx.charger, &session.transaction_id)
                .await?
            {
                return Ok(Started {
                    session: existing,
                    tag,
                    duplicate: true,
                });
            }
            return Err(StoreError::Conflict(format!(
                "transaction {}",
                session.transaction_id
            )));
        }
        Err(e) => return Err(e),
    }
    if !req.samples.is_empty() {
        store
            .update_session(&session, &session, &req.samples)
            .await?;
    }
    ctx.wrote(&session);
    if let Some(id) = req.reservation {
        use_reservation(ctx, id).await?;
    }
    tracing::info!(charger = %ctx.charger, session = %session.id, transaction = %session.transaction_id, evse = %req.evse, "transaction started");
    ctx.gateway
        .inner
        .metrics
        .active_sessions
        .with_label_values(&[session.site.as_str()])
        .inc();
    super::changes::notify_session(
        ctx,
        chargegrid_store::ChangeKind::SessionStarted,
        Some(session.id.clone()),
    )
    .await;
    Ok(Started {
        session,
        tag,
        duplicate: false,
    })
}

/// Marks reservation `id` used, when it is an active one on this charger (a made-up or another
/// charger's id changes nothing): it no longer holds the connector.
async fn use_reservation(ctx: &ConnectionContext, id: i32) -> StoreResult<()> {
    let store = &ctx.gateway.inner.store;
    if let Some(mut r) = store.get_reservation(id).await?
        && r.charger == ctx.charger
        && r.state == chargegrid_store::ReservationState::Active
    {
        r.state = chargegrid_store::ReservationState::Used;
        store.put_reservation(&r).await?;
    }
    Ok(())
}

/// Finds the session a message with `transaction_id` (if any) on `evse` (if known) belongs to.
async fn resolve(
    ctx: &ConnectionContext,
    transaction_id: Option<&str>,
    evse: Option<EvseId>,
) -> StoreResult<(Option<Session>, Match)> {
    let store = &ctx.gateway.inner.store;
    if let Some(id) = transaction_id {
        if let Some(s) = ctx.live_session(id) {
            return Ok((Some(s), Match::Exact));
        }
        if let Some(s) = store.find_by_transaction(&ctx.charger, id).await? {
            return Ok((Some(s), Match::Exact));
        }
    }
    let open: Vec<Session> = store
        .active_sessions_of_charger(&ctx.charger)
        .await?
        .into_iter()
        .filter(|s| evse.is_none_or(|e| s.evse == e))
        .collect();
    if open.len() == 1 {
        return Ok((open.into_iter().next(), Match::Reconciled));
    }
    Ok((None, Match::Orphan))
}

/// Records meter values. Returns how the session was found and what was applied.
pub(crate) async fn meter_values(
    ctx: &ConnectionContext,
    evse: EvseId,
    transaction_id: Option<&str>,
    samples: Vec<MeterSample>,
) -> StoreResult<(Match, Applied)> {
    if samples.is_empty() {
        return Ok((Match::Exact, Applied::default()));
    }
    // Connector 0 is the charger's main meter, not a session.
    if evse.0 == 0 && transaction_id.is_none() {
        return Ok((Match::Orphan, Applied::default()));
    }
    let (session, matched) = resolve(ctx, transaction_id, Some(evse).filter(|e| e.0 != 0)).await?;
    let Some(mut session) = session else {
        tracing::warn!(charger = %ctx.charger, transaction = ?transaction_id, %evse, "meter values for no open session dropped");
        return Ok((Match::Orphan, Applied::default()));
    };
    let applied = record_samples(ctx, &mut session, samples).await?;
    Ok((matched, applied))
}

/// Records meter values of a session the caller already found (by its exact transaction id):
/// [`meter_values`] without looking the session up again.
pub(crate) async fn record_samples(
    ctx: &ConnectionContext,
    session: &mut Session,
    samples: Vec<MeterSample>,
) -> StoreResult<Applied> {
    if samples.is_empty() {
        return Ok(Applied::default());
    }
    let before = session.clone();
    let applied = apply(session, &samples, max_power(ctx));
    written(
        ctx,
        session,
        ctx.gateway
            .inner
            .store
            .update_session(&before, session, &samples)
            .await,
    )?;
    Ok(applied)
}

/// A vehicle drawing less than this at the end of its session had stopped charging (full, or
/// done by its own choice): what it took is what it wanted.
const STOPPED_DRAWING: Watts = Watts(500.0);

/// At a session's end, records how its driver's statement of energy turned out (delivered ÷
/// stated) for the site, from which the scheduler corrects later statements. Only a driver's
/// figure counts (a vehicle's own needs no correction), and only from a vehicle that had stopped
/// drawing ([`STOPPED_DRAWING`], by its last metered power): one unplugged while still charging
/// took less than it wanted, perhaps because the scheduler gave it less, and would pull the
/// correction down for every later driver. The figure is a statistic: a store error reading or
/// writing it is logged and the stop goes on.
async fn learn_from_statement(ctx: &ConnectionContext, session: &Session) {
    // A vehicle still drawing teaches nothing: no need to read its needs.
    if !session.power.is_some_and(|p| p < STOPPED_DRAWING) {
        return;
    }
    let store = &ctx.gateway.inner.store;
    let needs = match store.get_ev_needs(&session.site, &session.id).await {
        Ok(needs) => needs,
        Err(e) => {
            tracing::warn!(session = %session.id, error = %e, "needs not read at the stop");
            return;
        }
    };
    let Some(ratio) = needs
        .and_then(|n| n.driver_energy())
        .and_then(|stated| stays::statement_ratio(session.energy, stated))
    else {
        return;
    };
    if let Err(e) = store.push_statement_ratio(&session.site, ratio).await {
        tracing::warn!(session = %session.id, error = %e, "statement outcome not recorded");
    }
}

/// At a session's end, records when it arrived and what it took, from which the scheduler
/// learns the site's habit of arrivals (`chargegrid_core::arrivals`) and leaves room for them
/// when it holds charging for a cheaper hour. A statistic, like the statement ratio: a store
/// error is logged and the stop goes on. An energy that is not a finite figure of at least 0
/// (the meter's registers gone wrong) is not recorded: it would spoil its quarter-hour.
async fn remember_arrival(ctx: &ConnectionContext, session: &Session) {
    if !(session.energy.is_finite() && session.energy.0 >= 0.0) {
        return;
    }
    let arrival = chargegrid_core::arrivals::PastArrival {
        arrived: session.started_at,
        energy: session.energy,
    };
    let store = &ctx.gateway.inner.store;
    if let Err(e) = store.push_arrival(&session.site, &arrival).await {
        tracing::warn!(session = %session.id, error = %e, "arrival not recorded");
    }
}

/// The outcome of a stop.
#[derive(Debug, Clone)]
pub(crate) struct Stopped {
    pub tag: Option<TagInfo>,
    pub matched: Match,
}

/// Records a transaction stop (idempotent: a repeated stop changes nothing).
pub(crate) async fn stop(ctx: &ConnectionContext, req: StopRequest) -> StoreResult<Stopped> {
    let store = &ctx.gateway.inner.store;
    let tag = match &req.id_tag {
        Some(t) => Some(authorize(ctx, t, false).await?),
        None => None,
    };
    let (found, matched) = resolve(ctx, Some(&req.transaction_id), req.evse).await?;
    if let Some(s) = &found
        && !s.is_active()
    {
        return Ok(Stopped { tag, matched });
    }
    let before = found.clone();
    let (mut session, created) = match found {
        Some(s) => (s, false),
        None => {
            let mut s = offline_session(ctx, &req);
            s.tariff = tariff(ctx).await?;
            (s, true)
        }
    };
    apply(&mut session, &req.samples, max_power(ctx));
    if let Some(wh) = req.meter_stop {
        let at = req.stopped_at;
        session.record_register(wh, at, max_power(ctx));
    }
    session.state = SessionState::Ended;
    session.ended_at = Some(req.stopped_at.max(session.started_at));
    session.stop_reason = Some(req.reason.clone());
    session.offline |= req.offline;
    if created {
        store.create_session(&session).await?;
    }
    // A session created ended here is its own previous version.
    let before = before.unwrap_or_else(|| session.clone());
    written(
        ctx,
        &session,
        store.update_session(&before, &session, &req.samples).await,
    )?;
    learn_from_statement(ctx, &session).await;
    // A session first seen at its stop has a guessed start: no arrival to learn from.
    if !created {
        remember_arrival(ctx, &session).await;
    }
    store.delete_ev_needs(&session.site, &session.id).await?;
    tracing::info!(charger = %ctx.charger, session = %session.id, energy_wh = session.energy.0, matched = matched.label(), "transaction stopped");
    let metrics = &ctx.gateway.inner.metrics;
    if !created {
        metrics
            .active_sessions
            .with_label_values(&[session.site.as_str()])
            .dec();
    }
    metrics
        .energy_delivered
        .with_label_values(&[session.site.as_str()])
        .inc_by(session.energy.0.max(0.0) * 3600.0);
    super::changes::notify_session(
        ctx,
        chargegrid_store::ChangeKind::SessionEnded,
        Some(session.id.clone()),
    )
    .await;
    Ok(Stopped { tag, matched })
}

/// A record for a stop whose start we never saw (the charger was offline and lost or never
/// sent it): it starts at the first sample, or at the stop.
fn offline_session(ctx: &ConnectionContext, req: &StopRequest) -> Session {
    let started_at = req
        .samples
        .iter()
        .map(|s| s.timestamp)
        .min()
        .unwrap_or(req.stopped_at)
        .min(req.stopped_at);
    let transaction_id = if req.transaction_id == "-1" || req.transaction_id.is_empty() {
        format!("offline-{}", uuid::Uuid::new_v4().simple())
    } else {
        req.transaction_id.clone()
    };
    Session {
        id_tag: req.id_tag.clone(),
        offline: true,
        ..Session::new(
            new_session_id(),
            transaction_id,
            site(ctx),
            ctx.charger.clone(),
            (
                req.evse.unwrap_or(EvseId(0)),
                ConnectorId(req.evse.map_or(0, |e| e.0)),
            ),
            started_at,
        )
    }
}
