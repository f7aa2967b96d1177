//! A fleet's vehicles and vehicle models, with what their datasheets say of the battery
//! (`battery`: rated Ah, voltage, energy, chemistry, cell counts and limits) and the first
//! registration date. A vehicle's own battery fields win; those it leaves out come from its
//! fleet's model of the same name. Vehicles can be registered one by one or imported from CSV.
//! Unknown fields are refused (422), so a typo never silently drops a datasheet value.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chargegrid_core::driver::{BatterySpec, Vehicle, VehicleModel};
use chargegrid_core::{AmpereHours, FleetId, VehicleId, Volts, WattHours};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::json::{Json, Path};
use crate::routes::fleets::{existing_fleet, fleet_id};
use crate::{ApiResult, ApiState, Problem};

/// A vehicle to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVehicle {
    /// Id (the VIN when known).
    pub id: String,
    /// Make and model; the fleet's vehicle model of this name supplies battery fields the
    /// vehicle leaves out.
    pub model: String,
    /// Usable capacity when new, kWh; may be left out when the battery (its own or its
    /// model's) gives `nominal_energy_kwh`, or `nominal_capacity_ah` and `nominal_voltage_v`.
    #[serde(default)]
    pub nominal_capacity_kwh: Option<f64>,
    /// Plate or fleet number.
    #[serde(default)]
    pub label: Option<String>,
    /// The vehicle's own battery data.
    #[serde(default)]
    pub battery: Option<BatterySpec>,
    /// First registration (YYYY-MM-DD).
    #[serde(default)]
    pub first_registration: Option<NaiveDate>,
}

/// Changes to a vehicle: the fields given replace the stored ones (`battery` whole).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleUpdate {
    /// Make and model.
    #[serde(default)]
    pub model: Option<String>,
    /// Usable capacity when new, kWh.
    #[serde(default)]
    pub nominal_capacity_kwh: Option<f64>,
    /// Plate or fleet number.
    #[serde(default)]
    pub label: Option<String>,
    /// The vehicle's own battery data (replaces what it had).
    #[serde(default)]
    pub battery: Option<BatterySpec>,
    /// First registration (YYYY-MM-DD).
    #[serde(default)]
    pub first_registration: Option<NaiveDate>,
}

/// A fleet's vehicle model.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelBody {
    /// Make and model, as its vehicles name it.
    pub name: String,
    /// The battery its vehicles share.
    #[serde(default)]
    pub battery: BatterySpec,
}

/// A vehicle as served: its battery is the effective one (its own fields, then its model's).
#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleView {
    /// Id (VIN when known).
    pub id: String,
    /// Model.
    pub model: String,
    /// Nominal usable capacity, kWh.
    pub nominal_capacity_kwh: f64,
    /// Plate or fleet number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The battery in effect (own fields over the model's).
    pub battery: BatterySpec,
    /// First registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_registration: Option<NaiveDate>,
}

/// The outcome of a CSV import.
#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    /// Vehicles written (created or replaced).
    pub imported: usize,
}

/// Columns a CSV import understands (a header row names them, in any order; `id` and `model`
/// are required, the rest may be left out or empty).
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "model",
    "label",
    "first_registration",
    "nominal_capacity_kwh",
    "nominal_capacity_ah",
    "nominal_voltage_v",
    "nominal_energy_kwh",
    "chemistry",
    "cells_series",
    "cells_parallel",
    "cell_min_voltage_v",
    "cell_max_voltage_v",
];

/// Rows a CSV import reports errors for, at most.
const MAX_REPORTED_ROWS: usize = 20;

fn view(v: &Vehicle, models: &[VehicleModel]) -> VehicleView {
    VehicleView {
        id: v.id.to_string(),
        model: v.model.clone(),
        nominal_capacity_kwh: v.nominal_capacity.kwh(),
        label: v.label.clone(),
        battery: v.battery_in_effect(models),
        first_registration: v.first_registration,
    }
}

