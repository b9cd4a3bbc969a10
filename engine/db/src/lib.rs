//! # crossdock-db: the storage machinery every component stands on
//!
//! A component (rating, identity, orders, …) owns its tables and writes its transaction
//! scripts once, as plain functions of a [`Tx`]; this crate runs them on whichever backend
//! the operator chose and keeps the cross-cutting parts in one place:
//!
//! - **[`Db`]**: SQLite (one writer thread in `BEGIN IMMEDIATE` transactions, and reader
//!   threads with their own connections, so reads never queue behind writes) or PostgreSQL
//!   (a pool of connections on worker threads). [`Db::write`] and [`Db::read`] take a
//!   script, run it in one transaction, commit on `Ok` and roll back on `Err`.
//! - **[`Tx`]**: one transaction type for both dialects; SQL is written once in
//!   PostgreSQL's `$n` placeholder style, and dialect differences are data ([`Tx::pick`]).
//! - **Migrations per component** ([`Migrations`]): each component has its own numbered
//!   track in both dialects, recorded in `db_migrations(component, version)`.
//! - **The outbox** ([`outbox`]): events written in the transaction that causes them, read
//!   in order by a relay with per-consumer cursors, woken in-process after each emitting
//!   commit and across processes by PostgreSQL's `LISTEN`/`NOTIFY` (with a poll as fallback).
//! - **[`testing`]** (feature `testing`): the two-backend harness that runs one contract
//!   test on a fresh SQLite file and on a fresh PostgreSQL schema.
//!
//! What it does not know: any component's tables, pricing, HTTP, JSON. Events are opaque
//! (topic, version, payload text) here; their types live in `crossdock-events`.
//!
//! ## Guarantees
//!
//! - A script's writes and its events commit together or not at all.
//! - A database migrated by a newer crossdock is refused per component
//!   ([`DbError::SchemaTooNew`]); opening an up-to-date database changes nothing.
//! - No panic on database errors: every failure is a [`DbError`]. A script that panics is a
//!   bug; its transaction rolls back and its caller gets [`DbError::Unavailable`].

pub mod background;
mod error;
pub mod idempotency;
mod migrate;
pub mod outbox;
mod pool;
mod tx;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::DbError;
pub use migrate::{Migration, Migrations};
pub use tx::{Dialect, FromValue, Param, Row, Tx, Value, to_sqlite_placeholders};

use pool::Pool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The SQLite file's name inside the data directory.
pub const SQLITE_FILE_NAME: &str = "crossdock.db";
/// Jobs waiting for a worker; beyond this, callers wait to enqueue.
const QUEUE_MAX: usize = 1024;
/// How long a SQLite statement waits for another process's lock before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The PostgreSQL channel on which emitting commits notify every process's relay.
pub const NOTIFY_CHANNEL: &str = "crossdock_outbox";

/// Where the database lives, parsed from the location string given to [`Db::open`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, by libpq URL.
    Postgres(String),
}

impl Location {
    /// Reads a location:
    ///
    /// - `""` or `"sqlite:"` → `data_dir/crossdock.db`;
    /// - `"sqlite:PATH"`, `"sqlite://PATH"` or a bare `PATH` → that file; a relative path is
    ///   taken inside `data_dir`;
    /// - `"postgres://…"` or `"postgresql://…"` → that PostgreSQL server.
    ///
    /// Any other `scheme://` is refused, as is SQLite's `:memory:` (the store is durable).
    pub fn parse(location: &str, data_dir: &Path) -> Result<Location, DbError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return Ok(Location::Postgres(location.to_owned()));
        }
        let path = match location.strip_prefix("sqlite:") {
            Some(rest) => rest.strip_prefix("//").unwrap_or(rest),
            None if location.contains("://") => {
                let scheme = location.split("://").next().unwrap_or_default();
                return Err(DbError::BadLocation(format!(
                    "unknown scheme {scheme:?} (expected sqlite:PATH, a path, or postgres://…)"
                )));
            }
            None => location,
        };
        if path.starts_with(":memory:") {
            return Err(DbError::BadLocation(
                "in-memory SQLite is not supported: give a file".to_owned(),
            ));
        }
        if path.is_empty() {
            return Ok(Location::Sqlite(data_dir.join(SQLITE_FILE_NAME)));
        }
        Ok(Location::Sqlite(data_dir.join(path)))
    }
}

