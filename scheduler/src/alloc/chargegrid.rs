//! chargegrid's allocation: laxity water-filling through the limit tree.
//!
//! 1. **Laxity.** For each session, `laxity = time left after this period − energy left /
//!    top rate`: how long it could still idle and finish at full speed. Least laxity first
//!    (LLF) is the classic rule for deadlines with rate caps; here it is made *fluid*. The time
//!    left after this period counts as at least one period, except for a session not found
//!    short (step 2) that leaves before the next period ends: none, so it is planned to finish
//!    in this one (an allocation holds for a period; with long periods, as a replay's 5
//!    minutes, the minutes after the last whole one were a period it never saw).
//! 2. **Admission.** Sessions get 0 or at least their floor. Least laxity first (less
//!    [`WEIGHT_HOURS`] × ln(priority weight)), each reserves its floor — or the even pace that finishes it by
//!    departure, if more — and is admitted only if its floor fits under every limit on its path
//!    (reservations above the floor bind only sessions over [`TIE_HOURS`] laxer, so equal
//!    sessions share rather than exclude each other).
//!    Sessions already charging are ranked [`RUNNING_BONUS_HOURS`] more urgent than their
//!    laxity says: hysteresis against stop-start that costs no measurable energy in the replays.
//!    **Drivers leave full.** Laxity alone spreads a shortage over everyone, so on a congested
//!    site one driver in four left short where the offline optimum sends almost all away full.
//!    When the site's power limit is full and someone is left short, a flow over the remaining
//!    stay of the sessions present ([`horizon::short_of_full`], [`super::lexi`]) finds who can
//!    be served in full together (smallest need first, with a share of the limit after this
//!    period kept for vehicles yet to arrive) and what the others can still get in a plan that
//!    delivers the most; those others are ranked by that energy instead of their
//!    whole need, and [`SHORT_HOURS`] laxer, and the decision runs again (then step 6 runs
//!    even with a floor, to win back energy the new order may cost). Energy comes first, so
//!    the shift is a tie-break, not a wall.
//! 3. **Fill.** A water-fill in laxity ([`Fill`]): the level is a laxity, and every admitted
//!    session's current follows the line that lifts its post-period laxity to the level. So the
//!    least lax sessions are served first, sessions of equal laxity rise together (no flapping
//!    between near-equal sessions, as greedy LLF does every period), and a full feeder or phase
//!    stops only the sessions under it while the others keep filling — greedy sorted algorithms
//!    stop short there on unbalanced three-phase sites. The fill is work-conserving: it ends
//!    only when every session is at its ceiling or under a full limit.
//!    **Concentration.** When a full limit still leaves an admitted session short of its
//!    ceiling, sessions under it that are not charging yet and sit at their floor only because
//!    of the 0-or-floor rule give their floors up and the fill runs again ([`concentrate`]):
//!    what can wait, waits, as LLF would have it, but nothing already charging is stopped.
//!    **Plan.** Where line currents add as phasors (EVSEs wired line to line, a delta
//!    primary) and such a limit binds, a linear program plans the stays of the sessions present
//!    for the most energy by their departures, earliest first, and this period's currents are
//!    its first step, nobody charging stopped ([`throughput`]).
//! 4. **Cost (opt-in).** With a tariff or month-peak signal, the sweep pauses at a laxity of
//!    [`COST_GUARD_HOURS`]; beyond it only flexible charging remains, which is held back for a
//!    cheaper period (if it can finish there [`DEFER_MARGIN`] before its expected departure;
//!    the laxest first, as many as that period has room for beside what the others will
//!    still want then and the energy the site's habit says is still to arrive:
//!    [`deferral_plan`]) or kept under the month's peak.
//! 5. **Rounding.** Currents are rounded down to pilot steps, then a top-up pass (least lax
//!    first) hands out what rounding freed, so no session is left a step below what fits; a
//!    final repair pass guarantees no limit is exceeded whatever rounding did.
//!
//! 6. **Look-ahead (sites without a floor).** When only the site's power limit is full, a
//!    max-flow over the remaining stay of the sessions present re-routes this period's power
//!    where that lets more of their need be met ([`super::horizon`]); its answer is taken only
//!    if it keeps every limit and pilot step.
//!
//! A vehicle that has shown it takes less than it is offered (a tapering battery, an on-board
//! charger smaller than its EVSE: [`super::draw`], learned by the caller from its draws and
//! kept across decisions) is capped there, which returns the difference to the fill.

