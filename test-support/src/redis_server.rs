//! A private `redis-server` for one test: a free loopback port, its own directory, no
//! persistence unless asked, killed on drop.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{ChildProcess, free_port};

/// A running `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    process: ChildProcess,
    port: u16,
    dir: PathBuf,
    aof: bool,
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

    fn start_with(aof: bool) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "chargegrid-redis-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("create redis dir");
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            match launch(&dir, port, aof) {
                Ok(process) => {
                    return Self {
                        process,
                        port,
                        dir,
                        aof,
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
            match launch(&self.dir, self.port, self.aof) {
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

fn launch(dir: &Path, port: u16, aof: bool) -> Result<ChildProcess, String> {
    let port_text = port.to_string();
    let dir_text = dir.to_string_lossy().to_string();
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

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}
