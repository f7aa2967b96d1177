//! Reservations.

use super::*;

pub async fn reservations(store: Arc<dyn Store>) {
    let a = store.next_reservation_id().await.unwrap();
    let b = store.next_reservation_id().await.unwrap();
    assert!(a > 0 && b > a);
    let d = DriverId::new("d1").unwrap();
    let make = |id: i32, created: i64, expires: i64, state: ReservationState| Reservation {
        id,
        driver: d.clone(),
        id_tag: IdTag::new("T1").unwrap(),
        site: SiteId::new("s1").unwrap(),
        charger: ChargerId::new("c1").unwrap(),
        evse: EvseId(1),
        created_at: t(created),
        expires_at: t(expires),
        state,
    };
    let first = make(a, 0, 15, ReservationState::Active);
    let second = make(b, 5, 60, ReservationState::Active);
    store.put_reservation(&first).await.unwrap();
    store.put_reservation(&second).await.unwrap();
    assert_eq!(store.get_reservation(a).await.unwrap(), Some(first.clone()));
    let mine = store.reservations_of_driver(&d).await.unwrap();
    assert_eq!(
        mine.iter().map(|r| r.id).collect::<Vec<_>>(),
        [b, a],
        "newest first"
    );
    let site = SiteId::new("s1").unwrap();
    // At minute 20 the first has expired.
    let active = store
        .active_reservations_of_site(&site, t(20))
        .await
        .unwrap();
    assert_eq!(active.iter().map(|r| r.id).collect::<Vec<_>>(), [b]);
    let mut cancelled = second.clone();
    cancelled.state = ReservationState::Cancelled;
    store.put_reservation(&cancelled).await.unwrap();
    assert!(
        store
            .active_reservations_of_site(&site, t(20))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.get_reservation(b).await.unwrap().unwrap().state,
        ReservationState::Cancelled
    );
}