use chargegrid_core::units::hours;
use chrono::TimeDelta;

use super::bounds::{Bounds, session_bounds};
use super::constraints::Constraints;
use super::exact;
use super::horizon;
use super::problem::{AllocContext, PilotSteps, SiteProblem};
use super::repair::repair;
use super::sorted::{hours_left, llf_order};
use super::throughput;
use super::waterfill::Fill;

/// Charging that leaves a session more laxity than this (hours) is optional: it yields to
/// tariff and peak signals when they are given.
pub(crate) const COST_GUARD_HOURS: f64 = 2.0;
/// Hours of laxity a priority weight `w` is worth: `WEIGHT_HOURS * ln(w)` (weight 2 ≈ 1.4 h).
pub(crate) const WEIGHT_HOURS: f64 = 2.0;
/// Sessions whose laxity differs by less than this (hours) do not hold reservations against
/// each other at admission.
pub(crate) const TIE_HOURS: f64 = 0.5;
/// How much more urgent (hours of laxity) a session that is already charging is ranked at
/// admission, so sessions of similar laxity do not take turns stopping.
pub(crate) const RUNNING_BONUS_HOURS: f64 = 0.5;
/// How many hours laxer a session is ranked when the look-ahead finds it cannot be served in
/// full with the others ([`horizon::short_of_full`]), on top of being ranked by the energy it
/// can still get rather than its whole need. A tie-break, measured in the replays
/// (docs/BENCHMARKS.md): 0 h served 1–5 points fewer drivers in full; 0.1 h and more cost up
/// to 0.2 points of energy on congested days, which energy, the first objective, does not allow.
pub(crate) const SHORT_HOURS: f64 = 0.05;
/// A session defers to a cheaper period only if it could finish there at this share of its top
/// rate (a margin for the congestion it may meet then).
pub(crate) const DEFER_SHARE: f64 = 0.5;
/// ... and only in the part of its stay that ends this long before its expected departure:
/// departures come earlier than expected (a driver's own estimate is off by about 2 h in the
/// median on ACN-Data, an estimate from history is a quantile of past stays). On the ACN
/// replays with the inputs a live site has (`--inputs history`), waiting up to the expected
/// departure lost up to 2.4 points of energy against chargegrid without prices (0.44 on
/// average); with 4 h, at most 0.26 (0.03), and with perfect inputs the same energy and nearly
/// the same savings (docs/BENCHMARKS.md, "Cost and carbon with a forecast of arrivals").
pub(crate) const DEFER_MARGIN: TimeDelta = TimeDelta::hours(4);
/// Tolerance (amperes, and hours of level) when telling a short or floor-bound session.
const SHORT_AMPS: f64 = 1e-6;
/// How far (amperes) a look-ahead current may be from a valid one and still be snapped to it:
/// the flow counts in mWh, so its currents carry a rounding of about 1e-5 A.
const SNAP_AMPS: f64 = 1e-3;

/// Per-session quantities of one decision.
struct Urgency {
    /// Laxity (hours) after this period with nothing allocated now, divided by the weight:
    /// the admission key, smallest first.
    initial: Vec<f64>,
    /// Line offset: the current at level 0 (which leaves no laxity after this period).
    alpha: Vec<f64>,
    /// Line slope: current per hour of level.
    beta: Vec<f64>,
    /// Even-pace current that finishes the session by its departure (in this period for one
    /// planned to finish in it).
    even: Vec<f64>,
}

