//! Operators' charger commands through the API (#18 item 4), against the independent Python
//! charge points of both OCPP versions: each route reaches the charger in its version's form
//! and comes back with the charger's own answer, or with the problem the brief names (404
//! unknown charger, 403 not an operator, 422 no form in the version, 502 CALLERROR, 503 not
//! connected).

use serde_json::{Value, json};

use crate::api_client::Api;
use crate::harness::{add_tag, start_app, test_config};
use crate::peer::Peer;

const OPERATOR: &str = "ops@example.com";
const PASSWORD: &str = "correct horse battery staple";

async fn operator(app: &chargegrid::App) -> Api {
    let mut api = Api::new(app.api_addr.unwrap());
    let login = api
        .post(
            "/auth/login",
            json!({"email": OPERATOR, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    api.token = login.body["access_token"].as_str().map(String::from);
    api
}

/// Sends one command; checks the charger saw `action` (when it should have).
async fn command(
    api: &Api,
    peer: &mut Peer,
    method: &str,
    path: &str,
    body: Value,
    action: Option<&str>,
) -> (u16, Value) {
    let reply = match method {
        "GET" => api.get(path).await,
        "PUT" => api.put(path, body).await,
        _ => api.post(path, body).await,
    };
    if let Some(action) = action {
        let seen = peer.expect("received").await;
        assert_eq!(seen["action"], action, "{path}: {seen}");
    }
    (reply.status.as_u16(), reply.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_command_chargers_of_both_versions_through_the_api() {
    let mut config = test_config("memory://");
    config.admin.email = Some(OPERATOR.into());
    config.admin.password = Some(PASSWORD.into());
    let app = start_app(&config).await;
    add_tag(&app, "04E91C2A").await;
    add_tag(&app, "A1B2C3D4").await;
    let url = format!("ws://{}/ocpp", app.ocpp_addr.unwrap());
    let api = operator(&app).await;

    // 1.6
    let mut peer = Peer::spawn("cp16.py", &[&url, "QD-HD-AC01", "04E91C2A"]);
    peer.expect("ready").await;
    let base = "/chargers/QD-HD-AC01";
    let (status, body) = command(
        &api,
        &mut peer,
        "POST",
        &format!("{base}/reset"),
        json!({"kind": "soft"}),
        Some("Reset"),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("Accepted")),
        "{body}"
    );
    let (status, body) = command(
        &api,
        &mut peer,
        "GET",
        &format!("{base}/configuration?keys=HeartbeatInterval"),
        Value::Null,
        Some("GetConfiguration"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["values"][0],
        json!({"key": "HeartbeatInterval", "value": "300", "readonly": false})
    );
    let (status, _) = command(
        &api,
        &mut peer,
        "PUT",
        &format!("{base}/configuration"),
        json!({"key": "MeterValueSampleInterval", "value": "60"}),
        Some("ChangeConfiguration"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = command(
        &api,
        &mut peer,
        "POST",
        &format!("{base}/unlock"),
        json!({"evse": 1, "connector": 1}),
        Some("UnlockConnector"),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("Unlocked")),
        "{body}"
    );
    for (route, body, action) in [
        (
            "availability",
            json!({"evse": 0, "operative": false}),
            "ChangeAvailability",
        ),
        (
            "trigger",
            json!({"message": "StatusNotification", "evse": 1}),
            "TriggerMessage",
        ),
        (
            "remote-start",
            json!({"id_tag": "04E91C2A", "evse": 1}),
            "RemoteStartTransaction",
        ),
        (
            "remote-stop",
            json!({"transaction_id": "7"}),
            "RemoteStopTransaction",
        ),
        ("clear-cache", Value::Null, "ClearCache"),
    ] {
        let (status, reply) = command(
            &api,
            &mut peer,
            "POST",
            &format!("{base}/{route}"),
            body,
            Some(action),
        )
        .await;
        assert_eq!(status, 200, "{route}: {reply}");
    }
    let (status, body) = command(
        &api,
        &mut peer,
        "POST",
        &format!("{base}/ocpp"),
        json!({"action": "GetLocalListVersion", "payload": {}}),
        Some("GetLocalListVersion"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["payload"]["listVersion"].is_i64(),
        "the answer verbatim: {body}"
    );
    // The operators' charger list: the connected 1.6 peer with its boot and connector states.
    let listed = api.get("/chargers?connected=true").await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let all = listed.body.as_array().unwrap();
    assert!(all.iter().all(|c| c["connected"] == true), "{all:?}");
    let cp = all
        .iter()
        .find(|c| c["id"] == "QD-HD-AC01")
        .expect("the connected peer is listed");
    assert_eq!(cp["ocpp_version"], "1.6");
    assert!(
        cp["booted_at"].is_string() && cp["node"].is_string(),
        "{cp}"
    );
    assert!(
        cp["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["connector"] == 1),
        "{cp}"
    );
    let offline = api.get("/chargers?connected=false&limit=3").await.body;
    let offline = offline.as_array().unwrap();
    assert_eq!(offline.len(), 3);
    assert!(offline.iter().all(|c| c["connected"] == false));
    let next = api
        .get(&format!(
            "/chargers?connected=false&limit=3&after={}",
            offline[2]["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert!(
        next[0]["id"].as_str() > offline[2]["id"].as_str(),
        "paged in id order"
    );
    // A command with no 1.6 form: nothing reaches the charger.
    let (status, body) = command(
        &api,
        &mut peer,
        "POST",
        &format!("{base}/trigger"),
        json!({"message": "TransactionEvent"}),
        None,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    maintenance(&api, &mut peer, base, "1.6").await;
    peer.finish().await;

    // 2.0.1
    let mut peer = Peer::spawn("cp201.py", &[&url, "QD-HD-AC06", "A1B2C3D4", "tx-op-1"]);
    peer.expect("needs").await;
    peer.send_line("go").await;
    peer.expect("ready").await;
    let base = "/chargers/QD-HD-AC06";
    let (status, body) = command(
        &api,
        &mut peer,
        "GET",
        &format!("{base}/configuration?keys=OCPPCommCtrlr.HeartbeatInterval"),
        Value::Null,
        Some("GetVariables"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["values"][0]["key"], "OCPPCommCtrlr.HeartbeatInterval");
    assert_eq!(body["values"][0]["value"], "300");
    let (status, body) = command(
        &api,
        &mut peer,
        "PUT",
        &format!("{base}/configuration"),
        json!({"key": "SampledDataCtrlr.TxUpdatedInterval", "value": "60"}),
        Some("SetVariables"),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("Accepted")),
        "{body}"
    );
    let (status, _) = command(
        &api,
        &mut peer,
        "POST",
        &format!("{base}/reset"),
        json!({"kind": "hard"}),
        Some("Reset"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = command(
        &api,
        &mut peer,
        "POST",
        &format!("{base}/remote-start"),
        json!({"id_tag": "A1B2C3D4"}),
        Some("RequestStartTransaction"),
    )
    .await;
    assert_eq!(status, 200);
    // The peer has no ClearCache handler: its CALLERROR is a 502.
    let (status, body) = api_post(&api, &format!("{base}/clear-cache")).await;
    assert_eq!(status, 502, "{body}");
    // A key that names no 2.0.1 variable has no form.
    let (status, _) = command(
        &api,
        &mut peer,
        "GET",
        &format!("{base}/configuration?keys=HeartbeatInterval"),
        Value::Null,
        None,
    )
    .await;
    assert_eq!(status, 422);
    maintenance(&api, &mut peer, base, "2.0.1").await;
    peer.finish().await;

    // Not connected, unknown, not an operator.
    let (status, body) = api_post(&api, "/chargers/QD-HD-AC02/reset").await;
    assert_eq!(status, 422, "a reset needs its kind: {body}");
    let reply = api
        .post("/chargers/QD-HD-AC02/reset", json!({"kind": "soft"}))
        .await;
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    let reply = api
        .post("/chargers/NO-SUCH/reset", json!({"kind": "soft"}))
        .await;
    assert_eq!(reply.status, 404);
    let mut driver = Api::new(app.api_addr.unwrap());
    let signup = driver
        .post(
            "/auth/signup",
            json!({"email": "d@example.com", "password": "driver password 1", "name": "D"}),
        )
        .await;
    driver.token = signup.body["access_token"].as_str().map(String::from);
    let reply = driver
        .post("/chargers/QD-HD-AC01/reset", json!({"kind": "soft"}))
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(driver.get("/chargers").await.status, 403);
    let reply = driver
        .post(
            "/chargers/QD-HD-AC01/remote-start",
            json!({"id_tag": "not a tag"}),
        )
        .await;
    assert_eq!(reply.status, 403, "who asks is checked before the body");
    app.shutdown().await.unwrap();
}

/// Firmware update, diagnostics upload, local list (send, version) and data transfer, through
/// the version-neutral routes: each reaches the peer in its version's form.
async fn maintenance(api: &Api, peer: &mut Peer, base: &str, version: &str) {
    let v16 = version == "1.6";
    let (status, body) = command(
        api,
        peer,
        "POST",
        &format!("{base}/firmware"),
        json!({"location": "https://fw.example.com/v2.bin", "retries": 2}),
        Some("UpdateFirmware"),
    )
    .await;
    assert_eq!(status, 200, "{version}: {body}");
    let request_id = body["request_id"].as_i64().expect("a request id");
    let seen = &peer.seen.last().unwrap()["payload"];
    if v16 {
        assert_eq!(seen["location"], "https://fw.example.com/v2.bin", "{seen}");
    } else {
        assert_eq!(
            seen["firmware"]["location"], "https://fw.example.com/v2.bin",
            "{seen}"
        );
        assert_eq!(seen["request_id"].as_i64(), Some(request_id), "{seen}");
        assert_eq!(body["status"], "Accepted");
    }
    let (status, body) = command(
        api,
        peer,
        "POST",
        &format!("{base}/diagnostics"),
        json!({"location": "ftp://logs.example.com/up"}),
        Some(if v16 { "GetDiagnostics" } else { "GetLog" }),
    )
    .await;
    assert_eq!(status, 200, "{version}: {body}");
    assert_eq!(
        body["file_name"],
        if v16 { "diag.tar.gz" } else { "log.tar.gz" },
        "{body}"
    );
    let (status, body) = command(
        api,
        peer,
        "POST",
        &format!("{base}/local-list"),
        json!({"version": 4, "entries": [
            {"id_tag": "04E91C2A", "status": "Accepted"}, {"id_tag": "DEADBEEF", "status": "Blocked"}]}),
        Some("SendLocalList"),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("Accepted")),
        "{body}"
    );
    let seen = &peer.seen.last().unwrap()["payload"];
    assert_eq!(seen["update_type"], "Full", "{seen}");
    assert_eq!(
        seen["local_authorization_list"].as_array().map(Vec::len),
        Some(2)
    );
    let (status, body) = command(
        api,
        peer,
        "GET",
        &format!("{base}/local-list/version"),
        Value::Null,
        Some("GetLocalListVersion"),
    )
    .await;
    assert_eq!(
        (status, body["list_version"].as_i64()),
        (200, Some(3)),
        "{body}"
    );
    let (status, body) = command(
        api,
        peer,
        "POST",
        &format!("{base}/data-transfer"),
        json!({"vendor_id": "com.example", "message_id": "ping", "data": "hi"}),
        Some("DataTransfer"),
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("Accepted")),
        "{body}"
    );
    if v16 {
        assert_eq!(body["data"], "pong", "{body}");
    }
}

async fn api_post(api: &Api, path: &str) -> (u16, Value) {
    let reply = api.post(path, Value::Null).await;
    (reply.status.as_u16(), reply.body)
}
