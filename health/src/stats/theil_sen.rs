//! Lines through noisy points: Theil–Sen (median of pairwise slopes) with Sen's distribution-free
//! 90 % slope interval, and ordinary least squares for well-behaved within-session fits.

use super::robust::median;

/// A fitted line `y = intercept + slope · x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// Slope.
    pub slope: f64,
    /// Value at x = 0.
    pub intercept: f64,
    /// Lower end of the 90 % slope interval (Theil–Sen: Sen's interval; OLS: t-interval).
    pub slope_low: f64,
    /// Upper end of the 90 % slope interval.
    pub slope_high: f64,
    /// Points used.
    pub n: usize,
}

/// Theil–Sen line: the median of the slopes of all pairs with distinct x; the intercept is the
/// median of `y − slope·x`. The slope interval is Sen's (1968), from the normal approximation of
/// Kendall's S at 90 %. Needs at least 3 points with two distinct x.
pub fn theil_sen(xs: &[f64], ys: &[f64]) -> Option<LineFit> {
    let n = xs.len();
    if n < 3 || ys.len() != n {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = xs[j] - xs[i];
            if dx.abs() > 1e-12 {
                slopes.push((ys[j] - ys[i]) / dx);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let slope = median(&slopes)?;
    let resid: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| y - slope * x).collect();
    let intercept = median(&resid)?;
    let nf = n as f64;
    let var_s = nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0;
    let c = 1.644_853_6 * var_s.sqrt();
    let big_n = slopes.len() as f64;
    let lo_rank = ((big_n - c) / 2.0).floor().max(1.0) as usize;
    let hi_rank = (((big_n + c) / 2.0).ceil() + 1.0).min(big_n) as usize;
    Some(LineFit {
        slope,
        intercept,
        slope_low: slopes[lo_rank - 1],
        slope_high: slopes[hi_rank - 1],
        n,
    })
}

/// Ordinary least squares with a t-based 90 % slope interval. Needs 3 points and spread in x.
pub fn ols(xs: &[f64], ys: &[f64]) -> Option<LineFit> {
    let n = xs.len();
    if n < 3 || ys.len() != n {
        return None;
    }
    let nf = n as f64;
    let mx = xs.iter().sum::<f64>() / nf;
    let my = ys.iter().sum::<f64>() / nf;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx <= 1e-12 {
        return None;
    }
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| (y - intercept - slope * x).powi(2))
        .sum();
    let se = (sse / (nf - 2.0)).sqrt() / sxx.sqrt();
    let t = super::t_quantile_95(n - 2);
    Some(LineFit {
        slope,
        intercept,
        slope_low: slope - t * se,
        slope_high: slope + t * se,
        n,
    })
}

