//! The records store's conformance suite on both backends: SQLite (a file in a temporary
//! directory, as the embedded default keeps it) and a private PostgreSQL started for the test.

use chargegrid_test_support::PostgresServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_conformance_on_sqlite() {
    let dir =
        std::env::temp_dir().join(format!("chargegrid-records-{}-sqlite", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("records.db").display());
    let store = chargegrid_records::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    chargegrid_records::conformance::sessions(store).await;
    // Opening again finds the schema in place and the records kept (a restart).
    let again = chargegrid_records::open(&url).await.unwrap();
    assert_eq!(again.session_count().await.unwrap(), 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_conformance_on_postgres() {
    let server = tokio::task::spawn_blocking(PostgresServer::start)
        .await
        .unwrap();
    let store = chargegrid_records::open(&server.url()).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    chargegrid_records::conformance::sessions(store).await;
    let again = chargegrid_records::open(&server.url()).await.unwrap();
    assert_eq!(again.session_count().await.unwrap(), 5);
}

#[tokio::test]
async fn a_records_url_of_no_backend_is_refused_naming_the_forms() {
    let err = chargegrid_records::open("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("sqlite://"), "{err}");
}
