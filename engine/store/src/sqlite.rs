//! The SQLite backend: one file, one connection, owned by one writer thread.
//!
//! Every call becomes a job sent over a bounded channel to a dedicated std thread that owns
//! the `rusqlite::Connection`; the job's result comes back through a tokio oneshot. So
//! writes are serialised by construction (SQLite allows one writer anyway), async callers
//! never block a runtime worker on disk, and a full queue pushes back on callers instead of
//! growing without bound. Reads use the same thread: they are short, and the server keeps
//! its hot reads (API keys) in memory.
//!
//! The connection runs with `journal_mode=WAL`, `synchronous=FULL` (a commit is on disk
//! when the call returns), `foreign_keys=ON` and a busy timeout; every write is one
//! `BEGIN IMMEDIATE` transaction, so it takes the write lock up front and never fails
//! half-way on a lock upgrade.

use crate::error::{Result, StoreError};
use crate::migrate::{self, CREATE_SCHEMA_MIGRATIONS};
use crate::types::{
    AuditAction, AuditEntry, AuditEvent, AuditRow, BookId, BookRecord, KeyRecord, KeyRow, TenantId,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Jobs waiting for the writer thread; beyond this, callers wait to enqueue.
const COMMAND_QUEUE_MAX: usize = 256;
/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

enum Command {
    Run(Job),
    /// Close the connection, then answer; later calls get [`StoreError::Closed`].
    Close(oneshot::Sender<Result<()>>),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Backend(format!("sqlite: {e}"))
    }
}

/// A handle to the writer thread; clones share it. The thread ends when the last handle
/// is dropped or [`SqliteStore::close`] is called.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    commands: mpsc::Sender<Command>,
}

