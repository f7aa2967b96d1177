//! How recorded sessions become a replayable site: the time window, the step grid (arrivals
//! rounded up and departures rounded down to steps, so a vehicle is only charged in steps it
//! is present for the whole of; acnportal's own ACN-Data loader rounds arrivals down), each
//! session's need and told departure, and where each station charges: on one node with the
//! site limit (on L1/L2/L3 in turn in three-phase mode), or at its EVSE in a network's site.

use std::collections::BTreeMap;

use chargegrid_core::limits::{Limit, Phase, PhaseCurrents};
use chargegrid_core::network::Wiring;
use chargegrid_core::{Amperes, Volts, Watts};
use chrono::{DateTime, TimeDelta, Utc};

use super::error::ReplayError;
use super::network::{self, Place};
use super::options::{DemandSource, DepartureSource, ReplayOptions};
use super::tariff::LocalTariff;
use crate::alloc::LimitNode;
use chargegrid_acn::AcnSession;

/// A session placed on the step grid.
#[derive(Debug, Clone)]
pub(crate) struct GridSession {
    /// Index into the caller's session slice.
    pub source: usize,
    /// First step it is plugged in for.
    pub arrive: usize,
    /// First step it is gone (it charges in `arrive..leave`).
    pub leave: usize,
    /// Energy it needs, Wh.
    pub need_wh: f64,
    /// The departure the scheduler is told.
    pub told_departure: DateTime<Utc>,
    /// Where it charges in the site's tree; `place.max_a` is already the smaller of its EVSE's
    /// and its vehicle's top current.
    pub place: Place,
    /// Watts per ampere of its wiring at the grid's voltage.
    pub watts_per_amp: f64,
}

impl GridSession {
    /// Its station's phase in the single-node model (stations on L1/L2/L3 in turn).
    pub fn phase(&self) -> Phase {
        match self.place.wiring {
            Wiring::SinglePhase(p) => p,
            other => {
                unreachable!("the single-node model puts stations on one phase, not {other:?}")
            }
        }
    }
}

/// The replay window and its sessions.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    /// Time of step 0.
    pub start: DateTime<Utc>,
    /// End of the arrival window.
    pub end: DateTime<Utc>,
    /// Step length.
    pub step: TimeDelta,
    /// Number of steps to simulate (until the last departure).
    pub steps: usize,
    /// Sessions arriving in the window, by arrival.
    pub sessions: Vec<GridSession>,
    /// The site's limit tree, root first: one node with the site limit, or the network's site.
    pub nodes: Vec<LimitNode>,
    /// Line-to-neutral voltage of every session's power arithmetic (the station voltage in
    /// single-node mode, where each station is "line to neutral" at it).
    pub voltage: Volts,
}

impl Grid {
    /// Step length in hours.
    pub fn step_hours(&self) -> f64 {
        self.step.num_seconds() as f64 / 3600.0
    }

    /// Time of step `k`.
    pub fn time(&self, k: usize) -> DateTime<Utc> {
        self.start + self.step * k as i32
    }
}

/// Places the sessions of the window on the grid.
pub(crate) fn build_grid(
    sessions: &[AcnSession],
    opts: &ReplayOptions,
    tariff: &LocalTariff<'_>,
) -> Result<Grid, ReplayError> {
    let step = opts.step;
    if step < TimeDelta::seconds(60) {
        return Err(ReplayError::BadOption(
            "step must be at least 1 minute".into(),
        ));
    }
    let start = match opts.from {
        Some(day) => local_midnight(day, tariff)?,
        None => {
            let first = sessions
                .iter()
                .map(|s| s.arrival)
                .min()
                .ok_or_else(|| ReplayError::BadOption("no sessions".into()))?;
            local_midnight(first.with_timezone(&tariff.tz()).date_naive(), tariff)?
        }
    };
    let end = match opts.days {
        Some(d) => start + TimeDelta::days(i64::from(d)),
        None => DateTime::<Utc>::MAX_UTC,
    };
    let step_s = step.num_seconds();
    let to_step = |t: DateTime<Utc>, up: bool| {
        let secs = (t - start).num_seconds().max(0);
        let k = if up {
            (secs + step_s - 1) / step_s
        } else {
            secs / step_s
        };
        k as usize
    };
    let mut stations: BTreeMap<&str, Phase> = BTreeMap::new();
    let picked: Vec<(usize, &AcnSession)> = sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| s.arrival >= start && s.arrival < end)
        .collect();
    if picked.is_empty() {
        return Err(ReplayError::EmptyWindow {
            from: start.to_rfc3339(),
            to: if opts.days.is_some() {
                end.to_rfc3339()
            } else {
                "the end of the file".into()
            },
        });
    }
    for (_, s) in &picked {
        stations.insert(&s.station_id, Phase::L1);
    }
    for (i, phase) in stations.values_mut().enumerate() {
        *phase = Phase::ALL[i % 3];
    }
    let (nodes, voltage, places) = match &opts.network {
        Some(net) => {
            let voltage = Volts(opts.voltage.0 / 3f64.sqrt());
            let names: Vec<&str> = stations.keys().copied().collect();
            let tree = network::place(net, &names, voltage)?;
            let mut nodes = tree.nodes;
            nodes[0].limit = nodes[0]
                .limit
                .intersect(&Limit::power(Watts(opts.site_limit.0 * 1000.0)));
            (nodes, voltage, Some(tree.places))
        }
        None => {
            let root = LimitNode {
                parent: None,
                limit: Limit {
                    max_power: Some(Watts(opts.site_limit.0 * 1000.0)),
                    max_current: opts.three_phase.then(|| {
                        PhaseCurrents::uniform(Amperes(
                            opts.site_limit.0 * 1000.0 / 3.0 / opts.voltage.0,
                        ))
                    }),
                },
                delta_primary: None,
            };
            (vec![root], opts.voltage, None)
        }
    };
    let place_of = |station: &str| match &places {
        Some(p) => p[station],
        None => Place {
            node: 0,
            wiring: Wiring::SinglePhase(stations[station]),
            max_a: opts.evse_max.0 * 1000.0 / opts.voltage.0,
        },
    };
    let mut out = Vec::with_capacity(picked.len());
    for (source, s) in picked {
        let need = match opts.demand {
            DemandSource::Delivered => s.delivered,
            DemandSource::Requested => s.requested,
        };
        let told_departure = match opts.departure {
            DepartureSource::Actual => s.departure,
            DepartureSource::Estimated => s.estimated_departure.unwrap_or(s.departure),
        };
        let mut place = place_of(&s.station_id);
        let watts_per_amp = place.wiring.watts_per_amp(voltage);
        place.max_a = place.max_a.min(opts.evse_max.0 * 1000.0 / watts_per_amp);
        out.push(GridSession {
            source,
            arrive: to_step(s.arrival, true),
            leave: to_step(s.departure, false),
            need_wh: need.0,
            told_departure,
            place,
            watts_per_amp,
        });
    }
    out.sort_by_key(|s| (s.arrive, s.source));
    let steps = out.iter().map(|s| s.leave).max().unwrap_or(0);
    Ok(Grid {
        start,
        end: end.min(start + step * steps as i32),
        step,
        steps,
        sessions: out,
        nodes,
        voltage,
    })
}

fn local_midnight(
    day: chrono::NaiveDate,
    tariff: &LocalTariff<'_>,
) -> Result<DateTime<Utc>, ReplayError> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tariff.tz()).earliest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ReplayError::BadOption(format!("no local midnight on {day}")))
}