/// Root-mean-square residual of a fit.
pub fn rms_residual(fit: &LineFit, xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len().max(1) as f64;
    (xs.iter()
        .zip(ys)
        .map(|(x, y)| (y - fit.intercept - fit.slope * x).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// A least-squares fit `y = a + b1·x1 + b2·x2` ([`ols2`]) with the sampling covariance of its
/// two slopes (residual variance over `n − 3` degrees of freedom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ols2 {
    /// Intercept.
    pub a: f64,
    /// Slope on `x1`.
    pub b1: f64,
    /// Slope on `x2`.
    pub b2: f64,
    /// Variance of `b1`.
    pub var_b1: f64,
    /// Variance of `b2`.
    pub var_b2: f64,
    /// Covariance of `b1` and `b2`.
    pub cov_b1_b2: f64,
}

/// Least squares `y = a + b1·x1 + b2·x2`; `None` when the regressors are (nearly) collinear
/// or there are fewer than five points (two left to estimate the residual variance).
pub fn ols2(x1: &[f64], x2: &[f64], y: &[f64]) -> Option<Ols2> {
    let n = y.len();
    if n < 5 || x1.len() != n || x2.len() != n {
        return None;
    }
    let m = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let (m1, m2, my) = (m(x1), m(x2), m(y));
    let (mut s11, mut s22, mut s12, mut s1y, mut s2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let (a, b, c) = (x1[i] - m1, x2[i] - m2, y[i] - my);
        s11 += a * a;
        s22 += b * b;
        s12 += a * b;
        s1y += a * c;
        s2y += b * c;
    }
    let det = s11 * s22 - s12 * s12;
    // Refuse when the regressors are almost proportional (|correlation| > 0.9995).
    if s11 <= 0.0 || s22 <= 0.0 || det <= 1e-3 * s11 * s22 {
        return None;
    }
    let b1 = (s1y * s22 - s2y * s12) / det;
    let b2 = (s2y * s11 - s1y * s12) / det;
    let a = my - b1 * m1 - b2 * m2;
    let rss: f64 = (0..n)
        .map(|i| (y[i] - a - b1 * x1[i] - b2 * x2[i]).powi(2))
        .sum();
    let s2 = rss / (n - 3) as f64;
    Some(Ols2 {
        a,
        b1,
        b2,
        var_b1: s2 * s22 / det,
        var_b2: s2 * s11 / det,
        cov_b1_b2: -s2 * s12 / det,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_is_recovered() {
        let xs: Vec<f64> = (0..10).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 - 0.5 * x).collect();
        let ts = theil_sen(&xs, &ys).unwrap();
        assert_eq!(ts.slope, -0.5);
        assert_eq!(ts.intercept, 3.0);
        assert_eq!((ts.slope_low, ts.slope_high), (-0.5, -0.5));
        let o = ols(&xs, &ys).unwrap();
        assert!((o.slope + 0.5).abs() < 1e-12 && (o.intercept - 3.0).abs() < 1e-12);
        assert!(rms_residual(&o, &xs, &ys) < 1e-12);
    }

    #[test]
    fn two_regressors_are_separated_exactly() {
        let x1 = [0.0, 1.0, 2.0, 4.0, 7.0];
        let x2 = [0.0, 2.0, 1.0, 5.0, 3.0];
        let y: Vec<f64> = x1
            .iter()
            .zip(&x2)
            .map(|(a, b)| 1.0 + 2.0 * a - 0.5 * b)
            .collect();
        let f = ols2(&x1, &x2, &y).unwrap();
        assert!((f.a - 1.0).abs() < 1e-9 && (f.b1 - 2.0).abs() < 1e-9 && (f.b2 + 0.5).abs() < 1e-9);
        // An exact fit leaves no sampling variance.
        assert!(f.var_b1.abs() < 1e-12 && f.var_b2.abs() < 1e-12);
        assert_eq!(ols2(&x1, &x1, &y), None, "collinear");
    }

    /// With centred, orthogonal regressors the slopes' variances are the residual variance (over
    /// n − 3) over each regressor's sum of squares, and they do not covary.
    #[test]
    fn orthogonal_regressors_give_the_closed_form_variances() {
        let x1 = [-3.0, -1.0, 1.0, 3.0, -3.0, -1.0, 1.0, 3.0];
        let x2 = [1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0];
        assert_eq!(x1.iter().zip(&x2).map(|(a, b)| a * b).sum::<f64>(), 0.0);
        let e = [0.3, -0.2, 0.1, -0.4, 0.2, 0.1, -0.3, 0.2];
        let y: Vec<f64> = (0..8)
            .map(|i| 2.0 + 0.5 * x1[i] - 1.5 * x2[i] + e[i])
            .collect();
        let f = ols2(&x1, &x2, &y).unwrap();
        let rss: f64 = (0..8)
            .map(|i| (y[i] - f.a - f.b1 * x1[i] - f.b2 * x2[i]).powi(2))
            .sum();
        let s2 = rss / 5.0;
        let (s11, s22) = (40.0, 8.0);
        assert!((f.var_b1 - s2 / s11).abs() < 1e-12, "{f:?}");
        assert!((f.var_b2 - s2 / s22).abs() < 1e-12, "{f:?}");
        assert!(f.cov_b1_b2.abs() < 1e-12, "{f:?}");
    }

    /// The same data with the noise doubled quadruples the slopes' variances.
    #[test]
    fn the_slopes_uncertainty_scales_with_the_noise() {
        let x1: Vec<f64> = (0..12).map(f64::from).collect();
        let x2: Vec<f64> = x1.iter().map(|x| (x * 0.7).sin() * 3.0).collect();
        let noise: Vec<f64> = (0..12)
            .map(|i| if i % 3 == 0 { 0.2 } else { -0.1 })
            .collect();
        let fit = |k: f64| {
            let y: Vec<f64> = (0..12)
                .map(|i| 1.0 + 2.0 * x1[i] - 0.5 * x2[i] + k * noise[i])
                .collect();
            ols2(&x1, &x2, &y).unwrap()
        };
        let (one, two) = (fit(1.0), fit(2.0));
        assert!(one.var_b1 > 0.0 && one.var_b2 > 0.0);
        assert!(
            (two.var_b1 / one.var_b1 - 4.0).abs() < 1e-6,
            "{one:?} {two:?}"
        );
        assert!((two.var_b2 / one.var_b2 - 4.0).abs() < 1e-6);
        // A known covariance sign: x1 and x2 correlated positively give slopes that trade off.
        let c = x1.iter().zip(&x2).map(|(a, b)| (a - 5.5) * b).sum::<f64>();
        assert_eq!(one.cov_b1_b2.signum(), -c.signum());
    }

    #[test]
    fn theil_sen_shrugs_off_an_outlier_and_brackets_its_slope() {
        let xs: Vec<f64> = (0..12).map(f64::from).collect();
        let mut ys: Vec<f64> = xs
            .iter()
            .map(|x| 2.0 * x + if (*x as i32) % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        ys[5] = 100.0;
        let ts = theil_sen(&xs, &ys).unwrap();
        assert!((ts.slope - 2.0).abs() < 0.05, "{ts:?}");
        assert!(ts.slope_low <= ts.slope && ts.slope <= ts.slope_high);
    }
}
