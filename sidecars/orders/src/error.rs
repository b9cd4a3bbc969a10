//! The orders component's one error type and its mapping into the HTTP edge's `ApiError`.

use crossdock_db::DbError;
use crossdock_http::{ApiError, Problem};

/// What can go wrong in the orders component. Business refusals are variants the caller
/// can act on; `Db` and `Failed` are failures of ours (500, logged with the cause).
#[derive(Debug)]
pub enum OrdersError {
    /// No such resource for this caller (another tenant's and customer's included).
    NotFound(&'static str),
    /// The key may not do this (403).
    Forbidden(String),
    /// A request fault, every problem named.
    Invalid(Vec<Problem>),
    /// The resource's state forbids it (`code`: `conflict` or `idempotency_mismatch`).
    Conflict {
        code: &'static str,
        problems: Vec<Problem>,
    },
    /// Refused by a rule (`no_service`, `credit_exceeded`, `range_exhausted`), with extra
    /// detail to answer (the quote's `excluded`, the order's problems).
    Unprocessable {
        code: &'static str,
        problem: Problem,
        extra: Option<(&'static str, serde_json::Value)>,
    },
    /// Over a named limit.
    TooLarge {
        field: &'static str,
        limit: &'static str,
        max: u64,
        unit: &'static str,
    },
    /// No rate book for the tenant (503, safe to retry).
    NoBook,
    Db(DbError),
    Failed(String),
}

impl From<DbError> for OrdersError {
    fn from(e: DbError) -> OrdersError {
        OrdersError::Db(e)
    }
}

impl std::fmt::Display for OrdersError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrdersError::NotFound(what) => write!(f, "no such {what}"),
            OrdersError::Forbidden(why) => f.write_str(why),
            OrdersError::Invalid(p) => write!(f, "invalid request ({} problems)", p.len()),
            OrdersError::Conflict { code, .. } => write!(f, "{code}"),
            OrdersError::Unprocessable { code, .. } => write!(f, "{code}"),
            OrdersError::TooLarge { limit, max, .. } => write!(f, "over {limit} ({max})"),
            OrdersError::NoBook => f.write_str("no rate book"),
            OrdersError::Db(e) => write!(f, "{e}"),
            OrdersError::Failed(why) => f.write_str(why),
        }
    }
}

impl From<OrdersError> for ApiError {
    fn from(e: OrdersError) -> ApiError {
        match e {
            OrdersError::NotFound(what) => ApiError::not_found(what),
            OrdersError::Forbidden(why) => ApiError::forbidden(why),
            OrdersError::Invalid(problems) => ApiError::invalid(problems),
            OrdersError::Conflict { code, problems } => {
                let mut e = ApiError::conflict(code, "");
                e.problems = problems;
                e
            }
            OrdersError::Unprocessable {
                code,
                problem,
                extra,
            } => {
                let e = ApiError::unprocessable(code, &problem.field, problem.problem);
                match extra {
                    Some((key, value)) => e.with_extra(key, value),
                    None => e,
                }
            }
            OrdersError::TooLarge {
                field,
                limit,
                max,
                unit,
            } => ApiError::too_large(field, limit, max, unit),
            OrdersError::NoBook => {
                ApiError::unavailable("no rate book is in force for this tenant")
            }
            OrdersError::Db(e) => ApiError::from(e),
            OrdersError::Failed(why) => ApiError::internal(why),
        }
    }
}

/// A conflict with one problem.
pub fn conflict(code: &'static str, field: &str, problem: impl Into<String>) -> OrdersError {
    OrdersError::Conflict {
        code,
        problems: vec![Problem::new(field, problem)],
    }
}
