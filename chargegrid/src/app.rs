//! Starting and stopping chargegrid: open the store, load the network, bind the listeners,
//! start each role's server, and stop them in order (gateway first so chargers get a clean
//! close, then the scheduler, which releases its site leases, then the API, metrics last so
//! the final state can still be scraped).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use chargegrid_core::Clock;
use chargegrid_ocpp_gateway::{Gateway, GatewayConfig, GatewayMetrics};
use chargegrid_store::{Store, StoreError};
use prometheus::Registry;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError};
use crate::network;

/// Which parts of chargegrid a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything in one process.
    All,
    /// Only the OCPP gateway.
    Gateway,
    /// Only the scheduler.
    Scheduler,
    /// Only the driver API.
    Api,
}

impl Role {
    /// The role's name (the subcommand that runs it; a metric label).
    pub fn label(self) -> &'static str {
        match self {
            Role::All => "run",
            Role::Gateway => "gateway",
            Role::Scheduler => "scheduler",
            Role::Api => "api",
        }
    }
    fn gateway(self) -> bool {
        matches!(self, Role::All | Role::Gateway)
    }
    fn api(self) -> bool {
        matches!(self, Role::All | Role::Api)
    }
    fn scheduler(self) -> bool {
        matches!(self, Role::All | Role::Scheduler)
    }
}

/// Why the application could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The configuration or network file is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store URL is wrong or the store does not answer.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A listener could not be bound.
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        /// Which server.
        what: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Metrics could not be registered (a programming error).
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// The records database is unreachable, or its folder cannot be made.
    #[error("records: {0}")]
    Records(String),
}

impl StartError {
    /// Whether the problem is in the configuration (exit code 2) rather than the environment.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            StartError::Config(_) | StartError::Store(_) | StartError::Records(_)
        )
    }
}

struct Service {
    name: &'static str,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

/// A running chargegrid.
pub struct App {
    /// Where chargers connect, when the gateway runs.
    pub ocpp_addr: Option<SocketAddr>,
    /// Where chargers connect with TLS (`wss://`), when configured.
    pub ocpp_tls_addr: Option<SocketAddr>,
    /// Where the API listens, when it runs.
    pub api_addr: Option<SocketAddr>,
    /// Where `/metrics` is served.
    pub metrics_addr: SocketAddr,
    /// The store in use.
    pub store: Arc<dyn Store>,
    /// The records store in use.
    pub records: Arc<dyn chargegrid_records::RecordsStore>,
    /// The metrics registry.
    pub registry: Registry,
    /// The password every charger of the built-in sample network authenticates with, when
    /// this start wrote the sample into an empty store (it is printed once, then only its
    /// hash is kept).
    pub sample_charger_password: Option<String>,
    services: Vec<Service>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("ocpp_addr", &self.ocpp_addr)
            .field("api_addr", &self.api_addr)
            .field("metrics_addr", &self.metrics_addr)
            .finish_non_exhaustive()
    }
}

async fn bind(what: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { what, addr, source })
}

fn spawn<F>(
    services: &mut Vec<Service>,
    name: &'static str,
    serve: impl FnOnce(CancellationToken) -> F,
) where
    F: Future<Output = std::io::Result<()>> + Send + 'static,
{
    let stop = CancellationToken::new();
    let task = tokio::spawn(serve(stop.clone()));
    services.push(Service { name, stop, task });
}

