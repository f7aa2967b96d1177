//! Every metric family the dashboards query exists from the start, before any event, so rates
//! and alerts work on a fresh process (Prometheus practice: known series exported at 0).

use crate::harness::{metrics_text, start_app, test_config};

/// The metric families the dashboards in `grafana/dashboards/` and the alerting rules in
/// `grafana/alerts.yml` query.
fn dashboard_families() -> std::collections::BTreeSet<String> {
    let grafana = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../grafana");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(grafana.join("dashboards"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(grafana.join("alerts.yml"));
    let mut out = std::collections::BTreeSet::new();
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("chargegrid_") {
            let name: String = rest[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_count")
                .trim_end_matches("_sum")
                .to_string();
            out.insert(family);
            rest = &rest[i + name.len()..];
        }
    }
    out
}

#[tokio::test]
async fn a_fresh_process_exports_every_family_the_dashboards_use() {
    let mut config = test_config("memory://");
    config.scheduler.enabled = true;
    let app = start_app(&config).await;
    let text = metrics_text(&app).await;
    let missing: Vec<String> = dashboard_families()
        .into_iter()
        // The Redis client's own families exist only with a Redis store.
        .filter(|f| !f.starts_with("chargegrid_store_redis_"))
        // A month's billed demand peak exists only for sites whose supply contract charges for
        // demand (none in the sample network; a 0 would read as a measured peak).
        .filter(|f| f != "chargegrid_scheduler_site_month_peak_watts")
        // The correction of drivers' stated energies exists once 20 statements have ended at a
        // site (a 0 would read as "drivers take nothing").
        .filter(|f| f != "chargegrid_scheduler_statement_correction")
        // The arrivals a site's habit expects exist only for sites with a supply contract.
        .filter(|f| f != "chargegrid_scheduler_arrivals_expected_wh")
        .filter(|f| {
            !text
                .lines()
                .any(|l| l.starts_with(f.as_str()) && !l.starts_with('#'))
        })
        .collect();
    assert!(missing.is_empty(), "absent at start: {missing:?}");
    assert!(text.contains("chargegrid_build_info{"), "build info");
    for process in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
    ] {
        assert!(text.contains(process), "{process} missing");
    }
    // The probes every role answers on its metrics port.
    let base = format!("http://{}", app.metrics_addr);
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn readiness_follows_the_store() {
    let redis = chargegrid_test_support::RedisServer::start();
    let app = start_app(&test_config(&redis.url())).await;
    let ready = format!("http://{}/readyz", app.metrics_addr);
    assert_eq!(reqwest::get(&ready).await.unwrap().status(), 200);
    // The store stops answering for a while (every client paused for 3 s, longer than the
    // readiness check waits).
    let mut raw = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(3_000)
        .arg("ALL")
        .query_async(&mut raw)
        .await
        .unwrap();
    let r = reqwest::get(&ready).await.unwrap();
    assert_eq!(r.status(), 503, "{}", r.text().await.unwrap());
    let live = format!("http://{}/healthz", app.metrics_addr);
    assert_eq!(
        reqwest::get(&live).await.unwrap().status(),
        200,
        "alive all the same"
    );
    // Ready again once the store answers (polled: the pause ends by itself).
    let mut back = false;
    for _ in 0..100 {
        if reqwest::get(&ready).await.unwrap().status() == 200 {
            back = true;
            break;
        }
    }
    assert!(back, "ready again after the pause");
    app.shutdown().await.unwrap();
}

/// The alerting rules are valid and behave as their unit tests say (promtool, from Debian's
/// prometheus package, which the README's test command installs).
#[test]
fn the_alerting_rules_pass_their_promtool_tests() {
    let grafana = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../grafana");
    for args in [
        vec!["check", "rules", "alerts.yml"],
        vec!["test", "rules", "alerts.test.yml"],
    ] {
        let out = std::process::Command::new("promtool")
            .args(&args)
            .current_dir(&grafana)
            .output()
            .expect("promtool installed (scripts/test installs prometheus)");
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
