//! Medians per bin from several vehicles: the fleet references (a model's healthy displayed SoC
//! at the top of the charge, its auxiliary load and its cold bias by temperature) are all
//! "values per bin, and which vehicles gave them", kept only where enough values from enough
//! vehicles stand behind a bin, so that a few odd vehicles cannot make a reference.

use super::robust::{median, robust_scale};
use std::collections::{BTreeMap, BTreeSet};

/// Values in one bin and the vehicles (by index) that gave them.
pub type Bin = (Vec<f64>, BTreeSet<usize>);

/// Adds vehicle `v`'s value `x` to bin `key`.
pub fn add_to_bin<K: Ord>(bins: &mut BTreeMap<K, Bin>, key: K, x: f64, v: usize) {
    let e = bins.entry(key).or_default();
    e.0.push(x);
    e.1.insert(v);
}

/// Each bin's median, in key order, for the bins with at least `min_values` values from at
/// least `min_vehicles` vehicles.
pub fn binned_medians<K: Ord>(
    bins: BTreeMap<K, Bin>,
    min_values: usize,
    min_vehicles: usize,
) -> Vec<(K, f64)> {
    binned_medians_and_scales(bins, min_values, min_vehicles)
        .into_iter()
        .map(|(k, m, _)| (k, m))
        .collect()
}

/// As [`binned_medians`], with each bin's robust scale (1.4826 × MAD) beside its median.
pub fn binned_medians_and_scales<K: Ord>(
    bins: BTreeMap<K, Bin>,
    min_values: usize,
    min_vehicles: usize,
) -> Vec<(K, f64, f64)> {
    bins.into_iter()
        .filter(|(_, (xs, vs))| xs.len() >= min_values && vs.len() >= min_vehicles)
        .filter_map(|(k, (xs, _))| Some((k, median(&xs)?, robust_scale(&xs)?)))
        .collect()
}
