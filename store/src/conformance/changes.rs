//! The change feed.

use super::*;

pub async fn change_feed(store: Arc<dyn Store>) {
    use crate::{ChangeKind, SiteChange};
    let mut rx = store.subscribe_changes().await.unwrap();
    let change = SiteChange {
        site: SiteId::new("s1").unwrap(),
        kind: ChangeKind::SessionStarted,
        session: Some(SessionId::new("sess-1").unwrap()),
    };
    store.notify_change(change.clone()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a change notice arrives")
        .unwrap();
    assert_eq!(got, change);
}