fn urgency(
    problem: &SiteProblem,
    ctx: &AllocContext,
    b: &Bounds,
    short: &[Option<f64>],
) -> Urgency {
    let period = ctx.period_hours();
    let n = b.hi.len();
    let mut u = Urgency {
        initial: vec![0.0; n],
        alpha: vec![0.0; n],
        beta: vec![1.0; n],
        even: vec![0.0; n],
    };
    for (s, reach) in short.iter().enumerate().take(n) {
        if b.hi[s] <= 0.0 {
            continue;
        }
        let w = problem.sessions[s].weight;
        let left = hours_left(problem, ctx, s);
        // Hours of the stay after this period: at least one, so the laxity line keeps its
        // scale, except for a session to be served in full that leaves before the next period
        // ends. That one is planned to finish in this period (none after it): an allocation
        // holds for a period, and the minutes after the last whole one are not counted on,
        // as in the look-ahead ([`horizon`]).
        let tau = if reach.is_none() && left > 0.0 && left < 2.0 * period {
            0.0
        } else {
            (left - period).max(period)
        };
        let top = b.top[s];
        // A session that cannot be served in full is ranked by what it can still get.
        let amp_hours = match reach {
            Some(wh) => (wh / problem.sessions[s].watts_per_amp()).min(b.amp_hours[s]),
            None => b.amp_hours[s],
        };
        // A weight ranks the session as if it had `WEIGHT_HOURS * ln(weight)` less laxity.
        let shift = WEIGHT_HOURS * w.ln() - if reach.is_some() { SHORT_HOURS } else { 0.0 };
        // Post-period laxity at current x is `tau - (E - x * period) / top`; setting it less
        // the shift to the level gives x = (E - top * (tau - level - shift)) / period.
        u.initial[s] = tau - amp_hours / top - shift;
        u.alpha[s] = (amp_hours - top * (tau - shift)) / period;
        u.beta[s] = top / period;
        u.even[s] = (amp_hours / (tau + period)).min(b.hi[s]);
    }
    u
}

/// Whether a session's remaining charge can wait for the cheaper tariff period.
fn can_defer(problem: &SiteProblem, ctx: &AllocContext, b: &Bounds, s: usize) -> bool {
    let Some(tou) = ctx.tou else { return false };
    let Some((start, price)) = tou.cheaper else {
        return false;
    };
    // A session that needs nothing now (or cannot run) has nothing to hold back.
    if price >= tou.price_now || start <= ctx.now || b.hi[s] <= 0.0 {
        return false;
    }
    // A session with no departure (the default stay, which is no longer than the margin)
    // never waits.
    let dep = problem.sessions[s]
        .departure
        .unwrap_or(ctx.now + ctx.default_dwell);
    b.amp_hours[s] <= DEFER_SHARE * b.top[s] * hours(dep - DEFER_MARGIN - start)
}