impl App {
    /// Opens the store, loads the network and starts the servers of `role`. Listen addresses
    /// with port 0 get a free port (see the `*_addr` fields).
    pub async fn start(
        config: &Config,
        role: Role,
        clock: Arc<dyn Clock>,
    ) -> Result<App, StartError> {
        let registry = Registry::new();
        let store_metrics = chargegrid_store::StoreMetrics::new(&registry)?;
        let (store, records) = open_stores(
            config,
            config.node_id.clone(),
            clock.clone(),
            Some(store_metrics),
        )
        .await?;
        let sample_charger_password = load_network(config, store.as_ref()).await?;
        first_operator(config, store.clone(), clock.clone()).await?;

        let mut services = Vec::new();

        let mut ocpp_tls_addr = None;
        let ocpp_addr = if role.gateway() {
            let listener = bind("OCPP", config.ocpp.listen).await?;
            let addr = listener.local_addr().map_err(|source| StartError::Bind {
                what: "OCPP",
                addr: config.ocpp.listen,
                source,
            })?;
            let mut gw_config = GatewayConfig::new(config.node_id.clone());
            gw_config.settings = config.ocpp.gateway.clone();
            gw_config.charger_ca = charger_ca(&config.ocpp.charger_ca)?;
            gw_config.schemas = match (config.ocpp.schema_validation, &config.ocpp.schemas_dir) {
                (false, _) => {
                    tracing::warn!(
                        "ocpp.schema_validation = false: payloads are checked by typed decoding only, not against the official OCA schemas"
                    );
                    None
                }
                (true, Some(dir)) => Some(Arc::new(
                    chargegrid_ocpp::schema::Schemas::load(dir)
                        .map_err(|e| ConfigError::Schemas(e.to_string()))?,
                )),
                (true, None) => Some(Arc::new(
                    chargegrid_ocpp::schema::Schemas::embedded()
                        .map_err(|e| ConfigError::Schemas(e.to_string()))?,
                )),
            };
            let gateway_metrics = GatewayMetrics::new(&registry)?;
            for site in store.list_sites().await? {
                gateway_metrics.touch_site(site.id.as_str());
            }
            let gateway = Gateway::new(gw_config, store.clone(), clock.clone(), gateway_metrics);
            if let Some(tls) = &config.ocpp.tls {
                let read = |path: &std::path::Path| {
                    std::fs::read(path).map_err(|e| {
                        ConfigError::Tls(format!("cannot read {}: {e}", path.display()))
                    })
                };
                let ca = tls.client_ca_file.as_deref().map(read).transpose()?;
                let settings = chargegrid_ocpp_gateway::TlsSettings::from_pem(
                    &read(&tls.cert_file)?,
                    &read(&tls.key_file)?,
                    ca.as_deref(),
                    tls.require_client_cert,
                )
                .map_err(|e| ConfigError::Tls(e.to_string()))?;
                let tls_listener = bind("OCPP TLS", tls.listen).await?;
                ocpp_tls_addr = tls_listener.local_addr().ok();
                let gateway = gateway.clone();
                spawn(&mut services, "gateway-tls", |stop| {
                    chargegrid_ocpp_gateway::serve_tls(
                        tls_listener,
                        gateway,
                        settings,
                        stop.cancelled_owned(),
                    )
                });
            }
            spawn(&mut services, "gateway", |stop| {
                chargegrid_ocpp_gateway::serve(listener, gateway, stop.cancelled_owned())
            });
            Some(addr)
        } else {
            None
        };

        // The scheduler stops after the gateway (chargers are gone) and before the API, releasing
        // its site leases so another instance takes over at once.
        if role.scheduler() && config.scheduler.enabled {
            let control = chargegrid_scheduler::control::ControlLoop::new(
                config.scheduler.control_config(config.node_id.as_str()),
                store.clone(),
                clock.clone(),
                chargegrid_scheduler::control::SchedulerMetrics::new(&registry)?,
            );
            spawn(&mut services, "scheduler", |stop| async move {
                control
                    .run(stop.cancelled_owned())
                    .await
                    .map_err(std::io::Error::other)
            });
        }

        // The records pump with the scheduler role (one node at a time, by lease).
        if role.scheduler() {
            let pump = crate::records_pump::RecordsPump::new(
                store.clone(),
                records.clone(),
                clock.clone(),
                config.node_id.to_string(),
                crate::records_pump::RecordsMetrics::new(&registry)?,
            );
            spawn(&mut services, "records", |stop| {
                pump.run(stop.cancelled_owned())
            });
        }

        // Background workers: vehicle health with the scheduler role, network metrics everywhere.
        if role.scheduler() && !config.health.disabled {
            let voltages = config
                .health
                .model_voltages
                .iter()
                .map(|(model, v)| (model.clone(), chargegrid_core::Volts(*v)))
                .collect();
            let worker = crate::health_worker::HealthWorker::new(
                store.clone(),
                clock.clone(),
                config.health.estimator.clone(),
                voltages,
                crate::health_worker::HealthMetrics::new(&registry)?,
            )
            .with_records(records.clone());
            spawn(&mut services, "health", |stop| {
                worker.run(stop.cancelled_owned())
            });
        }
        let network_metrics = crate::network_metrics::NetworkMetrics::new(&registry)?;
        // Once before serving, so the first scrape already has every site's series.
        network_metrics
            .refresh(store.as_ref(), clock.as_ref())
            .await?;
        let (collector_store, collector_clock) = (store.clone(), clock.clone());
        spawn(&mut services, "network-metrics", |stop| {
            crate::network_metrics::run(
                network_metrics,
                collector_store,
                collector_clock,
                std::time::Duration::from_secs(15),
                stop.cancelled_owned(),
            )
        });

        let api_addr = if role.api() {
            let listener = bind("API", config.api.listen).await?;
            let addr = listener.local_addr().map_err(|source| StartError::Bind {
                what: "API",
                addr: config.api.listen,
                source,
            })?;
            let api_config = chargegrid_api::ApiConfig {
                cors_origins: config.api.cors_origins.clone(),
                max_body_bytes: config.api.max_body_bytes,
                rate_limit_per_minute: config.api.rate_limit_per_minute,
                header_timeout: config.api.header_timeout,
                request_timeout: config.api.request_timeout,
                max_connections: config.api.max_connections,
                stream_interval: config.api.stream_interval,
                api_key_rate_limit_per_minute: config.api.api_key_rate_limit_per_minute,
                audit_retention: config.api.audit_retention,
                trusted_proxies: config.api.trusted_proxies.clone(),
                command_timeout: config.ocpp.gateway.call_timeout
                    + std::time::Duration::from_secs(2),
                ..chargegrid_api::ApiConfig::default()
            };
            let state = chargegrid_api::ApiState::new(
                store.clone(),
                clock.clone(),
                api_config,
                chargegrid_api::ApiMetrics::new(&registry)?,
            )
            .with_records(records.clone());
            spawn(&mut services, "api", |stop| {
                chargegrid_api::serve(listener, state, stop.cancelled_owned())
            });
            Some(addr)
        } else {
            None
        };

        let listener = bind("metrics", config.metrics.listen).await?;
        let metrics_addr = listener.local_addr().map_err(|source| StartError::Bind {
            what: "metrics",
            addr: config.metrics.listen,
            source,
        })?;
        crate::metrics::register_build_info(&registry, role.label())?;
        // The standard process metrics (CPU seconds, resident memory, open and maximum file
        // descriptors, start time), as every Prometheus exporter exports them.
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        let metrics_registry = registry.clone();
        let metrics_store = store.clone();
        spawn(&mut services, "metrics", |stop| {
            crate::metrics::serve(
                listener,
                metrics_registry,
                metrics_store,
                stop.cancelled_owned(),
            )
        });

        tracing::info!(
            node = %config.node_id,
            store = store.backend(),
            ocpp = ?ocpp_addr,
            api = ?api_addr,
            metrics = %metrics_addr,
            "chargegrid started"
        );
        Ok(App {
            ocpp_addr,
            ocpp_tls_addr,
            api_addr,
            metrics_addr,
            store,
            records,
            registry,
            sample_charger_password,
            services,
        })
    }

