//! A fleet's battery registry through the API, as docs/api.md describes it: vehicle models with
//! their battery, vehicles that inherit it field by field, updates, and a CSV bulk import that
//! refuses a bad file whole.

use chargegrid_core::driver::Role;
use serde_json::json;

use crate::api_authz::promote;
use crate::api_client::Api;
use crate::harness::{start_app, test_config};

#[tokio::test]
async fn a_fleet_registers_its_batteries_by_model_vehicle_and_csv() {
    let app = start_app(&test_config("memory://")).await;
    let api = Api::new(app.api_addr.unwrap());
    let (op, op_id) = api.signup("fleet-op@example.com").await;
    promote(&app, &op_id, Role::Operator).await;
    assert_eq!(
        op.post("/fleets", json!({"id": "hf", "name": "HF"}))
            .await
            .status,
        201
    );

    let model = op
        .post(
            "/fleets/hf/models",
            json!({"name": "Tourer 60", "battery": {"nominal_capacity_ah": 160.0, "nominal_voltage_v": 377.5,
                   "nominal_energy_kwh": 60.4, "chemistry": "NMC811", "cells_series": 104, "cells_parallel": 32,
                   "cell_min_voltage_v": 2.5, "cell_max_voltage_v": 4.2}}),
        )
        .await;
    assert_eq!(model.status, 201, "{:?}", model.body);
    // Unknown fields are refused, in the battery too (a typo never drops a datasheet value).
    op.post(
        "/fleets/hf/models",
        json!({"name": "X", "battery": {"nominal_ah": 1.0}}),
    )
    .await
    .problem(422);
    op.post(
        "/fleets/hf/vehicles",
        json!({"id": "V0", "model": "X", "nominal_ah": 1.0}),
    )
    .await
    .problem(422);

    // A vehicle of the model, with one field of its own and no kWh (the model's serves).
    let v = op
        .post(
            "/fleets/hf/vehicles",
            json!({"id": "VIN-001", "model": "Tourer 60", "first_registration": "2022-03-01",
                   "battery": {"nominal_voltage_v": 380.0}}),
        )
        .await;
    assert_eq!(v.status, 201, "{:?}", v.body);
    assert_eq!(v.body["battery"]["nominal_capacity_ah"], 160.0);
    assert_eq!(v.body["battery"]["nominal_voltage_v"], 380.0);
    assert_eq!(v.body["battery"]["chemistry"], "NMC811");
    assert_eq!(v.body["nominal_capacity_kwh"], 60.4);
    // Without a model and without any capacity, nothing is guessed.
    let bare = op
        .post(
            "/fleets/hf/vehicles",
            json!({"id": "VIN-002", "model": "Unknown"}),
        )
        .await;
    bare.problem(422);
    assert!(
        bare.body["detail"]
            .as_str()
            .unwrap()
            .contains("nominal_capacity_kwh")
    );

    let updated = op
        .put(
            "/fleets/hf/vehicles/VIN-001",
            json!({"label": "Fleet Tourer 01", "battery": {"nominal_capacity_ah": 158.0}}),
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    let read = op.get("/fleets/hf/vehicles/VIN-001").await.body;
    assert_eq!(read["label"], "Fleet Tourer 01");
    assert_eq!(read["battery"]["nominal_capacity_ah"], 158.0);
    assert_eq!(
        read["battery"]["nominal_voltage_v"], 377.5,
        "own voltage replaced whole"
    );
    assert_eq!(read["first_registration"], "2022-03-01");

    // CSV: one bad row refuses the file, naming the line; a good file imports every row.
    let csv = |body: &str| {
        let op = op.clone();
        let body = body.to_string();
        async move {
            reqwest::Client::new()
                .post(format!("{}/fleets/hf/vehicles/import", op.base))
                .bearer_auth(op.token.as_deref().unwrap())
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let bad = csv("id,model,nominal_capacity_ah,nominal_voltage_v\nVIN-010,Tourer 60,160,377.5\nVIN-011,Grand 75,lots,392\n").await;
    assert_eq!(bad.status(), 422);
    let text = bad.text().await.unwrap();
    assert!(
        text.contains("line 3") && text.contains("nominal_capacity_ah"),
        "{text}"
    );
    assert_eq!(
        op.get("/fleets/hf/vehicles/VIN-010").await.status,
        404,
        "nothing imported from a refused file"
    );
    let unknown = csv("id,model,colour\nVIN-012,Tourer 60,red\n").await;
    assert_eq!(unknown.status(), 422);
    let good = csv(
        "id,model,label,first_registration,nominal_capacity_ah,nominal_voltage_v,chemistry\n\
         VIN-010,Tourer 60,T10,2021-05-01,,,\n\
         VIN-011,Grand 75,G11,2020-01-15,190,392.0,NMC811\n",
    )
    .await;
    assert_eq!(good.status(), 200);
    assert_eq!(
        good.json::<serde_json::Value>().await.unwrap()["imported"],
        2
    );
    let all = op.get("/fleets/hf/vehicles").await.body;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let g = op.get("/fleets/hf/vehicles/VIN-011").await.body;
    assert_eq!(g["battery"]["nominal_capacity_ah"], 190.0);
    assert!((g["nominal_capacity_kwh"].as_f64().unwrap() - 74.48).abs() < 1e-9);
    // The wrong content type is 415.
    let json_body = reqwest::Client::new()
        .post(format!("{}/fleets/hf/vehicles/import", op.base))
        .bearer_auth(op.token.as_deref().unwrap())
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 415);
    app.shutdown().await.unwrap();
}
