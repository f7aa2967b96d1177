//! A synthetic EV: a pack design, its ageing, injected faults and the state carried between
//! sessions (true SoC, cycles, odometer). Its ground truth at any moment is exact.

use super::ageing::{AgeingModel, Fault, GroundTruth};
use super::pack::PackSpec;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

const MONTH_S: f64 = 30.436_875 * 86_400.0;

/// A synthetic vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticEv {
    /// Its id (used as VIN / vehicle id).
    pub id: String,
    /// Pack design.
    pub pack: PackSpec,
    /// SoH when first seen, percent (fleets buy used cars too).
    pub initial_soh_pct: f64,
    /// Ageing rates.
    pub ageing: AgeingModel,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Start of its ageing clock.
    pub commissioned_at: DateTime<Utc>,
    /// Equivalent full cycles so far.
    pub equivalent_full_cycles: f64,
    /// Odometer, km.
    pub odometer_km: f64,
    /// True SoC, fraction.
    pub soc: f64,
    /// Driving consumption, Wh per km.
    pub consumption_wh_per_km: f64,
}

impl SyntheticEv {
    /// A new vehicle at 100 % SoH, half full.
    pub fn new(id: impl Into<String>, pack: PackSpec, commissioned_at: DateTime<Utc>) -> Self {
        Self {
            id: id.into(),
            pack,
            initial_soh_pct: 100.0,
            ageing: AgeingModel::default(),
            faults: Vec::new(),
            commissioned_at,
            equivalent_full_cycles: 0.0,
            odometer_km: 0.0,
            soc: 0.5,
            consumption_wh_per_km: 180.0,
        }
    }

    fn months(&self, at: DateTime<Utc>) -> f64 {
        ((at - self.commissioned_at).num_seconds() as f64 / MONTH_S).max(0.0)
    }

    fn active(&self, at: DateTime<Utc>) -> impl Iterator<Item = &Fault> {
        self.faults.iter().filter(move |f| f.at() <= at)
    }

    /// The truth at `at` (with the cycles counted so far).
    pub fn truth_at(&self, at: DateTime<Utc>) -> GroundTruth {
        let m = self.months(at);
        let efc = self.equivalent_full_cycles;
        let steps: f64 = self
            .active(at)
            .map(|f| match f {
                Fault::CapacityStep { drop_pct, .. } => *drop_pct,
                _ => 0.0,
            })
            .sum();
        let soh = (self.initial_soh_pct
            - self.ageing.fade_pct_per_month * m
            - self.ageing.fade_pct_per_cycle * efc
            - steps)
            .max(1.0);
        let jump: f64 = self
            .active(at)
            .map(|f| match f {
                Fault::ResistanceJump { factor, .. } => *factor,
                _ => 1.0,
            })
            .product();
        let r = self.pack.resistance_25c_ohm
            * (1.0
                + self.ageing.resistance_growth_per_month * m
                + self.ageing.resistance_growth_per_cycle * efc)
            * jump;
        let capacity_ah = self.pack.nominal_capacity_ah * soh / 100.0;
        GroundTruth {
            at,
            capacity_ah,
            capacity_wh: capacity_ah * self.pack.nominal_voltage().0,
            resistance_25c_ohm: r,
            soh_pct: soh,
            equivalent_full_cycles: efc,
            odometer_km: self.odometer_km,
        }
    }

    /// Drives `km` at `at`, lowering the true SoC (not below 3 %).
    pub fn drive(&mut self, km: f64, at: DateTime<Utc>) {
        let wh = self.truth_at(at).capacity_wh;
        self.soc = (self.soc - km * self.consumption_wh_per_km / wh).max(0.03);
        self.odometer_km += km;
    }

    /// SoC the BMS reports for true SoC `soc` (fraction) at `at`, percent.
    pub(crate) fn bms_soc_pct(&self, soc: f64, at: DateTime<Utc>) -> f64 {
        let mut pct = soc * 100.0;
        for f in self.active(at) {
            if let Fault::BmsSocError { scale, offset, .. } = f {
                pct = pct * scale + offset;
            }
        }
        pct.clamp(0.0, 100.0)
    }

    /// The temperature the car reports for a true pack temperature.
    pub(crate) fn reported_temperature(&self, temp_c: f64, at: DateTime<Utc>) -> f64 {
        self.active(at)
            .find_map(|f| match f {
                Fault::DeadTemperatureSensor { value, .. } => Some(*value),
                _ => None,
            })
            .unwrap_or(temp_c)
    }

    /// Probability that the car aborts a session starting at `at`.
    pub(crate) fn abort_probability(&self, at: DateTime<Utc>) -> f64 {
        self.active(at)
            .filter_map(|f| match f {
                Fault::SpuriousAborts { probability, .. } => Some(*probability),
                _ => None,
            })
            .fold(0.0, f64::max)
    }

    /// Whether the car reports a battery malfunction at `at`.
    pub(crate) fn malfunctioning(&self, at: DateTime<Utc>) -> bool {
        self.active(at)
            .any(|f| matches!(f, Fault::BatteryMalfunction { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn truth_follows_ageing_and_faults() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        let mut ev = SyntheticEv::new("V", PackSpec::nmc_400v("M", 200.0), t0);
        ev.ageing = AgeingModel {
            fade_pct_per_month: 0.5,
            fade_pct_per_cycle: 0.0,
            resistance_growth_per_month: 0.01,
            resistance_growth_per_cycle: 0.0,
        };
        let m2 = t0 + Duration::seconds((2.0 * MONTH_S) as i64);
        let t = ev.truth_at(m2);
        assert!((t.soh_pct - 99.0).abs() < 1e-9);
        assert!((t.capacity_ah - 198.0).abs() < 1e-9);
        assert!((t.resistance_25c_ohm - 0.102).abs() < 1e-12);
        ev.faults.push(Fault::CapacityStep {
            at: m2,
            drop_pct: 6.0,
        });
        ev.faults.push(Fault::ResistanceJump {
            at: m2,
            factor: 1.5,
        });
        let after = ev.truth_at(m2);
        assert!((after.soh_pct - 93.0).abs() < 1e-9);
        assert!((after.resistance_25c_ohm - 0.153).abs() < 1e-12);
        assert!(
            (ev.truth_at(t0).soh_pct - 100.0).abs() < 1e-9,
            "faults start at their time"
        );
    }
}
