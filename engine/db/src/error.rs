//! The one error type of the storage machinery.

use std::fmt;

/// What went wrong below a component's transaction script. The text of `Backend` is the
/// driver's and may name tables, files or hosts: it is for logs, never for a client (the
/// HTTP edge answers every `DbError` but `Unavailable` with a fixed 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// A row would break a unique rule; `constraint` names the index or constraint when the
    /// driver says which (PostgreSQL does; SQLite gives the columns).
    Unique { constraint: String },
    /// A database written by a newer crossdock: refused rather than touched.
    SchemaTooNew {
        component: String,
        found: i64,
        known: i64,
    },
    /// The location given to [`crate::Db::open`] names no backend this crate knows.
    BadLocation(String),
    /// A value read back had another type than the script asked for (a bug or a schema
    /// drift), or a query that must answer a row answered none.
    Decode(String),
    /// The database cannot be reached, or its worker threads have gone: safe to retry later.
    Unavailable(String),
    /// The database or driver failed; the driver's message with context.
    Backend(String),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::Unique { constraint } => write!(f, "unique rule broken: {constraint}"),
            DbError::SchemaTooNew {
                component,
                found,
                known,
            } => write!(
                f,
                "the {component} schema is at version {found}, but this build of crossdock knows \
                 only versions up to {known}; refusing to open it (upgrade crossdock)"
            ),
            DbError::BadLocation(what) => write!(f, "bad database location: {what}"),
            DbError::Decode(what) => write!(f, "unexpected value from the database: {what}"),
            DbError::Unavailable(what) => write!(f, "database unavailable: {what}"),
            DbError::Backend(what) => write!(f, "database error: {what}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        if let rusqlite::Error::SqliteFailure(code, message) = &e
            && matches!(
                code.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            )
        {
            return DbError::Unique {
                constraint: message.clone().unwrap_or_default(),
            };
        }
        DbError::Backend(format!("sqlite: {e}"))
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        if let Some(db) = e.as_db_error()
            && *db.code() == postgres::error::SqlState::UNIQUE_VIOLATION
        {
            return DbError::Unique {
                constraint: db.constraint().unwrap_or_default().to_owned(),
            };
        }
        if e.is_closed() {
            return DbError::Unavailable(format!("postgres: {}", describe(&e)));
        }
        DbError::Backend(format!("postgres: {}", describe(&e)))
    }
}

/// The error and its causes: the driver puts the useful part (the server's message, the
/// refused connection) in the source, not in its own `Display`.
pub(crate) fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
