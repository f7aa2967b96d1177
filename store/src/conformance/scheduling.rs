//! The scheduler's state, site leases and expected arrivals.

use super::*;

pub async fn scheduler_state(store: Arc<dyn Store>) {
    let s = SiteId::new("s1").unwrap();
    let alloc = SiteAllocation {
        site: s.clone(),
        computed_at: t(0),
        limit: Watts(50_000.0),
        headroom: Watts(8_000.0),
        sessions: vec![SessionAllocation {
            session: SessionId::new("x").unwrap(),
            charger: ChargerId::new("c1").unwrap(),
            evse: EvseId(1),
            power: Watts(11_000.0),
        }],
        // The month's demand rides along (a new leader continues it).
        demand: Some(chargegrid_core::supply::MonthDemand {
            month: "2026-03".into(),
            peak: Watts(31_500.0),
            quarter_start: t(0),
            quarter_energy: chargegrid_core::WattHours(1_250.0),
            power: Watts(9_000.0),
            at: t(30),
        }),
    };
    store.put_allocation(&alloc, 1).await.unwrap();
    assert_eq!(store.get_allocation(&s).await.unwrap(), Some(alloc.clone()));

    let window = |id: &str, from: i64| LimitWindow {
        id: id.into(),
        from: t(from),
        to: Some(t(from + 60)),
        limit: Limit::power(Watts(20_000.0)),
        reason: "demand response".into(),
    };
    store
        .put_limit_window(&s, &window("late", 120))
        .await
        .unwrap();
    store
        .put_limit_window(&s, &window("early", 0))
        .await
        .unwrap();
    let ws = store.limit_windows(&s).await.unwrap();
    assert_eq!(
        ws.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["early", "late"]
    );
    assert!(store.delete_limit_window(&s, "early").await.unwrap());
    assert!(!store.delete_limit_window(&s, "early").await.unwrap());
    assert_eq!(store.limit_windows(&s).await.unwrap().len(), 1);

    let sess = SessionId::new("x").unwrap();
    let needs = EvNeeds {
        energy: Some(WattHours(20_000.0)),
        departure: Some(t(480)),
        min_power: None,
        max_power: Some(Watts(7_400.0)),
        source: NeedsSource::Vehicle,
        updated_at: t(0),
    };
    store.put_ev_needs(&s, &sess, &needs).await.unwrap();
    assert_eq!(store.get_ev_needs(&s, &sess).await.unwrap(), Some(needs));
    store.delete_ev_needs(&s, &sess).await.unwrap();
    assert_eq!(store.get_ev_needs(&s, &sess).await.unwrap(), None);

    // How drivers' statements turned out: newest first, the oldest dropped past the cap, kept
    // per site.
    assert!(store.statement_ratios(&s).await.unwrap().is_empty());
    let kept = crate::STATEMENT_RATIOS_KEPT;
    for i in 0..kept + 5 {
        store
            .push_statement_ratio(&s, i as f64 / 8.0)
            .await
            .unwrap();
    }
    let ratios = store.statement_ratios(&s).await.unwrap();
    assert_eq!(ratios.len(), kept);
    assert_eq!(ratios[0], (kept + 4) as f64 / 8.0);
    assert_eq!(ratios[kept - 1], 5.0 / 8.0);
    let other = SiteId::new("s2").unwrap();
    assert!(store.statement_ratios(&other).await.unwrap().is_empty());

    // Arrivals for the site's habit: summed per UTC quarter-hour, oldest first over the days
    // asked for, kept per site.
    let day = chrono::TimeDelta::days(1);
    let arrival =
        |at: chrono::DateTime<chrono::Utc>, wh: f64| chargegrid_core::arrivals::PastArrival {
            arrived: at,
            energy: chargegrid_core::WattHours(wh),
        };
    let first = t(0);
    store
        .push_arrival(&s, &arrival(first + day + Span::minutes(7), 7_500.5))
        .await
        .unwrap();
    store
        .push_arrival(&s, &arrival(first, 5_000.0))
        .await
        .unwrap();
    store
        .push_arrival(&s, &arrival(first + Span::minutes(14), 1_000.0))
        .await
        .unwrap();
    store
        .push_arrival(&s, &arrival(first + Span::minutes(15), 0.0))
        .await
        .unwrap();
    assert_eq!(
        store.arrivals(&s, first, first + day).await.unwrap(),
        vec![
            arrival(first, 6_000.0),
            arrival(first + Span::minutes(15), 0.0),
            arrival(first + day, 7_500.5)
        ]
    );
    // Days outside the span asked for are not read.
    assert_eq!(
        store
            .arrivals(&s, first + day, first + day * 3)
            .await
            .unwrap(),
        vec![arrival(first + day, 7_500.5)]
    );
    assert!(
        store
            .arrivals(&s, first + day, first)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .arrivals(&other, first, first + day)
            .await
            .unwrap()
            .is_empty()
    );
    // However far back `since` reaches, no more than the retention before `until` is read.
    let late = first + crate::ARRIVALS_RETENTION + day * 2;
    store
        .push_arrival(&s, &arrival(late, 2_000.0))
        .await
        .unwrap();
    assert_eq!(
        store.arrivals(&s, first, late).await.unwrap(),
        vec![arrival(late, 2_000.0)]
    );

    let profile = ChargingLimit {
        profile_id: 100,
        stack_level: 1,
        purpose: ProfilePurpose::Tx,
        transaction_id: Some("17".into()),
        start: None,
        unit: RateUnit::A,
        periods: vec![SchedulePeriod {
            start_offset_s: 0,
            limit: 16.0,
            phases: None,
        }],
        valid_to: None,
    };
    let c1 = ChargerId::new("c1").unwrap();
    store
        .put_sent_profile(&s, &c1, EvseId(2), &profile, 1)
        .await
        .unwrap();
    store
        .put_sent_profile(&s, &c1, EvseId(1), &profile, 1)
        .await
        .unwrap();
    let sent = store.sent_profiles(&s).await.unwrap();
    assert_eq!(sent.iter().map(|(_, e, _)| e.0).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(sent[0].2, profile);

    // Fencing: once a newer holder (token 2) wrote, the old one (token 1) is refused, for the
    // allocation, the sent profiles and commands alike; other sites are not affected.
    store.check_fence(&s, 2).await.unwrap();
    let mut stale = alloc.clone();
    stale.headroom = Watts(1.0);
    assert!(matches!(
        store.put_allocation(&stale, 1).await,
        Err(StoreError::Fenced(_))
    ));
    assert_eq!(store.get_allocation(&s).await.unwrap(), Some(alloc.clone()));
    assert!(matches!(
        store
            .put_sent_profile(&s, &c1, EvseId(3), &profile, 1)
            .await,
        Err(StoreError::Fenced(_))
    ));
    assert_eq!(store.sent_profiles(&s).await.unwrap().len(), 2);
    assert!(matches!(
        store.check_fence(&s, 1).await,
        Err(StoreError::Fenced(_))
    ));
    store.put_allocation(&alloc, 2).await.unwrap();
    store.put_allocation(&alloc, 3).await.unwrap();
    let other = SiteId::new("s2").unwrap();
    store.check_fence(&other, 1).await.unwrap();
}

pub async fn leases(store: Arc<dyn Store>) {
    let ttl = Duration::from_secs(30);
    let a = store
        .acquire_lease("site:s1", "sched-a", ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.holder, "sched-a");
    assert!(
        store
            .acquire_lease("site:s1", "sched-b", ttl)
            .await
            .unwrap()
            .is_none()
    );
    // Re-acquiring by the holder keeps the same fencing token.
    let again = store
        .acquire_lease("site:s1", "sched-a", ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, a);
    assert!(store.renew_lease("site:s1", &a, ttl).await.unwrap());
    store.release_lease("site:s1", &a).await.unwrap();
    let b = store
        .acquire_lease("site:s1", "sched-b", ttl)
        .await
        .unwrap()
        .unwrap();
    assert!(b.token > a.token, "fencing tokens must grow");
    // The old holder's lease is stale: it can neither renew nor release b's.
    assert!(!store.renew_lease("site:s1", &a, ttl).await.unwrap());
    store.release_lease("site:s1", &a).await.unwrap();
    assert!(
        store
            .acquire_lease("site:s1", "sched-a", ttl)
            .await
            .unwrap()
            .is_none()
    );
    // Leases are independent by name.
    assert!(
        store
            .acquire_lease("site:s2", "sched-a", ttl)
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn expected_arrivals(store: Arc<dyn Store>) {
    let s = SiteId::new("s1").unwrap();
    assert_eq!(store.expected_arrivals(&s, t(0)).await.unwrap(), 0);
    store.add_expected_arrival(&s, "a", t(30)).await.unwrap();
    store.add_expected_arrival(&s, "b", t(10)).await.unwrap();
    store.add_expected_arrival(&s, "a", t(30)).await.unwrap();
    assert_eq!(
        store.expected_arrivals(&s, t(5)).await.unwrap(),
        2,
        "tokens are counted once"
    );
    assert_eq!(
        store.expected_arrivals(&s, t(20)).await.unwrap(),
        1,
        "holds expire"
    );
    assert_eq!(
        store
            .expected_arrivals(&SiteId::new("s2").unwrap(), t(5))
            .await
            .unwrap(),
        0
    );
}
