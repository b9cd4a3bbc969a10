//! rating's transaction scripts, written once for both dialects. Only this file names
//! rating's tables (`rating_books`, `rating_activations`, `rating_audit`).
//!
//! Changes to a tenant's books take a per-tenant lock ([`Tx::lock`]) so that two
//! processes activating at once are serialised, as the one SQLite writer serialises them.

use crate::error::RatingError;
use crate::model::{AuditAction, AuditEntry, BookId, BookRecord};
use crossdock_db::{DbError, Row, Tx};
use crossdock_events::BookActivated;
use crossdock_http::TenantId;

const BOOK_COLUMNS: &str =
    "id, tenant_id, content_hash, name, label, report_json, uploaded_by, uploaded_at, size_bytes";
const TENANT_LOCK: &str = "rating.tenant";

fn book_record(r: &Row) -> Result<BookRecord, DbError> {
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

/// An audit entry, written in the transaction of the change it records.
struct Audit<'a> {
    tenant: TenantId,
    at: i64,
    actor: &'a str,
    action: AuditAction,
    from_book: Option<BookId>,
    to_book: Option<BookId>,
    content_hash: Option<&'a str>,
}

fn insert_audit(tx: &mut Tx<'_>, a: &Audit<'_>) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO rating_audit (tenant_id, at, actor, action, from_book, to_book, content_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &a.tenant.0,
            &a.at,
            &a.actor,
            &a.action.as_str(),
            &a.from_book.map(|b| b.0),
            &a.to_book.map(|b| b.0),
            &a.content_hash,
        ],
    )?;
    Ok(())
}

/// Stores a book unless the tenant has one with this content hash, which is returned
/// unchanged (`false`). A new book gets a publish audit entry.
pub(crate) fn put_book(
    tx: &mut Tx<'_>,
    new: &BookRecord,
    archive: &[u8],
) -> Result<(BookRecord, bool), DbError> {
    tx.lock(TENANT_LOCK, new.tenant.0)?;
    let existing = tx.query_opt(
        &format!(
            "SELECT {BOOK_COLUMNS} FROM rating_books WHERE tenant_id = $1 AND content_hash = $2"
        ),
        &[&new.tenant.0, &new.content_hash],
    )?;
    if let Some(row) = existing {
        return Ok((book_record(&row)?, false));
    }
    let id: i64 = tx
        .query_one(
            "INSERT INTO rating_books (tenant_id, content_hash, name, label, report_json, uploaded_by, \
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
        )?
        .get(0)?;
    let stored = BookRecord {
        id: BookId(id),
        ..new.clone()
    };
    insert_audit(
        tx,
        &Audit {
            tenant: stored.tenant,
            at: stored.uploaded_at,
            actor: &stored.uploaded_by,
            action: AuditAction::Publish,
            from_book: None,
            to_book: Some(stored.id),
            content_hash: Some(&stored.content_hash),
        },
    )?;
    Ok((stored, true))
}

pub(crate) fn book(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    id: BookId,
) -> Result<Option<BookRecord>, DbError> {
    tx.query_opt(
        &format!("SELECT {BOOK_COLUMNS} FROM rating_books WHERE tenant_id = $1 AND id = $2"),
        &[&tenant.0, &id.0],
    )?
    .map(|r| book_record(&r))
    .transpose()
}

pub(crate) fn book_archive(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    id: BookId,
) -> Result<Option<Vec<u8>>, DbError> {
    tx.query_opt(
        "SELECT archive FROM rating_books WHERE tenant_id = $1 AND id = $2",
        &[&tenant.0, &id.0],
    )?
    .map(|r| r.get(0))
    .transpose()
}

