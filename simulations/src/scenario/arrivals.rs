//! The EVs of a run, planned up front from the scenario's distributions or an ACN-Data day,
//! so a seed always gives the same visits.

use chargegrid_core::network::Network;
use chargegrid_core::{IdTag, WattHours};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Scenario;
use crate::SimError;
use crate::ev::EvPlan;

fn hours(h: f64) -> Duration {
    Duration::milliseconds((h * 3_600_000.0) as i64)
}

/// A token that looks like an RFID UID (8 hex digits).
fn tag(key: u64, seed: u64) -> IdTag {
    IdTag::new(format!(
        "{:08X}",
        (key.wrapping_mul(2_654_435_761) ^ seed) as u32
    ))
    .unwrap_or_else(|_| unreachable!("8 hex digits are a valid tag"))
}

/// Plans every EV visit of `scenario` starting at `start`, sorted by arrival.
pub fn plan_evs(
    scenario: &Scenario,
    network: &Network,
    start: DateTime<Utc>,
) -> Result<Vec<EvPlan>, SimError> {
    let mut rng = StdRng::seed_from_u64(scenario.seed ^ 0x5EED);
    let mut out = Vec::new();
    let mut key = 0u64;
    for g in &scenario.arrivals {
        let pack = g.vehicle.pack();
        let capacity_wh = pack.nominal_energy().0;
        for _ in 0..g.count {
            key += 1;
            let arrival = start + hours(g.arrive_h.sample(&mut rng).max(0.0));
            let stay = g.stay_h.sample(&mut rng).max(0.05);
            let soc = g.arrival_soc_pct.sample(&mut rng).clamp(1.0, 99.0);
            let to_target = ((g.target_soc_pct - soc).max(0.0) / 100.0) * capacity_wh / 0.9;
            let need = match &g.energy_kwh {
                Some(d) => (d.sample(&mut rng).max(0.1) * 1000.0).min(to_target.max(100.0)),
                None => to_target,
            };
            let position = scenario
                .dispatch
                .as_ref()
                .filter(|_| g.site.is_none())
                .map(|d| {
                    let r = d.radius_km * rng.random::<f64>().sqrt();
                    let a = rng.random_range(0.0..std::f64::consts::TAU);
                    (
                        d.center_lat + r * a.sin() / 110.574,
                        d.center_lon
                            + r * a.cos() / (111.320 * d.center_lat.to_radians().cos().max(0.01)),
                    )
                });
            out.push(EvPlan {
                key,
                vehicle: format!("SIMEV{key:06}"),
                kind: g.vehicle,
                id_tag: tag(key, scenario.seed),
                arrival,
                departure: arrival + hours(stay),
                arrival_soc_pct: soc,
                target_soc_pct: g.target_soc_pct,
                energy_need: WattHours(need),
                site: g.site.clone(),
                position,
                wants_dc: g.dc,
                ambient_c: rng.random_range(5.0..25.0),
            });
        }
    }
    if let Some(acn) = &scenario.acn {
        if !network.sites.iter().any(|s| s.id == acn.site) {
            return Err(SimError::invalid(
                "acn",
                format!("unknown site {}", acn.site),
            ));
        }
        let sessions = chargegrid_acn::read_sessions(
            scenario.resolve(&acn.file),
            chargegrid_acn::Rows::Lenient,
        )?;
        let day = acn
            .day
            .or_else(|| busiest_day(sessions.iter().map(|s| s.arrival)));
        let Some(day) = day else {
            return Err(SimError::invalid("acn", "no sessions in the file"));
        };
        let day_start = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        let mut picked: Vec<_> = sessions
            .into_iter()
            .filter(|s| s.arrival.date_naive() == day)
            .collect();
        picked.truncate(acn.max_sessions.unwrap_or(usize::MAX));
        let capacity_wh = acn.vehicle.pack().nominal_energy().0;
        for s in picked {
            key += 1;
            let arrival = start + (s.arrival - day_start);
            let need = s.requested.0.clamp(500.0, 0.85 * capacity_wh);
            let soc = (90.0 - need / capacity_wh * 100.0 * 0.9).clamp(5.0, 80.0);
            out.push(EvPlan {
                key,
                vehicle: format!("ACN-{key:05}"),
                kind: acn.vehicle,
                id_tag: tag(key, scenario.seed),
                arrival,
                departure: arrival + (s.departure - s.arrival),
                arrival_soc_pct: soc,
                target_soc_pct: 100.0,
                energy_need: WattHours(need),
                site: Some(acn.site.clone()),
                position: None,
                wants_dc: false,
                ambient_c: 20.0,
            });
        }
    }
    out.sort_by_key(|p| (p.arrival, p.key));
    Ok(out)
}

fn busiest_day(times: impl Iterator<Item = DateTime<Utc>>) -> Option<NaiveDate> {
    let mut counts = std::collections::BTreeMap::new();
    for t in times {
        *counts.entry(t.date_naive()).or_insert(0usize) += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(d, n)| (*n, std::cmp::Reverse(*d)))
        .map(|(d, _)| d)
}
