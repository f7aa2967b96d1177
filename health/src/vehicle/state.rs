//! The per-vehicle state: the summaries of every session seen and the alert episodes. Updated
//! as each session ends; rebuilt from stored session features by replaying them in order, which
//! gives the same state.

use super::acceptance::acceptance;
use super::alerts::{AlertEpisode, AlertInputs, vehicle_alerts};
use super::context::AssessContext;
use super::cv_check::cv_check;
use super::report::{SessionCounts, VehicleReport};
use super::resistance_index::resistance_index;
use super::soh::{SohMethod, estimate_soh};
use super::spec::VehicleSpec;
use super::stressors::stressors;
use super::summary::SessionSummary;
use super::trend::trend;
use crate::config::HealthConfig;
use crate::error::HealthError;
use crate::features::SessionFeatures;
use crate::stats::median;
use chargegrid_core::WattHours;
use serde::{Deserialize, Serialize};

/// A vehicle's health state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleHealth {
    /// The vehicle.
    pub spec: VehicleSpec,
    sessions: Vec<SessionSummary>,
    episodes: Vec<AlertEpisode>,
}

impl VehicleHealth {
    /// A vehicle with no sessions yet.
    pub fn new(spec: VehicleSpec) -> Self {
        Self {
            spec,
            sessions: Vec::new(),
            episodes: Vec::new(),
        }
    }

