//! The run's conductor, in simulated time: EVs arrive (at their site, or dispatched to one),
//! take a free EVSE or queue for one, give up at their departure; demand-response events are
//! signalled to the [`Operator`]; outages cut chargers' networks. Chargers report back when an
//! EVSE frees up.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chargegrid_core::network::Network;
use chargegrid_core::{EvseId, SiteId, Watts};
use chrono::{DateTime, Duration, Utc};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::dispatch::{
    DispatchDecision, DispatchMethod, DispatchRequest, Dispatcher, haversine_km,
};
use super::operator::Operator;
use super::{Event, Scenario};
use crate::charger::{ChargerControl, ChargerEvent, ChargerSpec};
use crate::clock::SimClock;
use crate::ev::EvPlan;

/// One driver's visit as the scenario saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverRecord {
    /// The EV plan's key.
    pub key: u64,
    /// The site it went to.
    pub site: Option<SiteId>,
    /// Arrival (simulated).
    pub arrival: DateTime<Utc>,
    /// When it got an EVSE.
    pub plugged_at: Option<DateTime<Utc>>,
    /// It left without charging.
    pub gave_up: bool,
    /// How its site was chosen (dispatched drivers).
    pub method: Option<DispatchMethod>,
    /// Distance to the chosen site, km.
    pub distance_km: Option<f64>,
    /// Extra distance against the nearest site, km.
    pub detour_km: Option<f64>,
}

/// A limit window from a demand-response event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitWindow {
    /// The site.
    pub site: SiteId,
    /// From (simulated).
    pub from: DateTime<Utc>,
    /// To (simulated).
    pub to: DateTime<Utc>,
    /// The limit.
    pub limit: Watts,
    /// Whether the operator delivered the signal to the server.
    pub delivered: bool,
}

/// What the conductor saw.
#[derive(Debug, Default)]
pub struct ManagerOutcome {
    /// Drivers.
    pub drivers: Vec<DriverRecord>,
    /// Demand-response windows.
    pub windows: Vec<LimitWindow>,
    /// Outages started.
    pub outages: usize,
    /// Dispatch problems (first 20) and count.
    pub dispatch_problems: Vec<String>,
    /// Chargers that booted at least once.
    pub booted: usize,
}

enum Scheduled {
    DrStart(usize),
    DrEnd(usize),
    Outage {
        share: f64,
        wall: std::time::Duration,
    },
}

struct Waiting {
    plan: EvPlan,
    driver: usize,
}

pub(super) struct Manager<'a> {
    pub scenario: &'a Scenario,
    pub network: &'a Network,
    pub specs: &'a [ChargerSpec],
    pub controls: Vec<mpsc::UnboundedSender<ChargerControl>>,
    pub clock: SimClock,
    pub end: DateTime<Utc>,
    pub dispatcher: Arc<dyn Dispatcher>,
    pub operator: Option<Arc<dyn Operator>>,
    pub progress: ProgressBar,
}

