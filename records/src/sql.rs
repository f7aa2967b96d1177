//! The SQL both backends run (the same text: `$N` placeholders work in SQLite and PostgreSQL),
//! and the one implementation of [`RecordsStore`](crate::RecordsStore) over either pool,
//! generated per backend by [`records_store_impl!`].

/// Writes a session once.
pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions \
     (id, driver, fleet, charger, started_ms, ended_ms, document, samples, recorded_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING";
/// One session and its samples.
pub(crate) const SELECT_SESSION: &str = "SELECT document, samples FROM sessions WHERE id = $1";
/// A driver's sessions, newest first.
pub(crate) const SESSIONS_OF_DRIVER: &str = "SELECT document FROM sessions \
     WHERE driver = $1 AND started_ms < $2 ORDER BY started_ms DESC, id DESC LIMIT $3";
/// A fleet's sessions, newest first.
pub(crate) const SESSIONS_OF_FLEET: &str = "SELECT document FROM sessions \
     WHERE fleet = $1 AND started_ms < $2 ORDER BY started_ms DESC, id DESC LIMIT $3";
/// How many.
pub(crate) const COUNT_SESSIONS: &str = "SELECT COUNT(*) FROM sessions";

/// A migrator over the embedded SQL files of one backend.
macro_rules! migrator {
    ($($version:literal $name:literal $file:literal),+ $(,)?) => {
        sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(vec![$(
                sqlx::migrate::Migration::new(
                    $version,
                    std::borrow::Cow::Borrowed($name),
                    sqlx::migrate::MigrationType::Simple,
                    std::borrow::Cow::Borrowed(include_str!($file)),
                    false,
                )
            ),+]),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        }
    };
}
pub(crate) use migrator;

/// `impl RecordsStore for $ty` where `$ty` has a `pool` field of a sqlx pool.
macro_rules! records_store_impl {
    ($ty:ty, $backend:literal) => {
        #[async_trait::async_trait]
        impl $crate::RecordsStore for $ty {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn record_session(
                &self,
                session: &chargegrid_core::session::Session,
                samples: &[chargegrid_core::meter::MeterSample],
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::RecordsResult<bool> {
                let (document, samples) = $crate::encode(session, samples)?;
                let done = sqlx::query($crate::sql::INSERT_SESSION)
                    .bind(session.id.as_str())
                    .bind(session.driver.as_ref().map(|d| d.as_str().to_string()))
                    .bind(session.fleet.as_ref().map(|f| f.as_str().to_string()))
                    .bind(session.charger.as_str())
                    .bind($crate::millis(session.started_at))
                    .bind(session.ended_at.map($crate::millis))
                    .bind(document)
                    .bind(samples)
                    .bind($crate::millis(now))
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn session(
                &self,
                id: &chargegrid_core::SessionId,
            ) -> $crate::RecordsResult<
                Option<(
                    chargegrid_core::session::Session,
                    Vec<chargegrid_core::meter::MeterSample>,
                )>,
            > {
                let row: Option<(String, String)> = sqlx::query_as($crate::sql::SELECT_SESSION)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|(document, samples)| {
                    Ok((
                        $crate::decode_session(&document)?,
                        $crate::decode_samples(&samples)?,
                    ))
                })
                .transpose()
            }

            async fn sessions_of_driver(
                &self,
                driver: &chargegrid_core::DriverId,
                before: Option<chrono::DateTime<chrono::Utc>>,
                limit: usize,
            ) -> $crate::RecordsResult<Vec<chargegrid_core::session::Session>> {
                self.page(
                    $crate::sql::SESSIONS_OF_DRIVER,
                    driver.as_str(),
                    before,
                    limit,
                )
                .await
            }

            async fn sessions_of_fleet(
                &self,
                fleet: &chargegrid_core::FleetId,
                before: Option<chrono::DateTime<chrono::Utc>>,
                limit: usize,
            ) -> $crate::RecordsResult<Vec<chargegrid_core::session::Session>> {
                self.page(
                    $crate::sql::SESSIONS_OF_FLEET,
                    fleet.as_str(),
                    before,
                    limit,
                )
                .await
            }

            async fn session_count(&self) -> $crate::RecordsResult<u64> {
                let (n,): (i64,) = sqlx::query_as($crate::sql::COUNT_SESSIONS)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }

        impl $ty {
            /// A page of sessions for `sql` (owner, before, limit).
            async fn page(
                &self,
                sql: &'static str,
                owner: &str,
                before: Option<chrono::DateTime<chrono::Utc>>,
                limit: usize,
            ) -> $crate::RecordsResult<Vec<chargegrid_core::session::Session>> {
                let rows: Vec<(String,)> = sqlx::query_as(sql)
                    .bind(owner)
                    .bind(before.map_or(i64::MAX, $crate::millis))
                    .bind($crate::page(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|(d,)| $crate::decode_session(d)).collect()
            }
        }
    };
}
pub(crate) use records_store_impl;