/// Builds a vehicle from a request, checking every field; `models` are the fleet's.
fn build(
    fleet: &FleetId,
    req: NewVehicle,
    models: &[VehicleModel],
    today: NaiveDate,
) -> Result<Vehicle, String> {
    let id = VehicleId::new(req.id.trim()).map_err(|e| format!("id: {e}"))?;
    let model: String = req.model.trim().chars().take(100).collect();
    if model.is_empty() {
        return Err("model must not be empty".into());
    }
    if let Some(b) = &req.battery {
        b.check().map_err(|e| e.to_string())?;
    }
    if req.first_registration.is_some_and(|d| d > today) {
        return Err("first_registration is in the future".into());
    }
    let mut vehicle = Vehicle {
        id,
        fleet: Some(fleet.clone()),
        model,
        nominal_capacity: WattHours::ZERO,
        label: req
            .label
            .map(|l| l.trim().chars().take(50).collect::<String>())
            .filter(|l| !l.is_empty()),
        battery: req.battery.filter(|b| *b != BatterySpec::default()),
        first_registration: req.first_registration,
    };
    let battery = vehicle.battery_in_effect(models);
    let kwh = req
        .nominal_capacity_kwh
        .or_else(|| battery.energy_kwh())
        .ok_or_else(|| {
            "nominal_capacity_kwh is needed (or battery.nominal_energy_kwh, or \
             battery.nominal_capacity_ah with battery.nominal_voltage_v, on the vehicle or its \
             fleet's model)"
                .to_string()
        })?;
    if !(kwh.is_finite() && (5.0..=1000.0).contains(&kwh)) {
        return Err("nominal_capacity_kwh must be 5 to 1000".into());
    }
    vehicle.nominal_capacity = WattHours::from_kwh(kwh);
    Ok(vehicle)
}

/// Writes `vehicle`, unless another fleet has it.
async fn save(state: &ApiState, fleet: &FleetId, vehicle: &Vehicle) -> ApiResult<()> {
    if let Some(existing) = state.store.get_vehicle(&vehicle.id).await?
        && existing.fleet.as_ref() != Some(fleet)
    {
        return Err(Problem::conflict(
            "vehicle-taken",
            format!("vehicle {} belongs to another fleet", vehicle.id),
        ));
    }
    state.store.put_vehicle(vehicle).await?;
    Ok(())
}

async fn managed_fleet(state: &ApiState, caller: &Caller, raw: &str) -> ApiResult<FleetId> {
    let id = fleet_id(raw)?;
    caller.require_manager_of(&id)?;
    existing_fleet(state, &id).await?;
    Ok(id)
}

/// Register a vehicle in the fleet (with its battery data).
#[utoipa::path(post, path = "/api/v1/fleets/{fleet}/vehicles", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    request_body = NewVehicle,
    responses((status = 201, body = VehicleView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn add_vehicle(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
    Json(req): Json<NewVehicle>,
) -> ApiResult<(StatusCode, axum::Json<VehicleView>)> {
    let id = managed_fleet(&state, &caller, &fleet).await?;
    let models = state.store.vehicle_models_of_fleet(&id).await?;
    let today = state.clock.now().date_naive();
    let vehicle = build(&id, req, &models, today).map_err(Problem::invalid_body)?;
    save(&state, &id, &vehicle).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&vehicle, &models))))
}

/// The fleet's vehicles.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/vehicles", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    responses((status = 200, body = Vec<VehicleView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn list_vehicles(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
) -> ApiResult<axum::Json<Vec<VehicleView>>> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    let models = state.store.vehicle_models_of_fleet(&id).await?;
    let vehicles = state.store.vehicles_of_fleet(&id).await?;
    Ok(axum::Json(
        vehicles.iter().map(|v| view(v, &models)).collect(),
    ))
}

async fn fleet_vehicle(state: &ApiState, fleet: &FleetId, raw: &str) -> ApiResult<Vehicle> {
    let not_found = || Problem::not_found("no such vehicle");
    let id = VehicleId::new(raw).map_err(|_| not_found())?;
    state
        .store
        .get_vehicle(&id)
        .await?
        .filter(|v| v.fleet.as_ref() == Some(fleet))
        .ok_or_else(not_found)
}

