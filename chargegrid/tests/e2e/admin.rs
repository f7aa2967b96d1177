//! The first operator: from `admin.email` / `admin.password` at start (memory and Redis; only
//! while the store holds no operator, never overwritten), and `chargegrid admin operator`
//! against the configured store (password from standard input).

use std::io::Write;
use std::process::{Command, Stdio};

use chargegrid_test_support::RedisServer;
use serde_json::json;

use crate::api_client::Api;
use crate::harness::{start_app, test_config};

async fn login(app: &chargegrid::App, email: &str, password: &str) -> (u16, serde_json::Value) {
    let api = Api::new(app.api_addr.unwrap());
    let r = api
        .post("/auth/login", json!({"email": email, "password": password}))
        .await;
    (r.status.as_u16(), r.body)
}

#[tokio::test]
async fn the_first_operator_comes_from_the_settings_on_memory_and_redis() {
    // Memory: the embedded default.
    let mut config = test_config("memory://");
    config.admin.email = Some("admin@example.com".into());
    config.admin.password = Some("first admin password".into());
    let app = start_app(&config).await;
    let (status, body) = login(&app, "admin@example.com", "first admin password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["driver"]["role"], "operator");
    // An operator can create a fleet at once: the path that used to be impossible.
    let op = Api::new(app.api_addr.unwrap()).with_token(body["access_token"].as_str().unwrap());
    assert_eq!(
        op.post("/fleets", json!({"id": "f1", "name": "F1"}))
            .await
            .status,
        201
    );
    app.shutdown().await.unwrap();

    // Redis: created once; a restart with another password or another e-mail changes nothing.
    let redis = RedisServer::start();
    let mut config = test_config(&redis.url());
    config.admin.email = Some("admin@example.com".into());
    config.admin.password = Some("first admin password".into());
    let app = start_app(&config).await;
    assert_eq!(
        login(&app, "admin@example.com", "first admin password")
            .await
            .0,
        200
    );
    app.shutdown().await.unwrap();
    config.admin.password = Some("another password here".into());
    let app = start_app(&config).await;
    assert_eq!(
        login(&app, "admin@example.com", "first admin password")
            .await
            .0,
        200,
        "never overwritten"
    );
    assert_eq!(
        login(&app, "admin@example.com", "another password here")
            .await
            .0,
        401
    );
    app.shutdown().await.unwrap();
    config.admin.email = Some("second@example.com".into());
    let app = start_app(&config).await;
    assert_eq!(
        login(&app, "second@example.com", "another password here")
            .await
            .0,
        401,
        "an operator exists: no second one from the settings"
    );
    app.shutdown().await.unwrap();

    // One without the other is a configuration error.
    let mut config = test_config("memory://");
    config.admin.email = Some("admin@example.com".into());
    let err = chargegrid::App::start(
        &config,
        chargegrid::Role::All,
        std::sync::Arc::new(chargegrid_core::SystemClock),
    )
    .await
    .unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("admin.password"),
        "{err}"
    );
}

fn cli(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chargegrid"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn operators_are_added_listed_disabled_and_enabled_from_the_command_line() {
    let redis = RedisServer::start();
    let url = redis.url();
    let (ok, out) = cli(
        &[
            "admin",
            "operator",
            "add",
            "--email",
            "ops@example.com",
            "--name",
            "Ops",
            "--store",
            &url,
        ],
        Some("command line password\n"),
    );
    assert!(ok, "{out}");
    let (ok, out) = cli(
        &[
            "admin",
            "operator",
            "add",
            "--email",
            "weak@example.com",
            "--store",
            &url,
        ],
        Some("short\n"),
    );
    assert!(
        !ok && out.contains("10 to 256"),
        "the sign-up rules hold: {out}"
    );
    let (ok, out) = cli(&["admin", "operator", "list", "--store", &url], None);
    assert!(
        ok && out.contains("ops@example.com") && out.contains("active"),
        "{out}"
    );
    assert!(!out.contains("weak@example.com"), "{out}");

    let app = start_app(&test_config(&url)).await;
    let (status, body) = login(&app, "ops@example.com", "command line password").await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let (ok, out) = cli(
        &[
            "admin",
            "operator",
            "disable",
            "--email",
            "ops@example.com",
            "--store",
            &url,
        ],
        None,
    );
    assert!(ok, "{out}");
    assert_eq!(
        login(&app, "ops@example.com", "command line password")
            .await
            .0,
        401
    );
    let api = Api::new(app.api_addr.unwrap()).with_token(&token);
    api.get("/me").await.problem(401);
    let (ok, out) = cli(&["admin", "operator", "list", "--store", &url], None);
    assert!(ok && out.contains("disabled"), "{out}");
    let (ok, _) = cli(
        &[
            "admin",
            "operator",
            "enable",
            "--email",
            "ops@example.com",
            "--store",
            &url,
        ],
        None,
    );
    assert!(ok);
    assert_eq!(
        login(&app, "ops@example.com", "command line password")
            .await
            .0,
        200
    );
    let (ok, out) = cli(
        &[
            "admin",
            "operator",
            "disable",
            "--email",
            "nobody@example.com",
            "--store",
            &url,
        ],
        None,
    );
    assert!(!ok && out.contains("no operator"), "{out}");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_network_is_imported_and_exported_from_the_command_line() {
    let redis = RedisServer::start();
    let url = redis.url();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/network.toml");
    let (ok, out) = cli(&["network", "import", file, "--store", &url], None);
    assert!(ok, "{out}");
    assert!(
        out.contains("network imported: 4 sites, 30 chargers; 0 chargers deleted"),
        "{out}"
    );
    let (ok, exported) = cli(&["network", "export", "--store", &url], None);
    assert!(ok, "{exported}");
    let back = chargegrid::network::parse_network(&exported, "export").unwrap();
    let original = chargegrid::network::read_network(std::path::Path::new(file)).unwrap();
    assert_eq!(back.sites.len(), original.sites.len());
    let mut want = original.chargers.clone();
    want.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    assert_eq!(
        back.chargers, want,
        "the export is the file, charger for charger"
    );
    // A file that breaks the network's rules is refused, naming it, and changes nothing.
    let dir = std::env::temp_dir().join(format!("chargegrid-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[chargers]]\nid = \"X\"\nsite = \"nowhere\"\n").unwrap();
    let (ok, out) = cli(
        &["network", "import", bad.to_str().unwrap(), "--store", &url],
        None,
    );
    assert!(!ok, "{out}");
    assert!(out.contains("bad.toml"), "{out}");
    let (_, again) = cli(&["network", "export", "--store", &url], None);
    assert_eq!(again, exported);
    let _ = std::fs::remove_dir_all(&dir);
}
