//! `chargegrid network import|export`: the stored network in the network file's form. Import
//! makes the stored network exactly the file's (as a start with `--network` does) and tells
//! the nodes holding connected chargers: deleted chargers are disconnected, the others re-read
//! their configuration. Export writes what the store holds (password hashes included, so that
//! an export imports back unchanged).

use std::time::Duration;

use chargegrid_core::command::{ChargerCommand, CommandReply};
use chargegrid_core::network::Network;
use chargegrid_store::{ChangeKind, SiteChange, Store, StoreError};

/// How long a node gets to act on a charger's change.
const NODE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an import or export failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkAdminError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored network does not serialise as TOML.
    #[error("the stored network cannot be written as TOML: {0}")]
    Toml(#[from] toml::ser::Error),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Sites written.
    pub sites: usize,
    /// Chargers written.
    pub chargers: usize,
    /// Chargers deleted (not in the file).
    pub deleted: usize,
    /// Connected chargers disconnected because they were deleted.
    pub disconnected: usize,
    /// Connected chargers whose node re-read their configuration.
    pub reloaded: usize,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "network imported: {} sites, {} chargers; {} chargers deleted ({} disconnected); {} connected chargers reloaded",
            self.sites, self.chargers, self.deleted, self.disconnected, self.reloaded
        )
    }
}

/// Makes the stored network exactly `network` (validated by the caller) and tells connected
/// chargers' nodes.
pub async fn import(
    store: &dyn Store,
    network: &Network,
) -> Result<ImportReport, NetworkAdminError> {
    let deleted = store.replace_network(network).await?;
    let mut report = ImportReport {
        sites: network.sites.len(),
        chargers: network.chargers.len(),
        deleted: deleted.len(),
        ..ImportReport::default()
    };
    for id in &deleted {
        store.forget_device_state(id).await?;
        if tell(store, id, ChargerCommand::Disconnect).await? {
            report.disconnected += 1;
        }
    }
    for charger in &network.chargers {
        if tell(store, &charger.id, ChargerCommand::ReloadConfiguration).await? {
            report.reloaded += 1;
        }
    }
    for site in &network.sites {
        // Best effort: the scheduler's periodic pass covers a lost notice.
        let _ = store
            .notify_change(SiteChange::new(site.id.clone(), ChangeKind::Limits))
            .await;
    }
    Ok(report)
}

/// Whether a connected charger's node carried out `command`.
async fn tell(
    store: &dyn Store,
    charger: &chargegrid_core::ChargerId,
    command: ChargerCommand,
) -> Result<bool, StoreError> {
    if store.locate(charger).await?.is_none() {
        return Ok(false);
    }
    let reply = store.send_command(charger, command, NODE_TIMEOUT).await?;
    Ok(matches!(reply, CommandReply::Result { .. }))
}

/// The stored network as a network file.
pub async fn export(store: &dyn Store) -> Result<String, NetworkAdminError> {
    let text = toml::to_string(&store.network().await?)?;
    Ok(format!(
        "# chargegrid network, exported from the store (load with `chargegrid network import`)\n{text}"
    ))
}
