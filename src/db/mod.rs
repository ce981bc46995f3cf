//! The database layer: one connection type over SQLite and PostgreSQL, the pool, the embedded
//! migrations, and the transaction helper every service function goes through.
//!
//! The backend is chosen by the scheme of `DATABASE_URL` (`sqlite://…` or `postgres://…`).
//! Everything the two backends express differently lives in this module as one `match` on the
//! connection, with a comment saying why.

pub mod columns;
pub mod json_text;
pub mod schema;
pub mod shared_clock;

pub use json_text::JsonText;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to either backend. Code above this module only sees `DbConn`.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which engine a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (relative to the working directory, or absolute with `sqlite:///…`).
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://path` or `postgres://…` / `postgresql://…`; anything else is refused.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "DATABASE_URL `sqlite://` needs a file path, e.g. sqlite://data/registry.db"
                        .into(),
                );
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(format!(
                "DATABASE_URL must start with sqlite:// or postgres:// (got `{}`)",
                redact_url(url)
            ))
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }
}

/// Hides the password of a URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// An r2d2 manager that picks the backend from the URL and reports the real connection error
/// (the derived `DbConn::establish` tries each backend in turn and hides why they failed).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// SQLite `synchronous`: FULL (each commit synced to disk) or NORMAL.
    synchronous_full: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] ConnectionError),
    #[error("cannot prepare the connection: {0}")]
    Setup(#[from] diesel::result::Error),
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConn, ConnectError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                // The busy timeout comes first: switching a new file to WAL takes a lock that the
                // pool's other connections, opening at the same moment, must wait for. WAL lets
                // readers run beside the one writer; foreign keys are off by default in SQLite.
                // FULL syncs the WAL at every commit, so an acknowledged write survives a power
                // loss (NORMAL may lose the last commits); its cost is in the README.
                let synchronous = if self.synchronous_full {
                    "FULL"
                } else {
                    "NORMAL"
                };
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -{SQLITE_CACHE_KIB};"
                ))?;

                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(url)?;
                conn.batch_execute("SET TIME ZONE 'UTC'")?;
                Ok(DbConn::Postgres(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), ConnectError> {
        Ok(conn.batch_execute("SELECT 1")?)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::connection::TransactionManager;
        match conn {
            DbConn::Postgres(c) => {
                diesel::connection::AnsiTransactionManager::is_broken_transaction_manager(c)
            }
            DbConn::Sqlite(c) => {
                diesel::connection::AnsiTransactionManager::is_broken_transaction_manager(c)
            }
        }
    }
}

/// SQLite's page cache per pooled connection, in KiB (SQLite's default is 2,000): each of the
/// pool's connections fills its own, and the operating system caches the file beside them. A
/// quarter of the default took about 2 MiB off the idle service's resident memory (README,
/// Measurements).
const SQLITE_CACHE_KIB: u32 = 512;

/// Builds the pool, creating the SQLite file (and its directory) on first use; SQLite commits
/// are synced to disk (`synchronous = FULL`).
pub fn build_pool(url: &DatabaseUrl, size: u32) -> anyhow::Result<Pool> {
    build_pool_with(url, size, true)
}

/// [`build_pool`] with the choice of SQLite's `synchronous` (FULL or NORMAL). The SQLite file
/// and its `-wal` and `-shm` companions are readable by the owner only (0600).
pub fn build_pool_with(
    url: &DatabaseUrl,
    size: u32,
    synchronous_full: bool,
) -> anyhow::Result<Pool> {
    if let DatabaseUrl::Sqlite(path) = url {
        ensure_parent_dir(path)?;
        create_private(path)?;
    }
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(ConnectionManager {
            url: url.clone(),
            synchronous_full,
        })?;
    if let DatabaseUrl::Sqlite(path) = url {
        // The pool has opened the database, so the WAL files exist now.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            restrict(Path::new(&file), 0o600)?;
        }
    }
    Ok(pool)
}

/// Creates an empty file readable by the owner only, unless it exists (an empty file is an
/// empty SQLite database), so the database is never readable by others, even briefly.
fn create_private(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot create {}: {e}", path.display())),
    }
}

/// Sets a file's or directory's permission bits (unix), if it exists.
pub fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| anyhow::anyhow!("cannot restrict {}: {e}", path.display()))?;
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn ensure_parent_dir(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Applies every pending migration of the connection's backend; returns how many ran.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .len(),
        DbConn::Postgres(c) => {
            // Several instances may start at once on one PostgreSQL: a session lock makes the
            // second wait for the first instead of racing it through the same DDL.
            c.batch_execute("SELECT pg_advisory_lock(727001)")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
            c.batch_execute("SELECT pg_advisory_unlock(727001)")?;
            result?
        }
    };
    Ok(applied)
}

/// True when every embedded migration has been applied (used by `/readyz`).
pub fn migrations_complete(conn: &mut DbConn) -> bool {
    let pending = match conn {
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|p| p.len()),
        DbConn::Postgres(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|p| p.len()),
    };
    matches!(pending, Ok(0))
}