/// Which of the sessions that could wait for the cheaper period (`candidates`) do: the
/// laxest first, as many as leave everything still wanted when that period starts — theirs,
/// what the others still there then will not have had time to take, and the energy the
/// vehicles expected before the last of them leaves will bring ([`AllocContext::arriving`]) —
/// fitting at [`DEFER_SHARE`] of the site's power limit between its start and the last
/// departure: deferring into a period that will be congested anyway only moves charging into
/// the next expensive one. The others charge now, each at most at its top rate and together at
/// most at the site's limit (or the month's peak, when lower), so what they still want at the
/// start is the larger of those two shortfalls. (The room runs to the last departure, not
/// [`DEFER_MARGIN`] before it: the margin guards each held session against leaving early, while
/// the room is shared with sessions that charge up to their departure. Ending it at the margin
/// too kept 0.07–0.12 points more energy at most on the ACN replays with realistic inputs, and
/// cost 3–4 of the 18 rows where cost and CO₂ beat LLF's with perfect ones: session 23's
/// all-or-nothing rule.)
fn deferral_plan(
    problem: &SiteProblem,
    ctx: &AllocContext,
    cons: &Constraints,
    b: &Bounds,
    u: &Urgency,
    candidates: &[bool],
) -> Vec<bool> {
    let n = candidates.len();
    let mut held = vec![false; n];
    let Some((start, _)) = ctx.tou.and_then(|t| t.cheaper) else {
        return held;
    };
    if !candidates.iter().any(|&c| c) {
        return held;
    }
    let site = cons.cap[cons.site_power];
    if !site.is_finite() {
        return candidates.to_vec();
    }
    let now_cap = ctx.month_peak.map_or(site, |p| site.min(p.0));
    let before = hours(start - ctx.now).max(0.0);
    let mut last = start;
    // Per session: what it wants if it is still there at the start (nothing if it leaves
    // first), and what it would still want then charging at its top rate until then.
    let mut need_wh = vec![0.0; n];
    let mut left_wh = vec![0.0; n];
    for (s, d) in problem.sessions.iter().enumerate() {
        let wpa = d.watts_per_amp();
        if b.hi[s] > 0.0 {
            let dep = d.departure.unwrap_or(ctx.now + ctx.default_dwell);
            last = last.max(dep);
            if dep > start {
                need_wh[s] = b.amp_hours[s] * wpa;
                left_wh[s] = (b.amp_hours[s] - b.top[s] * before).max(0.0) * wpa;
            }
        } else {
            need_wh[s] = b.amp_hours[s] * wpa;
            left_wh[s] = need_wh[s];
        }
    }
    let mut room_wh = DEFER_SHARE * site * hours(last - start);
    // Vehicles expected to arrive before the last of these leaves will want the same hours.
    if let Some(a) = &ctx.arriving {
        room_wh -= a.within(last - ctx.now).0;
    }
    let mut held_wh = 0.0;
    let mut free_need_wh: f64 = need_wh.iter().sum();
    let mut free_left_wh: f64 = left_wh.iter().sum();
    let mut order: Vec<usize> = (0..n).filter(|&s| candidates[s]).collect();
    order.sort_by(|&a, &c| u.initial[c].total_cmp(&u.initial[a]));
    for s in order {
        let others = (free_left_wh - left_wh[s]).max(free_need_wh - need_wh[s] - now_cap * before);
        if held_wh + need_wh[s] + others <= room_wh {
            held[s] = true;
            held_wh += need_wh[s];
            free_need_wh -= need_wh[s];
            free_left_wh -= left_wh[s];
        }
    }
    held
}

/// Session indices, least lax first.
fn by_urgency(u: &Urgency) -> Vec<usize> {
    let mut order: Vec<usize> = (0..u.initial.len()).collect();
    order.sort_by(|&a, &b| u.initial[a].total_cmp(&u.initial[b]));
    order
}

/// Step 2: who runs. Returns the admitted flags.
fn admit(problem: &SiteProblem, cons: &Constraints, b: &Bounds, u: &Urgency) -> Vec<bool> {
    let key: Vec<f64> = (0..b.hi.len())
        .map(|s| {
            u.initial[s]
                - if running(problem, b, s) {
                    RUNNING_BONUS_HOURS
                } else {
                    0.0
                }
        })
        .collect();
    let mut order: Vec<usize> = (0..key.len()).collect();
    order.sort_by(|&a, &b| key[a].total_cmp(&key[b]));
    let mut admitted = vec![false; b.hi.len()];
    // Floors count at once; the extra reserved above a floor counts only against sessions
    // clearly laxer than its owner, so near-equal sessions share instead of excluding each other.
    let mut load = vec![0.0; cons.rows()];
    let mut extras: Vec<(usize, f64)> = Vec::new();
    let mut counted = 0;
    for &s in &order {
        if b.hi[s] <= 0.0 {
            continue;
        }
        while counted < extras.len() && key[extras[counted].0] < key[s] - TIE_HOURS {
            let (j, extra) = extras[counted];
            cons.add(&mut load, j, extra);
            counted += 1;
        }
        let room = cons.slack(&load, s);
        if room >= b.lo[s] {
            admitted[s] = true;
            cons.add(&mut load, s, b.lo[s]);
            let extra = (u.even[s].min(room) - b.lo[s]).max(0.0);
            extras.push((s, extra));
        }
    }
    admitted
}

