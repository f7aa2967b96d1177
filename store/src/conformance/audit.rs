//! The audit trail: ids, newest-first pages, filters, retention.

use super::*;

pub async fn audit_trail(store: Arc<dyn Store>) {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let fleet = FleetId::new("f1").unwrap();
    let entry = |actor: &str, minute: i64| AuditEntry {
        id: 0,
        at: t0 + Span::minutes(minute),
        actor: DriverId::new(actor).unwrap(),
        role: if actor.starts_with("op") {
            Role::Operator
        } else {
            Role::FleetManager
        },
        fleet: (!actor.starts_with("op")).then(|| fleet.clone()),
        api_key: None,
        action: "POST /api/v1/chargers/{charger}/reset".to_string(),
        object: format!("/api/v1/chargers/CP-{minute}/reset"),
        status: 200,
    };
    let keep_all = t0 - Span::days(1);
    let mut ids = Vec::new();
    for minute in 0..7 {
        let actor = if minute % 2 == 0 { "op1" } else { "fm1" };
        ids.push(
            store
                .append_audit(entry(actor, minute), keep_all)
                .await
                .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    // Newest first, in pages.
    let page = store
        .audit_entries(&AuditQuery {
            limit: 3,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let minutes = |p: &AuditPage| {
        p.entries
            .iter()
            .map(|e| (e.at - t0).num_minutes())
            .collect::<Vec<_>>()
    };
    assert_eq!(minutes(&page), [6, 5, 4]);
    assert_eq!(page.entries[0].id, ids[6]);
    assert_eq!(page.entries[0].object, "/api/v1/chargers/CP-6/reset");
    let next = store
        .audit_entries(&AuditQuery {
            limit: 3,
            before: page.next_before,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(minutes(&next), [3, 2, 1]);
    let last = store
        .audit_entries(&AuditQuery {
            limit: 3,
            before: next.next_before,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(minutes(&last), [0]);
    assert_eq!(last.next_before, None);
    // Oldest first after an id, for the records pump.
    let after: Vec<u64> = store
        .audit_after(ids[3], 2)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(after, [ids[4], ids[5]]);
    assert!(store.audit_after(ids[6], 10).await.unwrap().is_empty());
    assert_eq!(store.audit_after(0, 100).await.unwrap().len(), 7);
    // Filters: actor, fleet, time.
    let by_fleet = store
        .audit_entries(&AuditQuery {
            limit: 10,
            fleet: Some(fleet.clone()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(minutes(&by_fleet), [5, 3, 1]);
    let by_actor = store
        .audit_entries(&AuditQuery {
            limit: 10,
            actor: Some(DriverId::new("op1").unwrap()),
            since: Some(t0 + Span::minutes(2)),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(minutes(&by_actor), [6, 4, 2]);
    // Retention: appending forgets what is older than the cut.
    store
        .append_audit(entry("op1", 60), t0 + Span::minutes(4))
        .await
        .unwrap();
    let kept = store
        .audit_entries(&AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(minutes(&kept), [60, 6, 5, 4]);
}