impl Manager<'_> {
    pub async fn run(
        self,
        plans: Vec<EvPlan>,
        mut events: mpsc::UnboundedReceiver<ChargerEvent>,
    ) -> ManagerOutcome {
        let start = self.clock.start();
        let mut out = ManagerOutcome::default();
        let mut free: HashMap<SiteId, Vec<(usize, EvseId, bool)>> = HashMap::new();
        for (i, s) in self.specs.iter().enumerate() {
            for e in &s.evses {
                free.entry(s.site.clone())
                    .or_default()
                    .push((i, e.id, e.dc));
            }
        }
        let mut queues: HashMap<SiteId, VecDeque<Waiting>> = HashMap::new();
        let mut booted = vec![false; self.specs.len()];
        let mut schedule: Vec<(DateTime<Utc>, Scheduled)> = Vec::new();
        for ev in &self.scenario.events {
            match ev {
                Event::DemandResponse {
                    site,
                    at_h,
                    duration_h,
                    limit_kw,
                    notice_min,
                } => {
                    let from = start + hours(*at_h);
                    let to = from + hours(*duration_h);
                    out.windows.push(LimitWindow {
                        site: site.clone(),
                        from,
                        to,
                        limit: Watts(limit_kw * 1000.0),
                        delivered: false,
                    });
                    let notice = Duration::milliseconds((notice_min.max(0.0) * 60_000.0) as i64);
                    schedule.push((from - notice, Scheduled::DrStart(out.windows.len() - 1)));
                    schedule.push((to, Scheduled::DrEnd(out.windows.len() - 1)));
                }
                Event::Outage {
                    at_h,
                    duration_min,
                    share,
                } => schedule.push((
                    start + hours(*at_h),
                    Scheduled::Outage {
                        share: *share,
                        wall: self.clock.wall_duration(Duration::milliseconds(
                            (duration_min * 60_000.0) as i64,
                        )),
                    },
                )),
            }
        }
        schedule.sort_by_key(|s| s.0);
        let mut schedule = schedule.into_iter().peekable();
        let mut arrivals = plans.into_iter().peekable();
        let (dispatched_tx, mut dispatched) =
            mpsc::unbounded_channel::<(EvPlan, usize, Result<DispatchDecision, String>)>();
        let refresh = Duration::milliseconds((250.0 * self.clock.scale()) as i64);
        loop {
            let now = self.clock.now();
            let mut wake = self.end.min(now + refresh);
            if let Some(a) = arrivals.peek() {
                wake = wake.min(a.arrival);
            }
            if let Some(s) = schedule.peek() {
                wake = wake.min(s.0);
            }
            tokio::select! {
                _ = self.clock.sleep_until(wake) => {}
                Some(ev) = events.recv() => match ev {
                    ChargerEvent::Booted { charger } => {
                        if !booted[charger] {
                            booted[charger] = true;
                            out.booted += 1;
                        }
                    }
                    ChargerEvent::EvseFree { charger, evse, .. } => {
                        let spec = &self.specs[charger];
                        let dc = spec.evses.iter().any(|e| e.id == evse && e.dc);
                        free.entry(spec.site.clone()).or_default().push((charger, evse, dc));
                        self.serve(&spec.site.clone(), &mut free, &mut queues, &mut out);
                    }
                    ChargerEvent::Refused { charger, ev, .. } => {
                        let site = self.specs[charger].site.clone();
                        if let Some(d) = out.drivers.iter().position(|d| d.key == ev.key) {
                            out.drivers[d].plugged_at = None;
                            queues.entry(site).or_default().push_front(Waiting { plan: *ev, driver: d });
                        }
                    }
                },
                Some((plan, driver, decision)) = dispatched.recv() => {
                    self.dispatched(plan, driver, decision, &mut free, &mut queues, &mut out);
                }
            }
            let now = self.clock.now();
            while arrivals.peek().is_some_and(|a| a.arrival <= now) {
                let Some(plan) = arrivals.next() else { break };
                out.drivers.push(DriverRecord {
                    key: plan.key,
                    site: plan.site.clone(),
                    arrival: plan.arrival,
                    plugged_at: None,
                    gave_up: false,
                    method: None,
                    distance_km: None,
                    detour_km: None,
                });
                let driver = out.drivers.len() - 1;
                match plan.site.clone() {
                    Some(site) => {
                        queues
                            .entry(site.clone())
                            .or_default()
                            .push_back(Waiting { plan, driver });
                        self.serve(&site, &mut free, &mut queues, &mut out);
                    }
                    None => self.dispatch(plan, driver, dispatched_tx.clone()),
                }
            }
            while schedule.peek().is_some_and(|s| s.0 <= now) {
                let Some((_, action)) = schedule.next() else {
                    break;
                };
                match action {
                    Scheduled::DrStart(w) | Scheduled::DrEnd(w) => {
                        let starting = matches!(action, Scheduled::DrStart(_));
                        let win = out.windows[w].clone();
                        if let Some(op) = &self.operator {
                            let limit = starting.then_some(win.limit);
                            let ok = op
                                .site_limit(&win.site, limit, (win.from, win.to), self.network)
                                .await;
                            if starting {
                                out.windows[w].delivered = ok;
                            }
                        }
                    }
                    Scheduled::Outage { share, wall } => {
                        out.outages += 1;
                        let mut idx: Vec<usize> = (0..self.controls.len()).collect();
                        idx.shuffle(&mut StdRng::seed_from_u64(
                            self.scenario.seed ^ out.outages as u64,
                        ));
                        let n = ((share.clamp(0.0, 1.0) * idx.len() as f64).ceil() as usize)
                            .min(idx.len());
                        for &i in &idx[..n] {
                            let _ = self.controls[i].send(ChargerControl::Outage(wall));
                        }
                    }
                }
            }
            let waiting: Vec<SiteId> = queues
                .iter()
                .filter(|(site, q)| !q.is_empty() && free.get(*site).is_some_and(|f| !f.is_empty()))
                .map(|(site, _)| site.clone())
                .collect();
            for site in waiting {
                self.serve(&site, &mut free, &mut queues, &mut out);
            }
            for q in queues.values_mut() {
                q.retain(|w| {
                    let gone = w.plan.departure <= now;
                    if gone {
                        out.drivers[w.driver].gave_up = true;
                    }
                    !gone
                });
            }
            self.progress
                .set_position(((now - start).num_seconds().max(0) / 60) as u64);
            if now >= self.end {
                break;
            }
        }
        out
    }

    fn dispatch(
        &self,
        plan: EvPlan,
        driver: usize,
        tx: mpsc::UnboundedSender<(EvPlan, usize, Result<DispatchDecision, String>)>,
    ) {
        let dispatcher = self.dispatcher.clone();
        let (lat, lon) = plan.position.unwrap_or_default();
        let req = DispatchRequest {
            driver: plan.key,
            lat,
            lon,
            energy_kwh: plan.energy_need.0 / 1000.0,
            // The server's clock is the wall clock: send the driver's remaining simulated
            // time as a deadline from now.
            deadline: Some(
                Utc::now() + (plan.departure - self.clock.now()).max(Duration::minutes(1)),
            ),
            max_detour_km: self
                .scenario
                .dispatch
                .as_ref()
                .and_then(|d| d.max_detour_km),
        };
        tokio::spawn(async move {
            let decision = dispatcher.choose(&req).await;
            let _ = tx.send((plan, driver, decision));
        });
    }

    fn dispatched(
        &self,
        plan: EvPlan,
        driver: usize,
        decision: Result<DispatchDecision, String>,
        free: &mut HashMap<SiteId, Vec<(usize, EvseId, bool)>>,
        queues: &mut HashMap<SiteId, VecDeque<Waiting>>,
        out: &mut ManagerOutcome,
    ) {
        let d = match decision {
            Ok(d) => d,
            Err(e) => {
                note(out, format!("dispatch: {e}"));
                out.drivers[driver].gave_up = true;
                return;
            }
        };
        if let Some(p) = &d.problem {
            note(out, p.clone());
        }
        let pos = plan.position.unwrap_or_default();
        let loc = |id: &SiteId| {
            self.network
                .sites
                .iter()
                .find(|s| &s.id == id)
                .map(|s| (s.location.lat(), s.location.lon()))
        };
        let dist = loc(&d.site).map(|l| haversine_km(pos, l));
        let nearest = self
            .network
            .sites
            .iter()
            .map(|s| haversine_km(pos, (s.location.lat(), s.location.lon())))
            .fold(f64::INFINITY, f64::min);
        let rec = &mut out.drivers[driver];
        rec.site = Some(d.site.clone());
        rec.method = Some(d.method);
        rec.distance_km = dist;
        rec.detour_km = dist.map(|x| (x - nearest).max(0.0));
        // Driving there takes simulated time: 30 km/h in town.
        let mut plan = plan;
        let drive = Duration::seconds((dist.unwrap_or(0.0) / 30.0 * 3600.0) as i64);
        plan.arrival += drive;
        plan.departure += drive;
        rec.arrival = plan.arrival;
        queues
            .entry(d.site.clone())
            .or_default()
            .push_back(Waiting { plan, driver });
        self.serve(&d.site, free, queues, out);
    }

    /// Gives waiting EVs at `site` the free EVSEs (DC to those who want DC first).
    fn serve(
        &self,
        site: &SiteId,
        free: &mut HashMap<SiteId, Vec<(usize, EvseId, bool)>>,
        queues: &mut HashMap<SiteId, VecDeque<Waiting>>,
        out: &mut ManagerOutcome,
    ) {
        let now = self.clock.now();
        let (Some(slots), Some(queue)) = (free.get_mut(site), queues.get_mut(site)) else {
            return;
        };
        while !slots.is_empty() {
            let Some(pos) = queue.iter().position(|w| w.plan.arrival <= now) else {
                break;
            };
            let Some(w) = queue.remove(pos) else { break };
            let pick = slots
                .iter()
                .position(|s| s.2 == w.plan.wants_dc)
                .unwrap_or(0);
            let (charger, evse, _) = slots.swap_remove(pick);
            out.drivers[w.driver].plugged_at = Some(now.max(w.plan.arrival));
            let _ = self.controls[charger].send(ChargerControl::Plug {
                evse,
                ev: Box::new(w.plan),
            });
        }
    }
}

fn note(out: &mut ManagerOutcome, m: String) {
    if out.dispatch_problems.len() < 20 && !out.dispatch_problems.contains(&m) {
        out.dispatch_problems.push(m);
    }
}

fn hours(h: f64) -> Duration {
    Duration::milliseconds((h * 3_600_000.0) as i64)
}