/// The outcome of one water-fill over the admitted sessions.
struct Filled {
    x: Vec<f64>,
    caps: Vec<f64>,
    full: Vec<bool>,
    held: Vec<bool>,
}

/// Steps 3 and 4: the water-fill over the admitted sessions, with the cost pause when a
/// tariff or peak signal is given.
fn fill(
    problem: &SiteProblem,
    ctx: &AllocContext,
    cons: &Constraints,
    b: &Bounds,
    u: &Urgency,
    admitted: &[bool],
) -> Filled {
    let lo: Vec<f64> = (0..b.lo.len())
        .map(|s| if admitted[s] { b.lo[s] } else { 0.0 })
        .collect();
    let hi: Vec<f64> = (0..b.hi.len())
        .map(|s| if admitted[s] { b.hi[s] } else { 0.0 })
        .collect();
    let mut fill = Fill::new(cons, lo, hi, u.alpha.clone(), u.beta.clone());
    let soft = ctx.tou.is_some() || ctx.month_peak.is_some();
    let mut held = vec![false; b.hi.len()];
    if soft {
        fill.run_until(COST_GUARD_HOURS);
        let candidates: Vec<bool> = (0..b.hi.len())
            .map(|s| can_defer(problem, ctx, b, s))
            .collect();
        held = deferral_plan(problem, ctx, cons, b, u, &candidates);
        for (s, &h) in held.iter().enumerate() {
            if h {
                fill.freeze(s);
            }
        }
        if let Some(peak) = ctx.month_peak {
            fill.tighten(cons.site_power, peak.0);
        }
    }
    fill.run_until(f64::INFINITY);
    let caps = fill.caps().to_vec();
    let full = (0..cons.rows()).map(|r| fill.is_full(r)).collect();
    Filled {
        x: fill.into_currents(),
        caps,
        full,
        held,
    }
}

/// Step 3b: on a saturated limit, the least lax sessions come first. When a full limit leaves
/// an admitted session short of its ceiling, sessions under that limit that are not charging
/// yet and were admitted at their floor only because of the 0-or-floor rule (being laxer, the
/// fill gave them nothing above it) give their floors up to it: a floor spent on a session that
/// can wait is power an urgent one could not have, and in the replays that cost up to
/// 0.04 points of energy at tight limits. Sessions already charging keep their floor (no
/// stop-start once charging). Returns whether any session was dropped; the caller fills again,
/// and the top-up re-admits dropped sessions, least lax first, wherever room is left.
fn concentrate(
    problem: &SiteProblem,
    cons: &Constraints,
    b: &Bounds,
    u: &Urgency,
    f: &Filled,
    admitted: &mut [bool],
) -> bool {
    // The level (post-period laxity) a session is at with current `x`.
    let level = |s: usize, x: f64| (x - u.alpha[s]) / u.beta[s];
    // The most urgent level of a short session under each full row.
    let mut short_level = vec![f64::INFINITY; cons.rows()];
    let mut any_short = false;
    for (s, &on) in admitted.iter().enumerate() {
        if !on || f.held[s] || f.x[s] >= b.hi[s] - SHORT_AMPS {
            continue;
        }
        let l = level(s, f.x[s]);
        for &(r, _) in cons.rows_of(s) {
            if f.full[r] {
                short_level[r] = short_level[r].min(l);
                any_short = true;
            }
        }
    }
    if !any_short {
        return false;
    }
    let mut dropped = false;
    for (s, on) in admitted.iter_mut().enumerate() {
        if !*on
            || b.lo[s] <= 0.0
            || f.held[s]
            || running(problem, b, s)
            || f.x[s] > b.lo[s] + SHORT_AMPS
        {
            continue;
        }
        let l = level(s, b.lo[s]);
        if cons
            .rows_of(s)
            .iter()
            .any(|&(r, _)| f.full[r] && l > short_level[r] + SHORT_AMPS)
        {
            *on = false;
            dropped = true;
        }
    }
    dropped
}

