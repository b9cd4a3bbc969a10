//! identity's transaction scripts, written once for both dialects. Only this file names
//! identity's tables (`identity_tenants`, `identity_keys`).

use crate::error::IdentityError;
use crate::model::{KeyId, KeyRecord};
use crossdock_db::{DbError, Row, Tx};
use crossdock_events::KeyRevoked;
use crossdock_http::{Role, TenantId};

pub(crate) fn create_tenant(
    tx: &mut Tx<'_>,
    name: &str,
    now: i64,
) -> Result<TenantId, IdentityError> {
    let row = tx.query_opt(
        "INSERT INTO identity_tenants (name, created_at) VALUES ($1, $2) \
         ON CONFLICT (name) DO NOTHING RETURNING id",
        &[&name, &now],
    )?;
    match row {
        Some(row) => Ok(TenantId(row.get(0)?)),
        None => Err(IdentityError::Conflict(format!(
            "a tenant named {name:?} already exists"
        ))),
    }
}

pub(crate) fn tenant_by_name(tx: &mut Tx<'_>, name: &str) -> Result<Option<TenantId>, DbError> {
    tx.query_opt("SELECT id FROM identity_tenants WHERE name = $1", &[&name])?
        .map(|r| r.get(0).map(TenantId))
        .transpose()
}

fn tenant_exists(tx: &mut Tx<'_>, tenant: TenantId) -> Result<bool, DbError> {
    Ok(tx
        .query_opt("SELECT 1 FROM identity_tenants WHERE id = $1", &[&tenant.0])?
        .is_some())
}

/// The stored form of a key, as inserted.
pub(crate) struct KeyRow<'a> {
    pub id: &'a str,
    pub tenant: TenantId,
    pub customer: Option<&'a str>,
    pub roles: &'a [Role],
    pub label: &'a str,
    pub created_at: i64,
}

/// Inserts a key; `Ok(false)` if the key id is taken (the caller mints another).
pub(crate) fn insert_key(
    tx: &mut Tx<'_>,
    key: &KeyRow<'_>,
    secret_sha256: &[u8; 32],
) -> Result<bool, IdentityError> {
    if !tenant_exists(tx, key.tenant)? {
        return Err(IdentityError::NotFound(format!("tenant {}", key.tenant.0)));
    }
    let roles = Role::list_to_text(key.roles);
    let inserted = tx.execute(
        "INSERT INTO identity_keys (id, tenant_id, customer, roles, label, secret_sha256, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        &[&key.id, &key.tenant.0, &key.customer, &roles, &key.label, &&secret_sha256[..], &key.created_at],
    )?;
    Ok(inserted == 1)
}

const KEY_COLUMNS: &str = "id, tenant_id, customer, roles, label, created_at, revoked_at";

fn key_record(row: &Row) -> Result<KeyRecord, DbError> {
    let roles: String = row.get(3)?;
    let roles = if roles.is_empty() {
        Vec::new()
    } else {
        Role::parse_list(&roles.split(',').collect::<Vec<_>>()).map_err(DbError::Decode)?
    };
    Ok(KeyRecord {
        id: KeyId(row.get(0)?),
        tenant: TenantId(row.get(1)?),
        customer: row.get(2)?,
        roles,
        label: row.get(4)?,
        created_at: row.get(5)?,
        revoked_at: row.get(6)?,
    })
}

/// The key with this id, in any tenant (a presented key names no tenant), with its
/// stored secret hash.
pub(crate) fn key_by_id(
    tx: &mut Tx<'_>,
    id: &str,
) -> Result<Option<(KeyRecord, Vec<u8>)>, DbError> {
    let sql = format!("SELECT {KEY_COLUMNS}, secret_sha256 FROM identity_keys WHERE id = $1");
    tx.query_opt(&sql, &[&id])?
        .map(|row| Ok((key_record(&row)?, row.get(7)?)))
        .transpose()
}

/// The tenant's keys, newest first, after `(created_at, id)` if given, at most `limit`.
pub(crate) fn list_keys(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<KeyRecord>, DbError> {
    let rows = match after {
        None => tx.query(
            &format!("SELECT {KEY_COLUMNS} FROM identity_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"),
            &[&tenant.0, &limit],
        )?,
        Some((created_at, id)) => tx.query(
            &format!(
                "SELECT {KEY_COLUMNS} FROM identity_keys WHERE tenant_id = $1 AND (created_at, id) < ($2, $3) \
                 ORDER BY created_at DESC, id DESC LIMIT $4"
            ),
            &[&tenant.0, &created_at, &id, &limit],
        )?,
    };
    rows.iter().map(key_record).collect()
}

/// Revokes the tenant's key; `false` if the tenant has no such key. The first revocation
/// emits `key.revoked` in the same transaction; revoking again keeps the first time and
/// emits nothing.
pub(crate) fn revoke_key(
    tx: &mut Tx<'_>,
    tenant: TenantId,
    id: &str,
    actor: &str,
    now: i64,
) -> Result<bool, DbError> {
    let found = tx.query_opt(
        "SELECT revoked_at FROM identity_keys WHERE tenant_id = $1 AND id = $2",
        &[&tenant.0, &id],
    )?;
    let Some(row) = found else { return Ok(false) };
    if row.get::<Option<i64>>(0)?.is_some() {
        return Ok(true);
    }
    tx.execute(
        "UPDATE identity_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3",
        &[&now, &tenant.0, &id],
    )?;
    crossdock_events::emit(
        tx,
        tenant.0,
        now,
        &KeyRevoked {
            key_id: id.to_owned(),
            actor: actor.to_owned(),
        },
    )?;
    Ok(true)
}
