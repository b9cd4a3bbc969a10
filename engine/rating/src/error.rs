//! The component's one error type; it maps into the HTTP edge's `ApiError`.

use std::fmt;

/// What can go wrong while changing or reading books; mapped to answers in `http`.
#[derive(Debug)]
pub enum RatingError {
    /// No such book for this tenant (another tenant's is the same as none).
    NotFound,
    /// Rollback asked for, but no earlier book was in force.
    NothingToRollBack,
    /// The book in force changed while this change was prepared; try again.
    Moved,
    /// The upload is not a usable archive (the caller's fault).
    BadArchive(String),
    /// The book fails its checks: the report, as JSON.
    Refused(String),
    /// A failure of ours: the check could not run, a stored book no longer compiles, …
    Failed(String),
    Db(crossdock_db::DbError),
}

impl fmt::Display for RatingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RatingError::NotFound => write!(f, "no such rate book"),
            RatingError::NothingToRollBack => write!(f, "no earlier book was in force"),
            RatingError::Moved => write!(f, "the book in force changed meanwhile"),
            RatingError::BadArchive(why) => write!(f, "not a usable rate book archive: {why}"),
            RatingError::Refused(_) => write!(f, "the rate book fails its checks"),
            RatingError::Failed(why) => write!(f, "{why}"),
            RatingError::Db(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RatingError {}

impl From<crossdock_db::DbError> for RatingError {
    fn from(e: crossdock_db::DbError) -> RatingError {
        RatingError::Db(e)
    }
}
