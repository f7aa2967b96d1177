//! The Python OCPP charge point (the `ocpp` package from PyPI, schema validation on), run as a
//! child process; it reports what it sees as JSON lines.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// The venv's python (scripts/test exports CG_TEST_PYTHON; default target/py).
pub fn python() -> PathBuf {
    std::env::var_os("CG_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py/bin/python")
        })
}

/// The official OCA schemas shipped inside the Python `ocpp` package.
pub fn schemas_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = std::process::Command::new(python())
            .args([
                "-c",
                "import ocpp, os; print(os.path.dirname(ocpp.__file__))",
            ])
            .output()
            .expect("the Python test peer is installed (run ./scripts/test)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
    .clone()
}

/// A running Python peer.
pub struct Peer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub seen: Vec<Value>,
}

impl Peer {
    /// Starts `script` (in tests/e2e/peers/) with `args`.
    pub fn spawn(script: &str, args: &[&str]) -> Peer {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/e2e/peers")
            .join(script);
        let mut child = Command::new(python())
            .arg(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the python peer");
        let stdout = child.stdout.take().expect("piped stdout");
        Peer {
            child,
            lines: BufReader::new(stdout).lines(),
            seen: Vec::new(),
        }
    }

    /// Waits for the next event named `name` (or fails on an `error` event or exit). The
    /// timeout only turns a hang into a failure; it asserts nothing about speed.
    pub async fn expect(&mut self, name: &str) -> Value {
        let wait = async {
            loop {
                let line = self.lines.next_line().await.expect("read peer output");
                let Some(line) = line else {
                    panic!("peer exited before {name}; saw {:?}", self.seen);
                };
                let event: Value = serde_json::from_str(&line).expect("peer prints JSON lines");
                self.seen.push(event.clone());
                if event["event"] == "error" {
                    panic!("peer reported an error before {name}: {event}");
                }
                if event["event"] == name {
                    return event;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .unwrap_or_else(|_| panic!("no {name} from the peer; saw {:?}", self.seen))
    }

    /// The first event named `name` seen so far, or the next one.
    pub async fn seen_or_expect(&mut self, name: &str) -> Value {
        match self.seen.iter().find(|e| e["event"] == name) {
            Some(event) => event.clone(),
            None => self.expect(name).await,
        }
    }

    /// Writes a line to the peer's stdin (the 2.0.1 peer waits for one mid-session).
    pub async fn send_line(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.child.stdin.as_mut().expect("piped stdin");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    /// Closes the peer's stdin (it then disconnects) and waits for it to exit.
    pub async fn finish(mut self) {
        drop(self.child.stdin.take());
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }
}
