//! Authorisation: every endpoint refuses another driver's or another fleet's resources
//! (404, without revealing they exist), refuses roles that may never use it (403), and refuses
//! missing, forged, expired, logged-out and reused tokens (401).

use chargegrid_core::ManualClock;
use chargegrid_core::driver::Role;
use serde_json::json;

use crate::api_client::Api;
use crate::harness::{RawCharger, start_app_with_clock, test_config, ts};

pub(crate) async fn promote(app: &chargegrid::App, id: &str, role: Role) {
    let id = chargegrid_core::DriverId::new(id).unwrap();
    let mut d = app.store.get_driver(&id).await.unwrap().unwrap();
    d.role = role;
    app.store.update_driver(&d).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_checks_who_is_asking() {
    let clock = ManualClock::new(chrono::Utc::now());
    let app = start_app_with_clock(&test_config("memory://"), clock.clone()).await;
    let api = Api::new(app.api_addr.unwrap());
    let (op, op_id) = api.signup("op@example.com").await;
    promote(&app, &op_id, Role::Operator).await;
    let (alice, _) = api.signup("alice@example.com").await;
    let (bob, _) = api.signup("bob@example.com").await;

    // Fleets: only operators create them and their managers.
    for who in [&alice, &bob] {
        who.post("/fleets", json!({"id": "f1", "name": "F1"}))
            .await
            .problem(403);
    }
    assert_eq!(
        op.post("/fleets", json!({"id": "f1", "name": "Taxi"}))
            .await
            .status,
        201
    );
    assert_eq!(
        op.post("/fleets", json!({"id": "f2", "name": "Vans"}))
            .await
            .status,
        201
    );
    alice
        .post(
            "/fleets/f1/managers",
            json!({"email": "m@example.com", "password": "0123456789ab", "name": "M"}),
        )
        .await
        .problem(403);
    let m1 = op
        .post(
            "/fleets/f1/managers",
            json!({"email": "m1@example.com", "password": "manager one pass", "name": "M1"}),
        )
        .await;
    assert_eq!(m1.status, 201, "{:?}", m1.body);
    op.post(
        "/fleets/f2/managers",
        json!({"email": "m2@example.com", "password": "manager two pass", "name": "M2"}),
    )
    .await;
    let login = |email: &'static str, pass: &'static str| api.login(email, pass);
    let m1 = login("m1@example.com", "manager one pass").await;
    let m2 = login("m2@example.com", "manager two pass").await;
    // Enrolment needs the driver's consent: a manager only invites, and the answer is the same
    // for an address with no account, so it reveals nothing.
    let invited = m1
        .post("/fleets/f1/drivers", json!({"email": "alice@example.com"}))
        .await;
    assert_eq!(invited.status, 202, "{:?}", invited.body);
    let nobody = m1
        .post("/fleets/f1/drivers", json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!(
        (nobody.status, &nobody.body),
        (invited.status, &invited.body)
    );
    m2.post("/fleets/f1/drivers", json!({"email": "bob@example.com"}))
        .await
        .problem(404);
    // Invited, not enrolled: the manager sees nothing of alice yet.
    let roster = m1.get("/fleets/f1/drivers").await.body.to_string();
    assert!(!roster.contains("alice@example.com"), "{roster}");
    assert_eq!(
        alice.get("/me").await.body["fleet_invitations"],
        json!(["f1"])
    );
    alice
        .post("/me/fleet-invitations/f2", json!({}))
        .await
        .problem(404);
    let joined = alice.post("/me/fleet-invitations/f1", json!({})).await;
    assert_eq!(joined.status, 200, "{:?}", joined.body);
    assert_eq!(joined.body["fleet"], "f1");
    let roster = m1.get("/fleets/f1/drivers").await.body.to_string();
    assert!(roster.contains("alice@example.com"), "{roster}");
    // A driver already in a fleet is not invited elsewhere (same answer).
    assert_eq!(
        m2.post("/fleets/f2/drivers", json!({"email": "alice@example.com"}))
            .await
            .status,
        202
    );
    assert_eq!(alice.get("/me").await.body["fleet_invitations"], json!([]));

    // Fleet resources: the fleet's manager and operators; another manager 404; drivers 403.
    for path in [
        "/fleets/f1",
        "/fleets/f1/vehicles",
        "/fleets/f1/drivers",
        "/fleets/f1/sessions",
    ] {
        assert_eq!(m1.get(path).await.status, 200, "{path}");
        assert_eq!(op.get(path).await.status, 200, "{path}");
        m2.get(path).await.problem(404);
        alice.get(path).await.problem(403);
    }
    m2.post(
        "/fleets/f1/vehicles",
        json!({"id": "VIN1", "model": "BYD e6", "nominal_capacity_kwh": 80.0}),
    )
    .await
    .problem(404);
    assert_eq!(
        m1.post(
            "/fleets/f1/vehicles",
            json!({"id": "VIN1", "model": "BYD e6", "nominal_capacity_kwh": 80.0})
        )
        .await
        .status,
        201
    );
    // A vehicle's health: whoever may not see it gets the same 404 as for a vehicle that does
    // not exist (no 403 that would confirm it, no fleet id in the detail).
    let unknown = m1.get("/vehicles/NO-SUCH-VIN/health").await;
    unknown.problem(404);
    for who in [&m2, &alice] {
        let r = who.get("/vehicles/VIN1/health").await;
        r.problem(404);
        assert_eq!(r.body["detail"], unknown.body["detail"], "{:?}", r.body);
        assert!(!r.body.to_string().contains("f1"), "{:?}", r.body);
    }
    m2.post(
        "/fleets/f2/id-tags",
        json!({"id_tag": "CARD9", "vehicle_id": "VIN1"}),
    )
    .await
    .problem(404);

    // Alice charges (her app token now charges for fleet f1).
    let tag = alice.get("/me").await.body["id_tags"][0]["id_tag"]
        .as_str()
        .unwrap()
        .to_string();
    let mut cp = RawCharger::connect(&app, "QD-HD-AC01", "ocpp1.6").await;
    cp.call(
        "b",
        "BootNotification",
        json!({"chargePointVendor": "V", "chargePointModel": "M"}),
    )
    .await;
    cp.call(
        "s",
        "StartTransaction",
        json!({"connectorId": 1, "idTag": tag, "meterStart": 0, "timestamp": ts(0)}),
    )
    .await;
    let sid = alice.get("/sessions").await.body["sessions"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = format!("/sessions/{sid}");
    for (who, status) in [
        (&alice, 200),
        (&m1, 200),
        (&op, 200),
        (&bob, 404),
        (&m2, 404),
    ] {
        assert_eq!(who.get(&session).await.status, status, "{:?}", who.token);
    }
    bob.post(&format!("{session}/stop"), json!({}))
        .await
        .problem(404);
    bob.put(&format!("{session}/needs"), json!({"energy_kwh": 5.0}))
        .await
        .problem(404);
    bob.get(&format!("{session}/events")).await.problem(404);
    assert!(
        bob.get("/sessions").await.body["sessions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Operators' site controls.
    let window = json!({"id": "dr-1", "from": ts(60), "to": ts(3600), "max_kw": 50.0, "reason": "grid event"});
    alice
        .post("/sites/qd-huangdao-depot/limit-windows", window.clone())
        .await
        .problem(403);
    m1.post("/sites/qd-huangdao-depot/limit-windows", window.clone())
        .await
        .problem(403);
    assert_eq!(
        op.post("/sites/qd-huangdao-depot/limit-windows", window)
            .await
            .status,
        201
    );

    // Reservations are their owner's.
    let r = chargegrid_store::Reservation {
        id: 777,
        driver: chargegrid_core::DriverId::new(alice.get("/me").await.body["id"].as_str().unwrap())
            .unwrap(),
        id_tag: chargegrid_core::IdTag::new(tag.as_str()).unwrap(),
        site: chargegrid_core::SiteId::new("qd-huangdao-depot").unwrap(),
        charger: chargegrid_core::ChargerId::new("QD-HD-AC02").unwrap(),
        evse: chargegrid_core::EvseId(1),
        created_at: clock_now(&clock),
        expires_at: clock_now(&clock) + chrono::Duration::minutes(10),
        state: chargegrid_store::ReservationState::Active,
    };
    app.store.put_reservation(&r).await.unwrap();
    bob.delete("/reservations/777").await.problem(404);
    assert!(
        bob.get("/reservations")
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(alice.get("/reservations").await.body[0]["id"], 777);

    // Tokens: missing, forged, a refresh token used as a bearer, expired, logged out.
    api.get("/me").await.problem(401);
    api.with_token("cga_forged-token-value")
        .get("/me")
        .await
        .problem(401);
    api.with_token("Bearer nonsense")
        .get("/me")
        .await
        .problem(401);
    let fresh = api
        .post(
            "/auth/signup",
            json!({"email": "carol@example.com", "password": "carol's password", "name": "Carol"}),
        )
        .await;
    let refresh = fresh.body["refresh_token"].as_str().unwrap().to_string();
    api.with_token(&refresh).get("/me").await.problem(401);
    let carol = api.with_token(fresh.body["access_token"].as_str().unwrap());
    assert_eq!(carol.get("/me").await.status, 200);
    clock.advance(chrono::Duration::minutes(16));
    carol.get("/me").await.problem(401);
    // Rotation: a refresh token works once; its reuse revokes the whole login.
    let rotated = api
        .post("/auth/refresh", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let carol = api.with_token(rotated.body["access_token"].as_str().unwrap());
    assert_eq!(carol.get("/me").await.status, 200);
    api.post("/auth/refresh", json!({"refresh_token": refresh}))
        .await
        .problem(401);
    carol.get("/me").await.problem(401);
    // Logout ends the token.
    let bob = login("bob@example.com", "correct horse battery").await;
    assert_eq!(bob.post("/auth/logout", json!({})).await.status, 204);
    bob.get("/me").await.problem(401);
    app.shutdown().await.unwrap();
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    use chargegrid_core::Clock;
    clock.now()
}
