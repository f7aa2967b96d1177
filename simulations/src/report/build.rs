//! Computing the KPIs from the chargers' records and the scenario's outcome.

use std::collections::BTreeMap;
use std::time::Duration;

use chargegrid_core::network::Network;
use chrono::{DateTime, Utc};

use super::kpis::*;
use super::site_power::site_series;
use crate::charger::ChargerRecord;
use crate::ev::EvPlan;
use crate::scenario::{ManagerOutcome, Scenario};
use crate::stats::OcppStats;

/// Everything a report is computed from.
#[derive(Debug)]
pub struct RunInputs<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Its network.
    pub network: &'a Network,
    /// The server's OCPP URL.
    pub target: &'a str,
    /// Simulated start.
    pub start: DateTime<Utc>,
    /// Simulated end.
    pub end: DateTime<Utc>,
    /// Time scale.
    pub scale: f64,
    /// Wall time of the run.
    pub wall: Duration,
    /// The chargers' records.
    pub records: &'a [ChargerRecord],
    /// The EVs planned.
    pub plans: &'a [EvPlan],
    /// What the conductor saw.
    pub outcome: &'a ManagerOutcome,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

impl RunReport {
    /// Computes the KPIs.
    pub fn build(i: RunInputs<'_>) -> RunReport {
        let mut stats = OcppStats::default();
        let mut errors = Vec::new();
        let mut error_count = 0;
        let mut boot_ms = Vec::new();
        for r in i.records {
            stats.merge(&r.stats);
            error_count += r.error_count;
            for e in &r.errors {
                if errors.len() < 50 {
                    errors.push(format!("{}: {e}", r.charger));
                }
            }
            if let Some(b) = r.boot_ms {
                boot_ms.push(b);
            }
        }
        boot_ms.sort_by(f64::total_cmp);
        let sessions: Vec<_> = i
            .records
            .iter()
            .flat_map(|r| r.sessions.iter().cloned())
            .collect();
        let arrived = i.plans.iter().filter(|p| p.arrival < i.end).count();
        let requested: f64 = i
            .plans
            .iter()
            .filter(|p| p.arrival < i.end)
            .map(|p| p.energy_need.0)
            .sum();
        let delivered: f64 = sessions.iter().map(|s| s.delivered.0).sum();
        let series = site_series(
            i.network,
            i.records,
            &i.outcome.windows,
            i.start,
            i.end,
            i.scenario.sample_interval_s,
        );
        let sites: Vec<SiteKpis> = series
            .iter()
            .map(|s| {
                let mut violations = 0;
                let mut max_excess: f64 = 0.0;
                for (p, l) in s.power_kw.iter().zip(&s.limit_kw) {
                    if let Some(l) = l {
                        let excess = p - l;
                        if *p > l * 1.01 + 0.1 {
                            violations += 1;
                        }
                        max_excess = max_excess.max(excess);
                    }
                }
                let bucket_h = f64::from(i.scenario.sample_interval_s) / 3600.0;
                SiteKpis {
                    site: s.site.clone(),
                    limit_kw: s.limit_kw.iter().flatten().copied().reduce(f64::min),
                    peak_kw: s.power_kw.iter().copied().fold(0.0, f64::max),
                    violations,
                    max_excess_kw: max_excess,
                    energy_kwh: s.power_kw.iter().sum::<f64>() * bucket_h,
                    sessions: sessions.iter().filter(|x| x.site == s.site).count(),
                }
            })
            .collect();
        let profiles: Vec<_> = i.records.iter().flat_map(|r| &r.profiles).collect();
        let drivers = &i.outcome.drivers;
        let mut waits: Vec<f64> = drivers
            .iter()
            .filter_map(|d| {
                d.plugged_at
                    .map(|p| (p - d.arrival).num_seconds() as f64 / 60.0)
            })
            .filter(|w| *w > 0.5)
            .collect();
        waits.sort_by(f64::total_cmp);
        let mut dispatch = BTreeMap::new();
        for d in drivers {
            if let Some(m) = d.method {
                let name = serde_json::to_value(m)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                *dispatch.entry(name).or_insert(0) += 1;
            }
        }
        let detours: Vec<f64> = drivers.iter().filter_map(|d| d.detour_km).collect();
        let distances: Vec<f64> = drivers.iter().filter_map(|d| d.distance_km).collect();
        let mean = |v: &[f64]| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let wall_s = i.wall.as_secs_f64().max(1e-3);
        let actions = stats
            .actions
            .iter()
            .map(|(name, a)| ActionKpi {
                action: name.clone(),
                sent: a.sent,
                p50_ms: a.latency.quantile_ms(0.5),
                p99_ms: a.latency.quantile_ms(0.99),
                errors: a.errors.values().sum(),
                timeouts: a.timeouts,
            })
            .collect();
        RunReport {
            scenario: i.scenario.name.clone(),
            target: i.target.to_string(),
            sim_start: i.start,
            sim_end: i.end,
            time_scale: i.scale,
            wall_s,
            chargers: ChargerKpis {
                total: i.records.len(),
                booted: i.records.iter().filter(|r| r.booted).count(),
                boot_ms_p50: quantile(&boot_ms, 0.5),
                boot_ms_p99: quantile(&boot_ms, 0.99),
                connects: stats.connects,
                connect_failures: stats.connect_failures,
            },
            energy: EnergyKpis {
                requested_kwh: requested / 1000.0,
                delivered_kwh: delivered / 1000.0,
                delivered_ratio: if requested > 0.0 {
                    delivered / requested
                } else {
                    0.0
                },
            },
            sessions: SessionKpis {
                planned: i.plans.len(),
                arrived,
                started: sessions.len(),
                fully_served: sessions.iter().filter(|s| s.full).count(),
                refused: sessions
                    .iter()
                    .filter(|s| s.stop_reason.as_deref() == Some("DeAuthorized"))
                    .count(),
                cut_by_end: sessions
                    .iter()
                    .filter(|s| !s.full && s.stop_reason.as_deref() == Some("Local"))
                    .count(),
                gave_up: drivers.iter().filter(|d| d.gave_up).count(),
            },
            limits: LimitKpis {
                violations: sites.iter().map(|s| s.violations).sum(),
                profiles_received: profiles.len(),
                profiles_accepted: profiles.iter().filter(|p| p.accepted).count(),
                own_limit_exceeded_steps: i
                    .records
                    .iter()
                    .map(|r| r.own_limit_exceeded_steps)
                    .sum(),
                demand_response: i.outcome.windows.clone(),
            },
            sites,
            drivers: DriverKpis {
                waited: waits.len(),
                wait_min_p50: quantile(&waits, 0.5),
                wait_min_p95: quantile(&waits, 0.95),
                wait_min_max: waits.last().copied().unwrap_or(0.0),
                dispatch,
                distance_km_mean: mean(&distances),
                detour_km_mean: mean(&detours),
                detour_km_max: detours.iter().copied().fold(0.0, f64::max),
                dispatch_problems: i.outcome.dispatch_problems.clone(),
                records: drivers.clone(),
            },
            ocpp: OcppKpis {
                messages_sent: stats.total_sent(),
                messages_per_s: stats.total_sent() as f64 / wall_s,
                errors: stats.total_errors(),
                replayed: stats.replayed,
                replay_errors: stats.replay_errors,
                csms_calls: stats.received.clone(),
                actions,
                latency: stats.all_latency(),
            },
            errors,
            error_count,
            series,
            session_records: sessions,
        }
    }
}
