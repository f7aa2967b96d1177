//! CSV export of fleet rows (RFC 4180 quoting), written by hand: one small function does not
//! justify a dependency. Every row carries the disclaimer in its last column, so it survives
//! any spreadsheet filter or copy.

use super::rollup::FleetRow;
use serde::Serialize;

/// Serialises a unit enum to its snake_case name.
fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(x: Option<f64>, decimals: usize) -> String {
    x.map(|v| format!("{v:.decimals$}")).unwrap_or_default()
}

/// The header line's columns.
pub const CSV_COLUMNS: [&str; 17] = [
    "vehicle",
    "label",
    "model",
    "soh_status",
    "soh_method",
    "soh_pct",
    "soh_low_pct",
    "soh_high_pct",
    "grade",
    "trend_pct_per_month",
    "resistance_index",
    "dc_energy_share",
    "sessions",
    "dc_wide_window_sessions",
    "alerts",
    "worst_severity",
    "note",
];

/// The rows as CSV text with a header line, CRLF line ends.
pub fn to_csv(rows: &[FleetRow]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in rows {
        let alerts: Vec<String> = r.alerts.iter().map(name).collect();
        let cols = [
            r.vehicle.to_string(),
            r.label.clone().unwrap_or_default(),
            r.model.clone(),
            name(&r.soh_status),
            name(&r.soh_method),
            num(r.soh_pct, 1),
            num(r.soh_low_pct, 1),
            num(r.soh_high_pct, 1),
            r.grade.map(|g| name(&g)).unwrap_or_default(),
            num(r.trend_pct_per_month, 3),
            num(r.resistance_index, 2),
            num(Some(r.dc_energy_share), 2),
            r.sessions.to_string(),
            r.dc_wide_window_sessions.to_string(),
            alerts.join(";"),
            r.worst_severity.map(|s| name(&s)).unwrap_or_default(),
            crate::DISCLAIMER.to_string(),
        ];
        let line: Vec<String> = cols.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}
