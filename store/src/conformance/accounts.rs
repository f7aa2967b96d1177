//! Drivers, id tags and tokens, fleets and vehicles.

use super::*;

pub async fn accounts(store: Arc<dyn Store>) {
    let d = driver("d1", "Li.Wei@example.com");
    store.create_driver(&d).await.unwrap();
    assert_eq!(store.get_driver(&d.id).await.unwrap(), Some(d.clone()));
    assert_eq!(
        store
            .find_driver_by_email("li.wei@EXAMPLE.com")
            .await
            .unwrap(),
        Some(d.clone())
    );
    assert!(matches!(
        store
            .create_driver(&driver("d2", "LI.WEI@example.com"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_driver(&driver("d1", "other@example.com"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // The failed attempt must not have claimed the other e-mail.
    store
        .create_driver(&driver("d3", "other@example.com"))
        .await
        .unwrap();
    // Operators are listed, and follow role changes either way.
    assert!(store.operators().await.unwrap().is_empty());
    let mut op = driver("op1", "op@example.com");
    op.role = Role::Operator;
    store.create_driver(&op).await.unwrap();
    assert_eq!(store.operators().await.unwrap(), vec![op.clone()]);
    op.role = Role::Driver;
    store.update_driver(&op).await.unwrap();
    assert!(store.operators().await.unwrap().is_empty());
    op.role = Role::Operator;
    op.disabled = true;
    store.update_driver(&op).await.unwrap();
    assert_eq!(store.operators().await.unwrap(), vec![op]);
}

pub async fn id_tags_and_tokens(store: Arc<dyn Store>) {
    let d = DriverId::new("d1").unwrap();
    let record = |tag: &str, driver: Option<&DriverId>| IdTagRecord {
        tag: IdTag::new(tag).unwrap(),
        driver: driver.cloned(),
        vehicle: None,
        fleet: None,
        status: IdTagStatus::Accepted,
        expires_at: None,
        parent: None,
        allow_concurrent: false,
    };
    store.put_id_tag(&record("bb01", Some(&d))).await.unwrap();
    store.put_id_tag(&record("AA01", Some(&d))).await.unwrap();
    let got = store
        .get_id_tag(&IdTag::new("BB01").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.tag.as_str(), "bb01");
    let tags = store.id_tags_of_driver(&d).await.unwrap();
    assert_eq!(
        tags.iter().map(|r| r.tag.key()).collect::<Vec<_>>(),
        ["AA01", "BB01"]
    );
    // Handing a card to nobody removes it from its old owner's list.
    store.put_id_tag(&record("AA01", None)).await.unwrap();
    assert_eq!(store.id_tags_of_driver(&d).await.unwrap().len(), 1);

    let token = TokenRecord {
        driver: d.clone(),
        expires_at: Utc::now() + Span::hours(1),
        family: "fam".into(),
    };
    store.put_token("hash1", &token).await.unwrap();
    assert_eq!(store.get_token("hash1").await.unwrap(), Some(token));
    store.revoke_token("hash1").await.unwrap();
    assert_eq!(store.get_token("hash1").await.unwrap(), None);
    assert_eq!(store.get_token("never").await.unwrap(), None);
}

pub async fn fleets_and_vehicles(store: Arc<dyn Store>) {
    let f1 = Fleet {
        id: FleetId::new("f1").unwrap(),
        name: "Qingdao Taxi".into(),
        default_dwell_hours: Some(8.0),
    };
    store.put_fleet(&f1).await.unwrap();
    assert_eq!(store.get_fleet(&f1.id).await.unwrap(), Some(f1.clone()));
    let vehicle = |id: &str, fleet: &str| Vehicle {
        id: VehicleId::new(id).unwrap(),
        fleet: Some(FleetId::new(fleet).unwrap()),
        model: "BYD e6".into(),
        nominal_capacity: WattHours(80_000.0),
        label: None,
        battery: None,
        first_registration: None,
    };
    // Vehicle models per fleet, with the battery their vehicles inherit.
    let model = |fleet: &str, name: &str, ah: f64| chargegrid_core::driver::VehicleModel {
        fleet: FleetId::new(fleet).unwrap(),
        name: name.into(),
        battery: chargegrid_core::driver::BatterySpec {
            nominal_capacity_ah: Some(chargegrid_core::AmpereHours(ah)),
            ..Default::default()
        },
    };
    store
        .put_vehicle_model(&model("f1", "Van", 160.0))
        .await
        .unwrap();
    store
        .put_vehicle_model(&model("f1", "Car", 115.0))
        .await
        .unwrap();
    store
        .put_vehicle_model(&model("f1", "Van", 190.0))
        .await
        .unwrap();
    store
        .put_vehicle_model(&model("f2", "Bus", 500.0))
        .await
        .unwrap();
    assert_eq!(
        store
            .vehicle_models_of_fleet(&FleetId::new("f1").unwrap())
            .await
            .unwrap(),
        vec![model("f1", "Car", 115.0), model("f1", "Van", 190.0)]
    );
    store.put_vehicle(&vehicle("v2", "f1")).await.unwrap();
    store.put_vehicle(&vehicle("v1", "f1")).await.unwrap();
    let ids = |vs: Vec<Vehicle>| vs.into_iter().map(|v| v.id.to_string()).collect::<Vec<_>>();
    assert_eq!(
        ids(store.vehicles_of_fleet(&f1.id).await.unwrap()),
        ["v1", "v2"]
    );
    store.put_vehicle(&vehicle("v2", "f2")).await.unwrap();
    assert_eq!(ids(store.vehicles_of_fleet(&f1.id).await.unwrap()), ["v1"]);
    assert_eq!(
        store
            .get_vehicle(&VehicleId::new("v2").unwrap())
            .await
            .unwrap(),
        Some(vehicle("v2", "f2"))
    );
}

pub async fn driver_updates_and_fleet_members(store: Arc<dyn Store>) {
    let mut d = driver("d1", "a@example.com");
    store.create_driver(&d).await.unwrap();
    let fleet = FleetId::new("f1").unwrap();
    d.fleet = Some(fleet.clone());
    d.name = "Renamed".into();
    d.email = "changed@example.com".into();
    store.update_driver(&d).await.unwrap();
    let got = store.get_driver(&d.id).await.unwrap().unwrap();
    assert_eq!(got.name, "Renamed");
    assert_eq!(
        got.email, "a@example.com",
        "the e-mail cannot change through an update"
    );
    assert_eq!(store.drivers_of_fleet(&fleet).await.unwrap().len(), 1);
    d.fleet = None;
    store.update_driver(&d).await.unwrap();
    assert!(store.drivers_of_fleet(&fleet).await.unwrap().is_empty());
    let ghost = driver("nobody", "n@example.com");
    assert!(matches!(
        store.update_driver(&ghost).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn token_families(store: Arc<dyn Store>) {
    // Taking a token is one step: the second taker gets nothing.
    let record = crate::TokenRecord {
        driver: DriverId::new("d1").unwrap(),
        expires_at: Utc::now() + Span::days(1),
        family: "fam-0".into(),
    };
    store.put_token("refresh-hash", &record).await.unwrap();
    assert_eq!(
        store.take_token("refresh-hash").await.unwrap(),
        Some(record)
    );
    assert_eq!(store.take_token("refresh-hash").await.unwrap(), None);
    assert_eq!(store.get_token("refresh-hash").await.unwrap(), None);
    assert!(!store.is_family_revoked("fam-1").await.unwrap());
    store
        .revoke_token_family("fam-1", Utc::now() + Span::days(30))
        .await
        .unwrap();
    assert!(store.is_family_revoked("fam-1").await.unwrap());
    assert!(!store.is_family_revoked("fam-2").await.unwrap());
}

pub async fn api_keys(store: Arc<dyn Store>) {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let owner = DriverId::new("fm1").unwrap();
    let key = |id: &str, owner: &DriverId, at: DateTime<Utc>| ApiKey {
        id: id.to_string(),
        owner: owner.clone(),
        name: format!("key {id}"),
        scope: KeyScope::Read,
        hint: "abcd".to_string(),
        created_at: at,
        expires_at: at + Span::days(90),
        revoked_at: None,
        last_used_at: None,
    };
    let k1 = key("k1", &owner, t0 + Span::minutes(1));
    let k2 = key("k2", &owner, t0);
    let other = DriverId::new("op1").unwrap();
    let k3 = key("k3", &other, t0 + Span::minutes(2));
    store.create_api_key("h1", &k1).await.unwrap();
    store.create_api_key("h2", &k2).await.unwrap();
    store.create_api_key("h3", &k3).await.unwrap();
    assert!(matches!(
        store.create_api_key("h4", &k1).await,
        Err(StoreError::Conflict(_))
    ));
    // The failed attempt did not index its secret.
    assert_eq!(store.api_key_by_secret("h4").await.unwrap(), None);
    assert_eq!(
        store.api_key_by_secret("h1").await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(store.get_api_key("k3").await.unwrap(), Some(k3.clone()));
    assert_eq!(store.get_api_key("nope").await.unwrap(), None);
    // Oldest first, per owner or all.
    assert_eq!(
        store.api_keys(Some(&owner)).await.unwrap(),
        vec![k2.clone(), k1.clone()]
    );
    let all: Vec<String> = store
        .api_keys(None)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(all, ["k2", "k1", "k3"]);
    // A use is recorded apart from the record; a revocation keeps its first time, and a use
    // after it does not undo it.
    store
        .touch_api_key("k1", t0 + Span::hours(1))
        .await
        .unwrap();
    let revoked = store
        .revoke_api_key("k1", t0 + Span::hours(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(t0 + Span::hours(2)));
    assert_eq!(revoked.last_used_at, Some(t0 + Span::hours(1)));
    store
        .touch_api_key("k1", t0 + Span::hours(3))
        .await
        .unwrap();
    let again = store
        .revoke_api_key("k1", t0 + Span::hours(4))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(t0 + Span::hours(2)));
    assert_eq!(again.last_used_at, Some(t0 + Span::hours(3)));
    let by_secret = store.api_key_by_secret("h1").await.unwrap().unwrap();
    assert!(!by_secret.is_live(t0 + Span::hours(5)));
    assert!(store.get_api_key("k2").await.unwrap().unwrap().is_live(t0));
    assert!(
        !store
            .get_api_key("k2")
            .await
            .unwrap()
            .unwrap()
            .is_live(t0 + Span::days(90))
    );
    assert_eq!(store.revoke_api_key("nope", t0).await.unwrap(), None);
}
