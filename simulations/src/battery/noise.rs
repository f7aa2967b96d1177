//! Gaussian noise from the seeded RNG (Box–Muller), so the model needs no extra crate.

use rand::Rng;

/// A standard normal draw.
pub(crate) fn gauss<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `x` rounded to a multiple of `step` (no rounding when `step` ≤ 0).
pub(crate) fn round_to(x: f64, step: f64) -> f64 {
    if step > 0.0 {
        (x / step).round() * step
    } else {
        x
    }
}
