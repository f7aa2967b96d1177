//! Random quantities in scenario files: a fixed value, uniform, or normal clipped to a range.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A distribution of one number, as written in a scenario file: `30`, `{ min = 10, max = 40 }`
/// or `{ mean = 25, sd = 8, min = 5, max = 60 }`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Distribution {
    /// Always this value.
    Fixed(f64),
    /// Normal, clipped to [min, max] when given.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower clip.
        #[serde(default)]
        min: Option<f64>,
        /// Upper clip.
        #[serde(default)]
        max: Option<f64>,
    },
    /// Uniform on [min, max].
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
}

impl Distribution {
    /// One draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match *self {
            Distribution::Fixed(v) => v,
            Distribution::Uniform { min, max } if max > min => rng.random_range(min..max),
            Distribution::Uniform { min, .. } => min,
            Distribution::Normal { mean, sd, min, max } => {
                let u1: f64 = rng.random_range(f64::EPSILON..1.0);
                let u2: f64 = rng.random();
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let v = mean + sd * z;
                v.max(min.unwrap_or(f64::NEG_INFINITY))
                    .min(max.unwrap_or(f64::INFINITY))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn draws_stay_in_their_range() {
        let mut rng = StdRng::seed_from_u64(1);
        let u: Distribution = toml::from_str::<toml::Table>("d = { min = 10.0, max = 40.0 }")
            .unwrap()["d"]
            .clone()
            .try_into()
            .unwrap();
        let n = Distribution::Normal {
            mean: 25.0,
            sd: 30.0,
            min: Some(5.0),
            max: Some(60.0),
        };
        for _ in 0..1000 {
            let a = u.sample(&mut rng);
            assert!((10.0..40.0).contains(&a), "{a}");
            let b = n.sample(&mut rng);
            assert!((5.0..=60.0).contains(&b), "{b}");
        }
        assert_eq!(Distribution::Fixed(3.0).sample(&mut rng), 3.0);
    }
}