    /// Stops the servers in start order (gateway, scheduler, API, metrics), each after the previous has
    /// finished. Returns the first server error, if any.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let mut first_error = None;
        for service in self.services {
            service.stop.cancel();
            let result = match service.task.await {
                Ok(r) => r,
                Err(e) => Err(std::io::Error::other(e)),
            };
            match result {
                Ok(()) => tracing::info!(service = service.name, "stopped"),
                Err(e) => {
                    tracing::error!(service = service.name, error = %e, "stopped with an error");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The charger CA from its files: both or neither.
/// Opens the records store and the live store as `node`. The in-memory live store keeps what
/// people entered in the records database (with the embedded default, one SQLite file), so a
/// restart forgets only live state.
pub async fn open_stores(
    config: &Config,
    node: chargegrid_core::NodeId,
    clock: Arc<dyn Clock>,
    metrics: Option<chargegrid_store::StoreMetrics>,
) -> Result<(Arc<dyn Store>, Arc<dyn chargegrid_records::RecordsStore>), StartError> {
    let records = open_records(&config.records.url).await?;
    let store: Arc<dyn Store> = if config.store.url == "memory://" {
        Arc::new(
            chargegrid_store::MemoryStore::with_journal(
                clock,
                Arc::new(crate::journal::RecordsJournal(records.clone())),
            )
            .await?,
        )
    } else {
        chargegrid_store::open(
            &config.store.url,
            node,
            clock,
            config.store.connect_timeout,
            metrics,
            config.store.sample_retention,
        )
        .await?
    };
    Ok((store, records))
}

/// Opens the records store, making the folder of a SQLite file first.
async fn open_records(url: &str) -> Result<Arc<dyn chargegrid_records::RecordsStore>, StartError> {
    if let Some(path) = url.strip_prefix("sqlite://")
        && let Some(dir) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            StartError::Records(format!("cannot make the folder {}: {e}", dir.display()))
        })?;
    }
    chargegrid_records::open(url)
        .await
        .map_err(|e| StartError::Records(e.to_string()))
}

fn charger_ca(
    ca: &crate::config::ChargerCaConfig,
) -> Result<Option<Arc<chargegrid_ocpp_gateway::ChargerCa>>, ConfigError> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|e| ConfigError::ChargerCa(format!("cannot read {}: {e}", path.display())))
    };
    match (&ca.cert_file, &ca.key_file) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => chargegrid_ocpp_gateway::ChargerCa::from_pem(
            &read(cert)?,
            &read(key)?,
            ca.validity_days,
        )
        .map(|ca| Some(Arc::new(ca)))
        .map_err(|e| ConfigError::ChargerCa(e.to_string())),
        _ => Err(ConfigError::ChargerCa(
            "set both ocpp.charger_ca_cert_file and ocpp.charger_ca_key_file, or neither".into(),
        )),
    }
}