/// Whether session `s` was charging at (or above) its floor before this decision.
fn running(problem: &SiteProblem, b: &Bounds, s: usize) -> bool {
    problem.sessions[s]
        .previous
        .is_some_and(|p| p.0 > 0.0 && p.0 >= b.lo[s] - 1e-6)
}

/// chargegrid's currents for one site.
pub(crate) fn allocate(problem: &SiteProblem, ctx: &AllocContext, cons: &Constraints) -> Vec<f64> {
    let b = session_bounds(problem, ctx, true);
    let n = b.hi.len();
    let mut decided = decide(problem, ctx, cons, &b, &vec![None; n]);
    let mut reranked = false;
    // Step 2b: when the site's power limit leaves someone short, the sessions that cannot all
    // be served in full before they leave rank behind those that can.
    if wanting(&b, &decided.0)
        && site_power_full(cons, &decided.1, &decided.0)
        && let Some(short) = horizon::short_of_full(problem, ctx, decided.1[cons.site_power], &b)
    {
        decided = decide(problem, ctx, cons, &b, &short);
        reranked = true;
    }
    let (mut x, caps, held) = decided;

    // Step 6: the look-ahead over the sessions present, on a site without floors where
    // someone is left wanting, or after step 2b ranked sessions back. Otherwise, with a floor,
    // it is left out: the flow plans sub-floor currents for later periods that the 0-or-floor
    // rule will not give, and in the replays accepting its floor-valid answers lost 0.01-0.03
    // points instead of gaining; after step 2b it wins back the energy the ranking costs
    // (0.1-0.15 points in the congested replays, docs/BENCHMARKS.md).
    // It models only the site's power limit, so it runs only when that is the one limit full.
    let floorless = (0..x.len()).all(|s| b.hi[s] <= 0.0 || b.lo[s] <= 0.0);
    if (floorless || reranked)
        && wanting(&b, &x)
        && !held.iter().any(|&h| h)
        && only_site_power_full(cons, &caps, &x)
        && let Some(y) = horizon::reroute(problem, ctx, caps[cons.site_power], &b, &x)
        && let Some(y) = admissible(problem, cons, &caps, &b, y)
    {
        x = y;
    }
    // Where the rows are a polygon inside the exact limits, what it gave away goes to the
    // sessions already running, least lax first.
    if cons.phasor_rows {
        let order = llf_order(problem, ctx, &b);
        exact::top_up(problem, cons, &b, &mut x, &order, true);
    }
    x
}

/// Whether a session is left below what it could use.
fn wanting(b: &Bounds, x: &[f64]) -> bool {
    (0..x.len()).any(|s| b.hi[s] > 0.0 && x[s] < b.hi[s] - SHORT_AMPS)
}