/// The tenant's books, newest first, with ids below `before` if given.
pub(crate) fn list_books(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<BookRecord>, DbError> {
    tx.query(
        &format!(
            "SELECT {BOOK_COLUMNS} FROM rating_books WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
        ),
        &[&tenant.0, &before.unwrap_or(i64::MAX), &limit],
    )?
    .iter()
    .map(book_record)
    .collect()
}

/// The tenant's newest activation: (active book, the one before it).
fn latest_activation(
    tx: &mut Tx<'_>,
    tenant: TenantId,
) -> Result<Option<(BookId, Option<BookId>)>, DbError> {
    tx.query_opt(
        "SELECT book_id, previous_book_id FROM rating_activations WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
        &[&tenant.0],
    )?
    .map(|r| Ok((BookId(r.get(0)?), r.get::<Option<i64>>(1)?.map(BookId))))
    .transpose()
}

pub(crate) fn active_book(tx: &mut Tx<'_>, tenant: TenantId) -> Result<Option<BookId>, DbError> {
    Ok(latest_activation(tx, tenant)?.map(|(active, _)| active))
}

/// (active, previous) of the tenant: what a rollback would return to.
pub(crate) fn active_pair(
    tx: &mut Tx<'_>,
    tenant: TenantId,
) -> Result<Option<(BookId, Option<BookId>)>, DbError> {
    latest_activation(tx, tenant)
}

/// Every tenant's active book: what a process loads at start. The one read that spans
/// tenants, by design.
pub(crate) fn active_books(tx: &mut Tx<'_>) -> Result<Vec<(TenantId, BookId)>, DbError> {
    tx.query(
        "SELECT a.tenant_id, a.book_id FROM rating_activations a \
         WHERE a.seq = (SELECT MAX(seq) FROM rating_activations WHERE tenant_id = a.tenant_id) \
         ORDER BY a.tenant_id",
        &[],
    )?
    .iter()
    .map(|r| Ok((TenantId(r.get(0)?), BookId(r.get(1)?))))
    .collect()
}

fn push_activation(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    to: BookId,
    from: Option<BookId>,
    how: AuditAction,
    actor: &str,
    now: i64,
) -> Result<(), DbError> {
    let hash: String = tx
        .query_one(
            "SELECT content_hash FROM rating_books WHERE tenant_id = $1 AND id = $2",
            &[&tenant.0, &to.0],
        )?
        .get(0)?;
    tx.execute(
        "INSERT INTO rating_activations (tenant_id, book_id, previous_book_id, at, actor) VALUES ($1, $2, $3, $4, $5)",
        &[&tenant.0, &to.0, &from.map(|b| b.0), &now, &actor],
    )?;
    insert_audit(
        tx,
        &Audit {
            tenant,
            at: now,
            actor,
            action: how,
            from_book: from,
            to_book: Some(to),
            content_hash: Some(&hash),
        },
    )?;
    crossdock_events::emit(
        tx,
        tenant.0,
        now,
        &BookActivated {
            book_id: to.0,
            previous_book_id: from.map(|b| b.0),
            content_hash: hash,
            actor: actor.to_owned(),
            how: how.as_str().to_owned(),
        },
    )?;
    Ok(())
}

/// Makes the tenant's book `id` active; the book that was active before. Activating the
/// active book changes and records nothing. With the history entry: an audit entry and
/// `book.activated`.
pub(crate) fn activate(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    id: BookId,
    actor: &str,
    now: i64,
) -> Result<Option<BookId>, RatingError> {
    tx.lock(TENANT_LOCK, tenant.0)?;
    if book(tx, tenant, id)?.is_none() {
        return Err(RatingError::NotFound);
    }
    let current = active_book(tx, tenant)?;
    if current == Some(id) {
        return Ok(current);
    }
    push_activation(tx, tenant, id, current, AuditAction::Activate, actor, now)?;
    Ok(current)
}

/// Swaps back to the book in force before the current one, provided the pair is still
/// `(expected_current, expected_target)` (the caller compiled the target first); a second
/// rollback swaps forward again.
pub(crate) fn rollback(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    expected: (BookId, BookId),
    actor: &str,
    now: i64,
) -> Result<BookId, RatingError> {
    tx.lock(TENANT_LOCK, tenant.0)?;
    match latest_activation(tx, tenant)? {
        Some((current, Some(previous))) if (current, previous) == expected => {
            push_activation(
                tx,
                tenant,
                previous,
                Some(current),
                AuditAction::Rollback,
                actor,
                now,
            )?;
            Ok(previous)
        }
        Some((_, Some(_))) => Err(RatingError::Moved),
        _ => Err(RatingError::NothingToRollBack),
    }
}

/// The tenant's audit entries, newest first, with ids below `before` if given.
pub(crate) fn audit(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    tx.query(
        "SELECT id, tenant_id, at, actor, action, from_book, to_book, content_hash FROM rating_audit \
         WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        &[&tenant.0, &before.unwrap_or(i64::MAX), &limit],
    )?
    .iter()
    .map(|r| {
        let action: String = r.get(4)?;
        Ok(AuditEntry {
            id: r.get(0)?,
            tenant: TenantId(r.get(1)?),
            at: r.get(2)?,
            actor: r.get(3)?,
            action: AuditAction::parse(&action)
                .ok_or_else(|| DbError::Decode(format!("unknown audit action {action:?}")))?,
            from_book: r.get::<Option<i64>>(5)?.map(BookId),
            to_book: r.get::<Option<i64>>(6)?.map(BookId),
            content_hash: r.get(7)?,
        })
    })
    .collect()
}
