//! Medians, quantiles, MAD and a Huber M-estimate of location.

/// The median of the finite values, or `None` when there are none.
pub fn median(xs: &[f64]) -> Option<f64> {
    quantile(xs, 0.5)
}

/// The `q` quantile (0 ≤ q ≤ 1) of the finite values, interpolating linearly between order
/// statistics (type 7, as R and NumPy do by default).
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Median absolute deviation from `center`.
pub fn mad(xs: &[f64], center: f64) -> Option<f64> {
    let dev: Vec<f64> = xs.iter().map(|x| (x - center).abs()).collect();
    median(&dev)
}

/// 1.4826 × MAD about the median: a standard-deviation estimate that ignores outliers.
pub fn robust_scale(xs: &[f64]) -> Option<f64> {
    let m = median(xs)?;
    Some(1.4826 * mad(xs, m)?)
}

/// A Huber M-estimate of location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HuberFit {
    /// The location.
    pub location: f64,
    /// The robust scale used (1.4826 × MAD, floored).
    pub scale: f64,
    /// How many values were used.
    pub n: usize,
}

/// Huber location of `xs` with per-value `weights` (k = 1.345 scales, ~95 % efficient for
/// normal data), by iteratively reweighted means starting from the median. `min_scale` floors
/// the scale so identical or quantised values do not collapse it to zero.
pub fn huber_location(xs: &[f64], weights: &[f64], min_scale: f64) -> Option<HuberFit> {
    if xs.is_empty() || xs.len() != weights.len() {
        return None;
    }
    let mut loc = median(xs)?;
    let scale = robust_scale(xs)?.max(min_scale).max(f64::MIN_POSITIVE);
    let k = 1.345 * scale;
    for _ in 0..50 {
        let (mut num, mut den) = (0.0, 0.0);
        for (x, w) in xs.iter().zip(weights) {
            let r = (x - loc).abs();
            let hw = if r <= k { 1.0 } else { k / r };
            num += w * hw * x;
            den += w * hw;
        }
        if den <= 0.0 {
            return None;
        }
        let next = num / den;
        let done = (next - loc).abs() < 1e-9 * scale.max(1.0);
        loc = next;
        if done {
            break;
        }
    }
    Some(HuberFit {
        location: loc,
        scale,
        n: xs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quantiles_are_exact_on_small_sets() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), Some(2.0));
        assert_eq!(quantile(&[10.0], 0.05), Some(10.0));
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn huber_ignores_one_wild_value() {
        let xs = [90.0, 90.2, 89.8, 90.1, 89.9, 60.0];
        let fit = huber_location(&xs, &[1.0; 6], 0.1).unwrap();
        assert!((fit.location - 90.0).abs() < 0.1, "{fit:?}");
        let mean: f64 = xs.iter().sum::<f64>() / 6.0;
        assert!(fit.location > mean + 4.0);
    }
}
