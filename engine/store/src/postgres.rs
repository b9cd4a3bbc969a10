//! The PostgreSQL backend: one tokio-postgres connection behind an async mutex.
//!
//! One connection keeps this simple and correct: a transaction owns the connection while it
//! runs, so nothing else can slip a statement into it. The calls this crate serves today
//! (tenant administration, publishing and activating books) are rare; a pool can replace the
//! mutex when a busier table arrives, without changing the API. Changes to a tenant's books
//! lock the tenant's row (`FOR NO KEY UPDATE`), which serialises them per tenant across
//! processes as `BEGIN IMMEDIATE` does on SQLite.
//!
//! The URL is libpq's (`postgres://user:password@host:port/db?options=-c%20search_path%3Ds`):
//! its `options` may set `search_path`, which is how tests give each run its own schema.
//! TLS is not supported yet (the connection is made with `NoTls`). If the server closes the
//! connection, calls fail with [`StoreError::Backend`]; the store does not reconnect.

use crate::error::{Result, StoreError};
use crate::migrate::{self, CREATE_SCHEMA_MIGRATIONS};
use crate::types::{
    AuditAction, AuditEntry, AuditEvent, AuditRow, BookId, BookRecord, KeyRecord, KeyRow, TenantId,
};
use std::sync::Arc;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
use tokio_postgres::types::FromSql;
use tokio_postgres::{Client, GenericClient, NoTls, Row, Transaction};

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        StoreError::Backend(format!("postgres: {}", describe(&e)))
    }
}

