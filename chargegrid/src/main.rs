//! The `chargegrid` binary: `run` (everything), `gateway`, `api`, `scheduler`. Configuration
//! comes from `--config FILE`, `CHARGEGRID_*` variables and flags; a bad configuration stops
//! the program with a message naming the problem and exit code 2.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chargegrid::config::{self, Config, LogFormat, Overrides};
use chargegrid::{App, Role};
use chargegrid_core::SystemClock;
use clap::{Args, Parser, Subcommand};

mod replay_cli;
mod sim_cli;

/// jemalloc rather than glibc's allocator: a charger message allocates and frees many small
/// buffers (frames, JSON, Redis commands); under load glibc's malloc took about a fifth of the
/// gateway's CPU, and with jemalloc the gateway uses about a quarter less CPU per MeterValues
/// for about 3 KiB more per idle connection (mimalloc: the same CPU, 5–7 KiB more);
/// docs/BENCHMARKS.md, #20.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Smart EV-charging backend: OCPP 1.6J/2.0.1 gateway, power scheduler, driver API, vehicle health.
#[derive(Debug, Parser)]
#[command(name = "chargegrid", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything in one process: OCPP gateway, scheduler, driver API, metrics.
    Run(ServeArgs),
    /// Run only the OCPP gateway (and metrics); scale out behind a load balancer.
    Gateway(ServeArgs),
    /// Run only the scheduler (and metrics).
    Scheduler(ServeArgs),
    /// Run only the driver API (and metrics).
    Api(ServeArgs),
    /// Simulations and offline evaluation.
    Simulate {
        /// What to simulate.
        #[command(subcommand)]
        command: SimulateCommand,
    },
    /// Read a charger password from stdin and print its Argon2 hash for the network file
    /// (`password_hash = "..."`, security profiles 1 and 2).
    HashPassword,
    /// Check or show the configuration (file, CHARGEGRID_* environment, flags).
    Config {
        /// check or print.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard
    /// output, e.g. `chargegrid completions bash > /etc/bash_completion.d/chargegrid`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Administer the configured store directly (no running chargegrid needed).
    Admin {
        /// What to administer.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// The network (sites and chargers) in the configured store, in the network file's form.
    Network {
        /// import or export.
        #[command(subcommand)]
        command: NetworkCommand,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum NetworkCommand {
    /// Make the stored network exactly this file's (validated first; chargers and sites not in
    /// it are deleted, and connected chargers are told: deleted ones disconnected, the others
    /// re-read their configuration).
    Import {
        /// The network file (TOML).
        file: PathBuf,
    },
    /// Print the stored network as a network file (TOML, password hashes included) to
    /// standard output.
    Export,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and the network file it names; exit 2 naming the problem.
    Check(ServeArgs),
    /// Print every setting: its environment variable, and where a value that is not the
    /// default came from (secrets masked).
    Print(ServeArgs),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Operator accounts.
    Operator {
        /// add, list, disable or enable.
        #[command(subcommand)]
        command: OperatorCommand,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
enum OperatorCommand {
    /// Create an operator; the password is read from standard input (one line).
    Add {
        /// Its e-mail.
        #[arg(long)]
        email: String,
        /// Its display name.
        #[arg(long, default_value = "Operator")]
        name: String,
    },
    /// List operators (id, e-mail, name, disabled).
    List,
    /// Disable an operator: it can no longer log in or use its tokens.
    Disable {
        /// Its e-mail.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled operator again.
    Enable {
        /// Its e-mail.
        #[arg(long)]
        email: String,
    },
}

/// Which store an admin command works on (as `run` would open it).
#[derive(Debug, Args)]
struct StoreArgs {
    /// TOML configuration file (also CHARGEGRID_CONFIG).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Store URL: redis://host:port/db or redis-cluster://… (memory:// writes to the records
    /// database, which `run` reads at its next start).
    #[arg(long, value_name = "URL", global = true)]
    store: Option<String>,
}

#[derive(Debug, Subcommand)]
enum SimulateCommand {
    /// Replay recorded ACN-Data sessions through the scheduler and the baselines offline.
    Replay(replay_cli::ReplayArgs),
    /// Allocate one period at a time for an outside simulator (JSON lines on stdin and stdout).
    Allocate(replay_cli::AllocateArgs),
    /// Run a scenario (simulated chargers and EVs over real WebSockets) and report its KPIs.
    Run(sim_cli::RunArgs),
    /// Measure a central system: idle connections, MeterValues/s at a latency target, memory.
    Load(sim_cli::LoadArgs),
    /// Print the network (TOML) a scenario needs the server to load with --network.
    Network {
        /// Scenario file.
        scenario: PathBuf,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// TOML configuration file (also CHARGEGRID_CONFIG).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address for OCPP WebSockets (default 0.0.0.0:9000; CHARGEGRID_OCPP_LISTEN).
    #[arg(long, value_name = "ADDR")]
    ocpp_listen: Option<String>,
    /// Address for the driver API (default 0.0.0.0:8080; CHARGEGRID_API_LISTEN).
    #[arg(long, value_name = "ADDR")]
    api_listen: Option<String>,
    /// Address for Prometheus /metrics, /healthz, /readyz (default 0.0.0.0:9100;
    /// CHARGEGRID_METRICS_LISTEN).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// Store URL: memory:// (default), redis://host:port/db or redis-cluster://host:port,host:port
    /// (CHARGEGRID_STORE_URL).
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// Records database: sqlite://path (default sqlite://chargegrid-data/records.db) or
    /// postgres://user:password@host:port/db (CHARGEGRID_RECORDS_URL).
    #[arg(long, value_name = "URL")]
    records: Option<String>,
    /// Network file (sites and chargers; CHARGEGRID_NETWORK_FILE); it replaces the stored
    /// network. The built-in sample is used when none is set and the store is empty.
    #[arg(long, value_name = "FILE")]
    network: Option<PathBuf>,
    /// Accept chargers that are not in the network (development only;
    /// CHARGEGRID_OCPP_ALLOW_UNKNOWN_CHARGERS).
    #[arg(long)]
    allow_unknown_chargers: bool,
    /// Authorise id tags the network does not know (development only;
    /// CHARGEGRID_OCPP_ACCEPT_UNKNOWN_ID_TAGS).
    #[arg(long)]
    accept_unknown_id_tags: bool,
    /// Another copy of the official OCA JSON schemas (v16/, v201/) instead of the built-in
    /// ones (CHARGEGRID_OCPP_SCHEMAS_DIR).
    #[arg(long, value_name = "DIR")]
    ocpp_schemas: Option<PathBuf>,
    /// This node's id in a cluster (CHARGEGRID_NODE_ID).
    #[arg(long, value_name = "ID")]
    node_id: Option<String>,
}

impl ServeArgs {
    fn overrides(&self) -> Overrides {
        let mut o = Overrides {
            config_file: self.config.clone(),
            ..Overrides::default()
        };
        o.set("--ocpp-listen", "ocpp.listen", self.ocpp_listen.as_ref());
        o.set("--api-listen", "api.listen", self.api_listen.as_ref());
        o.set(
            "--metrics-listen",
            "metrics.listen",
            self.metrics_listen.as_ref(),
        );
        o.set("--store", "store.url", self.store.as_ref());
        o.set("--records", "records.url", self.records.as_ref());
        o.set(
            "--network",
            "network.file",
            self.network.as_ref().map(|p| p.display()),
        );
        o.set("--node-id", "node_id", self.node_id.as_ref());
        o.set(
            "--ocpp-schemas",
            "ocpp.schemas_dir",
            self.ocpp_schemas.as_ref().map(|p| p.display()),
        );
        o.set(
            "--accept-unknown-id-tags",
            "ocpp.accept_unknown_id_tags",
            self.accept_unknown_id_tags.then_some("true"),
        );
        o.set(
            "--allow-unknown-chargers",
            "ocpp.allow_unknown_chargers",
            self.allow_unknown_chargers.then_some("true"),
        );
        o
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (role, args) = match cli.command {
        Command::Run(a) => (Role::All, a),
        Command::Gateway(a) => (Role::Gateway, a),
        Command::Scheduler(a) => (Role::Scheduler, a),
        Command::Api(a) => (Role::Api, a),
        Command::HashPassword => return hash_password(),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "chargegrid",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        Command::Admin { command } => return admin(command),
        Command::Network { command, store } => return network_command(command, &store),
        Command::Config { command } => return config_command(command),
        Command::Simulate { command } => return simulate(command),
    };
    let env: HashMap<String, String> = std::env::vars().collect();
    let config = match config::load(&args.overrides(), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chargegrid: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("chargegrid: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config, role)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let config_problem = e
                .downcast_ref::<chargegrid::StartError>()
                .is_some_and(chargegrid::StartError::is_config);
            eprintln!("chargegrid: {e:#}");
            ExitCode::from(if config_problem { 2 } else { 1 })
        }
    }
}

fn simulate(command: SimulateCommand) -> ExitCode {
    let runtime = || {
        tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start the runtime: {e}"))
    };
    let result = match command {
        SimulateCommand::Replay(args) => replay_cli::run(&args).map(|_| ()),
        SimulateCommand::Allocate(args) => replay_cli::allocate(&args),
        SimulateCommand::Run(args) => runtime().and_then(|rt| rt.block_on(sim_cli::run(args))),
        SimulateCommand::Load(args) => runtime().and_then(|rt| rt.block_on(sim_cli::load(args))),
        SimulateCommand::Network { scenario } => sim_cli::network(scenario),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chargegrid: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_command(command: ConfigCommand) -> ExitCode {
    let env: HashMap<String, String> = std::env::vars().collect();
    let (args, print) = match &command {
        ConfigCommand::Check(a) => (a, false),
        ConfigCommand::Print(a) => (a, true),
    };
    let (config, origins) = match config::load_with_origins(&args.overrides(), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chargegrid: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &config.network.file
        && let Err(e) = chargegrid::network::read_network(path)
    {
        eprintln!("chargegrid: configuration error: {e}");
        return ExitCode::from(2);
    }
    if print {
        for (key, var) in config::settings() {
            let shown = match origins.get(key) {
                Some(o) if key.contains("password") => {
                    format!("******  ({})", o.from)
                }
                Some(o) => format!("{}  ({})", o.value, o.from),
                None => "(default)".to_string(),
            };
            println!("{key:<40} {var:<48} {shown}");
        }
    } else {
        println!("configuration OK");
    }
    ExitCode::SUCCESS
}

fn admin(command: AdminCommand) -> ExitCode {
    let AdminCommand::Operator { command, store } = command;
    with_store_config(
        &store,
        |config| async move { operator(command, &config).await },
    )
}

fn network_command(command: NetworkCommand, store: &StoreArgs) -> ExitCode {
    with_store_config(store, |config| async move {
        let store = open_admin_store(&config).await?;
        match command {
            NetworkCommand::Import { file } => {
                let network = chargegrid::network::read_network(&file)?;
                let report = chargegrid::network_admin::import(store.as_ref(), &network).await?;
                println!("{report}");
            }
            NetworkCommand::Export => {
                print!(
                    "{}",
                    chargegrid::network_admin::export(store.as_ref()).await?
                );
            }
        }
        Ok(())
    })
}

/// Loads the configuration an admin command names (file, environment, `--store`) and runs
/// `work` with it; exit 2 with the error.
fn with_store_config<F, Fut>(store: &StoreArgs, work: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut overrides = Overrides {
        config_file: store.config.clone(),
        ..Overrides::default()
    };
    overrides.set("--store", "store.url", store.store.as_ref());
    let env: HashMap<String, String> = std::env::vars().collect();
    let config = match config::load(&overrides, &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chargegrid: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(work(config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chargegrid: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The store an admin command works on, as `run` would open it.
async fn open_admin_store(config: &Config) -> anyhow::Result<Arc<dyn chargegrid_store::Store>> {
    let clock: Arc<dyn chargegrid_core::Clock> = Arc::new(SystemClock);
    // Its own node id: replies to the commands it sends must come back to it, not to a
    // running node that shares the configuration's id.
    let node = chargegrid_core::NodeId::new(format!(
        "admin-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ))
    .context("making the admin command's node id")?;
    if config.store.url != "memory://" {
        return chargegrid_store::open(
            &config.store.url,
            node,
            clock,
            config.store.connect_timeout,
            None,
            config.store.sample_retention,
        )
        .await
        .with_context(|| {
            format!(
                "opening the store {}",
                chargegrid_store::redis::redact(&config.store.url)
            )
        });
    }
    // The embedded default: what people enter is kept in the records database.
    let (store, _) = chargegrid::app::open_stores(config, node, clock, None)
        .await
        .with_context(|| {
            format!(
                "opening the records database {}",
                chargegrid_store::redis::redact(&config.records.url)
            )
        })?;
    eprintln!(
        "chargegrid: note: memory:// keeps this change in the records database {}; a \
         chargegrid already running on it sees it after its next start",
        chargegrid_store::redis::redact(&config.records.url)
    );
    Ok(store)
}

async fn operator(command: OperatorCommand, config: &Config) -> anyhow::Result<()> {
    use chargegrid_api::operators;
    let clock: Arc<dyn chargegrid_core::Clock> = Arc::new(SystemClock);
    let store = open_admin_store(config).await?;
    match command {
        OperatorCommand::Add { email, name } => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']).to_string();
            let op = operators::add(store, clock, &email, password, &name).await?;
            println!("operator {} created ({})", op.email, op.id);
        }
        OperatorCommand::List => {
            for op in operators::list(store.as_ref()).await? {
                let state = if op.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{}\t{state}", op.id, op.email, op.name);
            }
        }
        OperatorCommand::Disable { email } => {
            let op = operators::set_disabled(store.as_ref(), &email, true).await?;
            println!("operator {} disabled", op.email);
        }
        OperatorCommand::Enable { email } => {
            let op = operators::set_disabled(store.as_ref(), &email, false).await?;
            println!("operator {} enabled", op.email);
        }
    }
    Ok(())
}

fn hash_password() -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("chargegrid: cannot read the password: {e}");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.len() < 16 {
        eprintln!("chargegrid: OCPP requires charger passwords of 16 to 40 characters");
        return ExitCode::from(2);
    }
    match chargegrid_ocpp_gateway::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chargegrid: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, role: Role) -> anyhow::Result<()> {
    let app = App::start(&config, role, Arc::new(SystemClock)).await?;
    wait_for_signal()
        .await
        .context("waiting for a shutdown signal")?;
    tracing::info!("shutting down");
    app.shutdown().await.context("shutdown")?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn wait_for_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
