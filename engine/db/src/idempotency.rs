//! `Idempotency-Key` records (api-conventions.md, "Idempotency"): the first answer to a
//! creating `POST`, kept per tenant and key so that a retry with the same body gets exactly
//! that answer, across restarts and processes, and a retry with another body is refused.
//!
//! The HTTP edge drives it (`crossdock-http`): [`claim`] before the handler runs, then
//! [`complete`] with the answer, or [`release`] when the answer is not final (a 5xx: the
//! client should retry and the retry should run). A claim left by a process that died
//! mid-request is taken over once it is [`CLAIM_STALE_S`] old.
//!
//! What it does not know: HTTP. Bodies and fingerprints are bytes here.

use crate::{DbError, Tx};

/// A claim older than this with no answer belongs to a request that will never finish (its
/// process died): the next request with the key runs instead.
pub const CLAIM_STALE_S: i64 = 120;

/// What [`claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its claim was stale): the caller runs the request, then calls
    /// [`complete`] or [`release`].
    Run,
    /// The first answer, to be given again.
    Replay(Stored),
    /// The key was used with another request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// A kept answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// Claims `key` for a request whose fingerprint (method, path, body) is `fingerprint`.
pub fn claim(
    tx: &mut Tx<'_>,
    tenant: i64,
    key: &str,
    fingerprint: &[u8],
    now: i64,
) -> Result<Claim, DbError> {
    let inserted = tx.execute(
        "INSERT INTO db_idempotency (tenant_id, idem_key, fingerprint, status, content_type, body, created_at) \
         VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT (tenant_id, idem_key) DO NOTHING",
        &[&tenant, &key, &fingerprint, &Vec::<u8>::new(), &now],
    )?;
    if inserted == 1 {
        return Ok(Claim::Run);
    }
    let row = tx.query_one(
        "SELECT fingerprint, status, content_type, body, created_at FROM db_idempotency \
         WHERE tenant_id = $1 AND idem_key = $2",
        &[&tenant, &key],
    )?;
    let stored_fingerprint: Vec<u8> = row.get(0)?;
    if stored_fingerprint != fingerprint {
        return Ok(Claim::Mismatch);
    }
    let status: i64 = row.get(1)?;
    if status == 0 {
        let created_at: i64 = row.get(4)?;
        if now - created_at < CLAIM_STALE_S {
            return Ok(Claim::InProgress);
        }
        tx.execute(
            "UPDATE db_idempotency SET created_at = $3 WHERE tenant_id = $1 AND idem_key = $2",
            &[&tenant, &key, &now],
        )?;
        return Ok(Claim::Run);
    }
    Ok(Claim::Replay(Stored {
        status: u16::try_from(status).unwrap_or(500),
        content_type: row.get(2)?,
        body: row.get(3)?,
    }))
}

/// Keeps the answer of a claimed key.
pub fn complete(tx: &mut Tx<'_>, tenant: i64, key: &str, answer: &Stored) -> Result<(), DbError> {
    let status = i64::from(answer.status);
    tx.execute(
        "UPDATE db_idempotency SET status = $3, content_type = $4, body = $5 \
         WHERE tenant_id = $1 AND idem_key = $2",
        &[&tenant, &key, &status, &answer.content_type, &answer.body],
    )?;
    Ok(())
}

/// Gives a claimed key up (the answer was not final).
pub fn release(tx: &mut Tx<'_>, tenant: i64, key: &str) -> Result<(), DbError> {
    tx.execute(
        "DELETE FROM db_idempotency WHERE tenant_id = $1 AND idem_key = $2 AND status = 0",
        &[&tenant, &key],
    )?;
    Ok(())
}

/// Forgets answers kept since before `created_before`; how many.
pub fn prune(tx: &mut Tx<'_>, created_before: i64) -> Result<u64, DbError> {
    tx.execute(
        "DELETE FROM db_idempotency WHERE created_at < $1",
        &[&created_before],
    )
}