/// Creates the configured first operator while the store holds none (`admin.email` and
/// `admin.password` together; one without the other is a configuration error).
async fn first_operator(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> Result<(), StartError> {
    let (email, password) = match (&config.admin.email, &config.admin.password) {
        (None, None) => return Ok(()),
        (Some(e), Some(p)) => (e, p),
        (Some(_), None) => {
            return Err(
                ConfigError::Admin("admin.email is set but admin.password is not".into()).into(),
            );
        }
        (None, Some(_)) => {
            return Err(
                ConfigError::Admin("admin.password is set but admin.email is not".into()).into(),
            );
        }
    };
    match chargegrid_api::operators::ensure_first(store, clock, email, password.clone()).await {
        Ok(Some(op)) => {
            tracing::info!(operator = %op.id, email = %op.email, "first operator created")
        }
        Ok(None) => tracing::info!("an operator exists: admin.email is not used"),
        Err(chargegrid_api::operators::OperatorError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(ConfigError::Admin(e.to_string()).into()),
    }
    Ok(())
}

/// Writes the configured network into the store, replacing whatever network it held (the
/// file is the whole truth: chargers not in it, such as the demo sample's, are deleted). With
/// no file and an empty store, writes the built-in sample with a freshly generated charger
/// password, printed once and returned.
async fn load_network(config: &Config, store: &dyn Store) -> Result<Option<String>, StartError> {
    let (network, password) = match &config.network.file {
        Some(path) => (network::read_network(path)?, None),
        None if store.list_sites().await?.is_empty() => {
            let (network, password) = network::sample_network_with_password()?;
            (network, Some(password))
        }
        None => return Ok(None),
    };
    let deleted = store.replace_network(&network).await?;
    for charger in network
        .chargers
        .iter()
        .filter(|c| c.password_hash.is_none() && !matches!(c.security_profile, Some(0 | 3)))
    {
        tracing::warn!(
            charger = %charger.id,
            "charger has no password and no certificate profile: it will be refused until an \
             operator sets a password (or security_profile = 0 to allow it without credentials)"
        );
    }
    tracing::info!(
        sites = network.sites.len(),
        chargers = network.chargers.len(),
        deleted = deleted.len(),
        "network loaded"
    );
    if let Some(password) = &password {
        // Shown once, on the terminal of whoever started the demo; only the hash is stored.
        eprintln!(
            "\nchargegrid: the built-in sample network was written to the empty store.\n\
             Its {} chargers authenticate with HTTP Basic auth as <charger id>:{password}\n\
             (generated now and shown only this once; load your own network with --network).\n",
            network.chargers.len()
        );
    }
    Ok(password)
}