/// One vehicle of the fleet, with its battery in effect.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/vehicles/{vehicle}", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id"), ("vehicle" = String, Path, description = "vehicle id")),
    responses((status = 200, body = VehicleView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn get_vehicle(
    State(state): State<ApiState>,
    caller: Caller,
    Path((fleet, vehicle)): Path<(String, String)>,
) -> ApiResult<axum::Json<VehicleView>> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    let v = fleet_vehicle(&state, &id, &vehicle).await?;
    let models = state.store.vehicle_models_of_fleet(&id).await?;
    Ok(axum::Json(view(&v, &models)))
}

/// Change a vehicle: the fields given replace the stored ones.
#[utoipa::path(put, path = "/api/v1/fleets/{fleet}/vehicles/{vehicle}", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id"), ("vehicle" = String, Path, description = "vehicle id")),
    request_body = VehicleUpdate,
    responses((status = 200, body = VehicleView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn update_vehicle(
    State(state): State<ApiState>,
    caller: Caller,
    Path((fleet, vehicle)): Path<(String, String)>,
    Json(req): Json<VehicleUpdate>,
) -> ApiResult<axum::Json<VehicleView>> {
    let id = managed_fleet(&state, &caller, &fleet).await?;
    let old = fleet_vehicle(&state, &id, &vehicle).await?;
    let models = state.store.vehicle_models_of_fleet(&id).await?;
    let merged = NewVehicle {
        id: old.id.to_string(),
        model: req.model.unwrap_or(old.model),
        nominal_capacity_kwh: req
            .nominal_capacity_kwh
            .or(Some(old.nominal_capacity.kwh())),
        label: req.label.or(old.label),
        battery: req.battery.or(old.battery),
        first_registration: req.first_registration.or(old.first_registration),
    };
    let today = state.clock.now().date_naive();
    let updated = build(&id, merged, &models, today).map_err(Problem::invalid_body)?;
    save(&state, &id, &updated).await?;
    Ok(axum::Json(view(&updated, &models)))
}

/// Create or replace a vehicle model of the fleet (its battery data, which its vehicles
/// inherit field by field).
#[utoipa::path(post, path = "/api/v1/fleets/{fleet}/models", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    request_body = ModelBody,
    responses((status = 201, body = ModelBody), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn put_model(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
    Json(req): Json<ModelBody>,
) -> ApiResult<(StatusCode, axum::Json<ModelBody>)> {
    let id = managed_fleet(&state, &caller, &fleet).await?;
    let name: String = req.name.trim().chars().take(100).collect();
    if name.is_empty() {
        return Err(Problem::invalid_body("name must not be empty"));
    }
    req.battery
        .check()
        .map_err(|e| Problem::invalid_body(e.to_string()))?;
    let model = VehicleModel {
        fleet: id,
        name: name.clone(),
        battery: req.battery,
    };
    state.store.put_vehicle_model(&model).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ModelBody {
            name,
            battery: model.battery,
        }),
    ))
}

/// The fleet's vehicle models.
#[utoipa::path(get, path = "/api/v1/fleets/{fleet}/models", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    responses((status = 200, body = Vec<ModelBody>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn list_models(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
) -> ApiResult<axum::Json<Vec<ModelBody>>> {
    let id = fleet_id(&fleet)?;
    caller.require_manager_of(&id)?;
    let models = state.store.vehicle_models_of_fleet(&id).await?;
    Ok(axum::Json(
        models
            .into_iter()
            .map(|m| ModelBody {
                name: m.name,
                battery: m.battery,
            })
            .collect(),
    ))
}

