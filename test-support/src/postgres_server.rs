//! A private PostgreSQL for one test: `initdb` into its own directory, `postgres` on a free
//! loopback port (trust authentication, no fsync: test data), killed on drop. The binaries
//! come from `PATH` or Debian's `/usr/lib/postgresql/<version>/bin`. PostgreSQL refuses to run
//! as root, so under root both run as the `postgres` user (through `setpriv`, which execs: the
//! server is the child process and dies with it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::child::unique;
use crate::{ChildProcess, free_port};

/// A running PostgreSQL.
#[derive(Debug)]
pub struct PostgresServer {
    process: Option<ChildProcess>,
    port: u16,
    dir: PathBuf,
}

/// Where a PostgreSQL program is: on `PATH`, else the newest Debian install.
fn binary(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    if let Some(found) = on_path {
        return found;
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .unwrap_or_else(|| panic!("{name} not found: install PostgreSQL (scripts/test does)"))
}

/// The `postgres` user's uid and gid, when we run as root.
fn as_postgres() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((
        id("-u").expect("a postgres user (the Debian package makes it)"),
        id("-g")?,
    ))
}

/// `program args…`, as the postgres user when we are root.
fn command_line(
    program: &Path,
    args: &[String],
    user: Option<(u32, u32)>,
) -> (PathBuf, Vec<String>) {
    match user {
        Some((uid, gid)) => {
            let mut all = vec![
                format!("--reuid={uid}"),
                format!("--regid={gid}"),
                "--clear-groups".to_string(),
                "--".to_string(),
                program.display().to_string(),
            ];
            all.extend(args.iter().cloned());
            (PathBuf::from("setpriv"), all)
        }
        None => (program.to_path_buf(), args.to_vec()),
    }
}

impl PostgresServer {
    /// Starts a server with an empty `postgres` database.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "chargegrid-postgres-{}-{}",
            std::process::id(),
            unique()
        ));
        let data = dir.join("data");
        std::fs::create_dir_all(&dir).expect("create postgres dir");
        let user = as_postgres();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown postgres dir");
        }
        let (program, args) = command_line(
            &binary("initdb"),
            &[
                "-D".into(),
                data.display().to_string(),
                "-U".into(),
                "postgres".into(),
                "--auth=trust".into(),
                "-E".into(),
                "UTF8".into(),
                "--no-sync".into(),
            ],
            user,
        );
        let out = Command::new(&program)
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            let (program, args) = command_line(
                &binary("postgres"),
                &[
                    "-D".into(),
                    data.display().to_string(),
                    "-p".into(),
                    port.to_string(),
                    "-k".into(),
                    dir.display().to_string(),
                    "-c".into(),
                    "listen_addresses=127.0.0.1".into(),
                    "-c".into(),
                    "fsync=off".into(),
                    "-c".into(),
                    "full_page_writes=off".into(),
                ],
                user,
            );
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut process = match ChildProcess::spawn(&program, &refs, &[]) {
                Ok(p) => p,
                Err(e) => {
                    last_error = format!("spawn postgres: {e}");
                    continue;
                }
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                let ready = Command::new(binary("pg_isready"))
                    .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
                    .status()
                    .is_ok_and(|s| s.success());
                if ready {
                    return Self {
                        process: Some(process),
                        port,
                        dir,
                    };
                }
                if let Some(status) = process.wait_timeout(Duration::from_millis(50)) {
                    last_error = format!("postgres exited with {status}: {}", process.output());
                    break;
                }
            }
        }
        panic!("could not start postgres: {last_error}");
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // The server first, then its files.
        drop(self.process.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