impl SqliteStore {
    /// Starts the writer thread on the database file at `path` (created if absent), sets
    /// the connection up and migrates it before answering.
    pub(crate) async fn open(path: PathBuf) -> Result<SqliteStore> {
        let (commands, queue) = mpsc::channel(COMMAND_QUEUE_MAX);
        let (ready_tx, ready_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("crossdock-sqlite".to_owned())
            .spawn(move || writer_thread(&path, queue, ready_tx))
            .map_err(|e| StoreError::Backend(format!("cannot start the SQLite thread: {e}")))?;
        ready_rx.await.map_err(|_| StoreError::Closed)??;
        Ok(SqliteStore { commands })
    }

    /// Runs `job` on the writer thread and waits for its answer.
    async fn call<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // The caller may have gone away (a cancelled request); nothing to do then.
            let _ = reply.send(job(conn));
        });
        self.commands
            .send(Command::Run(job))
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn close(&self) -> Result<()> {
        let (done, closed) = oneshot::channel();
        self.commands
            .send(Command::Close(done))
            .await
            .map_err(|_| StoreError::Closed)?;
        closed.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) async fn create_tenant(&self, name: String, now: i64) -> Result<TenantId> {
        self.call(move |conn| {
            let tx = write_tx(conn)?;
            let taken = tx
                .query_row("SELECT 1 FROM tenants WHERE name = ?1", [&name], |_| Ok(()))
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "a tenant named {name:?} already exists"
                )));
            }
            tx.execute(
                "INSERT INTO tenants (name, created_at) VALUES (?1, ?2)",
                params![name, now],
            )?;
            let id = TenantId(tx.last_insert_rowid());
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    pub(crate) async fn tenant_by_name(&self, name: String) -> Result<Option<TenantId>> {
        self.call(move |conn| {
            let id = conn
                .query_row("SELECT id FROM tenants WHERE name = ?1", [&name], |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(id.map(TenantId))
        })
        .await
    }

    /// Inserts a key; `Ok(None)` if the key id is already taken (the caller mints another).
    pub(crate) async fn insert_key(
        &self,
        key: KeyRow,
        secret_sha256: [u8; 32],
    ) -> Result<Option<KeyRecord>> {
        self.call(move |conn| {
            let tx = write_tx(conn)?;
            require_tenant(&tx, key.tenant)?;
            let taken =
                tx.query_row("SELECT 1 FROM api_keys WHERE id = ?1", [&key.id], |_| Ok(())).optional()?;
            if taken.is_some() {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO api_keys (id, tenant_id, customer, roles, label, secret_sha256, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![key.id, key.tenant, key.customer, key.roles, key.label, &secret_sha256[..], key.created_at],
            )?;
            tx.commit()?;
            key.into_record().map(Some)
        })
        .await
    }

    /// The key with this id, in any tenant, with its stored secret hash.
    pub(crate) async fn key_by_id(&self, id: String) -> Result<Option<(KeyRecord, Vec<u8>)>> {
        self.call(move |conn| {
            let found = conn
                .query_row(
                    &format!("SELECT {KEY_COLUMNS}, secret_sha256 FROM api_keys WHERE id = ?1"),
                    [&id],
                    |r| Ok((key_row(r)?, r.get::<_, Vec<u8>>(7)?)),
                )
                .optional()?;
            found
                .map(|(row, hash)| Ok((row.into_record()?, hash)))
                .transpose()
        })
        .await
    }

    pub(crate) async fn list_keys(&self, tenant: TenantId) -> Result<Vec<KeyRecord>> {
        self.call(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 ORDER BY created_at, id"
            ))?;
            let rows = stmt
                .query_map([tenant.0], key_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(KeyRow::into_record).collect()
        })
        .await
    }

    pub(crate) async fn revoke_key(&self, tenant: TenantId, id: String, now: i64) -> Result<bool> {
        self.call(move |conn| {
            let tx = write_tx(conn)?;
            // COALESCE keeps the first revocation time: revoking twice is not a new event.
            let changed = tx.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?1) WHERE tenant_id = ?2 AND id = ?3",
                params![now, tenant.0, id],
            )?;
            tx.commit()?;
            Ok(changed == 1)
        })
        .await
    }

    pub(crate) async fn put_book(
        &self,
        new: BookRecord,
        archive: Vec<u8>,
    ) -> Result<(BookRecord, bool)> {
        self.call(move |conn| {
            let tx = write_tx(conn)?;
            require_tenant(&tx, new.tenant.0)?;
            let existing = tx
                .query_row(
                    &format!("SELECT {BOOK_COLUMNS} FROM books WHERE tenant_id = ?1 AND content_hash = ?2"),
                    params![new.tenant.0, new.content_hash],
                    book_row,
                )
                .optional()?;
            if let Some(existing) = existing {
                return Ok((existing, false));
            }
            tx.execute(
                "INSERT INTO books (tenant_id, content_hash, name, label, report_json, uploaded_by, \
                 uploaded_at, size_bytes, archive) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    new.tenant.0,
                    new.content_hash,
                    new.name,
                    new.label,
                    new.report_json,
                    new.uploaded_by,
                    new.uploaded_at,
                    new.size_bytes,
                    archive
                ],
            )?;
            let stored = BookRecord { id: BookId(tx.last_insert_rowid()), ..new };
            insert_audit(
                &tx,
                AuditEvent {
                    tenant: stored.tenant,
                    at: stored.uploaded_at,
                    actor: &stored.uploaded_by,
                    action: AuditAction::Publish,
                    from_book: None,
                    to_book: Some(stored.id),
                    content_hash: Some(&stored.content_hash),
                },
            )?;
            tx.commit()?;
            Ok((stored, true))
        })
        .await
    }

    pub(crate) async fn book(&self, tenant: TenantId, id: BookId) -> Result<Option<BookRecord>> {
        self.call(move |conn| {
            let found = conn
                .query_row(
                    &format!("SELECT {BOOK_COLUMNS} FROM books WHERE tenant_id = ?1 AND id = ?2"),
                    params![tenant.0, id.0],
                    book_row,
                )
                .optional()?;
            Ok(found)
        })
        .await
    }

    pub(crate) async fn book_archive(
        &self,
        tenant: TenantId,
        id: BookId,
    ) -> Result<Option<Vec<u8>>> {
        self.call(move |conn| {
            let found = conn
                .query_row(
                    "SELECT archive FROM books WHERE tenant_id = ?1 AND id = ?2",
                    params![tenant.0, id.0],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(found)
        })
        .await
    }

    pub(crate) async fn list_books(&self, tenant: TenantId) -> Result<Vec<BookRecord>> {
        self.call(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {BOOK_COLUMNS} FROM books WHERE tenant_id = ?1 ORDER BY id"
            ))?;
            let books = stmt
                .query_map([tenant.0], book_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(books)
        })
        .await
    }

    pub(crate) async fn activate(
        &self,
        tenant: TenantId,
        id: BookId,
        actor: String,
        now: i64,
    ) -> Result<Option<BookId>> {
        self.call(move |conn| {
            let tx = write_tx(conn)?;
            let hash: String = tx
                .query_row(
                    "SELECT content_hash FROM books WHERE tenant_id = ?1 AND id = ?2",
                    params![tenant.0, id.0],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("{id} of {tenant}")))?;
            let current = latest_activation(&tx, tenant)?.map(|(active, _)| active);
            if current == Some(id) {
                return Ok(current);
            }
            push_activation(&tx, tenant, id, current, now, &actor)?;
            insert_audit(
                &tx,
                AuditEvent {
                    tenant,
                    at: now,
                    actor: &actor,
                    action: AuditAction::Activate,
                    from_book: current,
                    to_book: Some(id),
                    content_hash: Some(&hash),
                },
            )?;
            tx.commit()?;
            Ok(current)
        })
        .await
    }

    pub(crate) async fn rollback(
        &self,
        tenant: TenantId,
        actor: String,
        now: i64,
    ) -> Result<BookId> {
        self.call(move |conn| {
            let tx = write_tx(conn)?;
            let Some((current, Some(previous))) = latest_activation(&tx, tenant)? else {
                return Err(StoreError::NothingToRollBack);
            };
            let hash: String = tx.query_row(
                "SELECT content_hash FROM books WHERE tenant_id = ?1 AND id = ?2",
                params![tenant.0, previous.0],
                |r| r.get(0),
            )?;
            push_activation(&tx, tenant, previous, Some(current), now, &actor)?;
            insert_audit(
                &tx,
                AuditEvent {
                    tenant,
                    at: now,
                    actor: &actor,
                    action: AuditAction::Rollback,
                    from_book: Some(current),
                    to_book: Some(previous),
                    content_hash: Some(&hash),
                },
            )?;
            tx.commit()?;
            Ok(previous)
        })
        .await
    }

    pub(crate) async fn active_book(&self, tenant: TenantId) -> Result<Option<BookId>> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            Ok(latest_activation(&tx, tenant)?.map(|(active, _)| active))
        })
        .await
    }

    pub(crate) async fn active_books(&self) -> Result<Vec<(TenantId, BookId)>> {
        self.call(|conn| {
            let mut stmt = conn.prepare(
                "SELECT a.tenant_id, a.book_id FROM activations a \
                 WHERE a.seq = (SELECT MAX(seq) FROM activations WHERE tenant_id = a.tenant_id) \
                 ORDER BY a.tenant_id",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((TenantId(r.get(0)?), BookId(r.get(1)?))))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    pub(crate) async fn audit(&self, tenant: TenantId, limit: i64) -> Result<Vec<AuditEntry>> {
        self.call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, tenant_id, at, actor, action, from_book, to_book, content_hash \
                 FROM audit_log WHERE tenant_id = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![tenant.0, limit], |r| {
                    Ok(AuditRow {
                        id: r.get(0)?,
                        tenant: r.get(1)?,
                        at: r.get(2)?,
                        actor: r.get(3)?,
                        action: r.get(4)?,
                        from_book: r.get(5)?,
                        to_book: r.get(6)?,
                        content_hash: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(AuditRow::into_entry).collect()
        })
        .await
    }
}

/// The writer thread: connect and migrate, report readiness, then serve jobs in order.
fn writer_thread(
    path: &Path,
    mut queue: mpsc::Receiver<Command>,
    ready: oneshot::Sender<Result<()>>,
) {
    let mut conn = match connect(path) {
        Ok(conn) => conn,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    while let Some(command) = queue.blocking_recv() {
        match command {
            Command::Run(job) => {
                // A panicking job is a bug; its transaction rolls back as it unwinds and its
                // caller sees `Closed`. Keep serving everyone else rather than die with it.
                let _ = catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
            }
            Command::Close(done) => {
                // Jobs still queued are dropped unanswered: their callers see `Closed`.
                drop(queue);
                let closed = conn.close().map_err(|(_, e)| StoreError::from(e));
                let _ = done.send(closed);
                return;
            }
        }
    }
}

/// Opens the file and sets the connection up as the module's essay describes.
fn connect(path: &Path) -> Result<Connection> {
    let context =
        |e: rusqlite::Error| StoreError::Backend(format!("sqlite {}: {e}", path.display()));
    let mut conn = Connection::open(path).map_err(context)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(context)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(context)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(format!(
            "sqlite {}: journal_mode is {mode:?}, WAL could not be set",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(context)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(context)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies every migration newer than the database, in one transaction (see `migrate`).
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = write_tx(conn)?;
    tx.execute(CREATE_SCHEMA_MIGRATIONS, [])?;
    let found: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let known = migrate::known_version(migrate::SQLITE);
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for m in migrate::SQLITE.iter().filter(|m| m.version > found) {
        tx.execute_batch(m.sql)
            .map_err(|e| StoreError::Backend(format!("sqlite migration {}: {e}", m.version)))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![m.version, migrate::unix_now_s()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

fn require_tenant(tx: &Transaction<'_>, tenant: i64) -> Result<()> {
    tx.query_row("SELECT 1 FROM tenants WHERE id = ?1", [tenant], |_| Ok(()))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(TenantId(tenant).to_string()))
}

/// The tenant's active book and the one before it, from the newest activation row.
fn latest_activation(
    tx: &Transaction<'_>,
    tenant: TenantId,
) -> Result<Option<(BookId, Option<BookId>)>> {
    let row = tx
        .query_row(
            "SELECT book_id, previous_book_id FROM activations WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT 1",
            [tenant.0],
            |r| Ok((BookId(r.get(0)?), r.get::<_, Option<i64>>(1)?.map(BookId))),
        )
        .optional()?;
    Ok(row)
}

fn push_activation(
    tx: &Transaction<'_>,
    tenant: TenantId,
    book: BookId,
    previous: Option<BookId>,
    now: i64,
    actor: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO activations (tenant_id, book_id, previous_book_id, at, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![tenant.0, book.0, previous.map(|b| b.0), now, actor],
    )?;
    Ok(())
}

fn insert_audit(tx: &Transaction<'_>, event: AuditEvent<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO audit_log (tenant_id, at, actor, action, from_book, to_book, content_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            event.tenant.0,
            event.at,
            event.actor,
            event.action.as_str(),
            event.from_book.map(|b| b.0),
            event.to_book.map(|b| b.0),
            event.content_hash
        ],
    )?;
    Ok(())
}

const KEY_COLUMNS: &str = "id, tenant_id, customer, roles, label, created_at, revoked_at";

fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok(KeyRow {
        id: r.get(0)?,
        tenant: r.get(1)?,
        customer: r.get(2)?,
        roles: r.get(3)?,
        label: r.get(4)?,
        created_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

const BOOK_COLUMNS: &str =
    "id, tenant_id, content_hash, name, label, report_json, uploaded_by, uploaded_at, size_bytes";

fn book_row(r: &Row<'_>) -> rusqlite::Result<BookRecord> {
    Ok(BookRecord {
        id: BookId(r.get(0)?),
        tenant: TenantId(r.get(1)?),
        content_hash: r.get(2)?,
        name: r.get(3)?,
        label: r.get(4)?,
        report_json: r.get(5)?,
        uploaded_by: r.get(6)?,
        uploaded_at: r.get(7)?,
        size_bytes: r.get(8)?,
    })
}
