//! Health metrics: reports computed, sessions processed, vehicles by SoH band, active alerts by
//! kind and severity. Bounded labels only (bands, kinds), never a vehicle id.

use prometheus::{IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry};

use chargegrid_health::VehicleReport;

/// Health metrics.
#[derive(Debug, Clone)]
pub struct HealthMetrics {
    /// Vehicle reports computed.
    pub reports: IntCounter,
    /// Sessions seen by outcome (processed, no_vehicle).
    pub sessions: IntCounterVec,
    /// Vehicles by SoH band (last report of each counts once per band change).
    pub soh_band: IntGaugeVec,
    /// Alerts raised, by kind and severity: each alert once, when it is first raised (a report
    /// rebuilt with the same alert does not count it again).
    pub alerts: IntCounterVec,
    seen: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, &'static str>>>,
    /// Alerts already counted: (vehicle, kind, when first raised).
    raised: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<(String, String, i64)>>>,
}

fn band(report: &VehicleReport) -> &'static str {
    match report.soh.soh_pct {
        None => "withheld",
        Some(p) if p >= 95.0 => "95_100",
        Some(p) if p >= 90.0 => "90_95",
        Some(p) if p >= 85.0 => "85_90",
        Some(p) if p >= 80.0 => "80_85",
        Some(_) => "below_80",
    }
}

impl HealthMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let m = Self {
            reports: IntCounter::new(
                "chargegrid_health_reports_total",
                "Vehicle health reports computed",
            )?,
            sessions: IntCounterVec::new(
                Opts::new(
                    "chargegrid_health_sessions_total",
                    "Ended sessions seen by the health worker",
                ),
                &["outcome"],
            )?,
            soh_band: IntGaugeVec::new(
                Opts::new(
                    "chargegrid_health_vehicles",
                    "Vehicles by state-of-health band",
                ),
                &["soh_band"],
            )?,
            alerts: IntCounterVec::new(
                Opts::new(
                    "chargegrid_health_alerts_total",
                    "Health alerts raised (each once, when first raised)",
                ),
                &["kind", "severity"],
            )?,
            seen: Default::default(),
            raised: Default::default(),
        };
        registry.register(Box::new(m.reports.clone()))?;
        registry.register(Box::new(m.sessions.clone()))?;
        registry.register(Box::new(m.soh_band.clone()))?;
        // Known series at 0 from the start, so rates and alerts work before the first event.
        for band in ["95_100", "90_95", "85_90", "80_85", "below_80", "withheld"] {
            m.soh_band.with_label_values(&[band]);
        }
        for outcome in ["processed", "no_vehicle"] {
            m.sessions.with_label_values(&[outcome]);
        }
        for (kind, severity) in [
            ("soh_below_threshold", "critical"),
            ("soh_below_cohort_p5", "warning"),
            ("capacity_step_drop", "warning"),
            ("resistance_increase", "warning"),
            ("resistance_above_cohort", "warning"),
            ("repeated_ev_aborts", "warning"),
            ("battery_malfunction_code", "critical"),
            ("temperature_sensor_suspect", "info"),
            ("soc_calibration_suspect", "info"),
        ] {
            m.alerts.with_label_values(&[kind, severity]);
        }
        registry.register(Box::new(m.alerts.clone()))?;
        Ok(m)
    }

    /// Accounts for a fresh vehicle report.
    pub fn observe(&self, report: &VehicleReport) {
        let new = band(report);
        let old = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(report.vehicle.to_string(), new);
        if old != Some(new) {
            if let Some(old) = old {
                self.soh_band.with_label_values(&[old]).dec();
            }
            self.soh_band.with_label_values(&[new]).inc();
        }
        let mut raised = self.raised.lock().unwrap_or_else(|e| e.into_inner());
        for a in &report.alerts {
            let key = (
                report.vehicle.to_string(),
                format!("{:?}", a.kind),
                a.first_raised_at.timestamp_millis(),
            );
            if !raised.insert(key) {
                continue;
            }
            let kind = serde_json::to_value(a.kind).ok();
            let severity = serde_json::to_value(a.severity).ok();
            let text = |v: Option<serde_json::Value>| {
                v.and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            };
            self.alerts
                .with_label_values(&[&text(kind), &text(severity)])
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chargegrid_core::VehicleId;
    use chargegrid_core::driver::BatterySpec;
    use chargegrid_health::vehicle::{AssessContext, VehicleHealth, VehicleSpec};
    use chargegrid_health::{Alert, AlertKind, HealthConfig, Severity};

    #[test]
    fn a_raised_alert_counts_once_however_often_the_report_is_rebuilt() {
        let spec = VehicleSpec {
            vehicle: VehicleId::new("V1").unwrap(),
            fleet: None,
            model: "M".into(),
            nominal_capacity: chargegrid_core::WattHours(60_000.0),
            battery: BatterySpec::default(),
            label: None,
            first_registration: None,
        };
        let mut report =
            VehicleHealth::new(spec).report(&AssessContext::default(), &HealthConfig::default());
        let at = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap();
        report.alerts.push(Alert {
            kind: AlertKind::CapacityStepDrop,
            severity: Severity::Warning,
            first_raised_at: at,
            message: "step".into(),
            value: Some(5.0),
        });
        let metrics = HealthMetrics::new(&prometheus::Registry::new()).unwrap();
        for _ in 0..5 {
            metrics.observe(&report);
        }
        let count = || {
            metrics
                .alerts
                .with_label_values(&["capacity_step_drop", "warning"])
                .get()
        };
        assert_eq!(count(), 1);
        // A new episode of the same kind (raised later) counts again.
        report.alerts[0].first_raised_at = at + chrono::Duration::days(30);
        metrics.observe(&report);
        assert_eq!(count(), 2);
    }
}
