//! Health documents.

use super::*;

pub async fn health_documents(store: Arc<dyn Store>) {
    let v1 = VehicleId::new("v1").unwrap();
    let v2 = VehicleId::new("v2").unwrap();
    let f = FleetId::new("f1").unwrap();
    let s1 = SessionId::new("s1").unwrap();
    store
        .put_session_features(&v1, &s1, &serde_json::json!({"v": 1}))
        .await
        .unwrap();
    store
        .put_session_features(&v1, &s1, &serde_json::json!({"v": 2}))
        .await
        .unwrap();
    store
        .put_session_features(
            &v1,
            &SessionId::new("s2").unwrap(),
            &serde_json::json!({"v": 3}),
        )
        .await
        .unwrap();
    assert_eq!(
        store.session_features(&v1).await.unwrap(),
        vec![serde_json::json!({"v": 2}), serde_json::json!({"v": 3})]
    );
    store
        .put_vehicle_report(&v2, Some(&f), &serde_json::json!({"vehicle": "v2"}))
        .await
        .unwrap();
    store
        .put_vehicle_report(&v1, Some(&f), &serde_json::json!({"vehicle": "v1"}))
        .await
        .unwrap();
    assert_eq!(
        store.vehicle_report(&v1).await.unwrap(),
        Some(serde_json::json!({"vehicle": "v1"}))
    );
    assert_eq!(
        store.fleet_reports(&f).await.unwrap(),
        vec![
            serde_json::json!({"vehicle": "v1"}),
            serde_json::json!({"vehicle": "v2"})
        ]
    );
}
