//! The SQL both backends run (the same text: `$N` placeholders work in SQLite and PostgreSQL),
//! and the one implementation of [`RecordsStore`](crate::RecordsStore) over either pool,
//! generated per backend by [`records_store_impl!`].

/// Writes a session once.
pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions \
     (id, driver, fleet, charger, started_ms, ended_ms, document, samples, samples_z, recorded_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9) ON CONFLICT (id) DO NOTHING";
/// One session and its samples.
pub(crate) const SELECT_SESSION: &str =
    "SELECT document, samples, samples_z FROM sessions WHERE id = $1";
/// A driver's sessions, newest first.
pub(crate) const SESSIONS_OF_DRIVER: &str = "SELECT document FROM sessions \
     WHERE driver = $1 AND started_ms < $2 ORDER BY started_ms DESC, id DESC LIMIT $3";
/// A fleet's sessions, newest first.
pub(crate) const SESSIONS_OF_FLEET: &str = "SELECT document FROM sessions \
     WHERE fleet = $1 AND started_ms < $2 ORDER BY started_ms DESC, id DESC LIMIT $3";
/// How many.
pub(crate) const COUNT_SESSIONS: &str = "SELECT COUNT(*) FROM sessions";
/// Writes a charge detail record once.
pub(crate) const INSERT_CDR: &str = "INSERT INTO cdrs \
     (id, session, driver, fleet, site, started_ms, issued_ms, document) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";
/// One charge detail record.
pub(crate) const SELECT_CDR: &str = "SELECT document FROM cdrs WHERE id = $1";
/// Charge detail records by owner and start time, newest session first.
pub(crate) const SELECT_CDRS: &str = "SELECT started_ms, document FROM cdrs \
     WHERE ($1 IS NULL OR driver = $1) AND ($2 IS NULL OR fleet = $2) \
     AND ($3 IS NULL OR site = $3) AND started_ms >= $4 AND started_ms < $5 \
     ORDER BY started_ms DESC, session DESC, issued_ms ASC, id ASC LIMIT $6";
/// Writes or replaces one document.
pub(crate) const UPSERT_DOCUMENT: &str = "INSERT INTO documents (kind, id, document) \
     VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO UPDATE SET document = excluded.document";
/// Removes one document.
pub(crate) const DELETE_DOCUMENT: &str = "DELETE FROM documents WHERE kind = $1 AND id = $2";
/// Every document.
pub(crate) const SELECT_DOCUMENTS: &str =
    "SELECT kind, id, document FROM documents ORDER BY kind, id";
/// Archives one audit entry once.
pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit (id, at_ms, actor, fleet, document) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING";
/// The newest archived audit id.
pub(crate) const LAST_AUDIT: &str = "SELECT COALESCE(MAX(id), 0) FROM audit";
/// Archived audit entries, newest first.
pub(crate) const SELECT_AUDIT: &str =
    "SELECT document FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2";
/// Keeps one health report (replacing one of the same vehicle and time).
pub(crate) const UPSERT_HEALTH: &str = "INSERT INTO health_reports \
     (vehicle, as_of_ms, fleet, document) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (vehicle, as_of_ms) DO UPDATE SET fleet = excluded.fleet, document = excluded.document";
/// A vehicle's reports, newest first.
pub(crate) const SELECT_HEALTH: &str = "SELECT as_of_ms, document FROM health_reports \
     WHERE vehicle = $1 ORDER BY as_of_ms DESC LIMIT $2";
/// A session's charge detail records, oldest first.
pub(crate) const CDRS_OF_SESSION: &str =
    "SELECT document FROM cdrs WHERE session = $1 ORDER BY issued_ms, id";

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

