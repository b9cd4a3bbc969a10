//! rating's routes, one file per resource: quotes, bulk routing, rate books, what-ifs.
//! DTOs (serde) live here only; every error becomes an answer through [`ApiError`].

mod books;
mod bulk;
mod quotes;
mod schema;
mod whatif;

use crate::Rating;
use crate::error::RatingError;
use crossdock_http::{ApiError, Principal, Role};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type AppState = Arc<Rating>;

pub(crate) fn router(rating: Arc<Rating>) -> OpenApiRouter {
    use axum::extract::DefaultBodyLimit;
    let c = &rating.config;
    let quote = OpenApiRouter::new()
        .routes(routes!(quotes::quote))
        .layer(DefaultBodyLimit::max(c.quote_body_bytes_max));
    let batch = OpenApiRouter::new()
        .routes(routes!(quotes::quote_batch))
        .routes(routes!(bulk::route))
        .layer(DefaultBodyLimit::max(c.batch_body_bytes_max));
    let uploads = OpenApiRouter::new()
        .routes(routes!(books::upload_book, books::list_books))
        .routes(routes!(whatif::put_replay))
        .layer(DefaultBodyLimit::max(c.upload_bytes_max));
    let rest = OpenApiRouter::new()
        .routes(routes!(books::audit))
        .routes(routes!(books::rollback_book))
        .routes(routes!(books::get_book))
        .routes(routes!(books::activate_book))
        .routes(routes!(whatif::diff_book))
        .routes(routes!(whatif::list_replays));
    quote
        .merge(batch)
        .merge(uploads)
        .merge(rest)
        .with_state(rating)
}

impl From<RatingError> for ApiError {
    fn from(e: RatingError) -> ApiError {
        match e {
            RatingError::NotFound => ApiError::not_found("rate book"),
            RatingError::NothingToRollBack => {
                ApiError::conflict("nothing_to_roll_back", "no earlier book was in force")
            }
            RatingError::Moved => {
                ApiError::conflict("conflict", "the book in force changed meanwhile; try again")
            }
            RatingError::BadArchive(why) => ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_archive",
                "body",
                format!("not a usable rate book archive: {why}"),
            ),
            RatingError::Refused(report) => ApiError::unprocessable(
                "book_refused",
                "body",
                "the rate book fails its checks; see report",
            )
            .with_extra(
                "report",
                serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
            ),
            RatingError::Failed(cause) => ApiError::internal(cause),
            RatingError::Db(e) => e.into(),
        }
    }
}

/// Operators, analysts and admins may quote as any customer of their tenant; a customer
/// key only as its own, and a key without roles beyond shipper only as no customer or its
/// own.
pub(crate) fn may_quote_as(principal: &Principal, customer: Option<&str>) -> bool {
    principal.has(Role::Analyst)
        || principal.has(Role::Admin)
        || principal.has(Role::Operator)
        || customer.is_none()
        || customer == principal.customer.as_deref()
}

pub(crate) fn no_book() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "no_rate_book",
        "",
        "this tenant has no rate book in force; publish and activate one",
    )
}

/// A book id from the path; anything else is a book that does not exist.
pub(crate) fn parse_book_id(id: &str) -> Result<crate::BookId, ApiError> {
    id.parse::<i64>()
        .map(crate::BookId)
        .map_err(|_| ApiError::not_found("rate book"))
}