/// Steps 2 to 5 with the sessions in `short` ranked [`SHORT_HOURS`] laxer: the currents, the
/// rows' capacities in force and the sessions held for a cheaper period.
fn decide(
    problem: &SiteProblem,
    ctx: &AllocContext,
    cons: &Constraints,
    b: &Bounds,
    short: &[Option<f64>],
) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
    let u = urgency(problem, ctx, b, short);
    let order = by_urgency(&u);
    let mut admitted = admit(problem, cons, b, &u);
    let mut filled = fill(problem, ctx, cons, b, &u, &admitted);
    if concentrate(problem, cons, b, &u, &filled, &mut admitted) {
        filled = fill(problem, ctx, cons, b, &u, &admitted);
    }
    // Step 3c: where several limits bind together, this period's step of a plan over the stays.
    let split = throughput::Split {
        x: &filled.x,
        lo: &b.lo,
        hi: &b.hi,
        admitted: &admitted,
        fixed: &filled.held,
        order: &order,
        caps: &filled.caps,
        full: &filled.full,
        ctx,
        top: &b.top,
        need: &b.amp_hours,
    };
    if let Some(y) = throughput::rebalance(problem, cons, &split) {
        filled.x = y;
    }
    let Filled {
        mut x, caps, held, ..
    } = filled;

    // Step 5: pilot rounding, then hand out what rounding and floors left.
    for (s, xs) in x.iter_mut().enumerate() {
        *xs = problem.sessions[s].pilot.floor_current(*xs, b.lo[s]);
    }
    let mut load = cons.loads(&x);
    for &s in &order {
        if b.hi[s] <= 0.0 || held[s] || x[s] >= b.hi[s] {
            continue;
        }
        let room = cons.slack_under(&caps, &load, s);
        let v = problem.sessions[s]
            .pilot
            .floor_current((x[s] + room).min(b.hi[s]), b.lo[s]);
        if v > x[s] {
            cons.add(&mut load, s, v - x[s]);
            x[s] = v;
        }
    }
    repair(problem, cons, b, &mut x, &order);
    (x, caps, held)
}

/// Which rows are full (within 0.1 % of their capacity).
fn full_rows(cons: &Constraints, caps: &[f64], x: &[f64]) -> Vec<bool> {
    let load = cons.loads(x);
    (0..cons.rows())
        .map(|r| caps[r].is_finite() && load[r] >= caps[r] * (1.0 - 1e-3))
        .collect()
}

/// Whether the site's power row is full.
fn site_power_full(cons: &Constraints, caps: &[f64], x: &[f64]) -> bool {
    full_rows(cons, caps, x)[cons.site_power]
}

/// Whether the site's power row is full and no other row is.
fn only_site_power_full(cons: &Constraints, caps: &[f64], x: &[f64]) -> bool {
    let full = full_rows(cons, caps, x);
    full[cons.site_power] && (0..cons.rows()).all(|r| r == cons.site_power || !full[r])
}

/// The look-ahead's currents snapped to each session's pilot steps, or `None` if one is off its
/// steps (or below its floor) or over its ceiling, or a limit is broken (the look-ahead sees
/// only the site's power limit).
fn admissible(
    problem: &SiteProblem,
    cons: &Constraints,
    caps: &[f64],
    b: &Bounds,
    mut y: Vec<f64>,
) -> Option<Vec<f64>> {
    for (s, ys) in y.iter_mut().enumerate() {
        if *ys <= SNAP_AMPS {
            *ys = 0.0;
            continue;
        }
        if *ys > b.hi[s] + SNAP_AMPS {
            return None;
        }
        // Below the floor, `floor_current` gives 0, which fails the distance check too.
        let pilot = &problem.sessions[s].pilot;
        let want = ys.min(b.hi[s]);
        let v = pilot.floor_current(want + SNAP_AMPS / 2.0, b.lo[s]);
        if (v - want).abs() > SNAP_AMPS {
            return None;
        }
        *ys = if matches!(pilot, PilotSteps::Continuous) {
            // A hair under the floor is the floor (the limits are checked below).
            want.max(b.lo[s])
        } else {
            v
        };
    }
    let load = cons.loads(&y);
    load.iter()
        .zip(caps)
        .all(|(&l, &c)| l <= c + 1e-9 * c.abs().max(1.0))
        .then_some(y)
}