/// The sqlx database a backend type runs on.
pub(crate) trait Backend {
    /// `sqlx::Sqlite` or `sqlx::Postgres`.
    type Db: sqlx::Database;
}

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
                cdr: Option<&chargegrid_core::cdr::Cdr>,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::RecordsResult<bool> {
                let (document, samples) = $crate::encode(session, samples)?;
                let mut tx = self.pool.begin().await?;
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
                    .execute(&mut *tx)
                    .await?;
                let fresh = done.rows_affected() == 1;
                if fresh && let Some(cdr) = cdr {
                    Self::insert_cdr(&mut *tx, cdr).await?;
                }
                tx.commit().await?;
                Ok(fresh)
            }

            async fn add_cdr(
                &self,
                cdr: &chargegrid_core::cdr::Cdr,
            ) -> $crate::RecordsResult<bool> {
                let mut conn = self.pool.acquire().await?;
                Self::insert_cdr(&mut *conn, cdr).await
            }

            async fn cdr(
                &self,
                id: &str,
            ) -> $crate::RecordsResult<Option<chargegrid_core::cdr::Cdr>> {
                let row: Option<(String,)> = sqlx::query_as($crate::sql::SELECT_CDR)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|(d,)| $crate::decode_cdr(&d)).transpose()
            }

            async fn cdrs(
                &self,
                query: &$crate::CdrQuery,
            ) -> $crate::RecordsResult<Vec<chargegrid_core::cdr::Cdr>> {
                let since = query.since.map_or(i64::MIN, $crate::millis);
                let before = query.before.map_or(i64::MAX, $crate::millis);
                let mut rows = self
                    .cdr_rows(query, since, before, $crate::page(query.limit))
                    .await?;
                // Complete the last start time's records, so the next page (before that start)
                // skips none of them.
                if rows.len() == usize::try_from($crate::page(query.limit)).unwrap_or(usize::MAX)
                    && let Some(&(last, _)) = rows.last()
                {
                    rows.retain(|(started, _)| *started != last);
                    rows.extend(
                        self.cdr_rows(query, last, last.saturating_add(1), 100_000)
                            .await?,
                    );
                }
                rows.iter().map(|(_, d)| $crate::decode_cdr(d)).collect()
            }

            async fn put_document(
                &self,
                kind: &str,
                id: &str,
                document: Option<&str>,
            ) -> $crate::RecordsResult<()> {
                match document {
                    Some(d) => {
                        sqlx::query($crate::sql::UPSERT_DOCUMENT)
                            .bind(kind)
                            .bind(id)
                            .bind(d)
                            .execute(&self.pool)
                            .await?
                    }
                    None => {
                        sqlx::query($crate::sql::DELETE_DOCUMENT)
                            .bind(kind)
                            .bind(id)
                            .execute(&self.pool)
                            .await?
                    }
                };
                Ok(())
            }

            async fn documents(&self) -> $crate::RecordsResult<Vec<(String, String, String)>> {
                Ok(sqlx::query_as($crate::sql::SELECT_DOCUMENTS)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn record_audit(
                &self,
                entries: &[chargegrid_core::audit::AuditEntry],
            ) -> $crate::RecordsResult<usize> {
                let mut tx = self.pool.begin().await?;
                let mut fresh = 0;
                for e in entries {
                    let id = i64::try_from(e.id).unwrap_or(i64::MAX);
                    let done = sqlx::query($crate::sql::INSERT_AUDIT)
                        .bind(id)
                        .bind($crate::millis(e.at))
                        .bind(e.actor.as_str())
                        .bind(e.fleet.as_ref().map(|f| f.as_str().to_string()))
                        .bind(serde_json::to_string(e)?)
                        .execute(&mut *tx)
                        .await?;
                    fresh += usize::try_from(done.rows_affected()).unwrap_or(0);
                }
                tx.commit().await?;
                Ok(fresh)
            }

            async fn last_audit_id(&self) -> $crate::RecordsResult<u64> {
                let (id,): (i64,) = sqlx::query_as($crate::sql::LAST_AUDIT)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(id).unwrap_or(0))
            }

            async fn archived_audit(
                &self,
                before: Option<u64>,
                limit: usize,
            ) -> $crate::RecordsResult<Vec<chargegrid_core::audit::AuditEntry>> {
                let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
                let rows: Vec<(String,)> = sqlx::query_as($crate::sql::SELECT_AUDIT)
                    .bind(before)
                    .bind($crate::page(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|(d,)| Ok(serde_json::from_str(d)?))
                    .collect()
            }

            async fn record_health_report(
                &self,
                vehicle: &chargegrid_core::VehicleId,
                fleet: Option<&chargegrid_core::FleetId>,
                as_of: chrono::DateTime<chrono::Utc>,
                report: &str,
            ) -> $crate::RecordsResult<()> {
                sqlx::query($crate::sql::UPSERT_HEALTH)
                    .bind(vehicle.as_str())
                    .bind($crate::millis(as_of))
                    .bind(fleet.map(|f| f.as_str().to_string()))
                    .bind(report)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn health_history(
                &self,
                vehicle: &chargegrid_core::VehicleId,
                limit: usize,
            ) -> $crate::RecordsResult<Vec<(chrono::DateTime<chrono::Utc>, String)>> {
                let rows: Vec<(i64, String)> = sqlx::query_as($crate::sql::SELECT_HEALTH)
                    .bind(vehicle.as_str())
                    .bind($crate::page(limit))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .filter_map(|(ms, d)| {
                        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).map(|t| (t, d))
                    })
                    .collect())
            }

            async fn cdrs_of_session(
                &self,
                session: &chargegrid_core::SessionId,
            ) -> $crate::RecordsResult<Vec<chargegrid_core::cdr::Cdr>> {
                let rows: Vec<(String,)> = sqlx::query_as($crate::sql::CDRS_OF_SESSION)
                    .bind(session.as_str())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|(d,)| $crate::decode_cdr(d)).collect()
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
                let row: Option<(String, String, Option<Vec<u8>>)> =
                    sqlx::query_as($crate::sql::SELECT_SESSION)
                        .bind(id.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(document, samples, compressed)| {
                    Ok((
                        $crate::decode_session(&document)?,
                        $crate::decode_samples(&samples, compressed.as_deref())?,
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
            /// Writes one charge detail record unless its id exists.
            async fn insert_cdr<'c, E>(
                executor: E,
                cdr: &chargegrid_core::cdr::Cdr,
            ) -> $crate::RecordsResult<bool>
            where
                E: sqlx::Executor<'c, Database = <Self as $crate::sql::Backend>::Db>,
            {
                let done = sqlx::query($crate::sql::INSERT_CDR)
                    .bind(cdr.id.as_str())
                    .bind(cdr.session.as_str())
                    .bind(cdr.driver.as_ref().map(|d| d.as_str().to_string()))
                    .bind(cdr.fleet.as_ref().map(|f| f.as_str().to_string()))
                    .bind(cdr.site.as_str())
                    .bind($crate::millis(cdr.started_at))
                    .bind($crate::millis(cdr.issued_at))
                    .bind(serde_json::to_string(cdr)?)
                    .execute(executor)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            /// Rows `(started_ms, document)` of `query`'s owner filters within `[since, before)`.
            async fn cdr_rows(
                &self,
                query: &$crate::CdrQuery,
                since: i64,
                before: i64,
                limit: i64,
            ) -> $crate::RecordsResult<Vec<(i64, String)>> {
                Ok(sqlx::query_as($crate::sql::SELECT_CDRS)
                    .bind(query.driver.as_ref().map(|d| d.as_str().to_string()))
                    .bind(query.fleet.as_ref().map(|f| f.as_str().to_string()))
                    .bind(query.site.as_ref().map(|s| s.as_str().to_string()))
                    .bind(since)
                    .bind(before)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?)
            }

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
