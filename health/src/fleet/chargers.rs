//! Chargers separated from cars. Vehicles charge at several chargers and every charger serves
//! several vehicles, so a charger's own error shows as the same offset on every car it serves.
//! Two effects are estimated jointly with the vehicles' own levels:
//!
//! - **current gain**: a DC current sensor reading g times the truth makes every charge it
//!   measures g times too large, so the capacity (Ah per 100 % SoC) of any car charged there
//!   reads high by g. Estimated on log capacity.
//! - **resistance offset**: the charger's cable and contacts sit in series with the pack, so
//!   ΔV/ΔI at its connector reads high by their resistance. Estimated additively.
//!
//! It is a median polish: each session's residual is its value (corrected by its charger's
//! current effect) minus its vehicle's level, the median of the vehicle's corrected sessions
//! within a time window (so a car's fade or a step is not blamed on where it charged); each
//! charger's effect moves by the median of its residuals; the effects are centred on the median
//! charger (an effect common to every charger cannot be told from the cars). After ten passes
//! each effect is shrunk towards none by its number of residuals. A charger whose gain is off
//! by more than the configured tolerance with enough sessions is reported as a finding of its
//! own: its meter needs checking, not the cars.

use crate::config::HealthConfig;
use crate::stats::{median, robust_scale};
use crate::vehicle::VehicleHealth;
use chargegrid_core::ChargerId;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Passes of the joint estimate.
const PASSES: usize = 10;
/// Sessions of a vehicle within this many days either side form its level for a residual.
const LEVEL_WINDOW_DAYS: i64 = 90;
/// Fewest sessions (at least one at another charger) that form a vehicle's level.
const MIN_LEVEL_SESSIONS: usize = 3;
/// Shrinkage: an effect from n residuals is weighted n / (n + this).
const SHRINK_SESSIONS: f64 = 4.0;

/// What is known about one charger's measurement errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargerEffect {
    /// The charger.
    pub charger: ChargerId,
    /// Measured DC current over the truth (1.0 = accurate), relative to the fleet's median
    /// charger.
    pub current_gain: f64,
    /// Half-width of a rough 90 % interval on the gain.
    pub current_gain_half_width: f64,
    /// Capacity residuals behind the gain.
    pub gain_sessions: usize,
    /// Different vehicles among them.
    pub gain_vehicles: usize,
    /// Resistance its connector adds to ΔV/ΔI, ohms, relative to the median charger.
    pub resistance_offset_ohm: f64,
    /// Resistance residuals behind the offset.
    pub resistance_sessions: usize,
}

impl ChargerEffect {
    /// No known effect.
    pub fn none(charger: ChargerId) -> Self {
        Self {
            charger,
            current_gain: 1.0,
            current_gain_half_width: 0.0,
            gain_sessions: 0,
            gain_vehicles: 0,
            resistance_offset_ohm: 0.0,
            resistance_sessions: 0,
        }
    }

    /// Whether the gain is off by more than `tolerance` (a fraction) beyond its uncertainty,
    /// from at least `min_vehicles` vehicles.
    pub fn gain_faulty(&self, tolerance: f64, min_vehicles: usize) -> bool {
        self.gain_vehicles >= min_vehicles
            && (self.current_gain - 1.0).abs() - self.current_gain_half_width > tolerance
    }
}

/// One observation: a session of a vehicle at a charger.
struct Obs<'a> {
    charger: &'a ChargerId,
    at: DateTime<Utc>,
    value: f64,
}

/// One charger's jointly estimated effect on one quantity.
struct Fit {
    /// The effect (log gain, or ohms), shrunk by the number of residuals.
    effect: f64,
    /// Residuals behind it.
    residuals: usize,
    /// Different vehicles among them.
    vehicles: usize,
    /// Robust scale of the residuals.
    scale: f64,
}

