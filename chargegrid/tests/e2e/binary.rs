//! The real `chargegrid` binary: it starts with no configuration, answers on its ports, stops
//! cleanly on SIGINT and SIGTERM, and refuses bad configuration with exit code 2 and a message
//! naming the problem, never a panic.

use std::path::Path;
use std::time::Duration;

use chargegrid_test_support::{ChildProcess, free_port};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_chargegrid"))
}

/// A fresh working directory for one run of the binary (its default records file goes there,
/// not into the repository).
fn workdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "chargegrid-bin-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary to completion (it must exit by itself within 30 s).
fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut child = ChildProcess::spawn_in(Some(&workdir()), binary(), args, env).unwrap();
    let status = child
        .wait_timeout(Duration::from_secs(30))
        .expect("chargegrid should exit by itself on bad configuration");
    (status.code().unwrap_or(-1), child.output())
}

/// Whether the API answers within the usual start time (false also when the child exited).
async fn is_up(url: &str, child: &ChildProcess) -> bool {
    for _ in 0..300 {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        if child.output().contains("Address already in use") {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn wait_until_up(url: &str, child: &ChildProcess) {
    for _ in 0..300 {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chargegrid did not come up: {}", child.output());
}

#[tokio::test]
async fn starts_with_defaults_answers_and_stops_on_signals() {
    for signal in [2, 15] {
        // A free port can be taken by a concurrent test before the child binds it: then the
        // child exits naming it, and the run starts again on other ports.
        let (mut child, ocpp_addr, api_addr, metrics_addr, dir) = loop {
            let (ocpp, api, metrics) = (free_port(), free_port(), free_port());
            let ocpp_addr = format!("127.0.0.1:{ocpp}");
            let api_addr = format!("127.0.0.1:{api}");
            let metrics_addr = format!("127.0.0.1:{metrics}");
            let dir = workdir();
            let mut child = ChildProcess::spawn_in(
                Some(&dir),
                binary(),
                &[
                    "run",
                    "--ocpp-listen",
                    &ocpp_addr,
                    "--api-listen",
                    &api_addr,
                    "--metrics-listen",
                    &metrics_addr,
                ],
                &[],
            )
            .unwrap();
            let exited = child.wait_timeout(Duration::from_millis(0)).is_some()
                || !is_up(&format!("http://{api_addr}/api/v1/health"), &child).await;
            if exited && child.output().contains("Address already in use") {
                child.kill();
                continue;
            }
            break (child, ocpp_addr, api_addr, metrics_addr, dir);
        };
        wait_until_up(&format!("http://{api_addr}/api/v1/health"), &child).await;
        let metrics = reqwest::get(format!("http://{metrics_addr}/metrics"))
            .await
            .unwrap();
        assert!(metrics.status().is_success());
        // The sample network's chargers are closed to anyone without the password generated
        // at this first start and printed once.
        let connect = |password: Option<String>| {
            use base64::Engine;
            use tokio_tungstenite::tungstenite::client::IntoClientRequest;
            let mut r = format!("ws://{ocpp_addr}/ocpp/QD-M4-AC01")
                .into_client_request()
                .unwrap();
            r.headers_mut()
                .insert("Sec-WebSocket-Protocol", "ocpp1.6".parse().unwrap());
            if let Some(p) = password {
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!("QD-M4-AC01:{p}"));
                r.headers_mut()
                    .insert("Authorization", format!("Basic {basic}").parse().unwrap());
            }
            tokio_tungstenite::connect_async(r)
        };
        match connect(None).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
            other => panic!("a sample charger without credentials is refused: {other:?}"),
        }
        let output = child.output();
        let password = output
            .split("as <charger id>:")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("the sample password is printed once: {output}"))
            .to_string();
        let ws = connect(Some(password)).await;
        assert!(ws.is_ok(), "OCPP port answers: {:?}", ws.err());
        child.signal(signal).unwrap();
        let status = child
            .wait_timeout(Duration::from_secs(20))
            .expect("chargegrid stops on a signal");
        assert!(status.success(), "exit {status}: {}", child.output());
        assert!(
            child.output().contains("stopped cleanly"),
            "{}",
            child.output()
        );
        // The embedded default kept its records (and what was entered) beside it.
        assert!(dir.join("chargegrid-data/records.db").is_file());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn bad_configuration_exits_2_naming_the_problem() {
    let dir = std::env::temp_dir().join(format!("cg-badconf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let typo = dir.join("typo.toml");
    std::fs::write(&typo, "[ocpp]\nlisen = \"0.0.0.0:9000\"\n").unwrap();
    let bad_net = dir.join("net.toml");
    std::fs::write(&bad_net, "[[sites]]\nid = \"x\"\n").unwrap();
    let typo_s = typo.to_str().unwrap();
    let net_s = bad_net.to_str().unwrap();
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["run", "--config", typo_s], vec![], "ocpp.lisen"),
        (
            vec!["run"],
            vec![("CHARGEGRID_STORE_URL", "postgres://db")],
            "store.url",
        ),
        (
            vec!["run", "--store", "redis://127.0.0.1:1/0"],
            vec![],
            "127.0.0.1:1",
        ),
        (
            vec!["run"],
            vec![("CHARGEGRID_RECORDS_URL", "mysql://db")],
            "records.url",
        ),
        (
            vec!["run", "--records", "postgres://nobody@127.0.0.1:1/x"],
            vec![],
            "records",
        ),
        (
            vec!["run", "--ocpp-listen", "not-an-address"],
            vec![],
            "ocpp.listen",
        ),
        (
            vec!["run"],
            vec![("CHARGEGRID_BOGUS", "1")],
            "CHARGEGRID_BOGUS",
        ),
        (
            vec![
                "run",
                "--network",
                net_s,
                "--ocpp-listen",
                "127.0.0.1:0",
                "--api-listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ],
            vec![],
            "net.toml",
        ),
    ];
    for (args, env, needle) in cases {
        let (code, output) = run_to_exit(&args, &env);
        assert_eq!(code, 2, "{args:?} {env:?}: {output}");
        assert!(output.contains(needle), "{args:?}: {output}");
        assert!(!output.contains("panicked"), "{args:?}: {output}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn config_check_and_print_name_problems_origins_and_hide_secrets() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = std::process::Command::new(binary())
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let (code, out) = run(&["config", "check"], &[]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(
        &["config", "check"],
        &[("CHARGEGRID_API_RATE_LIMT_PER_MINUTE", "5")],
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("CHARGEGRID_API_RATE_LIMIT_PER_MINUTE"),
        "{out}"
    );
    let (code, out) = run(
        &["config", "print", "--store", "redis://127.0.0.1:1/0"],
        &[("CHARGEGRID_ADMIN_PASSWORD", "do-not-print-me-ever")],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("do-not-print-me-ever"), "{out}");
    assert!(
        out.contains("environment variable CHARGEGRID_ADMIN_PASSWORD"),
        "{out}"
    );
    assert!(
        out.contains("redis://127.0.0.1:1/0  (flag --store)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("ocpp.listen") && l.ends_with("(default)")),
        "{out}"
    );
    let help = run(&["run", "--help"], &[]).1;
    assert!(help.contains("CHARGEGRID_STORE_URL"), "{help}");
}

#[test]
fn shell_completions_are_printed_and_bash_accepts_them() {
    let (code, script) = run_to_exit(&["completions", "bash"], &[]);
    assert_eq!(code, 0, "{script}");
    for word in [
        "_chargegrid",
        "gateway",
        "simulate",
        "operator",
        "completions",
    ] {
        assert!(
            script.contains(word),
            "{word} missing from the bash completion"
        );
    }
    let file = std::env::temp_dir().join(format!("cg-completion-{}.bash", std::process::id()));
    std::fs::write(&file, &script).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    let (code, zsh) = run_to_exit(&["completions", "zsh"], &[]);
    assert_eq!(code, 0);
    assert!(
        zsh.starts_with("#compdef chargegrid"),
        "{}",
        &zsh[..80.min(zsh.len())]
    );
    let (code, out) = run_to_exit(&["completions", "tcsh"], &[]);
    assert_eq!(code, 2, "an unknown shell is a usage error: {out}");
}

/// The deployment kit (deploy/) names only settings and subcommands chargegrid has: every
/// `CHARGEGRID_*` variable of the compose file and the systemd units passes `config check`
/// (which refuses unknown variables), and each unit's `ExecStart` role takes `--config`.
#[test]
fn the_deployment_kit_names_only_what_chargegrid_knows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let compose = std::fs::read_to_string(root.join("deploy/compose/compose.yaml")).unwrap();
    let mut env: Vec<(String, String)> = Vec::new();
    for line in compose.lines() {
        let line = line.trim();
        if let Some((name, value)) = line.split_once(": ")
            && name.starts_with("CHARGEGRID_")
        {
            env.push((name.to_string(), value.trim().to_string()));
        }
    }
    let mut units = 0;
    for entry in std::fs::read_dir(root.join("deploy/systemd")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        units += 1;
        for line in text.lines() {
            if let Some(setting) = line.strip_prefix("Environment=")
                && let Some((name, value)) = setting.split_once('=')
            {
                env.push((name.to_string(), value.replace("%H", "host")));
            }
            if let Some(command) = line.strip_prefix("ExecStart=") {
                let words: Vec<&str> = command.split_whitespace().collect();
                assert_eq!(words[0], "/usr/local/bin/chargegrid", "{line}");
                assert_eq!(words[2], "--config", "{line}");
                let out = std::process::Command::new(binary())
                    .args([words[1], "--help"])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{line}: no such role");
                assert!(String::from_utf8_lossy(&out.stdout).contains("--config"));
            }
        }
    }
    assert_eq!(units, 3, "a unit per role: gateway, scheduler, api");
    assert!(env.len() >= 6, "{env:?}");
    for (name, value) in &env {
        let out = std::process::Command::new(binary())
            .args(["config", "check"])
            .env(name, value)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}={value}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn simulate_replay_runs_on_a_network_file_and_names_what_it_cannot_place() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sessions = root.join("data/acn-sessions/caltech-2019-09-01_2019-12-31.csv.gz");
    let network = root.join("examples/networks/caltech-acn.toml");
    let dir = workdir();
    let json = dir.join("replay.json");
    // One recorded station moved onto another EVSE through the station map.
    let map = dir.join("stations.toml");
    std::fs::write(&map, "\"CA-311\" = { charger = \"CA-303\", evse = 1 }\n").unwrap();
    // `simulate replay` of the sessions on the network file with the station map and `args`.
    let replay = |args: &[&str]| {
        std::process::Command::new(binary())
            .args(["simulate", "replay"])
            .arg(&sessions)
            .arg("--network")
            .arg(&network)
            .arg("--station-map")
            .arg(&map)
            .args(args)
            .output()
            .unwrap()
    };
    let out = replay(&[
        "--from",
        "2019-11-11",
        "--days",
        "1",
        "--algorithm",
        "chargegrid,uncontrolled,offline-optimal",
        "--json",
        json.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("not available with --network"), "{stdout}");
    let reports: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let reports = reports.as_array().unwrap();
    assert_eq!(
        reports.len(),
        2,
        "the offline optimum is skipped, not reported"
    );
    assert_eq!(reports[0]["algorithm"], "chargegrid");
    assert_eq!(reports[0]["limit_violations"], 0);
    assert!(reports[0]["delivered_pct"].as_f64().unwrap() > 90.0);

    // A station mapped onto a charger the network does not have: refused, naming it.
    std::fs::write(&map, "\"CA-311\" = \"NO-SUCH-CHARGER\"\n").unwrap();
    let out = replay(&[
        "--from",
        "2019-10-01",
        "--days",
        "30",
        "--algorithm",
        "chargegrid",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("CA-311") && stderr.contains("no EVSE"),
        "{stderr}"
    );

    // Without a network the site limit is required.
    let out = std::process::Command::new(binary())
        .args(["simulate", "replay"])
        .arg(&sessions)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--site-limit-kw"));
}

/// `simulate replay --inputs`: what the scheduler is told changes, nothing else does (same
/// demand, no limit broken, the inputs named in the JSON), and it does not mix with the older
/// `--departure estimated`.
#[test]
fn simulate_replay_tells_the_scheduler_realistic_inputs_when_asked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sessions = root.join("data/acn-sessions/caltech-2019-09-01_2019-12-31.csv.gz");
    let dir = workdir();
    let replay = |inputs: &str, extra: &[&str]| {
        let json = dir.join(format!("replay-{inputs}.json"));
        let out = std::process::Command::new(binary())
            .args(["simulate", "replay"])
            .arg(&sessions)
            .args([
                "--from",
                "2019-10-07",
                "--days",
                "2",
                "--site-limit-kw",
                "20",
                "--algorithm",
                "chargegrid",
                "--inputs",
                inputs,
                "--json",
            ])
            .arg(&json)
            .args(extra)
            .output()
            .unwrap();
        let ok = out.status.success();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let report = ok.then(|| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
            v[0].clone()
        });
        (report, text)
    };
    let mut delivered = Vec::new();
    for inputs in ["perfect", "stated", "history"] {
        let (report, text) = replay(inputs, &[]);
        let r = report.unwrap_or_else(|| panic!("{inputs}: {text}"));
        assert_eq!(r["options"]["inputs"], inputs);
        assert_eq!(r["limit_violations"], 0, "{inputs}");
        delivered.push((
            r["energy_demanded_kwh"].as_f64().unwrap(),
            r["delivered_pct"].as_f64().unwrap(),
        ));
    }
    // The vehicles need the same in every run; the scheduler, told less, delivers less than
    // with perfect knowledge on this congested window.
    assert!(
        delivered.iter().all(|d| d.0 == delivered[0].0),
        "{delivered:?}"
    );
    assert!(delivered[1].1 < delivered[0].1, "{delivered:?}");
    assert!(delivered[2].1 < delivered[0].1, "{delivered:?}");
    let (report, text) = replay("history", &["--departure", "estimated"]);
    assert!(report.is_none());
    assert!(text.contains("--departure estimated only with"), "{text}");
}

/// `simulate allocate`: one JSON answer per JSON line, the pilots within the site's limits and
/// in the sessions' order; a bad line or an unknown station gets an error line and the next
/// request is still answered.
#[test]
fn simulate_allocate_answers_an_outside_simulator_line_by_line() {
    use std::io::{BufRead, BufReader, Write};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = std::process::Command::new(binary())
        .args(["simulate", "allocate", "--network"])
        .arg(root.join("examples/networks/caltech-acn.toml"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut ask = |line: &str| {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut answer = String::new();
        stdout.read_line(&mut answer).unwrap();
        serde_json::from_str::<serde_json::Value>(&answer).unwrap()
    };
    let session = |station: &str, wh: f64| {
        serde_json::json!({"station": station, "remaining_wh": wh,
            "departure": "2019-11-11T20:00:00Z", "max_a": 32.0})
    };
    // The AeroVironment pod: eight EVSEs on one 80 A group cannot all have 32 A; a ninth
    // vehicle elsewhere needs only 100 Wh.
    let pod: Vec<serde_json::Value> = ["CA-324", "CA-325", "CA-326", "CA-327"]
        .into_iter()
        .chain(["CA-489", "CA-490", "CA-491", "CA-492"])
        .map(|station| session(station, 20_000.0))
        .chain([session("CA-311", 100.0)])
        .collect();
    let request = serde_json::json!({"now": "2019-11-11T16:00:00Z", "period_s": 300,
        "sessions": pod});
    let a = ask(&request.to_string());
    let pilots: Vec<f64> = a["pilots"]
        .as_array()
        .unwrap_or_else(|| panic!("{a}"))
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(pilots.len(), 9);
    assert!(
        pilots
            .iter()
            .all(|&p| p == 0.0 || (6.0..=32.0).contains(&p)),
        "{pilots:?}"
    );
    let on_pod: f64 = pilots[..8].iter().sum();
    assert!(on_pod <= 80.0 + 1e-6 && on_pod > 60.0, "{pilots:?}");
    // 100 Wh in 5 minutes at 208 V is under 6 A: the floor, not 32 A.
    assert!(pilots[8] > 0.0 && pilots[8] < 32.0, "{pilots:?}");
    let a = ask("not json");
    assert!(a["error"].as_str().unwrap().contains("bad request"), "{a}");
    let unknown = serde_json::json!({"now": "2019-11-11T16:05:00Z", "period_s": 300,
        "sessions": [session("NOPE", 1000.0)]});
    let a = ask(&unknown.to_string());
    assert!(a["error"].as_str().unwrap().contains("NOPE"), "{a}");
    let a = ask(&request.to_string());
    assert_eq!(a["pilots"].as_array().map(Vec::len), Some(9), "{a}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
