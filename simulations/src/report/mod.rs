//! The outcome of a scenario run: KPIs computed from what the chargers recorded (their power
//! over simulated time, profiles, sessions, OCPP counters) and what the scenario saw (drivers,
//! demand-response windows), as a text table, a JSON result and SVG plots.

mod build;
mod kpis;
mod plots;
mod site_power;
mod table;

pub use build::RunInputs;
pub use kpis::{
    ActionKpi, ChargerKpis, DriverKpis, EnergyKpis, LimitKpis, OcppKpis, RunReport, SessionKpis,
    SiteKpis, SiteSeries,
};
pub use site_power::site_series;

use std::path::Path;

use crate::SimError;

impl RunReport {
    /// Writes `result.json`, `kpis.txt` and the plots into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> Result<(), SimError> {
        let err = |path: &Path, e: String| SimError::Write {
            path: path.display().to_string(),
            message: e,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e.to_string()))?;
        let json = dir.join("result.json");
        let text = serde_json::to_string_pretty(self).map_err(|e| err(&json, e.to_string()))?;
        std::fs::write(&json, text).map_err(|e| err(&json, e.to_string()))?;
        let table = dir.join("kpis.txt");
        std::fs::write(&table, self.table()).map_err(|e| err(&table, e.to_string()))?;
        plots::write_all(self, dir)
    }
}
