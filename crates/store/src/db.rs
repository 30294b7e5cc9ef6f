//! The metadata database: SQLite (embedded default) or PostgreSQL, chosen by URL at start-up,
//! through sqlx's `Any` driver so that one set of queries serves both (SQLite accepts the `$N`
//! parameter syntax of PostgreSQL). Each backend has its own migrations.
use sokuji_core::{Error, ErrorCode, Result};
use sqlx::{AnyPool, any::AnyPoolOptions};
use std::{
    fs::{File, OpenOptions, TryLockError},
    path::Path,
    time::{Duration, Instant},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool and the backend behind it.
#[derive(Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// Events wait in the outbox for a relay (NATS) instead of being delivered from here.
    pub(crate) outbox: bool,
}

/// A database error as the error table sees it: unreachable or busy is retryable
/// (`engine_unavailable`), anything else is internal.
pub(crate) fn db_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => {
            Error::new(ErrorCode::EngineUnavailable, format!("metadata database unavailable: {e}"))
        }
        sqlx::Error::Database(d) if d.message().contains("locked") || d.message().contains("busy") => {
            Error::new(ErrorCode::EngineUnavailable, format!("metadata database busy: {e}"))
        }
        // PostgreSQL shutting down, starting up or dropping the connection (SQLSTATE classes 57
        // and 08): a restart, retryable.
        sqlx::Error::Database(d) if d.code().is_some_and(|c| c.starts_with("57") || c.starts_with("08")) => {
            Error::new(ErrorCode::EngineUnavailable, format!("metadata database restarting: {e}"))
        }
        sqlx::Error::Protocol(_) => Error::new(ErrorCode::EngineUnavailable, format!("metadata database: {e}")),
        _ => Error::internal(format!("metadata database: {e}")),
    }
}

/// An exclusive lock on `<db>.lock`, held while a SQLite file is migrated (released on drop).
/// sqlx locks migrations on PostgreSQL only: two processes opening one fresh file at once (a
/// server and `sokuji keys`) both ran migration 1, and one failed on the other's tables.
async fn migration_lock(db: &Path) -> Result<File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    let path = Path::new(&name);
    let unavailable = |e: String| Error::new(ErrorCode::EngineUnavailable, format!("{}: {e}", path.display()));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| unavailable(e.to_string()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(TryLockError::WouldBlock) => {
                return Err(unavailable("still locked by another migration after 60 s".into()));
            }
            Err(TryLockError::Error(e)) => return Err(unavailable(e.to_string())),
        }
    }
}

impl Db {
    /// Opens (creating a SQLite file if needed) and migrates. `url`: `sqlite:///path/meta.db` or
    /// `postgres://user:pass@host/db`.
    pub async fn open(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(Error::invalid_request(format!("metadata URL {url:?}: use sqlite://PATH or postgres://…")));
        };
        let mut file = None; // a SQLite file's path: its migrations take a lock
        if backend == Backend::Sqlite {
            // Create the file's directory on first use (the file itself: mode=rwc below).
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            let path = Path::new(path.split('?').next().unwrap_or_default());
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::new(ErrorCode::EngineUnavailable, format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            file = Some(path.to_path_buf()).filter(|p| !p.as_os_str().is_empty() && p != Path::new(":memory:"));
        }
        let url = match backend {
            // Create the file on first use.
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let options = match backend {
            // One writer at a time is SQLite's rule; WAL lets readers go on meanwhile, and the
            // busy timeout makes writers queue instead of failing.
            Backend::Sqlite => options.max_connections(4).after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(16),
        };
        // From the first connection (which creates the file and sets WAL) to the last migration.
        let _lock = match &file {
            Some(path) => Some(migration_lock(path).await?),
            None => None,
        };
        let pool = options.connect(&url).await.map_err(db_error)?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.run(&pool).await.map_err(|e| Error::internal(format!("metadata migrations: {e}")))?;
        Ok(Self { pool, backend, outbox: false })
    }

    #[cfg(feature = "nats")]
    pub(crate) fn with_outbox(mut self) -> Self {
        self.outbox = true;
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction. On SQLite it takes the write lock up front: a deferred transaction
    /// that reads first cannot wait for the lock when it writes (SQLITE_BUSY at once, whatever
    /// the busy timeout), which concurrent uploads hit.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(db_error)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::Db;

    /// A server and `sokuji keys` opening the same fresh SQLite file at once: every opener
    /// migrates it, none fails on tables the other has just made.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn openers_of_one_fresh_sqlite_file_at_once_all_succeed() {
        let dir = tempfile::tempdir().expect("tempdir");
        for round in 0..10 {
            let url = format!("sqlite://{}", dir.path().join(format!("m{round}.db")).display());
            let opens: Vec<_> = (0..4)
                .map(|_| {
                    let url = url.clone();
                    tokio::spawn(async move { Db::open(&url).await.map(|_| ()) })
                })
                .collect();
            for open in opens {
                if let Err(e) = open.await.expect("task") {
                    panic!("round {round}: {}", e.message);
                }
            }
        }
    }
}
