//! Fleet roll-up: chargers' measurement errors separated from the cars, vehicle reports
//! compared with their model's cohort, rows to sort and filter
//! by alert, CSV export and an SVG chart of SoH over time.

mod chargers;
mod chart;
mod cohort;
mod cold_bias;
mod csv;
mod rollup;

pub use chargers::{ChargerEffect, charger_effects};
pub use chart::{ChartOptions, soh_chart_svg};
pub use cohort::{CohortStats, cohort_stats, suspect_chargers};
pub use cold_bias::cold_biases;
pub use csv::{CSV_COLUMNS, to_csv};
pub use rollup::{FleetFilter, FleetReport, FleetRow, SortKey, select};
