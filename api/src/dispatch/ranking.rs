//! The dispatch score, a pure function of a station's snapshot and the driver's request, so it
//! can be tested with exact numbers and documented (`docs/dispatch.md`).
//!
//! For each station within reach:
//! - *travel* = distance / average speed;
//! - *free* = suitable connectors that are available and not reserved, minus drivers already
//!   sent there (holds that last until they should have arrived);
//! - *wait*: none when free > 0, else one typical session (45 min) per driver ahead in line;
//! - *power* = min(the best suitable connector's power, the EV's own maximum, the site's
//!   headroom shared by the drivers heading there and this one), but never below the 6 A
//!   single-phase floor (1.4 kW) when the site has any headroom left, because the scheduler
//!   gives every session at least that or nothing;
//! - *finish* = now + travel + wait + energy / power;
//! - *score* (lower is better) = minutes until finish + 3 min per unit of currency the charge
//!   costs above the cheapest candidate + 600 if the finish misses the deadline.
//!
//! Each answer carries the reasons behind its numbers.

use chargegrid_core::network::ConnectorType;
use chargegrid_core::{SiteId, Watts};
use chrono::{DateTime, Duration, Utc};

use super::snapshot::SiteSnapshot;

/// Minutes assumed for the session of each driver ahead in a queue.
pub(crate) const TYPICAL_SESSION_MIN: f64 = 45.0;
/// The smallest power the scheduler grants a session (6 A on one phase at 230 V).
pub(crate) const FLOOR_POWER: Watts = Watts(6.0 * 230.0);
/// Score minutes per unit of currency of extra cost.
pub(crate) const MINUTES_PER_CURRENCY: f64 = 3.0;
/// Score penalty for missing the deadline.
pub(crate) const LATE_PENALTY_MIN: f64 = 600.0;

/// What the driver asks for.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub energy_kwh: f64,
    pub deadline: Option<DateTime<Utc>>,
    pub connector_type: Option<ConnectorType>,
    pub ev_max_power: Option<Watts>,
    pub now: DateTime<Utc>,
    pub travel_speed_kmh: f64,
}

/// One ranked station.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub site: SiteId,
    pub name: String,
    pub distance_km: f64,
    pub free_connectors: i64,
    pub expected_power: Watts,
    pub arrival: DateTime<Utc>,
    pub wait_min: f64,
    pub finish: DateTime<Utc>,
    pub price: Option<f64>,
    pub currency: String,
    pub cost: Option<f64>,
    pub meets_deadline: bool,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// Evaluates one station; `None` when it has no suitable connector at all.
pub(crate) fn evaluate(
    snapshot: &SiteSnapshot,
    distance_km: f64,
    req: &Request,
) -> Option<Candidate> {
    let connectors: Vec<_> = snapshot
        .connectors()
        .into_iter()
        .filter(|c| req.connector_type.as_ref().is_none_or(|t| &c.kind == t))
        .collect();
    if connectors.is_empty() {
        return None;
    }
    let mut reasons = Vec::new();
    let free_now = connectors.iter().filter(|c| c.free).count() as i64;
    let heading = snapshot.expected_arrivals as i64;
    let free = free_now - heading;
    reasons.push(format!(
        "{free_now} of {} suitable connectors free",
        connectors.len()
    ));
    if heading > 0 {
        reasons.push(format!("{heading} driver(s) already sent here"));
    }
    let travel_min = distance_km / req.travel_speed_kmh.max(1.0) * 60.0;
    let arrival = req.now + minutes(travel_min);
    let wait_min = if free > 0 {
        0.0
    } else {
        let ahead = (1 - free) as f64;
        reasons.push(format!("expect to wait behind {ahead:.0} driver(s)"));
        ahead * TYPICAL_SESSION_MIN
    };
    let best_connector = connectors
        .iter()
        .map(|c| c.max_power)
        .fold(Watts::ZERO, Watts::max);
    let mut power = best_connector;
    if let Some(ev) = req.ev_max_power {
        power = power.min(ev);
    }
    if let Some(headroom) = snapshot.headroom(req.now) {
        let share = headroom / ((heading.max(0) + 1) as f64);
        if share < power {
            let limit = snapshot.limit_at(req.now).unwrap_or(Watts::ZERO);
            reasons.push(format!(
                "site near its limit ({:.0} of {:.0} kW in use): about {:.1} kW per EV",
                snapshot.drawn().0 / 1000.0,
                limit.0 / 1000.0,
                share.0 / 1000.0
            ));
            power = share;
        }
        if headroom > Watts::ZERO {
            power = power.max(FLOOR_POWER.min(best_connector));
        }
    }
    if power <= Watts::ZERO {
        // No headroom at all: once charging, the scheduler shares the limit; assume the floor.
        power = FLOOR_POWER.min(best_connector);
        reasons.push("site at its limit: charging starts at the minimum rate".into());
    }
    let charge_min = req.energy_kwh / (power.0 / 1000.0) * 60.0;
    let finish = arrival + minutes(wait_min + charge_min);
    // The price in force when the driver arrives (time-of-use), and the energy and session fee
    // with tax.
    let price = snapshot.site.energy_price_at(arrival);
    let cost = snapshot.site.expected_cost(arrival, req.energy_kwh);
    let meets_deadline = req.deadline.is_none_or(|d| finish <= d);
    if !meets_deadline {
        reasons.push("would finish after the deadline".into());
    }
    let score = (finish - req.now).num_seconds() as f64 / 60.0
        + if meets_deadline {
            0.0
        } else {
            LATE_PENALTY_MIN
        };
    Some(Candidate {
        site: snapshot.site.id.clone(),
        name: snapshot.site.name.clone(),
        distance_km,
        free_connectors: free,
        expected_power: power,
        arrival,
        wait_min,
        finish,
        price,
        currency: snapshot.site.currency.clone(),
        cost,
        meets_deadline,
        score,
        reasons,
    })
}

/// Adds the price term (relative to the cheapest) and sorts best first.
pub(crate) fn rank(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    let cheapest = candidates
        .iter()
        .filter_map(|c| c.cost)
        .fold(f64::INFINITY, f64::min);
    for c in &mut candidates {
        if let Some(cost) = c.cost
            && cheapest.is_finite()
        {
            c.score += (cost - cheapest) * MINUTES_PER_CURRENCY;
        }
    }
    candidates.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then(a.distance_km.total_cmp(&b.distance_km))
    });
    candidates
}

fn minutes(m: f64) -> Duration {
    Duration::milliseconds((m * 60_000.0).round() as i64)
}