/// One CSV row as a vehicle request; `header` maps column names to positions.
fn csv_row(header: &csv::StringRecord, row: &csv::StringRecord) -> Result<NewVehicle, String> {
    let get = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    fn num<T: std::str::FromStr>(name: &str, v: Option<&str>) -> Result<Option<T>, String> {
        v.map(|t| {
            t.parse()
                .map_err(|_| format!("{name}: {t:?} is not a number"))
        })
        .transpose()
    }
    let battery = BatterySpec {
        nominal_capacity_ah: num("nominal_capacity_ah", get("nominal_capacity_ah"))?
            .map(AmpereHours),
        nominal_voltage_v: num("nominal_voltage_v", get("nominal_voltage_v"))?.map(Volts),
        nominal_energy_kwh: num("nominal_energy_kwh", get("nominal_energy_kwh"))?,
        chemistry: get("chemistry").map(str::to_string),
        cells_series: num("cells_series", get("cells_series"))?,
        cells_parallel: num("cells_parallel", get("cells_parallel"))?,
        cell_min_voltage_v: num("cell_min_voltage_v", get("cell_min_voltage_v"))?.map(Volts),
        cell_max_voltage_v: num("cell_max_voltage_v", get("cell_max_voltage_v"))?.map(Volts),
    };
    Ok(NewVehicle {
        id: get("id").ok_or("id is missing")?.to_string(),
        model: get("model").ok_or("model is missing")?.to_string(),
        nominal_capacity_kwh: num("nominal_capacity_kwh", get("nominal_capacity_kwh"))?,
        label: get("label").map(str::to_string),
        battery: Some(battery),
        first_registration: get("first_registration")
            .map(|d| {
                d.parse::<NaiveDate>()
                    .map_err(|_| format!("first_registration: {d:?} is not YYYY-MM-DD"))
            })
            .transpose()?,
    })
}