/// The error and its causes: tokio-postgres puts the useful part (the server's message, the
/// refused connection) in the source, not in its own `Display`.
fn describe(e: &tokio_postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A handle to the connection; clones share it. `close` ends it for every clone.
#[derive(Clone)]
pub(crate) struct PgStore {
    client: Arc<Mutex<Option<Client>>>,
}

impl PgStore {
    /// Connects, starts the connection's task on the current runtime, and migrates.
    pub(crate) async fn open(url: &str) -> Result<PgStore> {
        let (mut client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(|e| {
            StoreError::Backend(format!(
                "cannot connect to PostgreSQL at {}: {}",
                redact_password(url),
                describe(&e)
            ))
        })?;
        // The connection future carries every message; it ends when the client is dropped or
        // the server goes away, and the client's calls then fail with an error of their own.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        migrate(&mut client).await?;
        Ok(PgStore {
            client: Arc::new(Mutex::new(Some(client))),
        })
    }

    async fn client(&self) -> Result<MappedMutexGuard<'_, Client>> {
        MutexGuard::try_map(self.client.lock().await, Option::as_mut)
            .map_err(|_| StoreError::Closed)
    }

    pub(crate) async fn close(&self) -> Result<()> {
        match self.client.lock().await.take() {
            Some(_) => Ok(()),
            None => Err(StoreError::Closed),
        }
    }

    pub(crate) async fn create_tenant(&self, name: String, now: i64) -> Result<TenantId> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "INSERT INTO tenants (name, created_at) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name, &now],
            )
            .await?;
        match row {
            Some(row) => Ok(TenantId(get(&row, 0)?)),
            None => Err(StoreError::Conflict(format!(
                "a tenant named {name:?} already exists"
            ))),
        }
    }

    pub(crate) async fn tenant_by_name(&self, name: String) -> Result<Option<TenantId>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT id FROM tenants WHERE name = $1", &[&name])
            .await?;
        row.map(|r| get(&r, 0).map(TenantId)).transpose()
    }

    /// Inserts a key; `Ok(None)` if the key id is already taken (the caller mints another).
    pub(crate) async fn insert_key(
        &self,
        key: KeyRow,
        secret_sha256: [u8; 32],
    ) -> Result<Option<KeyRecord>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_tenant(&tx, key.tenant, "FOR KEY SHARE").await?;
        let inserted = tx
            .execute(
                "INSERT INTO api_keys (id, tenant_id, customer, roles, label, secret_sha256, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[&key.id, &key.tenant, &key.customer, &key.roles, &key.label, &&secret_sha256[..], &key.created_at],
            )
            .await?;
        tx.commit().await?;
        if inserted == 0 {
            return Ok(None);
        }
        key.into_record().map(Some)
    }

    /// The key with this id, in any tenant, with its stored secret hash.
    pub(crate) async fn key_by_id(&self, id: String) -> Result<Option<(KeyRecord, Vec<u8>)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {KEY_COLUMNS}, secret_sha256 FROM api_keys WHERE id = $1"),
                &[&id],
            )
            .await?;
        row.map(|r| Ok((key_row(&r)?.into_record()?, get::<Vec<u8>>(&r, 7)?)))
            .transpose()
    }

    pub(crate) async fn list_keys(&self, tenant: TenantId) -> Result<Vec<KeyRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id"),
                &[&tenant.0],
            )
            .await?;
        rows.iter().map(|r| key_row(r)?.into_record()).collect()
    }

    pub(crate) async fn revoke_key(&self, tenant: TenantId, id: String, now: i64) -> Result<bool> {
        let client = self.client().await?;
        // COALESCE keeps the first revocation time: revoking twice is not a new event.
        let changed = client
            .execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant_id = $2 AND id = $3",
                &[&now, &tenant.0, &id],
            )
            .await?;
        Ok(changed == 1)
    }

    pub(crate) async fn put_book(
        &self,
        new: BookRecord,
        archive: Vec<u8>,
    ) -> Result<(BookRecord, bool)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        lock_tenant(&tx, new.tenant.0, "FOR NO KEY UPDATE").await?;
        let existing = tx
            .query_opt(
                &format!(
                    "SELECT {BOOK_COLUMNS} FROM books WHERE tenant_id = $1 AND content_hash = $2"
                ),
                &[&new.tenant.0, &new.content_hash],
            )
            .await?;
        if let Some(existing) = existing {
            return Ok((book_row(&existing)?, false));
        }
        let row = tx
            .query_one(
                "INSERT INTO books (tenant_id, content_hash, name, label, report_json, uploaded_by, \
                 uploaded_at, size_bytes, archive) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                &[
                    &new.tenant.0,
                    &new.content_hash,
                    &new.name,
                    &new.label,
                    &new.report_json,
                    &new.uploaded_by,
                    &new.uploaded_at,
                    &new.size_bytes,
                    &archive,
                ],
            )
            .await?;
        let stored = BookRecord {
            id: BookId(get(&row, 0)?),
            ..new
        };
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
        )
        .await?;
        tx.commit().await?;
        Ok((stored, true))
    }

    pub(crate) async fn book(&self, tenant: TenantId, id: BookId) -> Result<Option<BookRecord>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {BOOK_COLUMNS} FROM books WHERE tenant_id = $1 AND id = $2"),
                &[&tenant.0, &id.0],
            )
            .await?;
        row.as_ref().map(book_row).transpose()
    }

    pub(crate) async fn book_archive(
        &self,
        tenant: TenantId,
        id: BookId,
    ) -> Result<Option<Vec<u8>>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT archive FROM books WHERE tenant_id = $1 AND id = $2",
                &[&tenant.0, &id.0],
            )
            .await?;
        row.map(|r| get(&r, 0)).transpose()
    }

    pub(crate) async fn list_books(&self, tenant: TenantId) -> Result<Vec<BookRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {BOOK_COLUMNS} FROM books WHERE tenant_id = $1 ORDER BY id"),
                &[&tenant.0],
            )
            .await?;
        rows.iter().map(book_row).collect()
    }

    pub(crate) async fn activate(
        &self,
        tenant: TenantId,
        id: BookId,
        actor: String,
        now: i64,
    ) -> Result<Option<BookId>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let not_found = || StoreError::NotFound(format!("{id} of {tenant}"));
        match lock_tenant(&tx, tenant.0, "FOR NO KEY UPDATE").await {
            Err(StoreError::NotFound(_)) => return Err(not_found()),
            other => other?,
        }
        let hash: String = match tx
            .query_opt(
                "SELECT content_hash FROM books WHERE tenant_id = $1 AND id = $2",
                &[&tenant.0, &id.0],
            )
            .await?
        {
            Some(row) => get(&row, 0)?,
            None => return Err(not_found()),
        };
        let current = latest_activation(&tx, tenant)
            .await?
            .map(|(active, _)| active);
        if current == Some(id) {
            return Ok(current);
        }
        push_activation(&tx, tenant, id, current, now, &actor).await?;
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
        )
        .await?;
        tx.commit().await?;
        Ok(current)
    }

    pub(crate) async fn rollback(
        &self,
        tenant: TenantId,
        actor: String,
        now: i64,
    ) -> Result<BookId> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // An unknown tenant has nothing to roll back, as on SQLite.
        match lock_tenant(&tx, tenant.0, "FOR NO KEY UPDATE").await {
            Err(StoreError::NotFound(_)) => return Err(StoreError::NothingToRollBack),
            other => other?,
        }
        let Some((current, Some(previous))) = latest_activation(&tx, tenant).await? else {
            return Err(StoreError::NothingToRollBack);
        };
        let row = tx
            .query_one(
                "SELECT content_hash FROM books WHERE tenant_id = $1 AND id = $2",
                &[&tenant.0, &previous.0],
            )
            .await?;
        let hash: String = get(&row, 0)?;
        push_activation(&tx, tenant, previous, Some(current), now, &actor).await?;
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
        )
        .await?;
        tx.commit().await?;
        Ok(previous)
    }

    pub(crate) async fn active_book(&self, tenant: TenantId) -> Result<Option<BookId>> {
        let client = self.client().await?;
        Ok(latest_activation(&*client, tenant)
            .await?
            .map(|(active, _)| active))
    }

    pub(crate) async fn active_books(&self) -> Result<Vec<(TenantId, BookId)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT DISTINCT ON (tenant_id) tenant_id, book_id FROM activations \
                 ORDER BY tenant_id, seq DESC",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((TenantId(get(r, 0)?), BookId(get(r, 1)?))))
            .collect()
    }

    pub(crate) async fn audit(&self, tenant: TenantId, limit: i64) -> Result<Vec<AuditEntry>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, tenant_id, at, actor, action, from_book, to_book, content_hash \
                 FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
                &[&tenant.0, &limit],
            )
            .await?;
        rows.iter()
            .map(|r| {
                AuditRow {
                    id: get(r, 0)?,
                    tenant: get(r, 1)?,
                    at: get(r, 2)?,
                    actor: get(r, 3)?,
                    action: get(r, 4)?,
                    from_book: get(r, 5)?,
                    to_book: get(r, 6)?,
                    content_hash: get(r, 7)?,
                }
                .into_entry()
            })
            .collect()
    }
}