    /// Rebuilds the state from stored session features (any order) by replaying them in the
    /// order they ended, so alert episodes come out as they did live.
    pub fn replay<'a>(
        spec: VehicleSpec,
        features: impl IntoIterator<Item = &'a SessionFeatures>,
        ctx: &AssessContext,
        cfg: &HealthConfig,
    ) -> Result<Self, HealthError> {
        let mut all: Vec<&SessionFeatures> = features.into_iter().collect();
        all.sort_by_key(|f| f.ended_at);
        let mut state = Self::new(spec);
        for f in all {
            state.update(f, ctx, cfg)?;
        }
        Ok(state)
    }

    /// Adds an ended session (replacing one with the same id) and returns the fresh report.
    pub fn update(
        &mut self,
        features: &SessionFeatures,
        ctx: &AssessContext,
        cfg: &HealthConfig,
    ) -> Result<VehicleReport, HealthError> {
        if let Some(v) = &features.vehicle
            && v != &self.spec.vehicle
        {
            return Err(HealthError::WrongVehicle {
                session: features.session.to_string(),
                expected: self.spec.vehicle.to_string(),
                found: v.to_string(),
            });
        }
        let summary = SessionSummary::from_features(features);
        self.sessions.retain(|s| s.session != summary.session);
        let pos = self
            .sessions
            .partition_point(|s| s.ended_at <= summary.ended_at);
        self.sessions.insert(pos, summary);
        let mut report = self.report(ctx, cfg);
        self.track_episodes(&mut report);
        Ok(report)
    }

    /// Replaces every session with `sessions` (any order), without a report or alert episodes:
    /// for fleet-wide estimates that need only the sessions, and for state kept as summaries.
    pub fn replace_sessions(&mut self, mut sessions: Vec<SessionSummary>) {
        sessions.sort_by_key(|s| s.ended_at);
        self.sessions = sessions;
    }

    /// The session summaries, in the order they ended.
    pub fn sessions(&self) -> &[SessionSummary] {
        &self.sessions
    }

    /// Every alert episode so far, open and closed.
    pub fn episodes(&self) -> &[AlertEpisode] {
        &self.episodes
    }

    fn track_episodes(&mut self, report: &mut VehicleReport) {
        let Some(now) = report.as_of else { return };
        for ep in self.episodes.iter_mut().filter(|e| e.cleared_at.is_none()) {
            if !report.has_alert(ep.kind) {
                ep.cleared_at = Some(now);
            }
        }
        for a in &mut report.alerts {
            match self
                .episodes
                .iter()
                .find(|e| e.kind == a.kind && e.cleared_at.is_none())
            {
                Some(open) => a.first_raised_at = open.raised_at,
                None => self.episodes.push(AlertEpisode {
                    kind: a.kind,
                    raised_at: now,
                    cleared_at: None,
                }),
            }
        }
    }

    /// The report on the current state, with alert start times from open episodes.
    pub fn report(&self, ctx: &AssessContext, cfg: &HealthConfig) -> VehicleReport {
        let (soh, step, history) = estimate_soh(&self.sessions, &self.spec, ctx, cfg);
        let after_step = step.map_or(0, |s| s.index);
        let step_at = step.and_then(|s| history.get(s.index).map(|p| (s, p.at)));
        let window_start = history
            .last()
            .map(|l| l.at - chrono::Duration::days(cfg.estimation_window_days));
        let seg: Vec<_> = history[after_step.min(history.len())..]
            .iter()
            .filter(|p| window_start.is_none_or(|w| p.at >= w))
            .cloned()
            .collect();
        let odometers: Vec<Option<f64>> = seg
            .iter()
            .map(|p| {
                self.sessions
                    .iter()
                    .find(|s| s.session == p.session)
                    .and_then(|s| s.odometer_km)
            })
            .collect();
        let trend = trend(&seg, &odometers, cfg);
        let resistance = resistance_index(&self.sessions, ctx, cfg);
        let cv_check = ctx
            .soc_references
            .get(&self.spec.model)
            .map(|r| cv_check(&self.sessions, &self.spec, r, cfg));
        let mut soh = soh;
        if let Some(o) = cv_check.as_ref().and_then(|c| c.suspect_offset_points) {
            soh.allow_for_soc_offset(o);
        }
        let as_of = self.sessions.last().map(|s| s.ended_at);
        let mut alerts = match as_of {
            Some(at) => vehicle_alerts(
                &AlertInputs {
                    sessions: &self.sessions,
                    soh: &soh,
                    step: step_at,
                    resistance: &resistance,
                    cv: cv_check.as_ref(),
                    cohort_resistance: ctx.resistance_medians.get(&self.spec.model).copied(),
                    as_of: at,
                },
                cfg,
                ctx,
            ),
            None => Vec::new(),
        };
        for a in &mut alerts {
            if let Some(open) = self
                .episodes
                .iter()
                .find(|e| e.kind == a.kind && e.cleared_at.is_none())
            {
                a.first_raised_at = open.raised_at;
            }
        }
        let wide = |s: &&SessionSummary| s.wide_window(cfg);
        let ac_wh: Vec<f64> = self
            .sessions
            .iter()
            .filter(|s| !s.dc)
            .filter(wide)
            .filter_map(|s| s.wh_per_full.map(|w| w.0))
            .collect();
        let mut report = VehicleReport {
            vehicle: self.spec.vehicle.clone(),
            fleet: self.spec.fleet.clone(),
            model: self.spec.model.clone(),
            label: self.spec.label.clone(),
            nominal_capacity: self.spec.nominal_capacity,
            as_of,
            sessions: SessionCounts {
                total: self.sessions.len(),
                dc: self.sessions.iter().filter(|s| s.dc).count(),
                dc_wide_window: self
                    .sessions
                    .iter()
                    .filter(|s| s.dc && s.ah_per_full.is_some())
                    .filter(wide)
                    .count(),
                ac_wide_window: ac_wh.len(),
            },
            ac_energy_per_full: if soh.method == SohMethod::AcEnergy {
                median(&ac_wh).map(WattHours)
            } else {
                None
            },
            soh,
            trend,
            resistance,
            acceptance: acceptance(&self.sessions),
            stressors: stressors(&self.sessions),
            alerts,
            history,
            cv_check,
            cohort: None,
            disclaimer: crate::DISCLAIMER.to_string(),
        };
        report.sort_alerts();
        report
    }
}
