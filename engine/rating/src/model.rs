//! The rating component's values and error. Pure: no I/O, async, SQL or serde.

use crossdock_http::TenantId;
use std::fmt;

/// A stored rate book. Ids are never reused, but they are only meaningful together with
/// their tenant: every lookup is by (tenant, id).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct BookId(pub i64);

impl fmt::Display for BookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "book {}", self.0)
    }
}

/// A stored rate book's metadata (the archive is read only when a book is compiled).
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
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Publish => "publish",
            AuditAction::Activate => "activate",
            AuditAction::Rollback => "rollback",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        [
            AuditAction::Publish,
            AuditAction::Activate,
            AuditAction::Rollback,
        ]
        .into_iter()
        .find(|a| a.as_str() == text)
    }
}

/// One line of a tenant's audit log.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuditEntry {
    /// Increases with every entry, so it orders a tenant's entries.
    pub id: i64,
    pub tenant: TenantId,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: AuditAction,
    pub from_book: Option<BookId>,
    pub to_book: Option<BookId>,
    /// The content hash of `to_book`.
    pub content_hash: Option<String>,
}
