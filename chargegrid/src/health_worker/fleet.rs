//! A fleet's roll-up: every vehicle's state replayed from its stored session features (with
//! chargers that abort many vehicles' sessions excluded from blame), the cohort comparison, and
//! the documents the API serves (table, CSV, SVG chart). Vehicles outside any fleet get their
//! own report only.

use chargegrid_core::FleetId;

use super::{HealthWorker, WorkerError, documents};
use chargegrid_health::SessionFeatures;
use chargegrid_health::fleet::{
    ChartOptions, FleetReport, charger_effects, cold_biases, soh_chart_svg, suspect_chargers,
    to_csv,
};
use chargegrid_health::vehicle::{
    AssessContext, SessionSummary, VehicleHealth, VehicleSpec, aux_references, resistance_medians,
    soc_references,
};

/// Aborts at a charger are the charger's fault when at least this many vehicles abort there...
const SUSPECT_MIN_VEHICLES: usize = 3;
/// ...and such aborts are at least this share of its sessions.
const SUSPECT_MIN_SHARE: f64 = 0.2;

pub(super) async fn refresh(svc: &HealthWorker, fleet: &FleetId) -> Result<(), WorkerError> {
    let store = &svc.store;
    let vehicles = store.vehicles_of_fleet(fleet).await?;
    let models = store.vehicle_models_of_fleet(fleet).await?;
    let mut inputs = Vec::with_capacity(vehicles.len());
    for v in &vehicles {
        let features: Vec<SessionFeatures> = store
            .session_features(&v.id)
            .await?
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()?;
        if features.is_empty() {
            continue;
        }
        // The battery in effect: the vehicle's own fields, then its model's, then (rated
        // voltage only) the operator's health.model_voltages setting.
        let mut battery = v.battery_in_effect(&models);
        if battery.nominal_voltage_v.is_none() {
            battery.nominal_voltage_v = svc.model_voltages.get(&v.model).copied();
        }
        inputs.push((VehicleSpec::from_vehicle(v, battery), features));
    }
    let config = svc.config.clone();
    let now = svc.clock.now();
    let fleet_id = fleet.clone();
    let built = tokio::task::spawn_blocking(move || -> Result<_, WorkerError> {
        // The fleet-wide estimates (chargers many vehicles abort at, chargers' measurement
        // errors, each model's constant-voltage reference) need only every vehicle's sessions,
        // not a report after each of them: the replay that tracks alert episodes comes after,
        // with them.
        let states: Vec<VehicleHealth> = inputs
            .iter()
            .map(|(spec, f)| {
                let mut st = VehicleHealth::new(spec.clone());
                st.replace_sessions(f.iter().map(SessionSummary::from_features).collect());
                st
            })
            .collect();
        let mut ctx = AssessContext {
            suspect_chargers: suspect_chargers(&states, SUSPECT_MIN_VEHICLES, SUSPECT_MIN_SHARE),
            chargers: charger_effects(&states, &config),
            soc_references: soc_references(states.iter().map(|s| (&s.spec, s.sessions()))),
            aux_references: aux_references(states.iter().map(|s| (&s.spec, s.sessions()))),
            cold_biases: Default::default(),
            resistance_medians: Default::default(),
        };
        ctx.cold_biases = cold_biases(&states, &ctx, &config);
        ctx.resistance_medians = resistance_medians(
            states.iter().map(|s| (&s.spec, s.sessions())),
            &ctx,
            &config,
        );
        let reports = inputs
            .iter()
            .map(|(spec, f)| {
                VehicleHealth::replay(spec.clone(), f, &ctx, &config)
                    .map(|s| s.report(&ctx, &config))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let report = FleetReport::build(Some(fleet_id.clone()), now, reports)
            .with_charger_findings(&ctx, &config);
        let rows = report.rows();
        let chart = soh_chart_svg(
            &report,
            &ChartOptions {
                title: format!("Fleet {fleet_id}: state of health (estimate from charging data)"),
                ..ChartOptions::default()
            },
        );
        let csv = to_csv(&rows);
        let rows = serde_json::to_string(&rows)?;
        let chargers = serde_json::to_string(&report.charger_findings)?;
        Ok((report, csv, rows, chart, chargers))
    })
    .await
    .map_err(|e| WorkerError::Task(e.to_string()))??;
    let (report, csv, rows, chart, chargers) = built;
    for v in &report.vehicles {
        let value = serde_json::to_value(v)?;
        store
            .put_vehicle_report(&v.vehicle, Some(fleet), &value)
            .await?;
        // Kept over time by the time of its newest data: a rebuild on the same data replaces
        // its snapshot, new data adds one. A failure here is retried by the next rebuild.
        if let (Some(records), Some(as_of)) = (&svc.records, v.as_of)
            && let Err(e) = records
                .record_health_report(&v.vehicle, Some(fleet), as_of, &value.to_string())
                .await
        {
            tracing::warn!(vehicle = %v.vehicle, error = %e, "health: report not kept in the records store");
        }
        svc.metrics.observe(v);
    }
    store
        .put_fleet_document(fleet, documents::ROWS, &rows)
        .await?;
    store
        .put_fleet_document(fleet, documents::CSV, &csv)
        .await?;
    store
        .put_fleet_document(fleet, documents::CHART, &chart)
        .await?;
    store
        .put_fleet_document(fleet, documents::CHARGERS, &chargers)
        .await?;
    svc.metrics.reports.inc_by(report.vehicles.len() as u64);
    Ok(())
}
