//! The database: one `sqlx::AnyPool` over SQLite (the embedded default) or PostgreSQL.
//! Queries are runtime `sqlx::query` with `$n` placeholders, which both backends read,
//! so there is one query text per operation; each backend has its own migrations folder.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor};

use crate::error::AppResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    /// Every write, and reads that decide a write.
    pub pool: AnyPool,
    /// Reads that only answer (sync pulls, the board, metrics): on SQLite, read-only
    /// connections of their own, which WAL lets read while the writer writes, so a pull
    /// never waits behind a webhook batch or the bot. On PostgreSQL, the same pool.
    pub read: AnyPool,
    pub backend: Backend,
}

/// How every SQLite connection is set up (the benchmark's naive loop uses the same):
/// WAL with `synchronous = FULL`, so every commit is fsync'd before it returns; fewer,
/// larger checkpoints (each fsyncs the database file) and a larger page cache.
pub const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA wal_autocheckpoint = 8000",
    "PRAGMA cache_size = -65536",
    "PRAGMA temp_store = MEMORY",
];

/// The SQLite URL for a database file inside `data_dir`.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("handoff.db").display())
}

impl Db {
    /// Connects and applies migrations. `url` is `sqlite://...` or `postgres://...`.
    pub async fn connect(url: &str) -> AppResult<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(crate::error::AppError::Internal(format!(
                "unsupported database URL scheme (use sqlite:// or postgres://): {}",
                url.split(':').next().unwrap_or("")
            )));
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = match backend {
            // One connection: SQLite has one writer anyway, and a single connection
            // means no SQLITE_BUSY between our own transactions.
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in SQLITE_PRAGMAS {
                                conn.execute(*pragma).await?;
                            }
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?
            }
        };
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let read = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(2)
                    .min_connections(0)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in [
                                "PRAGMA query_only = ON",
                                "PRAGMA cache_size = -32768",
                                "PRAGMA temp_store = MEMORY",
                                "PRAGMA busy_timeout = 5000",
                            ] {
                                conn.execute(pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(url.parse()?)
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        Ok(Db { pool, read, backend })
    }

    /// Begins a transaction that writes. On PostgreSQL it first takes the commit-order
    /// lock ([`lock_commit_order`]), so writers take it before any row lock: a writer
    /// that took row locks and then waited for it while another held it and wanted one of
    /// those rows would deadlock (batched writers made that common). Writers are thus
    /// serialized on PostgreSQL as they are on SQLite; readers are not.
    pub async fn begin_write(&self) -> AppResult<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool.begin().await?;
        lock_commit_order(&mut tx).await?;
        Ok(tx)
    }

    /// Appends to the change log (the sync cursor), in commit order
    /// ([`lock_commit_order`]).
    pub async fn record_change(
        &self,
        conn: &mut AnyConnection,
        workspace_id: i64,
        entity: &str,
        entity_id: i64,
        conversation_id: i64,
    ) -> AppResult<()> {
        lock_commit_order(conn).await?;
        sqlx::query(
            "INSERT INTO changes (workspace_id, entity, entity_id, conversation_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(workspace_id)
        .bind(entity)
        .bind(entity_id)
        .bind(conversation_id)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// Makes id order equal commit order for what this transaction appends next (change
/// log, webhook outbox). On PostgreSQL a transaction-scoped advisory lock serializes the
/// appending transactions from here to their commit; otherwise a row with a lower id
/// could commit after one with a higher id, and a reader following ids (a client pulling
/// by cursor, the webhook worker keeping per-conversation order) would skip it or pass
/// it. SQLite has a single writer already.
pub async fn lock_commit_order(conn: &mut AnyConnection) -> AppResult<()> {
    if conn.backend_name() == "PostgreSQL" {
        conn.execute("SELECT pg_advisory_xact_lock(5108)").await?;
    }
    Ok(())
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

/// `$start, $start+1, ...` for `n` values: the placeholders of an `IN (...)` list.
pub fn placeholders(start: usize, n: usize) -> String {
    (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
