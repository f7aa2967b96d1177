//! What is left of the car's own loads in cold sessions, learnt from the fleet. A session that
//! could not separate its heating borrows a load ([`super::aux_load`]), but a borrowed figure
//! is rough, and in the cold it is most of what the charger delivers. A pack's capacity does
//! not follow the season, so whatever per-session capacity a model's cold sessions read above
//! the same vehicles' warm sessions of the same weeks is measurement, not battery: the median
//! of those differences per 2 °C of battery temperature, over the model's vehicles, is taken off
//! its cold sessions; where a model has too few vehicles for a bin, the whole fleet's bin is
//! used (the load's share of the charge is of a size across models: larger packs have larger
//! heaters and charge faster). Warm sessions are left as they are. This module holds the bias
//! and its lookup; the fleet roll-up learns it (`fleet::cold_biases`).

use crate::stats::{Bin, binned_medians};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Width of a temperature bin, °C.
const BIN_C: f64 = 2.0;
/// At or above this battery temperature a session is warm: no bias is learnt or taken off.
pub(crate) const WARM_C: f64 = 15.0;
/// Fewest differences, and vehicles behind them, for a bin.
const BIN_MIN_POINTS: usize = 10;
const BIN_MIN_VEHICLES: usize = 3;

/// One temperature bin of a model's cold bias.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ColdBin {
    /// Battery temperature bin (°C / 2, floored).
    pub t_bin: i32,
    /// Median excess of per-session SoH over the same vehicle's warm level, points.
    pub bias_pct: f64,
}

/// A model's cold bias, bins sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColdBias {
    /// The bins.
    pub bins: Vec<ColdBin>,
}

pub(crate) fn t_bin(t: f64) -> i32 {
    (t / BIN_C).floor() as i32
}

impl ColdBias {
    fn get(&self, t: f64) -> Option<f64> {
        self.bins
            .binary_search_by_key(&t_bin(t), |b| b.t_bin)
            .ok()
            .map(|k| self.bins[k].bias_pct)
    }
}

/// The cold biases of a fleet: per model, and over every model as the fallback.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColdBiases {
    /// Per model.
    pub by_model: BTreeMap<String, ColdBias>,
    /// Over the whole fleet.
    pub fleet: ColdBias,
}

impl ColdBiases {
    /// The bias (points) to take off a session of `model` at battery temperature `t`: the
    /// model's bin, else the fleet's; 0 when warm or neither has the bin.
    pub fn at(&self, model: &str, t: f64) -> f64 {
        if t >= WARM_C {
            return 0.0;
        }
        self.by_model
            .get(model)
            .and_then(|b| b.get(t))
            .or_else(|| self.fleet.get(t))
            .unwrap_or(0.0)
    }
}

/// The bins with enough behind them, as a bias.
pub(crate) fn to_bias(bins: BTreeMap<i32, Bin>) -> ColdBias {
    ColdBias {
        bins: binned_medians(bins, BIN_MIN_POINTS, BIN_MIN_VEHICLES)
            .into_iter()
            .map(|(t_bin, bias_pct)| ColdBin { t_bin, bias_pct })
            .collect(),
    }
}
