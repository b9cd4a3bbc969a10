//! The component's one error type; it maps into the HTTP edge's `ApiError`.

use std::fmt;

/// What can go wrong in identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityError {
    /// No such tenant or key for this caller (the two are never told apart).
    NotFound(String),
    /// A tenant of this name exists already.
    Conflict(String),
    /// An argument refused before touching the database, naming the field.
    Invalid {
        field: &'static str,
        problem: String,
    },
    /// A failure of ours (no randomness, …).
    Failed(String),
    Db(crossdock_db::DbError),
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentityError::NotFound(what) => write!(f, "not found: {what}"),
            IdentityError::Conflict(what) => write!(f, "conflict: {what}"),
            IdentityError::Invalid { field, problem } => write!(f, "{field}: {problem}"),
            IdentityError::Failed(what) => write!(f, "{what}"),
            IdentityError::Db(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for IdentityError {}

impl From<crossdock_db::DbError> for IdentityError {
    fn from(e: crossdock_db::DbError) -> IdentityError {
        IdentityError::Db(e)
    }
}

impl From<IdentityError> for crossdock_http::ApiError {
    fn from(e: IdentityError) -> crossdock_http::ApiError {
        use crossdock_http::ApiError;
        match e {
            IdentityError::NotFound(what) => ApiError::not_found(&what),
            IdentityError::Conflict(what) => ApiError::conflict("conflict", what),
            IdentityError::Invalid { field, problem } => ApiError::invalid_field(field, problem),
            IdentityError::Failed(cause) => ApiError::internal(cause),
            IdentityError::Db(e) => e.into(),
        }
    }
}
