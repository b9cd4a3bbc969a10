//! The values the store takes and gives: ids, roles, key, book and audit records.

use crate::error::{Result, StoreError};
use std::fmt;

/// A tenant: one customer organisation of crossdock. Every other row belongs to one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct TenantId(pub i64);

/// An API key's public id: 12 characters of lowercase base32, unique across all tenants,
/// stored in clear and safe to log. It is the middle part of the presented key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct KeyId(pub String);

/// A stored rate book. Ids are never reused, but they are only meaningful together with
/// their tenant: every lookup is by (tenant, id).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct BookId(pub i64);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tenant {}", self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {}", self.0)
    }
}

impl fmt::Display for BookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "book {}", self.0)
    }
}

/// What an API key may do. The store only keeps roles; the server decides what each allows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Role {
    Shipper,
    Analyst,
    Admin,
}

impl Role {
    /// Every role, in the canonical order roles are stored and returned in.
    pub const ALL: [Role; 3] = [Role::Shipper, Role::Analyst, Role::Admin];

    /// The role's name as stored: `shipper`, `analyst` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Shipper => "shipper",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }

    /// The role named `text` (as written by [`Role::as_str`]), if any.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Roles as stored: canonical order, no duplicates, comma-separated (`shipper,admin`).
pub(crate) fn roles_to_text(roles: &[Role]) -> String {
    let names: Vec<&str> = Role::ALL
        .into_iter()
        .filter(|r| roles.contains(r))
        .map(Role::as_str)
        .collect();
    names.join(",")
}

pub(crate) fn roles_from_text(text: &str) -> Result<Vec<Role>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|name| {
            Role::parse(name)
                .ok_or_else(|| StoreError::Backend(format!("stored key has unknown role {name:?}")))
        })
        .collect()
}

/// A key to be created. `customer` narrows a key to one of the tenant's customers (the
/// price rows' customer code); `None` acts for the tenant as a whole.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NewKey {
    pub tenant: TenantId,
    pub customer: Option<String>,
    /// Stored and returned in canonical order ([`Role::ALL`]) without duplicates.
    pub roles: Vec<Role>,
    pub label: String,
}

/// A stored API key, without its secret (which the store never keeps).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct KeyRecord {
    pub id: KeyId,
    pub tenant: TenantId,
    pub customer: Option<String>,
    /// Canonical order ([`Role::ALL`]), no duplicates.
    pub roles: Vec<Role>,
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; a key with any `revoked_at` is refused by `verify_key`.
    pub revoked_at: Option<i64>,
}

/// A newly created key and its secret, which exists only here: the store keeps its SHA-256.
/// `Debug` redacts the secret, so logging this value cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct CreatedKey {
    pub record: KeyRecord,
    /// The whole key as a client presents it: `cdk_<key id>_<secret part>`. Show it once.
    pub secret: String,
}

impl fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKey")
            .field("record", &self.record)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A stored rate book's metadata. The archive itself is read only by `book_archive`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BookRecord {
    pub id: BookId,
    pub tenant: TenantId,
    /// The book's content hash (crossdock-tables' SHA-256): unique per tenant.
    pub content_hash: String,
    pub name: String,
    pub label: String,
    /// The check report (warnings) as JSON, kept as given.
    pub report_json: String,
    pub uploaded_by: String,
    /// Unix seconds.
    pub uploaded_at: i64,
    /// Length of the stored archive.
    pub size_bytes: i64,
}

/// What an audit entry records.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AuditAction {
    /// A book was stored for the first time (`to_book`, `content_hash`).
    Publish,
    /// A book was made active (`from_book` the one it replaced, if any; `to_book`).
    Activate,
    /// The previously active book was made active again (`from_book`, `to_book`).
    Rollback,
}

impl AuditAction {
    /// The action's name as stored: `publish`, `activate` or `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Publish => "publish",
            AuditAction::Activate => "activate",
            AuditAction::Rollback => "rollback",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<AuditAction> {
        match text {
            "publish" => Ok(AuditAction::Publish),
            "activate" => Ok(AuditAction::Activate),
            "rollback" => Ok(AuditAction::Rollback),
            other => Err(StoreError::Backend(format!(
                "stored audit entry has unknown action {other:?}"
            ))),
        }
    }
}

/// One line of a tenant's audit log.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuditEntry {
    /// Increases with every entry (across tenants), so it orders a tenant's entries.
    pub id: i64,
    pub tenant: TenantId,
    /// Unix seconds, as given by the caller.
    pub at: i64,
    pub actor: String,
    pub action: AuditAction,
    pub from_book: Option<BookId>,
    pub to_book: Option<BookId>,
    /// The content hash of `to_book`.
    pub content_hash: Option<String>,
}

/// A key row as both backends read it, before its text columns are parsed.
pub(crate) struct KeyRow {
    pub id: String,
    pub tenant: i64,
    pub customer: Option<String>,
    pub roles: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl KeyRow {
    pub(crate) fn into_record(self) -> Result<KeyRecord> {
        Ok(KeyRecord {
            id: KeyId(self.id),
            tenant: TenantId(self.tenant),
            customer: self.customer,
            roles: roles_from_text(&self.roles)?,
            label: self.label,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

/// An audit row as both backends read it, before its action is parsed.
pub(crate) struct AuditRow {
    pub id: i64,
    pub tenant: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub from_book: Option<i64>,
    pub to_book: Option<i64>,
    pub content_hash: Option<String>,
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> Result<AuditEntry> {
        Ok(AuditEntry {
            id: self.id,
            tenant: TenantId(self.tenant),
            at: self.at,
            actor: self.actor,
            action: AuditAction::parse(&self.action)?,
            from_book: self.from_book.map(BookId),
            to_book: self.to_book.map(BookId),
            content_hash: self.content_hash,
        })
    }
}

/// An audit entry to be written, inside the transaction of the change it records.
pub(crate) struct AuditEvent<'a> {
    pub tenant: TenantId,
    pub at: i64,
    pub actor: &'a str,
    pub action: AuditAction,
    pub from_book: Option<BookId>,
    pub to_book: Option<BookId>,
    pub content_hash: Option<&'a str>,
}
