//! A private `redis-server` for one test: a free loopback port, its own directory, no
//! persistence unless asked, killed on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::child::unique;
use crate::{ChildProcess, free_port};

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    process: ChildProcess,
    port: u16,
    dir: PathBuf,
    aof: bool,
    /// The cluster bus port, for a cluster node.
    cluster_port: Option<u16>,
}

impl RedisServer {
    /// Starts a server without persistence.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Starts a server with AOF (`appendfsync everysec`) in its own directory, so it can be
    /// restarted with its data.
    pub fn start_with_aof() -> Self {
        Self::start_with(true)
    }

    /// Starts an empty Redis Cluster node (cluster mode on, its own bus port).
    pub fn start_cluster_node() -> Self {
        Self::start_node(false, true)
    }

    fn start_with(aof: bool) -> Self {
        Self::start_node(aof, false)
    }

    fn start_node(aof: bool, cluster: bool) -> Self {
        // A counter, not a port number: ports are reused within a run, and two servers sharing
        // a directory lose it when the first is dropped (a cluster node then dies with "can't
        // update cluster config file").
        let dir = std::env::temp_dir().join(format!(
            "chargegrid-redis-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&dir).expect("create redis dir");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let cluster_port = cluster.then(free_port);
            match launch(&dir, port, aof, cluster_port) {
                Ok(process) => {
                    return Self {
                        process,
                        port,
                        dir,
                        aof,
                        cluster_port,
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!("could not start redis-server: {last_error}");
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (as a crash would) and starts it again on the same port and
    /// directory; with AOF its data comes back.
    pub fn restart(&mut self) {
        self.process.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match launch(&self.dir, self.port, self.aof, self.cluster_port) {
                Ok(p) => {
                    self.process = p;
                    return;
                }
                Err(e) if Instant::now() > deadline => panic!("redis restart failed: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.process.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_binary() -> PathBuf {
    std::env::var_os("REDIS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("redis-server"))
}

fn launch(
    dir: &Path,
    port: u16,
    aof: bool,
    cluster_port: Option<u16>,
) -> Result<ChildProcess, String> {
    let port_text = port.to_string();
    let dir_text = dir.to_string_lossy().to_string();
    let bus_text = cluster_port.map(|p| p.to_string()).unwrap_or_default();
    let mut args = vec![
        "--port",
        &port_text,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--dir",
        &dir_text,
        "--daemonize",
        "no",
        "--databases",
        "16",
    ];
    if cluster_port.is_some() {
        args.extend([
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &bus_text,
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "5000",
        ]);
    }
    if aof {
        args.extend(["--appendonly", "yes", "--appendfsync", "everysec"]);
    } else {
        args.extend(["--appendonly", "no"]);
    }
    let mut process = ChildProcess::spawn(&redis_binary(), &args, &[])
        .map_err(|e| format!("spawn {}: {e}", redis_binary().display()))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ping(port) {
            return Ok(process);
        }
        if let Some(status) = process.wait_timeout(Duration::from_millis(20)) {
            return Err(format!(
                "redis-server exited with {status}: {}",
                process.output()
            ));
        }
    }
    Err(format!("redis-server did not answer on port {port}"))
}

/// A Redis Cluster of `masters` primaries (no replicas) on loopback, every slot assigned; the
/// processes are killed on drop.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts the nodes, joins them with `redis-cli --cluster create` and waits until every
    /// node reports `cluster_state:ok`.
    pub fn start(masters: usize) -> Self {
        let cluster = Self {
            nodes: (0..masters)
                .map(|_| RedisServer::start_cluster_node())
                .collect(),
        };
        let addrs = cluster.addrs();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        let mut cli =
            ChildProcess::spawn(&redis_cli(), &args, &[]).expect("run redis-cli --cluster create");
        // redis-cli waits for the cluster to join without a limit: bound it, so a node that
        // died fails the test instead of hanging the run.
        match cli.wait_timeout(Duration::from_secs(30)) {
            Some(status) if status.success() => {}
            Some(_) => panic!("redis-cli --cluster create failed: {}", cli.output()),
            None => {
                cli.kill();
                panic!(
                    "redis-cli --cluster create did not finish in 30 s: {}",
                    cli.output()
                );
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        for node in &cluster.nodes {
            while !command(node.port, "CLUSTER INFO").contains("cluster_state:ok") {
                assert!(Instant::now() < deadline, "cluster did not become ok");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        cluster
    }

    /// `127.0.0.1:<port>` of every node.
    fn addrs(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect()
    }

    /// `redis-cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,…`.
    pub fn url(&self) -> String {
        format!("redis-cluster://{}", self.addrs().join(","))
    }

    /// Empties every node.
    pub fn flush(&self) {
        for node in &self.nodes {
            let answer = command(node.port, "FLUSHALL");
            assert!(answer.starts_with("+OK"), "FLUSHALL: {answer}");
        }
    }
}

fn redis_cli() -> PathBuf {
    std::env::var_os("REDIS_CLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("redis-cli"))
}

/// Sends one inline command and returns the raw answer (enough for status lines and bulk
/// strings under 64 KiB).
fn command(port: u16, line: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(format!("{line}\r\n").as_bytes()).is_err() {
        return String::new();
    }
    let mut buf = vec![0u8; 65536];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_string()
}

fn ping(port: u16) -> bool {
    command(port, "PING").starts_with("+PONG")
}