/// Runs `f` in one write transaction and commits only if it returns `Ok`.
///
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`: a deferred transaction that reads
/// and then writes fails with `SQLITE_BUSY` (not covered by the busy timeout) when another
/// writer committed in between, so every write transaction takes the write lock up front. The
/// writers of this process take their turns for it in arrival order ([`WriteTurns`]).
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let committed = match conn {
        DbConn::Postgres(_) => conn.transaction(f),
        DbConn::Sqlite(_) => {
            let _turn = WRITE_TURNS.take();
            conn.batch_execute("BEGIN IMMEDIATE")?;
            let mut guard = RollbackGuard { conn, done: false };
            let result = f(guard.conn);
            match result {
                Ok(value) => {
                    guard.conn.batch_execute("COMMIT")?;
                    guard.done = true;
                    Ok(value)
                }
                Err(e) => Err(e), // the guard rolls back
            }
        }
    };
    if committed.is_ok() {
        WRITES.fetch_add(1, Ordering::Release);
    }
    committed
}

/// Write transactions committed by this process ([`write_tx`]), counted after each commit.
static WRITES: AtomicU64 = AtomicU64::new(0);
/// Changes made around [`write_tx`] ([`note_raw_write`]).
static RAW_WRITES: AtomicU64 = AtomicU64::new(0);

/// How many write transactions this process has committed: in-memory read models compare it
/// with the count they last saw, so a read after a write on this instance sees that write
/// (read-your-writes) without asking the database on every read.
pub fn writes_committed() -> u64 {
    WRITES.load(Ordering::Acquire)
}

/// Records a change made around [`write_tx`] (raw SQL by an operator tool or a test), which
/// may bypass the version numbers read models watch: they reload everything at their next
/// read.
pub fn note_raw_write() {
    RAW_WRITES.fetch_add(1, Ordering::Release);
}

/// How many raw changes [`note_raw_write`] has recorded.
pub fn raw_writes() -> u64 {
    RAW_WRITES.load(Ordering::Acquire)
}

/// Turns for SQLite's write lock among this process's writers, in arrival order (a ticket
/// lock). SQLite grants its lock to whoever polls first: a waiting writer sleeps in its busy
/// handler (1, 2, 5 … 100 ms between tries), so a writer that commits and begins again at once
/// — the closing job's admission batches — took the lock again and again while others slept
/// (seconds behind a large notice). Here the next batch queues behind the writers already
/// waiting. Writers of other processes on the same file still meet in the busy handler.
struct WriteTurns {
    /// (next ticket to hand out, ticket being served)
    tickets: std::sync::Mutex<(u64, u64)>,
    turn: std::sync::Condvar,
}

static WRITE_TURNS: WriteTurns = WriteTurns {
    tickets: std::sync::Mutex::new((0, 0)),
    turn: std::sync::Condvar::new(),
};

impl WriteTurns {
    /// Waits for this caller's turn; the turn passes on when the guard drops.
    fn take(&'static self) -> WriteTurn {
        let mut tickets = self
            .tickets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mine = tickets.0;
        tickets.0 += 1;
        while tickets.1 != mine {
            tickets = self
                .turn
                .wait(tickets)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        WriteTurn(self)
    }
}

/// A writer's turn ([`WriteTurns::take`]); dropping it (commit, rollback or panic) serves the
/// next ticket.
struct WriteTurn(&'static WriteTurns);

impl Drop for WriteTurn {
    fn drop(&mut self) {
        let mut tickets = self
            .0
            .tickets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tickets.1 += 1;
        self.0.turn.notify_all();
    }
}

/// Runs `f` in one read-only transaction that sees a single snapshot of the database, so that
/// several reads agree with each other while writers go on committing. Not inside another
/// transaction.
///
/// - PostgreSQL: `REPEATABLE READ, READ ONLY`: every statement sees the snapshot taken at the
///   first one (under the default READ COMMITTED each statement takes a new one). A read-only
///   transaction at this level never fails with a serialisation error.
/// - SQLite (WAL): a deferred `BEGIN`: the read transaction starts at the first `SELECT` and
///   keeps reading that version of the database until it ends; writers append to the WAL
///   meanwhile and neither side waits for the other. (Outside a transaction each statement
///   is its own read transaction and sees whatever was committed when it started.)
pub fn read_snapshot<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    // diesel's transaction: `BEGIN` (deferred on SQLite), then commit or roll back.
    conn.transaction(|c| {
        if let DbConn::Postgres(_) = c {
            // Must be the transaction's first statement.
            c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(c)
    })
}

/// Rolls a raw SQLite transaction back if it was neither committed nor rolled back, including
/// when the closure panics, so the pooled connection never goes back mid-transaction.
struct RollbackGuard<'a> {
    conn: &'a mut DbConn,
    done: bool,
}

impl Drop for RollbackGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.batch_execute("ROLLBACK");
        }
    }
}

/// Now, truncated to PostgreSQL's microsecond precision, as the naive UTC value stored.
pub fn db_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.trunc_subsecs(6).naive_utc()
}

/// A stored naive UTC timestamp back as an instant.
pub fn from_db_time(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Inserts a row and returns its id, portable over both backends.
#[macro_export]
macro_rules! insert_returning_id {
    ($conn:expr, $table:path, $values:expr) => {{
        use diesel::prelude::*;
        diesel::insert_into($table::table)
            .values($values)
            .returning($table::id)
            .get_result::<i64>($conn)
    }};
}

/// Inserts several rows in one statement (`rows`: a `Vec` of column tuples), on either backend.
/// The multi-backend connection cannot express a multi-row INSERT, so the statement is built
/// for the backend's own connection. Keep `rows` within SQLite's bound-parameter limit
/// (32,766): a few hundred rows per statement.
#[macro_export]
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::prelude::*;
        match $conn {
            $crate::db::DbConn::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            $crate::db::DbConn::Postgres(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    }};
}

/// True when the error is a unique-constraint violation on either backend.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
