//! The one error type of the store.

use std::fmt;

/// What can go wrong in the store. Business outcomes that are not failures (an unknown
/// key, a book id that is not this tenant's when asked with `book`) are `Ok(None)`, not
/// errors; these are the cases where the caller's request cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The named thing does not exist for this tenant (or at all: the two are never told
    /// apart, so a tenant cannot learn of another tenant's rows).
    NotFound(String),
    /// The write would break a uniqueness rule, such as a second tenant of the same name.
    Conflict(String),
    /// `rollback` was asked for but the tenant has no previously active book.
    NothingToRollBack,
    /// The database was migrated by a newer crossdock than this one; refusing to touch it.
    SchemaTooNew { found: i64, known: i64 },
    /// An argument the store refuses before touching the database (an empty tenant name).
    Invalid(String),
    /// The location passed to [`crate::Store::open`] names no backend this crate knows.
    BadLocation(String),
    /// The store was closed, or its writer thread or connection has gone.
    Closed,
    /// The database or driver failed; the text is the driver's message with context.
    Backend(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound(what) => write!(f, "not found: {what}"),
            StoreError::Conflict(what) => write!(f, "conflict: {what}"),
            StoreError::NothingToRollBack => {
                write!(
                    f,
                    "nothing to roll back: the tenant has no previously active book"
                )
            }
            StoreError::SchemaTooNew { found, known } => write!(
                f,
                "the database schema is at version {found}, but this build of crossdock knows \
                 only versions up to {known}; refusing to open it (upgrade crossdock)"
            ),
            StoreError::Invalid(what) => write!(f, "invalid argument: {what}"),
            StoreError::BadLocation(what) => write!(f, "bad database location: {what}"),
            StoreError::Closed => write!(f, "the store is closed"),
            StoreError::Backend(what) => write!(f, "database error: {what}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