fn estimate<'a>(by_vehicle: &[Vec<Obs<'a>>]) -> BTreeMap<&'a ChargerId, Fit> {
    let mut effect: BTreeMap<&ChargerId, f64> = BTreeMap::new();
    let mut residuals: BTreeMap<&ChargerId, (Vec<f64>, BTreeSet<usize>)> = BTreeMap::new();
    let window = Duration::days(LEVEL_WINDOW_DAYS);
    for _ in 0..PASSES {
        let corrected = |o: &Obs<'_>| o.value - effect.get(o.charger).copied().unwrap_or(0.0);
        residuals.clear();
        for (v, obs) in by_vehicle.iter().enumerate() {
            for o in obs {
                // The car's level needs sessions from other chargers too, or a charger's
                // effect would be taken for the car's.
                if obs
                    .iter()
                    .all(|p| p.charger == o.charger || (p.at - o.at).abs() > window)
                {
                    continue;
                }
                let near: Vec<f64> = obs
                    .iter()
                    .filter(|p| (p.at - o.at).abs() <= window)
                    .map(corrected)
                    .collect();
                if near.len() < MIN_LEVEL_SESSIONS {
                    continue;
                }
                let Some(level) = median(&near) else { continue };
                let e = residuals.entry(o.charger).or_default();
                e.0.push(corrected(o) - level);
                e.1.insert(v);
            }
        }
        for (c, (rs, _)) in &residuals {
            *effect.entry(c).or_default() += median(rs).unwrap_or(0.0);
        }
        // Centre on the median charger: an effect every charger shares is the cars'.
        let all: Vec<f64> = effect.values().copied().collect();
        let centre = median(&all).unwrap_or(0.0);
        for e in effect.values_mut() {
            *e -= centre;
        }
    }
    residuals
        .into_iter()
        .map(|(c, (rs, vs))| {
            let n = rs.len() as f64;
            let fit = Fit {
                effect: effect.get(c).copied().unwrap_or(0.0) * n / (n + SHRINK_SESSIONS),
                residuals: rs.len(),
                vehicles: vs.len(),
                scale: robust_scale(&rs).unwrap_or(0.0),
            };
            (c, fit)
        })
        .collect()
}

/// The chargers' effects, from every vehicle's sessions (those at a charger with too few
/// comparable sessions get no effect: the caller treats them as accurate).
pub fn charger_effects<'a>(
    states: impl IntoIterator<Item = &'a VehicleHealth>,
    cfg: &HealthConfig,
) -> BTreeMap<ChargerId, ChargerEffect> {
    let states: Vec<&VehicleHealth> = states.into_iter().collect();
    let mut capacity: Vec<Vec<Obs<'_>>> = Vec::with_capacity(states.len());
    let mut resistance: Vec<Vec<Obs<'_>>> = Vec::with_capacity(states.len());
    for st in &states {
        let (mut cap, mut res) = (Vec::new(), Vec::new());
        for s in st.sessions().iter().filter(|s| s.dc) {
            if let Some(ah) = s.ah_per_full.filter(|a| s.wide_window(cfg) && *a > 0.0) {
                cap.push(Obs {
                    charger: &s.charger,
                    at: s.ended_at,
                    value: ah.ln(),
                });
            }
            if let Some((r, _)) = s.resistance_corrected(cfg) {
                res.push(Obs {
                    charger: &s.charger,
                    at: s.ended_at,
                    value: r,
                });
            }
        }
        capacity.push(cap);
        resistance.push(res);
    }
    let gains = estimate(&capacity);
    let offsets = estimate(&resistance);
    let chargers: BTreeSet<&ChargerId> = gains.keys().chain(offsets.keys()).copied().collect();
    chargers
        .into_iter()
        .map(|c| {
            let mut e = ChargerEffect::none(c.clone());
            if let Some(f) = gains.get(c)
                && f.residuals >= cfg.charger_min_sessions
            {
                e.current_gain = f.effect.exp();
                e.current_gain_half_width = 1.645 * 1.25 * f.scale / (f.residuals as f64).sqrt();
                e.gain_sessions = f.residuals;
                e.gain_vehicles = f.vehicles;
            }
            if let Some(f) = offsets.get(c)
                && f.residuals >= cfg.charger_min_sessions
            {
                e.resistance_offset_ohm = f.effect;
                e.resistance_sessions = f.residuals;
            }
            (c.clone(), e)
        })
        .collect()
}
