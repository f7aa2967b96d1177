//! The embedded backend: a SQLite file (write-ahead log, so readers do not wait for the
//! writer), created when missing.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::RecordsResult;
use crate::sql::{migrator, records_store_impl};

/// Records in SQLite.
#[derive(Debug)]
pub(crate) struct SqliteRecords {
    pool: SqlitePool,
}

impl SqliteRecords {
    /// Opens (creating) the database at `url` and migrates it.
    pub(crate) async fn open(url: &str) -> RecordsResult<Self> {
        let in_memory = url.contains(":memory:");
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true);
        // An in-memory database is one per connection: keep one.
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 4 })
            .connect_with(options)
            .await?;
        migrator!(
            1 "sessions" "../migrations/sqlite/0001_sessions.sql",
            2 "cdrs" "../migrations/common/0002_cdrs.sql",
            3 "documents" "../migrations/common/0003_documents.sql",
            4 "audit" "../migrations/common/0004_audit.sql",
            5 "health reports" "../migrations/common/0005_health_reports.sql",
            6 "compressed samples" "../migrations/sqlite/0006_compressed_samples.sql",
        )
        .run(&pool)
        .await?;
        Ok(Self { pool })
    }
}

impl crate::sql::Backend for SqliteRecords {
    type Db = sqlx::Sqlite;
}

records_store_impl!(SqliteRecords, "sqlite");
