//! Step changes in a vehicle's per-session SoH: a module failing or a BMS recalibration shows
//! as a drop that a trend line would smear over months. Medians of up to ten sessions either
//! side of each split are compared against the robust noise of the noisier side, so a split
//! whose side mixes values from before and after the step is not mistaken for it.

use crate::config::HealthConfig;
use crate::stats::{median, robust_scale};
use serde::{Deserialize, Serialize};

/// Sessions compared on each side of a split.
pub(crate) const SIDE: usize = 10;

/// A detected drop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepChange {
    /// Index of the first value after the step.
    pub index: usize,
    /// Median before, points.
    pub before: f64,
    /// Median after, points.
    pub after: f64,
    /// Robust z-score of the difference.
    pub score: f64,
}

impl StepChange {
    /// The size of the drop, points.
    pub fn drop(&self) -> f64 {
        self.before - self.after
    }
}

/// What counts as a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepRule {
    /// Smallest drop (difference of the medians either side).
    pub min_drop: f64,
    /// Fewest values on each side.
    pub min_each_side: usize,
    /// Fewest values after the split when those before it number `min_each_side` (at most
    /// `min_each_side`; equal to it, no short side).
    pub min_short_side: usize,
    /// What a split whose side before is the short one must also meet (`None`: no such split).
    pub short_first: Option<ShortFirst>,
    /// Smallest robust z-score of the drop.
    pub min_score: f64,
    /// Smallest noise scale assumed (quantised values never give a zero scale).
    pub min_scale: f64,
    /// Only splits whose side before is the short one (a step soon after the history starts).
    pub short_first_only: bool,
}

/// The extra conditions of a step soon after a history starts (its short side before it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ShortFirst {
    /// The smallest drop.
    pub min_drop: f64,
    /// How much noisier (robust scale) the short side may be than the long side.
    pub max_noise_ratio: f64,
}

impl StepRule {
    /// The rule for per-session SoH, from the configuration.
    pub(crate) fn capacity(cfg: &HealthConfig) -> Self {
        Self {
            min_drop: cfg.step_min_drop_pct,
            min_each_side: cfg.step_min_sessions_each_side,
            min_short_side: cfg
                .step_min_sessions_short_side
                .min(cfg.step_min_sessions_each_side),
            short_first: Some(ShortFirst {
                min_drop: cfg.step_short_first_min_drop_pct,
                max_noise_ratio: cfg.step_short_first_max_noise_ratio,
            }),
            min_score: cfg.step_min_score,
            min_scale: cfg.min_residual_scale_pct,
            short_first_only: false,
        }
    }

    /// A step soon after the history starts with the ordinary smallest drop and as few as
    /// `short` sessions before it: for a caller that confirms it otherwise (the season cannot
    /// explain it, `super::soh`).
    pub(crate) fn capacity_short_first(cfg: &HealthConfig, short: usize) -> Self {
        let rule = Self::capacity(cfg);
        Self {
            min_short_side: short.min(rule.min_each_side),
            short_first: rule.short_first.map(|f| ShortFirst {
                min_drop: cfg.step_min_drop_pct,
                ..f
            }),
            short_first_only: true,
            ..rule
        }
    }
}

/// The strongest downward step in per-session SoH `ys` (time-ordered) that is at least the
/// configured size and score, with enough values on each side; `None` when there is none.
pub fn detect_step(ys: &[f64], cfg: &HealthConfig) -> Option<StepChange> {
    detect_step_by(ys, &StepRule::capacity(cfg))
}

