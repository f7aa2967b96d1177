//! Bad input to the API: malformed JSON, wrong types, unknown fields, out-of-range values and
//! coordinates, unknown ids, unknown routes, oversized bodies — each a 4xx problem+json with a
//! stable type, never a 500.

use reqwest::Method;
use serde_json::json;

use crate::api_client::Api;
use crate::harness::{start_app, test_config};

#[tokio::test]
async fn bad_requests_get_problem_json_never_a_500() {
    let mut config = test_config("memory://");
    config.api.max_body_bytes = 4096;
    let app = start_app(&config).await;
    let api = Api::new(app.api_addr.unwrap());
    let (me, _) = api.signup("dana@example.com").await;
    let cases: Vec<(&str, Method, &str, Option<String>, u16)> = vec![
        ("malformed JSON", Method::POST, "/auth/signup", Some("{\"email\": ".into()), 400),
        ("not an object", Method::POST, "/auth/login", Some("[1,2,3]".into()), 422),
        ("wrong type", Method::POST, "/recommendations", Some(json!({"lat": "north", "lon": 120.0, "energy_kwh": 10}).to_string()), 422),
        ("missing field", Method::POST, "/recommendations", Some(json!({"lat": 36.0, "lon": 120.0}).to_string()), 422),
        ("unknown field", Method::POST, "/auth/signup", Some(json!({"email": "x@example.com", "password": "0123456789", "name": "X", "admin": true}).to_string()), 422),
        ("latitude out of range", Method::GET, "/stations?lat=91&lon=120", None, 400),
        ("longitude out of range", Method::GET, "/stations?lat=36&lon=-181", None, 400),
        ("not a number", Method::GET, "/stations?lat=abc&lon=120", None, 400),
        ("radius out of range", Method::GET, "/stations?lat=36&lon=120&radius_km=5000", None, 400),
        ("negative energy", Method::POST, "/recommendations", Some(json!({"lat": 36.0, "lon": 120.0, "energy_kwh": -5.0}).to_string()), 400),
        ("huge number", Method::POST, "/recommendations", Some(json!({"lat": 36.0, "lon": 120.0, "energy_kwh": 1e308}).to_string()), 400),
        ("deadline in the past", Method::POST, "/recommendations", Some(json!({"lat": 36.0, "lon": 120.0, "energy_kwh": 5.0, "deadline": "2001-01-01T00:00:00Z"}).to_string()), 400),
        ("unknown station", Method::GET, "/stations/no-such-site", None, 404),
        ("unknown session", Method::GET, "/sessions/no-such-session", None, 404),
        ("id with odd characters", Method::GET, "/sessions/%7Bx%7D%20DROP", None, 404),
        ("unknown charger", Method::POST, "/sessions", Some(json!({"charger_id": "NOPE", "evse_id": 1}).to_string()), 404),
        ("unknown EVSE", Method::POST, "/reservations", Some(json!({"charger_id": "QD-M4-AC01", "evse_id": 9, "minutes": 10}).to_string()), 404),
        ("reservation too long", Method::POST, "/reservations", Some(json!({"charger_id": "QD-M4-AC01", "evse_id": 1, "minutes": 600}).to_string()), 400),
        ("offline charger", Method::POST, "/reservations", Some(json!({"charger_id": "QD-M4-AC01", "evse_id": 1, "minutes": 10}).to_string()), 409),
        ("reservation id not a number", Method::DELETE, "/reservations/abc", None, 404),
        ("unknown route", Method::GET, "/nowhere", None, 404),
        ("wrong method", Method::DELETE, "/me", None, 405),
        ("oversized body", Method::POST, "/auth/login", Some(json!({"email": "x".repeat(10_000), "password": "p"}).to_string()), 413),
        ("body over the limit", Method::POST, "/fleets/f1/vehicles/import", Some("x".repeat(70_000)), 413),
        ("bad e-mail", Method::POST, "/auth/signup", Some(json!({"email": "not-an-email", "password": "0123456789", "name": "X"}).to_string()), 422),
        ("short password", Method::POST, "/auth/signup", Some(json!({"email": "y@example.com", "password": "short", "name": "Y"}).to_string()), 422),
        ("duplicate e-mail", Method::POST, "/auth/signup", Some(json!({"email": "DANA@example.com", "password": "0123456789", "name": "D"}).to_string()), 409),
        ("wrong password", Method::POST, "/auth/login", Some(json!({"email": "dana@example.com", "password": "wrong password"}).to_string()), 401),
    ];
    for (what, method, path, body, status) in cases {
        let r = me.raw(method, path, body).await;
        assert!(r.status.as_u16() < 500, "{what}: {:?}", r.body);
        let kind = r.problem(status);
        assert!(
            kind.starts_with("https://chargegrid.dev/problems/"),
            "{what}: {kind}"
        );
    }
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn rate_limits_answer_429_with_problem_json() {
    let mut config = test_config("memory://");
    config.api.rate_limit_per_minute = 60;
    let app = start_app(&config).await;
    let api = Api::new(app.api_addr.unwrap());
    // Before authentication the limit is per client address, at five times the per-account
    // rate (a burst of 30 here).
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(api.get("/health").await.status.as_u16());
    }
    assert!(statuses.contains(&200));
    let limited = api.get("/health").await;
    limited.problem(429);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_validates() {
    let app = start_app(&test_config("memory://")).await;
    let api = Api::new(app.api_addr.unwrap());
    let doc = api.get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc.body["paths"].as_object().unwrap();
    let expected = [
        ("get", "/api/v1/health"),
        ("post", "/api/v1/auth/signup"),
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/me"),
        ("post", "/api/v1/api-keys"),
        ("get", "/api/v1/api-keys"),
        ("delete", "/api/v1/api-keys/{key}"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/cdrs"),
        ("get", "/api/v1/vehicles/{vehicle}/health/history"),
        ("get", "/api/v1/cdrs.csv"),
        ("get", "/api/v1/cdrs/{cdr}"),
        ("post", "/api/v1/cdrs/{cdr}/corrections"),
        ("get", "/api/v1/network"),
        ("get", "/api/v1/chargers/{charger}"),
        ("post", "/api/v1/chargers/{charger}/firmware"),
        ("post", "/api/v1/chargers/{charger}/diagnostics"),
        ("post", "/api/v1/chargers/{charger}/local-list"),
        ("get", "/api/v1/chargers/{charger}/local-list/version"),
        ("post", "/api/v1/chargers/{charger}/data-transfer"),
        ("put", "/api/v1/chargers/{charger}/limit"),
        ("delete", "/api/v1/chargers/{charger}/limit"),
        ("post", "/api/v1/network/sites"),
        ("delete", "/api/v1/network/sites/{site}"),
        ("post", "/api/v1/network/chargers"),
        ("delete", "/api/v1/network/chargers/{charger}"),
        ("post", "/api/v1/network/chargers/{charger}/password"),
        ("post", "/api/v1/me/id-tags"),
        ("post", "/api/v1/me/fleet-invitations/{fleet}"),
        ("delete", "/api/v1/me/fleet-invitations/{fleet}"),
        ("post", "/api/v1/fleets"),
        ("get", "/api/v1/fleets/{fleet}"),
        ("post", "/api/v1/fleets/{fleet}/managers"),
        ("post", "/api/v1/fleets/{fleet}/drivers"),
        ("get", "/api/v1/fleets/{fleet}/drivers"),
        ("post", "/api/v1/fleets/{fleet}/vehicles"),
        ("get", "/api/v1/fleets/{fleet}/vehicles"),
        ("get", "/api/v1/fleets/{fleet}/vehicles/{vehicle}"),
        ("put", "/api/v1/fleets/{fleet}/vehicles/{vehicle}"),
        ("post", "/api/v1/fleets/{fleet}/vehicles/import"),
        ("post", "/api/v1/fleets/{fleet}/models"),
        ("get", "/api/v1/chargers/refused-handshakes"),
        ("get", "/api/v1/chargers"),
        ("post", "/api/v1/chargers/{charger}/reset"),
        ("post", "/api/v1/chargers/{charger}/remote-start"),
        ("post", "/api/v1/chargers/{charger}/remote-stop"),
        ("post", "/api/v1/chargers/{charger}/availability"),
        ("post", "/api/v1/chargers/{charger}/unlock"),
        ("post", "/api/v1/chargers/{charger}/trigger"),
        ("get", "/api/v1/chargers/{charger}/configuration"),
        ("put", "/api/v1/chargers/{charger}/configuration"),
        ("post", "/api/v1/chargers/{charger}/clear-cache"),
        ("post", "/api/v1/chargers/{charger}/ocpp"),
        ("get", "/api/v1/fleets/{fleet}/models"),
        ("post", "/api/v1/fleets/{fleet}/id-tags"),
        ("get", "/api/v1/fleets/{fleet}/sessions"),
        ("get", "/api/v1/stations"),
        ("get", "/api/v1/stations/{site}"),
        ("post", "/api/v1/recommendations"),
        ("post", "/api/v1/reservations"),
        ("get", "/api/v1/reservations"),
        ("delete", "/api/v1/reservations/{reservation}"),
        ("post", "/api/v1/sessions"),
        ("get", "/api/v1/sessions"),
        ("get", "/api/v1/sessions/{session}"),
        ("post", "/api/v1/sessions/{session}/stop"),
        ("put", "/api/v1/sessions/{session}/needs"),
        ("get", "/api/v1/sessions/{session}/events"),
        ("post", "/api/v1/sites/{site}/limit-windows"),
        ("get", "/api/v1/sites/{site}/limit-windows"),
        ("delete", "/api/v1/sites/{site}/limit-windows/{window}"),
        ("get", "/api/v1/vehicles/{vehicle}/health"),
        ("get", "/api/v1/fleets/{fleet}/health"),
        ("get", "/api/v1/fleets/{fleet}/health.csv"),
        ("get", "/api/v1/fleets/{fleet}/health/soh.svg"),
        ("get", "/api/v1/fleets/{fleet}/health/chargers"),
    ];
    for (method, path) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the document"
        );
    }
    let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        operations,
        expected.len(),
        "every documented operation is tested here and vice versa"
    );
    // Every error is documented as problem+json, and the statuses shared layers return are
    // documented wherever they can happen.
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = r["content"].as_object();
                    assert!(
                        content.is_some_and(|c| c.keys().all(|k| k == "application/problem+json")),
                        "{method} {path} {status}: {r}"
                    );
                }
            }
            let mut want = vec!["429", "503"];
            if op
                .get("security")
                .and_then(|s| s.as_array())
                .is_some_and(|s| !s.is_empty())
            {
                want.extend(["401", "403"]);
            }
            if op.get("requestBody").is_some() {
                want.extend(["400", "413", "415", "422"]);
            }
            if path.contains('{') {
                want.extend(["400", "404"]);
            }
            for status in want {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
    // An independent validator (openapi-spec-validator from PyPI) checks the document.
    let file = std::env::temp_dir().join(format!("cg-openapi-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_string(&doc.body).unwrap()).unwrap();
    let out = std::process::Command::new(crate::peer::python())
        .args(["-m", "openapi_spec_validator", file.to_str().unwrap()])
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let page = reqwest::get(format!("{}/docs", api.base)).await.unwrap();
    assert!(page.text().await.unwrap().contains("openapi.json"));
    app.shutdown().await.unwrap();
}

/// An independent contract tester (schemathesis from PyPI) runs every check it has — status
/// codes, content types, headers and bodies against the schemas, schema-valid requests accepted
/// and invalid ones refused, missing authentication refused, stateful sequences — on every
/// operation of the API's own OpenAPI document, as an operator (who may reach every route).
/// A short smoke run here (a fixed seed, few examples); the finding is that not one response
/// contradicts the document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_to_its_openapi_document_under_an_independent_contract_tester() {
    let mut config = test_config("memory://");
    // The tester sends thousands of requests from one address: the limits are not under test.
    config.api.rate_limit_per_minute = 10_000_000;
    config.admin.email = Some("op@example.com".into());
    config.admin.password = Some("correct horse battery staple".into());
    let app = start_app(&config).await;
    let mut api = Api::new(app.api_addr.unwrap());
    let login = api
        .post(
            "/auth/login",
            json!({"email": "op@example.com", "password": "correct horse battery staple"}),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    api.token = login.body["access_token"].as_str().map(String::from);
    let tester = crate::peer::python().with_file_name("schemathesis");
    let out = tokio::process::Command::new(&tester)
        .args([
            "run",
            &format!("{}/openapi.json", api.base),
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "8",
            // One worker: Python 3.11.7's parser is not thread-safe under hypothesis's lambda
            // introspection ("AST constructor recursion depth mismatch", CPython gh-106905).
            "--workers",
            "1",
            "--seed",
            "20261202",
            "--no-color",
            "-H",
            &format!("Authorization: Bearer {}", api.token.as_deref().unwrap()),
        ])
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {}: {e}", tester.display()));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found contract failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It did test every operation of the document.
    let doc = api.get("/openapi.json").await.body;
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert!(
        report.contains(&format!("Tested: {operations}")),
        "{operations} operations: {report}"
    );
    app.shutdown().await.unwrap();
}
