//! The production backend: PostgreSQL.

use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::RecordsResult;
use crate::sql::{migrator, records_store_impl};

/// Records in PostgreSQL.
#[derive(Debug)]
pub(crate) struct PostgresRecords {
    pool: PgPool,
}

impl PostgresRecords {
    /// Connects to `url` and migrates the database.
    pub(crate) async fn open(url: &str) -> RecordsResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await?;
        migrator!(
            1 "sessions" "../migrations/postgres/0001_sessions.sql",
            2 "cdrs" "../migrations/common/0002_cdrs.sql",
            3 "documents" "../migrations/common/0003_documents.sql",
            4 "audit" "../migrations/common/0004_audit.sql",
            5 "health reports" "../migrations/common/0005_health_reports.sql",
            6 "compressed samples" "../migrations/postgres/0006_compressed_samples.sql",
        )
        .run(&pool)
        .await?;
        Ok(Self { pool })
    }
}

impl crate::sql::Backend for PostgresRecords {
    type Db = sqlx::Postgres;
}

records_store_impl!(PostgresRecords, "postgres");