/// Sizes of the worker pools.
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// SQLite reader threads (each with its own connection).
    pub sqlite_readers: usize,
    /// PostgreSQL connections (each on its own worker thread).
    pub postgres_connections: usize,
}

impl Default for DbOptions {
    fn default() -> DbOptions {
        DbOptions {
            sqlite_readers: 2,
            postgres_connections: 8,
        }
    }
}

/// The database: a cheap handle, clone it freely.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    /// Woken after every commit that wrote to the outbox (and, on PostgreSQL, by other
    /// processes' notifications): the relay waits on it.
    wake: Arc<Notify>,
    /// In-transaction handlers by topic ([`Db::on_emit`]).
    hooks: std::sync::RwLock<outbox::Hooks>,
}

enum Backend {
    Sqlite {
        writer: Pool<rusqlite::Connection>,
        /// A second writer connection for [`Db::write_bulk`], on a `SCHED_IDLE` thread.
        bulk: Pool<rusqlite::Connection>,
        /// Checkpoints the WAL after bulk commits, off the bulk writer ([`Checkpoints`]).
        checkpoints: Checkpoints,
        readers: Pool<rusqlite::Connection>,
    },
    Postgres {
        pool: Pool<tx::PgConnection>,
        url: String,
    },
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({:?})", self.dialect())
    }
}