/// Applies every migration newer than the database, in one transaction (see `migrate`).
/// An advisory lock per schema keeps two processes starting together from racing.
async fn migrate(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('crossdock-migrations:' || coalesce(current_schema(), ''), 0))",
    )
    .await?;
    tx.batch_execute(CREATE_SCHEMA_MIGRATIONS).await?;
    let row = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_migrations",
            &[],
        )
        .await?;
    let found: i64 = get(&row, 0)?;
    let known = migrate::known_version(migrate::POSTGRES);
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for m in migrate::POSTGRES.iter().filter(|m| m.version > found) {
        tx.batch_execute(m.sql).await.map_err(|e| {
            StoreError::Backend(format!(
                "postgres migration {}: {}",
                m.version,
                describe(&e)
            ))
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[&m.version, &migrate::unix_now_s()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Locks the tenant's row (`lock` is a fixed row-lock clause); `NotFound` if there is none.
async fn lock_tenant(tx: &Transaction<'_>, tenant: i64, lock: &'static str) -> Result<()> {
    let row = tx
        .query_opt(
            &format!("SELECT 1 FROM tenants WHERE id = $1 {lock}"),
            &[&tenant],
        )
        .await?;
    row.map(|_| ())
        .ok_or_else(|| StoreError::NotFound(TenantId(tenant).to_string()))
}

/// The tenant's active book and the one before it, from the newest activation row.
async fn latest_activation(
    client: &impl GenericClient,
    tenant: TenantId,
) -> Result<Option<(BookId, Option<BookId>)>> {
    let row = client
        .query_opt(
            "SELECT book_id, previous_book_id FROM activations WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
            &[&tenant.0],
        )
        .await?;
    row.map(|r| Ok((BookId(get(&r, 0)?), get::<Option<i64>>(&r, 1)?.map(BookId))))
        .transpose()
}

async fn push_activation(
    tx: &Transaction<'_>,
    tenant: TenantId,
    book: BookId,
    previous: Option<BookId>,
    now: i64,
    actor: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO activations (tenant_id, book_id, previous_book_id, at, actor) VALUES ($1, $2, $3, $4, $5)",
        &[&tenant.0, &book.0, &previous.map(|b| b.0), &now, &actor],
    )
    .await?;
    Ok(())
}

async fn insert_audit(tx: &Transaction<'_>, event: AuditEvent<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO audit_log (tenant_id, at, actor, action, from_book, to_book, content_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &event.tenant.0,
            &event.at,
            &event.actor,
            &event.action.as_str(),
            &event.from_book.map(|b| b.0),
            &event.to_book.map(|b| b.0),
            &event.content_hash,
        ],
    )
    .await?;
    Ok(())
}

/// A column's value, as an error rather than a panic if its type is not the expected one.
fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T> {
    Ok(row.try_get(index)?)
}

const KEY_COLUMNS: &str = "id, tenant_id, customer, roles, label, created_at, revoked_at";

fn key_row(r: &Row) -> Result<KeyRow> {
    Ok(KeyRow {
        id: get(r, 0)?,
        tenant: get(r, 1)?,
        customer: get(r, 2)?,
        roles: get(r, 3)?,
        label: get(r, 4)?,
        created_at: get(r, 5)?,
        revoked_at: get(r, 6)?,
    })
}

const BOOK_COLUMNS: &str =
    "id, tenant_id, content_hash, name, label, report_json, uploaded_by, uploaded_at, size_bytes";

fn book_row(r: &Row) -> Result<BookRecord> {
    Ok(BookRecord {
        id: BookId(get(r, 0)?),
        tenant: TenantId(get(r, 1)?),
        content_hash: get(r, 2)?,
        name: get(r, 3)?,
        label: get(r, 4)?,
        report_json: get(r, 5)?,
        uploaded_by: get(r, 6)?,
        uploaded_at: get(r, 7)?,
        size_bytes: get(r, 8)?,
    })
}

/// The URL with any password replaced, for error messages.
pub(crate) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_password("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_password("postgres://h/db"), "postgres://h/db");
    }
}
