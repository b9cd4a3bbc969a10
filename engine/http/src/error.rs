//! The one error → response mapping (api-conventions.md, "Errors").
//!
//! Every component's error type converts into [`ApiError`]; nothing else writes an error
//! answer. A failure of ours ([`ApiError::internal`]) is logged with its cause and answered
//! 500 with a fixed message: no database, driver or file-system text reaches a client, and
//! a server-side failure is never reported as the caller's fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crossdock_db::DbError;
use serde::Serialize;

/// One problem of a request: the field at fault (dotted path, `""` for the whole request)
/// and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub field: String,
    pub problem: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// The error body every route answers: `{"error": code, "problems": [...]}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code: invalid_request, unauthorized, forbidden, not_found, conflict,
    /// idempotency_mismatch, too_large, unprocessable, credit_exceeded, range_exhausted,
    /// rate_limited, unavailable, internal, or a route's own (book_refused, …).
    pub error: String,
    pub problems: Vec<Problem>,
}

/// The fixed answer to every failure of ours.
pub const INTERNAL_MESSAGE: &str =
    "the server failed to answer this request; the failure is logged";

/// An error answer: status, stable code, every problem, and `Retry-After` for 429/503.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub problems: Vec<Problem>,
    pub retry_after_s: Option<u64>,
    /// Another member of the body (a refused rate book's `report`).
    pub extra: Option<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        field: &str,
        problem: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            problems: vec![Problem::new(field, problem)],
            retry_after_s: None,
            extra: None,
        }
    }

    /// 400 with every problem found.
    pub fn invalid(problems: Vec<Problem>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            problems,
            retry_after_s: None,
            extra: None,
        }
    }

    pub fn invalid_field(field: &str, problem: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", field, problem)
    }

    pub fn unauthorized(why: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "authorization",
            why,
        )
    }

    pub fn forbidden(why: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "", why)
    }

    /// 404 for absent resources, including other tenants' and customers'.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "",
            format!("no such {what}"),
        )
    }

    pub fn conflict(code: &'static str, problem: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, "", problem)
    }

    /// 413 naming the limit that was passed.
    pub fn too_large(
        field: &str,
        limit_name: &str,
        limit: impl std::fmt::Display,
        unit: &str,
    ) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            field,
            format!("over the limit {limit_name} = {limit} {unit}"),
        )
    }

    pub fn unprocessable(code: &'static str, field: &str, problem: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, field, problem)
    }

    pub fn rate_limited(retry_after_s: u64) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "",
            format!("too many requests for this key; retry in {retry_after_s} s"),
        );
        e.retry_after_s = Some(retry_after_s);
        e
    }

    /// 503: not ready, or storage unreachable; safe to retry.
    pub fn unavailable(why: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "", why);
        e.retry_after_s = Some(1);
        e
    }

    /// A failure of ours: the cause is logged here, the client gets the fixed message.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(cause = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "",
            INTERNAL_MESSAGE,
        )
    }

    /// An error for a request body axum could not read (too large, or cut off).
    pub fn body(
        rejection: axum::extract::rejection::BytesRejection,
        limit_name: &str,
        limit: usize,
    ) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large("body", limit_name, limit, "bytes")
        } else {
            ApiError::invalid_field("body", "the body could not be read")
        }
    }

    pub fn with_extra(mut self, key: &'static str, value: serde_json::Value) -> ApiError {
        self.extra = Some((key, value));
        self
    }

    /// The body's JSON.
    pub fn body_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "error": self.code, "problems": self.problems });
        if let Some((key, value)) = &self.extra {
            body[*key] = value.clone();
        }
        body
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::Unavailable(cause) => {
                tracing::warn!(cause = %cause, "storage unavailable");
                ApiError::unavailable("storage is unavailable; retry shortly")
            }
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body_json().to_string(),
        )
            .into_response();
        if let Some(seconds) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A JSON answer with a status.
pub fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => ApiError::internal(format!("answer not serialisable: {e}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let e: ApiError =
            DbError::Backend("sqlite /var/lib/secret.db: disk I/O error".into()).into();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
        let body = e.body_json().to_string();
        assert!(
            !body.contains("secret.db") && !body.contains("disk"),
            "{body}"
        );
        assert!(body.contains(INTERNAL_MESSAGE));
    }

    #[test]
    fn unavailable_storage_is_503_with_retry_after() {
        let e: ApiError = DbError::Unavailable("connection refused at 10.0.0.1".into()).into();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.retry_after_s, Some(1));
        assert!(!e.body_json().to_string().contains("10.0.0.1"));
    }

    #[test]
    fn too_large_names_the_limit() {
        let e = ApiError::too_large("body", "batch_lines_max", 10_000, "lines");
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            e.problems[0].problem,
            "over the limit batch_lines_max = 10000 lines"
        );
    }
}