impl Db {
    /// Opens the database at `location` (see [`Location::parse`]). For SQLite, the file's
    /// directory is created if absent. Migrations are separate: [`Db::migrate`].
    pub async fn open(location: &str, data_dir: &Path, options: &DbOptions) -> Result<Db, DbError> {
        let backend = match Location::parse(location, data_dir)? {
            Location::Sqlite(path) => open_sqlite(path, options).await?,
            Location::Postgres(url) => open_postgres(url, options).await?,
        };
        Ok(Db {
            inner: Arc::new(Inner {
                backend,
                wake: Arc::new(Notify::new()),
                hooks: std::sync::RwLock::new(Arc::new(Vec::new())),
            }),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.inner.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// Runs `script` in one write transaction: committed if it returns `Ok`, rolled back if
    /// it returns `Err` (or panics). On SQLite it runs on the one writer thread, so write
    /// scripts are serialised; on PostgreSQL scripts that must not interleave take
    /// [`Tx::lock`] or rely on unique rules.
    pub async fn write<T, E, F>(&self, script: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    {
        let hooks = self.hooks();
        let outcome = match &self.inner.backend {
            Backend::Sqlite { writer, .. } => {
                writer
                    .run(move |conn| {
                        let tx = conn
                            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                        let mut tx = Tx::sqlite(tx);
                        tx.hooks = hooks;
                        Ok(finish(tx, script))
                    })
                    .await
            }
            Backend::Postgres { pool, .. } => {
                pool.run(move |conn| {
                    let tx::PgConnection { client, statements } = conn;
                    let mut tx = Tx::postgres(client.transaction()?, statements);
                    tx.hooks = hooks;
                    Ok(finish(tx, script))
                })
                .await
            }
        };
        let (result, emitted) = outcome.map_err(E::from)??;
        if emitted {
            self.inner.wake.notify_one();
        }
        Ok(result)
    }

    /// [`Db::write`] for bulk work (imports), which must not take the CPU from requests. On
    /// SQLite it runs on a second writer connection whose thread is in the `SCHED_IDLE`
    /// class ([`background`]); SQLite still lets one write transaction run at a time
    /// (`BEGIN IMMEDIATE`), so the two writers' transactions never interleave and the
    /// outbox's order is still commit order. On PostgreSQL it is [`Db::write`].
    pub async fn write_bulk<T, E, F>(&self, script: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    {
        let Backend::Sqlite { bulk, .. } = &self.inner.backend else {
            return self.write(script).await;
        };
        let hooks = self.hooks();
        let outcome = bulk
            .run(move |conn| {
                background::lower_current_thread();
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let mut tx = Tx::sqlite(tx);
                tx.hooks = hooks;
                Ok(finish(tx, script))
            })
            .await;
        let (result, emitted) = outcome.map_err(E::from)??;
        if emitted {
            self.inner.wake.notify_one();
        }
        if let Backend::Sqlite { checkpoints, .. } = &self.inner.backend {
            checkpoints.after_commit();
        }
        Ok(result)
    }

    /// Registers `handler` to run inside every write transaction that emits `topic`, after
    /// the event is written and before the commit (see [`outbox::InTxHandler`]). Register
    /// before serving: transactions already running keep the handlers they started with.
    pub fn on_emit(&self, topic: &str, handler: outbox::InTxHandler) {
        let mut hooks = self
            .inner
            .hooks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next: Vec<(String, outbox::InTxHandler)> = hooks.iter().cloned().collect();
        next.push((topic.to_owned(), handler));
        *hooks = Arc::new(next);
    }

    fn hooks(&self) -> Option<outbox::Hooks> {
        let hooks = self.inner.hooks.read().ok()?;
        (!hooks.is_empty()).then(|| hooks.clone())
    }

    /// Runs `script` in one read transaction (a consistent snapshot). On SQLite it runs on
    /// a reader thread with its own connection and never waits for the writer.
    pub async fn read<T, E, F>(&self, script: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    {
        let outcome = match &self.inner.backend {
            Backend::Sqlite { readers, .. } => {
                readers
                    .run(move |conn| {
                        let tx = conn.transaction()?;
                        Ok(finish(Tx::sqlite(tx), script))
                    })
                    .await
            }
            Backend::Postgres { pool, .. } => {
                pool.run(move |conn| {
                    let tx::PgConnection { client, statements } = conn;
                    let tx = client.build_transaction().read_only(true).start()?;
                    Ok(finish(Tx::postgres(tx, statements), script))
                })
                .await
            }
        };
        Ok(outcome.map_err(E::from)??.0)
    }

    /// Closes every connection (SQLite's WAL is checkpointed when the last one closes).
    /// Later calls fail with [`DbError::Unavailable`].
    pub async fn close(&self) {
        match &self.inner.backend {
            Backend::Sqlite {
                writer,
                bulk,
                checkpoints,
                readers,
            } => {
                readers.close().await;
                bulk.close().await;
                checkpoints.pool.close().await;
                writer.close().await;
            }
            Backend::Postgres { pool, .. } => pool.close().await,
        }
    }

    /// What the relay waits on: woken after each emitting commit in this process, and on
    /// PostgreSQL after other processes' emitting commits (see [`Db::listen`]).
    pub fn wake(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    /// On PostgreSQL, starts a thread that `LISTEN`s on [`NOTIFY_CHANNEL`] and wakes this
    /// process's relay when any process commits an event; it ends with the last handle of
    /// this `Db`. On SQLite (one process) it does nothing.
    pub fn listen(&self) -> Result<(), DbError> {
        if let Backend::Postgres { url, .. } = &self.inner.backend {
            let url = url.clone();
            let wake = Arc::downgrade(&self.inner.wake);
            std::thread::Builder::new()
                .name("crossdock-listen".to_owned())
                .spawn(move || listen_loop(&url, &wake))
                .map_err(|e| DbError::Backend(format!("cannot start the listener: {e}")))?;
        }
        Ok(())
    }
}

/// Runs a script in `tx`, then commits or rolls back; `(result, emitted)`.
fn finish<T, E, F>(mut tx: Tx<'_>, script: F) -> Result<(T, bool), E>
where
    E: From<DbError>,
    F: FnOnce(&mut Tx<'_>) -> Result<T, E>,
{
    match script(&mut tx) {
        Ok(value) => {
            let emitted = tx.emitted;
            tx.commit()?;
            Ok((value, emitted))
        }
        // Dropping the transaction rolls it back.
        Err(e) => Err(e),
    }
}

async fn open_sqlite(path: PathBuf, options: &DbOptions) -> Result<Backend, DbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            DbError::Backend(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    // The writer connects first: it sets WAL mode, which the readers rely on.
    let writer_path = path.clone();
    let first = tokio::task::spawn_blocking(move || sqlite_connect(&writer_path, false))
        .await
        .map_err(|e| DbError::Backend(format!("sqlite: {e}")))??;
    let connect_writer: pool::Connect<rusqlite::Connection> = {
        let path = path.clone();
        Arc::new(move || sqlite_connect(&path, false))
    };
    let writer = Pool::start(
        "crossdock-sqlite-writer",
        1,
        QUEUE_MAX,
        connect_writer.clone(),
        |_| true,
        Some(first),
    )?;
    let connect_bulk: pool::Connect<rusqlite::Connection> = {
        let path = path.clone();
        Arc::new(move || {
            let conn = sqlite_connect(&path, false)?;
            conn.pragma_update(None, "wal_autocheckpoint", BULK_WAL_AUTOCHECKPOINT_PAGES)
                .map_err(|e| DbError::Backend(format!("sqlite {}: {e}", path.display())))?;
            Ok(conn)
        })
    };
    let bulk = Pool::start(
        "crossdock-sqlite-bulk",
        1,
        QUEUE_MAX,
        connect_bulk,
        |_| true,
        None,
    )?;
    let checkpoints = Checkpoints {
        pool: Pool::start(
            "crossdock-sqlite-checkpoint",
            1,
            QUEUE_MAX,
            connect_writer,
            |_| true,
            None,
        )?,
        running: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    };
    let connect_reader: pool::Connect<rusqlite::Connection> =
        Arc::new(move || sqlite_connect(&path, true));
    let readers = Pool::start(
        "crossdock-sqlite-reader",
        options.sqlite_readers,
        QUEUE_MAX,
        connect_reader,
        |_| true,
        None,
    )?;
    Ok(Backend::Sqlite {
        writer,
        bulk,
        checkpoints,
        readers,
    })
}

/// The bulk writer's own checkpoint threshold: only when the [`Checkpoints`] thread falls
/// this far behind does the bulk writer copy the WAL back itself (SQLite's default, 1,000
/// pages, had it do so after nearly every import transaction: 15 % of its time).
const BULK_WAL_AUTOCHECKPOINT_PAGES: i64 = 65_536;

/// Passive checkpoints on a connection of their own, started after each bulk commit (one
/// at a time; a commit while one runs starts none). A passive checkpoint copies committed
/// WAL frames into the database without blocking the writers, so an import's writer
/// goes on writing while the checkpoint thread, in the idle class, copies behind it.
#[derive(Clone)]
struct Checkpoints {
    pool: Pool<rusqlite::Connection>,
    running: Arc<std::sync::atomic::AtomicBool>,
}

impl Checkpoints {
    fn after_commit(&self) {
        use std::sync::atomic::Ordering;
        if self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let done = this
                .pool
                .run(|conn| {
                    background::lower_current_thread();
                    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                        .map_err(|e| DbError::Backend(format!("sqlite checkpoint: {e}")))
                })
                .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, "a WAL checkpoint failed; the next bulk commit tries again");
            }
            this.running.store(false, Ordering::Release);
        });
    }
}

/// The writer's page cache, in KiB.
const SQLITE_WRITER_CACHE_KIB: i64 = 64 * 1024;

/// Opens the file: WAL, `synchronous=FULL` (a commit is on disk when the call returns),
/// foreign keys on, a busy timeout; readers are `query_only`. The writer keeps a 64 MiB
/// page cache (SQLite's default is 2 MiB: a bulk write of documents re-read its own index
/// pages from the OS over and over).
fn sqlite_connect(path: &Path, reader: bool) -> Result<rusqlite::Connection, DbError> {
    let context = |e: rusqlite::Error| DbError::Backend(format!("sqlite {}: {e}", path.display()));
    let conn = rusqlite::Connection::open(path).map_err(context)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT).map_err(context)?;
    if !reader {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(context)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DbError::Backend(format!(
                "sqlite {}: journal_mode is {mode:?}, WAL could not be set",
                path.display()
            )));
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(context)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(context)?;
    if reader {
        conn.pragma_update(None, "query_only", "ON")
            .map_err(context)?;
    } else {
        conn.pragma_update(None, "cache_size", -SQLITE_WRITER_CACHE_KIB)
            .map_err(context)?;
    }
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

async fn open_postgres(url: String, options: &DbOptions) -> Result<Backend, DbError> {
    let config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
        DbError::BadLocation(format!(
            "{}: {}",
            redact_password(&url),
            error::describe(&e)
        ))
    })?;
    let shown = redact_password(&url);
    let connect: pool::Connect<tx::PgConnection> = Arc::new(move || {
        config
            .connect(postgres::NoTls)
            .and_then(tx::PgConnection::new)
            .map_err(|e| {
                DbError::Unavailable(format!(
                    "cannot connect to PostgreSQL at {shown}: {}",
                    error::describe(&e)
                ))
            })
    });
    // Connect once now, so a wrong URL or a stopped server is reported at start.
    let probe = connect.clone();
    let first = tokio::task::spawn_blocking(move || probe())
        .await
        .map_err(|e| DbError::Backend(format!("postgres: {e}")))??;
    let pool = Pool::start(
        "crossdock-postgres",
        options.postgres_connections,
        QUEUE_MAX,
        connect,
        |c| !c.client.is_closed(),
        Some(first),
    )?;
    Ok(Backend::Postgres { pool, url })
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Listens for outbox notifications until the `Db` is gone; reconnects after a failure.
fn listen_loop(url: &str, wake: &std::sync::Weak<Notify>) {
    const TICK: Duration = Duration::from_millis(500);
    while wake.strong_count() > 0 {
        let mut client = match url
            .parse::<postgres::Config>()
            .and_then(|c| c.connect(postgres::NoTls))
        {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %error::describe(&e), "outbox listener cannot connect; the relay polls");
                std::thread::sleep(TICK * 4);
                continue;
            }
        };
        if let Err(e) = client.batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}")) {
            tracing::warn!(error = %error::describe(&e), "outbox listener cannot LISTEN; the relay polls");
            std::thread::sleep(TICK * 4);
            continue;
        }
        loop {
            let Some(notify) = wake.upgrade() else { return };
            let mut notifications = client.notifications();
            let mut iter = notifications.timeout_iter(TICK);
            use fallible_iterator::FallibleIterator;
            match iter.next() {
                Ok(Some(_)) => notify.notify_one(),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %error::describe(&e), "outbox listener lost its connection");
                    break;
                }
            }
        }
    }
}

