//! The grid operator's side of a scenario: when a demand-response event starts or ends, the
//! run tells an [`Operator`], which passes the new limit to the server however the deployment
//! allows (an API call, the store in an in-process test). Without one, the event only lowers
//! the limit the KPIs check against, and the report says the signal was not delivered.

use async_trait::async_trait;
use chargegrid_core::network::Network;
use chargegrid_core::{SiteId, Watts};
use chrono::{DateTime, Utc};

/// Receives grid signals during a run.
#[async_trait]
pub trait Operator: Send + Sync {
    /// From `from` to `to` (simulated time) `site` must stay under `limit`; `limit` `None`
    /// means the event is over. Returns whether the signal reached the server.
    async fn site_limit(
        &self,
        site: &SiteId,
        limit: Option<Watts>,
        window: (DateTime<Utc>, DateTime<Utc>),
        network: &Network,
    ) -> bool;
}
