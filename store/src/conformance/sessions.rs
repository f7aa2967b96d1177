//! Transaction ids, the session lifecycle and its conflicts, history pages.

use super::*;

pub async fn transaction_ids_are_unique(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.next_transaction_id().await.unwrap() })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    assert!(ids.iter().all(|&id| id > 0));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50);
}

pub async fn session_lifecycle(store: Arc<dyn Store>) {
    store.put_site(&site("s1")).await.unwrap();
    store.put_charger(&charger("c1", "s1")).await.unwrap();
    store.put_charger(&charger("c2", "s1")).await.unwrap();
    let mut a = session("sess-a", "s1", "c1", "17", t(0));
    let b = session("sess-b", "s1", "c2", "18", t(1));
    store.create_session(&a).await.unwrap();
    store.create_session(&b).await.unwrap();

    assert_eq!(store.get_session(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        store.find_by_transaction(&a.charger, "17").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        store.find_by_transaction(&b.charger, "17").await.unwrap(),
        None
    );
    let site_id = SiteId::new("s1").unwrap();
    assert_eq!(
        store.active_sessions(&site_id).await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    assert_eq!(
        store.active_sessions_of_charger(&a.charger).await.unwrap(),
        vec![a.clone()]
    );

    a.energy = WattHours(500.0);
    update(&store, &a, &[sample(t(1), 1200.0), sample(t(2), 1500.0)])
        .await
        .unwrap();
    update(&store, &a, &[sample(t(3), 1600.0)]).await.unwrap();
    let samples = store.samples(&a.id).await.unwrap();
    assert_eq!(
        samples.iter().map(|s| s.value).collect::<Vec<_>>(),
        vec![1200.0, 1500.0, 1600.0]
    );

    let tag = IdTag::new("tag-1").unwrap();
    assert_eq!(
        store
            .active_session_of_id_tag(&tag)
            .await
            .unwrap()
            .map(|s| s.id),
        Some(a.id.clone()),
        "id tags match case-insensitively"
    );
    a.state = SessionState::Ended;
    a.ended_at = Some(t(30));
    update(&store, &a, &[]).await.unwrap();
    let left = store.active_session_of_id_tag(&tag).await.unwrap().unwrap();
    assert_eq!(
        left.id, b.id,
        "the other session with the same card is still active"
    );
    assert_eq!(
        store.active_sessions(&site_id).await.unwrap(),
        vec![b.clone()]
    );
    assert!(
        store
            .active_sessions_of_charger(&a.charger)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.get_session(&a.id).await.unwrap(), Some(a.clone()));

    let ghost = session("ghost", "s1", "c1", "99", t(0));
    assert!(matches!(
        store.update_session(&ghost, &ghost, &[]).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn session_conflicts(store: Arc<dyn Store>) {
    store.put_site(&site("s1")).await.unwrap();
    store.put_charger(&charger("c1", "s1")).await.unwrap();
    // Two nodes racing to record the same charger transaction: exactly one wins.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                s.create_session(&session(&format!("race-{i}"), "s1", "c1", "5", t(0)))
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(won, 1);
    let again = session("race-0", "s1", "c1", "6", t(0));
    let exists = store.get_session(&again.id).await.unwrap().is_some();
    let result = store.create_session(&again).await;
    if exists {
        assert!(matches!(result, Err(StoreError::Conflict(_))));
    }
    let active = store
        .active_sessions(&SiteId::new("s1").unwrap())
        .await
        .unwrap();
    assert_eq!(active.len(), if exists { 1 } else { 2 });
}

pub async fn history_pages(store: Arc<dyn Store>) {
    store.put_site(&site("s1")).await.unwrap();
    store.put_charger(&charger("c1", "s1")).await.unwrap();
    let driver = DriverId::new("d1").unwrap();
    let fleet = FleetId::new("f1").unwrap();
    for i in 0..5 {
        let mut s = session(&format!("h{i}"), "s1", "c1", &format!("{i}"), t(i * 60));
        s.driver = Some(driver.clone());
        if i % 2 == 0 {
            s.fleet = Some(fleet.clone());
        }
        store.create_session(&s).await.unwrap();
    }
    let p1 = store.sessions_of_driver(&driver, None, 2).await.unwrap();
    let ids = |p: &crate::HistoryPage| {
        p.sessions
            .iter()
            .map(|s| s.id.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&p1), ["h4", "h3"]);
    let p2 = store
        .sessions_of_driver(&driver, p1.next_before, 2)
        .await
        .unwrap();
    assert_eq!(ids(&p2), ["h2", "h1"]);
    let p3 = store
        .sessions_of_driver(&driver, p2.next_before, 2)
        .await
        .unwrap();
    assert_eq!(ids(&p3), ["h0"]);
    assert_eq!(p3.next_before, None);
    let f = store.sessions_of_fleet(&fleet, None, 10).await.unwrap();
    assert_eq!(ids(&f), ["h4", "h2", "h0"]);
    let nobody = store
        .sessions_of_driver(&DriverId::new("d2").unwrap(), None, 10)
        .await
        .unwrap();
    assert!(nobody.sessions.is_empty());
}

pub async fn records_outbox_holds_every_ended_session_once(store: Arc<dyn Store>) {
    store.put_site(&site("s1")).await.unwrap();
    store.put_site(&site("s2")).await.unwrap();
    let s1 = SiteId::new("s1").unwrap();
    let s2 = SiteId::new("s2").unwrap();
    let mut a = session("out-a", "s1", "c1", "31", t(0));
    let mut b = session("out-b", "s1", "c2", "32", t(1));
    store.create_session(&a).await.unwrap();
    store.create_session(&b).await.unwrap();
    // Active sessions and updates that keep them active are not in it.
    a.energy = WattHours(100.0);
    update(&store, &a, &[]).await.unwrap();
    assert!(store.records_outbox(&s1, 10).await.unwrap().is_empty());
    // Ending enters it, in the order sessions ended; a later update of an ended session
    // (a late sample) does not enter it again.
    b.state = SessionState::Ended;
    b.ended_at = Some(t(5));
    update(&store, &b, &[]).await.unwrap();
    a.state = SessionState::Ended;
    a.ended_at = Some(t(6));
    update(&store, &a, &[]).await.unwrap();
    update(&store, &a, &[sample(t(6), 1.0)]).await.unwrap();
    assert_eq!(
        store.records_outbox(&s1, 10).await.unwrap(),
        vec![b.id.clone(), a.id.clone()]
    );
    assert_eq!(
        store.records_outbox(&s1, 1).await.unwrap(),
        vec![b.id.clone()]
    );
    assert_eq!(store.records_outbox_len(&s1).await.unwrap(), 2);
    // A session recorded already ended (a stop whose start was never seen) enters it too, in
    // its own site's outbox.
    let mut c = session("out-c", "s2", "c3", "33", t(2));
    c.state = SessionState::Ended;
    c.ended_at = Some(t(3));
    store.create_session(&c).await.unwrap();
    assert_eq!(
        store.records_outbox(&s2, 10).await.unwrap(),
        vec![c.id.clone()]
    );
    // Removal takes exactly the ids named; naming one twice or an absent one removes nothing else.
    store
        .records_outbox_remove(&s1, &[b.id.clone(), b.id.clone(), c.id.clone()])
        .await
        .unwrap();
    store
        .records_outbox_remove(&s1, &[b.id.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.records_outbox(&s1, 10).await.unwrap(),
        vec![a.id.clone()]
    );
    assert_eq!(store.records_outbox_len(&s2).await.unwrap(), 1);
    store
        .records_outbox_remove(&s1, &[a.id.clone()])
        .await
        .unwrap();
    assert_eq!(store.records_outbox_len(&s1).await.unwrap(), 0);
}

/// Updates `session` from the version the store has, as callers do.
async fn update(
    store: &Arc<dyn Store>,
    session: &Session,
    samples: &[MeterSample],
) -> crate::StoreResult<()> {
    let before = store
        .get_session(&session.id)
        .await?
        .unwrap_or_else(|| session.clone());
    store.update_session(&before, session, samples).await
}
