//! Vehicle types used by the scenarios: pack sizes, chemistry and on-board chargers of typical
//! cars, vans and buses, built on [`PackSpec`].

use chargegrid_core::Watts;
use serde::{Deserialize, Serialize};

use crate::battery::{Chemistry, PackSpec, TaperCurve};

/// A vehicle type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VehicleKind {
    /// A 60 kWh car, 11 kW three-phase on-board charger.
    Car,
    /// A 40 kWh car with a 7.4 kW single-phase on-board charger (older / smaller cars).
    SmallCar,
    /// A 75 kWh delivery van, 11 kW on-board, up to ~1 C on DC.
    Van,
    /// A 350 kWh LFP city bus, charged over DC (depot CCS), gentle taper.
    Bus,
}

impl VehicleKind {
    /// The pack design.
    pub fn pack(self) -> PackSpec {
        match self {
            VehicleKind::Car => PackSpec::nmc_400v("sim-car-60", 165.0),
            VehicleKind::SmallCar => {
                let mut p = PackSpec::nmc_400v("sim-car-40", 110.0);
                p.onboard_charger_max = Watts(7_400.0);
                p
            }
            VehicleKind::Van => {
                let mut p = PackSpec::nmc_400v("sim-van-75", 205.0);
                p.taper = TaperCurve::from_steps(vec![(60.0, 1.0), (80.0, 0.7), (100.0, 0.3)])
                    .unwrap_or_else(TaperCurve::manufacturer_like);
                p
            }
            VehicleKind::Bus => {
                let mut p = PackSpec::nmc_400v("sim-bus-350", 560.0);
                p.chemistry = Chemistry::Lfp;
                p.series_cells = 192;
                p.resistance_25c_ohm = 0.09;
                p.thermal_mass_j_per_k = 2_000_000.0;
                p.taper = TaperCurve::from_steps(vec![(85.0, 0.5), (95.0, 0.3), (100.0, 0.15)])
                    .unwrap_or_else(TaperCurve::manufacturer_like);
                p.aux_load = Watts(1_500.0);
                p
            }
        }
    }

    /// Single-phase on AC (else three-phase).
    pub fn ac_phases(self) -> u8 {
        match self {
            VehicleKind::SmallCar => 1,
            _ => 3,
        }
    }
}