/// The strongest downward step in `ys` (time-ordered) that `rule` accepts.
///
/// A split with both sides at least `min_each_side` long is scored against the noisier side.
/// One side may be shorter (down to `min_short_side`), scored against the long side's noise
/// alone (a scale read off three values is no scale), with each of its values clear of the long
/// side's median by half the minimum drop, so one or two stray sessions do not make a step. A
/// short side after the split is a step that has just happened. A short side before it is a
/// step soon after the history starts, allowed only with a [`ShortFirst`] rule: it must also
/// drop by its `min_drop` (a vehicle's first few sessions, when they fall in winter, read
/// several points high; on the development fleets, short first sides with the ordinary minimum
/// raised six false steps, all such) and be at most `max_noise_ratio` times as noisy as the long
/// side (a winter start drifts, a pack's sessions before a real step are steady).
pub(crate) fn detect_step_by(ys: &[f64], rule: &StepRule) -> Option<StepChange> {
    let long = rule.min_each_side.max(2);
    let short = rule.min_short_side.clamp(2, long);
    if ys.len() < long + short {
        return None;
    }
    let mut best: Option<StepChange> = None;
    for k in short..=ys.len() - short {
        let b = &ys[k.saturating_sub(SIDE)..k];
        let a = &ys[k..(k + SIDE).min(ys.len())];
        if rule.short_first_only && !(b.len() < long && a.len() >= long) {
            continue;
        }
        let (mb, ma) = (median(b)?, median(a)?);
        let clear = rule.min_drop / 2.0;
        let sigma = match (b.len() >= long, a.len() >= long) {
            // The noisier side sets the scale: a split with a mixed side is not a step.
            (true, true) => robust_scale(b)?.max(robust_scale(a)?),
            // A short side after: each value clear below the earlier level, the earlier noise.
            (true, false) if a.iter().all(|y| *y <= mb - clear) => robust_scale(b)?,
            // A short side before, mirrored, under the rule's extra conditions.
            (false, true) if b.iter().all(|y| *y >= ma + clear) => {
                let Some(first) = rule.short_first else {
                    continue;
                };
                let after = robust_scale(a)?;
                if mb - ma < first.min_drop
                    || robust_scale(b)? > first.max_noise_ratio * after.max(rule.min_scale)
                {
                    continue;
                }
                after
            }
            _ => continue,
        }
        .max(rule.min_scale);
        let se = 1.25 * sigma * (1.0 / b.len() as f64 + 1.0 / a.len() as f64).sqrt();
        let score = (mb - ma) / se;
        if mb - ma >= rule.min_drop
            && score >= rule.min_score
            && best.is_none_or(|s| score > s.score)
        {
            best = Some(StepChange {
                index: k,
                before: mb,
                after: ma,
                score,
            });
        }
    }
    best.map(|s| refine(ys, s))
}

fn l1_about_median(xs: &[f64]) -> f64 {
    let m = median(xs).unwrap_or(0.0);
    xs.iter().map(|x| (x - m).abs()).sum()
}

/// Moves the split to where two flat segments fit best locally (least absolute deviations):
/// the score picks *that* there is a step, this picks exactly *where*.
fn refine(ys: &[f64], s: StepChange) -> StepChange {
    let lo = s.index.saturating_sub(SIDE);
    let hi = (s.index + SIDE).min(ys.len());
    let best = (lo + 1..hi)
        .min_by(|&a, &b| {
            let ca = l1_about_median(&ys[lo..a]) + l1_about_median(&ys[a..hi]);
            let cb = l1_about_median(&ys[lo..b]) + l1_about_median(&ys[b..hi]);
            ca.total_cmp(&cb).then(a.cmp(&b))
        })
        .unwrap_or(s.index);
    StepChange {
        index: best,
        before: median(&ys[best.saturating_sub(SIDE)..best]).unwrap_or(s.before),
        after: median(&ys[best..(best + SIDE).min(ys.len())]).unwrap_or(s.after),
        ..s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_clean_step_at_its_index() {
        let mut ys = vec![95.0, 95.2, 94.8, 95.1, 94.9, 95.0, 95.1, 94.9];
        ys.extend([88.0, 88.2, 87.9, 88.1, 88.0, 87.8]);
        let s = detect_step(&ys, &HealthConfig::default()).unwrap();
        assert_eq!(s.index, 8);
        assert!((s.drop() - 7.0).abs() < 0.3, "{s:?}");
    }

    #[test]
    fn ignores_noise_and_slow_fade() {
        let ys: Vec<f64> = (0..40)
            .map(|i| 95.0 - 0.05 * f64::from(i) + if i % 3 == 0 { 0.6 } else { -0.3 })
            .collect();
        assert_eq!(detect_step(&ys, &HealthConfig::default()), None);
    }
}
