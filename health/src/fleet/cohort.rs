//! Cohorts: vehicles of the same model, compared by the same method (a DC charge-based SoH is
//! not compared with an AC energy-based one). Also finds chargers that abort many vehicles.

use crate::stats::{median, quantile};
use crate::vehicle::{SohMethod, VehicleHealth, VehicleReport};
use chargegrid_core::{ChargerId, VehicleId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Smallest cohort for which a 5th percentile is given.
pub const MIN_COHORT_FOR_P5: usize = 10;

/// Statistics of one model's cohort for one method family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortStats {
    /// The model.
    pub model: String,
    /// Whether these are AC energy-based figures.
    pub ac: bool,
    /// Vehicles with a SoH figure.
    pub size: usize,
    /// Median SoH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_median: Option<f64>,
    /// 5th percentile SoH (cohorts of at least [`MIN_COHORT_FOR_P5`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soh_p5: Option<f64>,
    /// SoH figures, sorted.
    pub soh_values: Vec<f64>,
    /// Median taper onset SoC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taper_onset_median: Option<f64>,
    /// Median minutes 20 → 80 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_20_to_80_median: Option<f64>,
    /// Median AC energy per 100 % SoC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ac_energy_median: Option<f64>,
}

/// Cohort statistics keyed by (model, is AC).
pub fn cohort_stats(reports: &[VehicleReport]) -> BTreeMap<(String, bool), CohortStats> {
    let mut groups: BTreeMap<(String, bool), Vec<&VehicleReport>> = BTreeMap::new();
    for r in reports {
        let ac = r.soh.method == SohMethod::AcEnergy;
        groups.entry((r.model.clone(), ac)).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|((model, ac), rs)| {
            let mut soh: Vec<f64> = rs.iter().filter_map(|r| r.soh.value()).collect();
            soh.sort_by(f64::total_cmp);
            let taper: Vec<f64> = rs
                .iter()
                .filter_map(|r| r.acceptance.taper_onset_soc)
                .collect();
            let mins: Vec<f64> = rs
                .iter()
                .filter_map(|r| r.acceptance.minutes_20_to_80)
                .collect();
            let acw: Vec<f64> = rs
                .iter()
                .filter_map(|r| r.ac_energy_per_full.map(|w| w.0))
                .collect();
            let stats = CohortStats {
                model: model.clone(),
                ac,
                size: soh.len(),
                soh_median: median(&soh),
                soh_p5: (soh.len() >= MIN_COHORT_FOR_P5)
                    .then(|| quantile(&soh, 0.05))
                    .flatten(),
                soh_values: soh,
                taper_onset_median: median(&taper),
                minutes_20_to_80_median: median(&mins),
                ac_energy_median: median(&acw),
            };
            ((model, ac), stats)
        })
        .collect()
}

/// Chargers that look faulty rather than the cars: at least `min_vehicles` different vehicles
/// ended sessions there with an EV-side abort, and such aborts are at least `min_share` of all
/// the sessions seen there. The share matters: a few genuinely failing cars abort everywhere,
/// which must not make every charger they visit look suspect.
pub fn suspect_chargers<'a>(
    states: impl IntoIterator<Item = &'a VehicleHealth>,
    min_vehicles: usize,
    min_share: f64,
) -> BTreeSet<ChargerId> {
    let mut by_charger: BTreeMap<&ChargerId, (BTreeSet<&VehicleId>, usize, usize)> =
        BTreeMap::new();
    for st in states {
        for s in st.sessions() {
            let e = by_charger.entry(&s.charger).or_default();
            e.2 += 1;
            if s.ev_abort {
                e.0.insert(&st.spec.vehicle);
                e.1 += 1;
            }
        }
    }
    by_charger
        .into_iter()
        .filter(|(_, (v, aborts, total))| {
            v.len() >= min_vehicles && *aborts as f64 >= min_share * *total as f64
        })
        .map(|(c, _)| c.clone())
        .collect()
}