impl Db {
    /// Applies the outbox's track and each component's, level by level (see
    /// [`Migrations`]): the versions applied, by component, in the order given.
    pub async fn migrate(
        &self,
        tracks: &[&'static Migrations],
    ) -> Result<Vec<(&'static str, Vec<i64>)>, DbError> {
        let now = unix_now_s();
        let all: Vec<&'static Migrations> = std::iter::once(&migrate::OUTBOX)
            .chain(tracks.iter().copied())
            .collect();
        let mut applied: Vec<(&'static str, Vec<i64>)> =
            all.iter().map(|t| (t.component, Vec::new())).collect();
        let top = all.iter().map(|t| t.known_version()).max().unwrap_or(0);
        // Level 0 only checks each track (and refuses one that is too new) before any
        // script of any track runs.
        for level in 0..=top {
            for (i, track) in all.iter().copied().enumerate() {
                if level > track.known_version() {
                    continue;
                }
                let versions = self
                    .write(move |tx| migrate::migrate_track(tx, track, level, now))
                    .await?;
                applied[i].1.extend(versions);
            }
        }
        Ok(applied)
    }
}

/// Wall-clock seconds, for bookkeeping columns only (`applied_at`); components take time
/// from their injected clock.
pub fn unix_now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Wall-clock milliseconds, for schedules of background work (webhook retries, polls).
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        let dir = Path::new("/data");
        let sqlite = |p: &str| Ok(Location::Sqlite(PathBuf::from(p)));
        let cases: &[(&str, Result<Location, DbError>)] = &[
            ("", sqlite("/data/crossdock.db")),
            ("sqlite:", sqlite("/data/crossdock.db")),
            ("sqlite:state.db", sqlite("/data/state.db")),
            ("sqlite:///var/lib/x.db", sqlite("/var/lib/x.db")),
            ("/var/lib/x.db", sqlite("/var/lib/x.db")),
            ("x.db", sqlite("/data/x.db")),
            (
                "postgres://u@h/db",
                Ok(Location::Postgres("postgres://u@h/db".to_owned())),
            ),
            (
                "postgresql://u@h/db",
                Ok(Location::Postgres("postgresql://u@h/db".to_owned())),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(&Location::parse(text, dir), expected, "{text:?}");
        }
        for bad in ["mysql://h/db", "sqlite::memory:", ":memory:"] {
            assert!(
                matches!(Location::parse(bad, dir), Err(DbError::BadLocation(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_password("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("postgres://h/db"), "postgres://h/db");
    }
}