/// Import vehicles from CSV (`Content-Type: text/csv`): a header row naming columns of
/// `CSV_COLUMNS` (docs/api.md), one vehicle a row. All rows are checked before any is written:
/// one bad row refuses the whole file, naming up to 20 rows and what is wrong with each.
#[utoipa::path(post, path = "/api/v1/fleets/{fleet}/vehicles/import", tag = "fleets", security(("bearer" = [])),
    params(("fleet" = String, Path, description = "fleet id")),
    request_body(content = String, content_type = "text/csv", description = "header row, then one vehicle a row"),
    responses((status = 200, body = Imported), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn import_vehicles(
    State(state): State<ApiState>,
    caller: Caller,
    Path(fleet): Path<String>,
    headers: HeaderMap,
    body: String,
) -> ApiResult<axum::Json<Imported>> {
    let id = managed_fleet(&state, &caller, &fleet).await?;
    let is_csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
    if !is_csv {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
        )
        .detail("send the vehicles as Content-Type: text/csv"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| Problem::invalid_body(format!("header row: {e}")))?
        .clone();
    if let Some(unknown) = header.iter().find(|h| !CSV_COLUMNS.contains(h)) {
        return Err(Problem::invalid_body(format!(
            "unknown column {unknown:?} (known: {})",
            CSV_COLUMNS.join(", ")
        )));
    }
    let models = state.store.vehicle_models_of_fleet(&id).await?;
    let today = state.clock.now().date_naive();
    let mut vehicles = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let built = row
            .map_err(|e| e.to_string())
            .and_then(|r| csv_row(&header, &r))
            .and_then(|req| build(&id, req, &models, today))
            .and_then(|v| {
                if seen.insert(v.id.clone()) {
                    Ok(v)
                } else {
                    Err(format!("vehicle {} appears twice", v.id))
                }
            });
        match built {
            Ok(v) => vehicles.push(v),
            Err(e) => errors.push(format!("line {line}: {e}")),
        }
    }
    if !errors.is_empty() {
        let shown: Vec<String> = errors.iter().take(MAX_REPORTED_ROWS).cloned().collect();
        return Err(Problem::invalid_body(format!(
            "{} of {} rows refused, nothing imported: {}",
            errors.len(),
            errors.len() + vehicles.len(),
            shown.join("; ")
        )));
    }
    if vehicles.is_empty() {
        return Err(Problem::invalid_body("no vehicle rows"));
    }
    for v in &vehicles {
        if let Some(existing) = state.store.get_vehicle(&v.id).await?
            && existing.fleet.as_ref() != Some(&id)
        {
            return Err(Problem::conflict(
                "vehicle-taken",
                format!(
                    "vehicle {} belongs to another fleet; nothing imported",
                    v.id
                ),
            ));
        }
    }
    for v in &vehicles {
        state.store.put_vehicle(v).await?;
    }
    Ok(axum::Json(Imported {
        imported: vehicles.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet() -> FleetId {
        FleetId::new("f1").unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn req(id: &str, model: &str) -> NewVehicle {
        NewVehicle {
            id: id.into(),
            model: model.into(),
            nominal_capacity_kwh: None,
            label: None,
            battery: None,
            first_registration: None,
        }
    }

    #[test]
    fn a_vehicle_inherits_its_models_battery_field_by_field() {
        let models = vec![VehicleModel {
            fleet: fleet(),
            name: "Tourer 60".into(),
            battery: BatterySpec {
                nominal_capacity_ah: Some(AmpereHours(160.0)),
                nominal_voltage_v: Some(Volts(377.5)),
                chemistry: Some("NMC811".into()),
                ..Default::default()
            },
        }];
        let mut r = req("VIN1", "Tourer 60");
        r.battery = Some(BatterySpec {
            nominal_voltage_v: Some(Volts(380.0)),
            ..Default::default()
        });
        let v = build(&fleet(), r, &models, today()).unwrap();
        let b = v.battery_in_effect(&models);
        assert_eq!(
            b.nominal_voltage_v,
            Some(Volts(380.0)),
            "the vehicle's own wins"
        );
        assert_eq!(b.nominal_capacity_ah, Some(AmpereHours(160.0)));
        assert_eq!(b.chemistry.as_deref(), Some("NMC811"));
        assert!((v.nominal_capacity.kwh() - 160.0 * 380.0 / 1000.0).abs() < 1e-9);
    }

    #[test]
    fn nothing_is_guessed_and_bad_values_are_named() {
        let err = build(&fleet(), req("VIN2", "Unknown"), &[], today()).unwrap_err();
        assert!(err.contains("nominal_capacity_kwh is needed"), "{err}");
        let mut r = req("VIN3", "X");
        r.nominal_capacity_kwh = Some(60.0);
        r.battery = Some(BatterySpec {
            cell_min_voltage_v: Some(Volts(4.2)),
            cell_max_voltage_v: Some(Volts(2.5)),
            ..Default::default()
        });
        let err = build(&fleet(), r, &[], today()).unwrap_err();
        assert!(err.contains("cell_min_voltage_v"), "{err}");
        let mut r = req("VIN4", "X");
        r.nominal_capacity_kwh = Some(60.0);
        r.first_registration = NaiveDate::from_ymd_opt(2030, 1, 1);
        assert!(
            build(&fleet(), r, &[], today())
                .unwrap_err()
                .contains("future")
        );
    }

    #[test]
    fn csv_rows_read_by_header_name() {
        let text = "model,id,nominal_capacity_ah,nominal_voltage_v,first_registration\n\
                    Grand 75,VIN9,190,392.0,2021-04-30\n";
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let header = rd.headers().unwrap().clone();
        let row = rd.records().next().unwrap().unwrap();
        let v = csv_row(&header, &row).unwrap();
        assert_eq!(v.id, "VIN9");
        let b = v.battery.unwrap();
        assert_eq!(b.nominal_capacity_ah, Some(AmpereHours(190.0)));
        assert_eq!(v.first_registration, NaiveDate::from_ymd_opt(2021, 4, 30));
        let bad = csv::StringRecord::from(vec!["Grand 75", "VIN9", "lots", "392", ""]);
        assert!(
            csv_row(&header, &bad)
                .unwrap_err()
                .contains("nominal_capacity_ah")
        );
    }
}
