//! The pack's fixed design: cells in series, capacity, resistance, thermal behaviour, taper,
//! auxiliary loads and on-board charger. Ageing and faults live elsewhere.

use super::chemistry::{Chemistry, OcvCurve};
use super::taper::TaperCurve;
use chargegrid_core::{Volts, WattHours, Watts};
use serde::{Deserialize, Serialize};

const GAS_CONSTANT: f64 = 8.314;

/// A pack design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackSpec {
    /// Make and model (the cohort key).
    pub model: String,
    /// Cell chemistry.
    pub chemistry: Chemistry,
    /// Cells in series.
    pub series_cells: u32,
    /// Nominal capacity when new, Ah.
    pub nominal_capacity_ah: f64,
    /// Pack DC resistance at 25 °C and mid SoC when new, ohms.
    pub resistance_25c_ohm: f64,
    /// Activation energy of the resistance's temperature dependence, J/mol.
    pub activation_energy: f64,
    /// Heat capacity of the pack, J/K.
    pub thermal_mass_j_per_k: f64,
    /// Passive heat loss to ambient, W/K.
    pub passive_cooling_w_per_k: f64,
    /// Extra active cooling above `active_cooling_above_c`, W/K.
    pub active_cooling_w_per_k: f64,
    /// Temperature at which active cooling starts, °C.
    pub active_cooling_above_c: f64,
    /// Accepted current by SoC and temperature.
    pub taper: TaperCurve,
    /// Auxiliary load while charging (BMS, pumps, HVAC), W.
    pub aux_load: Watts,
    /// On-board (AC) charger limit.
    pub onboard_charger_max: Watts,
    /// On-board charger efficiency.
    pub onboard_efficiency: f64,
}

impl PackSpec {
    /// A 400 V-class NMC pack of `capacity_ah` (96s).
    pub fn nmc_400v(model: &str, capacity_ah: f64) -> Self {
        Self {
            model: model.to_string(),
            chemistry: Chemistry::Nmc,
            series_cells: 96,
            nominal_capacity_ah: capacity_ah,
            resistance_25c_ohm: 0.10,
            activation_energy: 22_000.0,
            thermal_mass_j_per_k: 350_000.0,
            passive_cooling_w_per_k: 20.0,
            active_cooling_w_per_k: 250.0,
            active_cooling_above_c: 32.0,
            taper: TaperCurve::manufacturer_like(),
            aux_load: Watts(300.0),
            onboard_charger_max: Watts(11_000.0),
            onboard_efficiency: 0.90,
        }
    }

    /// The OCV curve.
    pub fn ocv(&self) -> OcvCurve {
        OcvCurve::of(self.chemistry)
    }

    /// Pack OCV at `soc` (fraction).
    pub fn pack_ocv(&self, soc: f64) -> f64 {
        self.ocv().cell_volts(soc) * f64::from(self.series_cells)
    }

    /// Largest pack voltage while charging.
    pub fn max_pack_volts(&self) -> f64 {
        self.chemistry.max_cell_volts() * f64::from(self.series_cells)
    }

    /// Nominal pack voltage: the mean OCV over 0–100 % (datasheet "nominal voltage").
    pub fn nominal_voltage(&self) -> Volts {
        Volts(self.ocv().mean_cell_volts() * f64::from(self.series_cells))
    }

    /// Nominal usable energy: nominal Ah × nominal voltage.
    pub fn nominal_energy(&self) -> WattHours {
        WattHours(self.nominal_capacity_ah * self.nominal_voltage().0)
    }

    /// Resistance at `soc` (fraction) and `temp_c`, given the aged 25 °C value `r25`: higher in
    /// the cold (Arrhenius) and near empty or full.
    pub fn resistance(&self, r25: f64, soc: f64, temp_c: f64) -> f64 {
        let t = temp_c + 273.15;
        let arrhenius = (self.activation_energy / GAS_CONSTANT * (1.0 / t - 1.0 / 298.15)).exp();
        let soc_shape = 1.0 + 0.4 * (-soc / 0.08).exp() + 0.15 * (-(1.0 - soc) / 0.05).exp();
        r25 * arrhenius * soc_shape
    }
}
