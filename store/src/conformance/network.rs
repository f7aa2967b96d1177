//! The network, connector states, the connection registry, refused handshakes and boot information.

use super::*;

pub async fn network_round_trip(store: Arc<dyn Store>) {
    let (a, b) = (site("site-a"), site("site-b"));
    store.put_site(&b).await.unwrap();
    store.put_site(&a).await.unwrap();
    assert_eq!(
        store.list_sites().await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(store.get_site(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.get_site(&SiteId::new("zz").unwrap()).await.unwrap(),
        None
    );

    let c2 = charger("c2", "site-a");
    let c1 = charger("c1", "site-a");
    store.put_charger(&c2).await.unwrap();
    store.put_charger(&c1).await.unwrap();
    assert_eq!(
        store.chargers_of_site(&a.id).await.unwrap(),
        vec![c1.clone(), c2.clone()]
    );
    // Moving a charger takes it off the old site's list.
    let moved = charger("c2", "site-b");
    store.put_charger(&moved).await.unwrap();
    assert_eq!(
        store.chargers_of_site(&a.id).await.unwrap(),
        vec![c1.clone()]
    );
    assert_eq!(
        store.chargers_of_site(&b.id).await.unwrap(),
        vec![moved.clone()]
    );
    assert_eq!(store.get_charger(&moved.id).await.unwrap(), Some(moved));

    let orphan = charger("c9", "nowhere");
    assert!(matches!(
        store.put_charger(&orphan).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn sites_version_follows_site_changes(store: Arc<dyn Store>) {
    let v0 = store.sites_version().await.unwrap();
    let s = site("site-v");
    store.put_site(&s).await.unwrap();
    let v1 = store.sites_version().await.unwrap();
    assert_ne!(v0, v1);
    assert_eq!(
        store.sites_version().await.unwrap(),
        v1,
        "reading changes nothing"
    );
    store.delete_site(&s.id).await.unwrap();
    assert_ne!(store.sites_version().await.unwrap(), v1);
}

pub async fn network_replace(store: Arc<dyn Store>) {
    let (a, b) = (site("site-a"), site("site-b"));
    let old = Network {
        sites: vec![a.clone(), b.clone()],
        chargers: vec![
            charger("c1", "site-a"),
            charger("c2", "site-a"),
            charger("c3", "site-b"),
        ],
    };
    store.put_network(&old).await.unwrap();
    let c3 = ChargerId::new("c3").unwrap();
    let state = ConnectorState {
        charger: c3.clone(),
        connector: ConnectorId(1),
        status: ConnectorStatus::Available,
        error_code: "NoError".into(),
        info: None,
        since: t(0),
    };
    store.put_connector_state(&state).await.unwrap();
    // A site with chargers cannot go first.
    assert!(matches!(
        store.delete_site(&b.id).await,
        Err(StoreError::Conflict(_))
    ));
    let new = Network {
        sites: vec![a.clone()],
        chargers: vec![charger("c2", "site-a"), charger("c4", "site-a")],
    };
    let mut deleted = store.replace_network(&new).await.unwrap();
    deleted.sort();
    assert_eq!(deleted, vec![ChargerId::new("c1").unwrap(), c3.clone()]);
    assert_eq!(store.list_sites().await.unwrap(), vec![a.clone()]);
    let ids: Vec<String> = store
        .chargers_of_site(&a.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    assert_eq!(ids, ["c2", "c4"]);
    assert_eq!(store.get_charger(&c3).await.unwrap(), None);
    assert!(store.connector_states(&c3).await.unwrap().is_empty());
    assert!(store.chargers_of_site(&b.id).await.unwrap().is_empty());
    // Deleting what is absent is fine.
    store.delete_charger(&c3).await.unwrap();
}

pub async fn connector_state_keeps_newest(store: Arc<dyn Store>) {
    let id = ChargerId::new("c1").unwrap();
    let state = |connector: u32, status: ConnectorStatus, at: DateTime<Utc>| ConnectorState {
        charger: id.clone(),
        connector: ConnectorId(connector),
        status,
        error_code: "NoError".into(),
        info: None,
        since: at,
    };
    assert!(
        store
            .put_connector_state(&state(2, ConnectorStatus::Available, t(0)))
            .await
            .unwrap()
    );
    assert!(
        store
            .put_connector_state(&state(1, ConnectorStatus::Charging, t(5)))
            .await
            .unwrap()
    );
    // An older report (replayed from the charger's queue) does not overwrite a newer one.
    assert!(
        !store
            .put_connector_state(&state(1, ConnectorStatus::Preparing, t(1)))
            .await
            .unwrap()
    );
    let states = store.connector_states(&id).await.unwrap();
    assert_eq!(states.len(), 2);
    assert_eq!(states[0].connector, ConnectorId(1));
    assert_eq!(states[0].status, ConnectorStatus::Charging);
    assert_eq!(states[1].status, ConnectorStatus::Available);
    // The charger's own connection, which last wrote t(5): an older report is not kept, a
    // newer one is, and it counts as the stored time for everyone's later comparisons.
    assert!(
        !store
            .put_connector_state_after(&state(1, ConnectorStatus::Preparing, t(4)), t(5))
            .await
            .unwrap()
    );
    assert!(
        store
            .put_connector_state_after(&state(1, ConnectorStatus::Finishing, t(7)), t(5))
            .await
            .unwrap()
    );
    assert!(
        !store
            .put_connector_state(&state(1, ConnectorStatus::Available, t(6)))
            .await
            .unwrap()
    );
    let states = store.connector_states(&id).await.unwrap();
    assert_eq!(states[0].status, ConnectorStatus::Finishing);
    assert_eq!(states[0].since, t(7));
    assert_eq!(states[1].status, ConnectorStatus::Available);
}

pub async fn registry_ownership(store: Arc<dyn Store>) {
    let c = ChargerId::new("c1").unwrap();
    let ttl = Duration::from_secs(60);
    assert_eq!(store.locate(&c).await.unwrap(), None);
    store
        .register_connection(&c, &node("n1"), ttl)
        .await
        .unwrap();
    assert_eq!(store.locate(&c).await.unwrap(), Some(node("n1")));
    assert!(
        store
            .refresh_connection(&c, &node("n1"), ttl)
            .await
            .unwrap()
    );
    // The charger reconnects to n2; n1's late refresh and disconnect must not undo that.
    store
        .register_connection(&c, &node("n2"), ttl)
        .await
        .unwrap();
    assert!(
        !store
            .refresh_connection(&c, &node("n1"), ttl)
            .await
            .unwrap()
    );
    assert!(!store.unregister_connection(&c, &node("n1")).await.unwrap());
    assert_eq!(store.locate(&c).await.unwrap(), Some(node("n2")));
    assert!(store.unregister_connection(&c, &node("n2")).await.unwrap());
    assert_eq!(store.locate(&c).await.unwrap(), None);
    assert!(
        !store
            .refresh_connection(&c, &node("n2"), ttl)
            .await
            .unwrap()
    );
}

pub async fn refused_handshakes(store: Arc<dyn Store>) {
    assert!(store.recent_refusals(10).await.unwrap().is_empty());
    let refusal = |i: usize| crate::RefusedHandshake {
        at: t(i as i64),
        charger: format!("CP-{i}"),
        remote: Some("192.0.2.1".into()),
        reason: "auth".into(),
        node: node("n1"),
    };
    for i in 0..crate::REFUSALS_KEPT + 5 {
        store.record_refusal(&refusal(i)).await.unwrap();
    }
    let latest = store.recent_refusals(3).await.unwrap();
    let last = crate::REFUSALS_KEPT + 4;
    assert_eq!(
        latest,
        vec![refusal(last), refusal(last - 1), refusal(last - 2)]
    );
    let all = store.recent_refusals(100_000).await.unwrap();
    assert_eq!(all.len(), crate::REFUSALS_KEPT, "only the latest are kept");
}

pub async fn boot_info_round_trip(store: Arc<dyn Store>) {
    let c = ChargerId::new("c1").unwrap();
    let info = BootInfo {
        vendor: "ABB".into(),
        model: "Terra AC".into(),
        serial_number: Some("SN1".into()),
        firmware_version: None,
        ocpp_version: OcppVersion::V201,
        booted_at: t(0),
    };
    assert_eq!(store.boot_info(&c).await.unwrap(), None);
    store.put_boot_info(&c, &info).await.unwrap();
    assert_eq!(store.boot_info(&c).await.unwrap(), Some(info));
}

pub async fn device_states(store: Arc<dyn Store>) {
    use chargegrid_core::device::{Operation, OperationStatus, Setting};
    let cp = ChargerId::new("CP-DEV").unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    assert_eq!(
        store.device_state(&cp).await.unwrap(),
        chargegrid_core::device::DeviceState::default()
    );
    let status = |s: &str, minute: i64| OperationStatus {
        status: s.to_string(),
        request_id: Some(7),
        at: t0 + Span::minutes(minute),
    };
    store
        .record_operation_status(&cp, Operation::Firmware, &status("Downloading", 0))
        .await
        .unwrap();
    store
        .record_operation_status(&cp, Operation::Firmware, &status("Installed", 5))
        .await
        .unwrap();
    store
        .record_operation_status(&cp, Operation::Upload, &status("Uploaded", 6))
        .await
        .unwrap();
    let setting = |key: &str, value: &str| Setting {
        key: key.to_string(),
        value: Some(value.to_string()),
        readonly: Some(false),
        at: t0,
    };
    store
        .record_settings(&cp, &[setting("b.Y", "1"), setting("a.X", "2")])
        .await
        .unwrap();
    store
        .record_settings(&cp, &[setting("b.Y", "3")])
        .await
        .unwrap();
    let state = store.device_state(&cp).await.unwrap();
    assert_eq!(state.firmware, Some(status("Installed", 5)));
    assert_eq!(state.upload, Some(status("Uploaded", 6)));
    assert_eq!(
        state.settings,
        vec![setting("a.X", "2"), setting("b.Y", "3")]
    );
    // A charger cannot grow its settings without bound; known keys still update.
    let many: Vec<Setting> = (0..crate::SETTINGS_KEPT + 10)
        .map(|i| setting(&format!("k{i:05}"), "v"))
        .collect();
    store.record_settings(&cp, &many).await.unwrap();
    store
        .record_settings(&cp, &[setting("a.X", "9")])
        .await
        .unwrap();
    let state = store.device_state(&cp).await.unwrap();
    assert_eq!(state.settings.len(), crate::SETTINGS_KEPT);
    assert_eq!(state.settings[0], setting("a.X", "9"));
    // Last seen keeps the later time.
    assert_eq!(store.last_seen(&cp).await.unwrap(), None);
    store
        .record_last_seen(&cp, t0 + Span::hours(2))
        .await
        .unwrap();
    store
        .record_last_seen(&cp, t0 + Span::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store.last_seen(&cp).await.unwrap(),
        Some(t0 + Span::hours(2))
    );
    store.forget_device_state(&cp).await.unwrap();
    assert_eq!(store.last_seen(&cp).await.unwrap(), None);
    assert_eq!(
        store.device_state(&cp).await.unwrap(),
        chargegrid_core::device::DeviceState::default()
    );
}
