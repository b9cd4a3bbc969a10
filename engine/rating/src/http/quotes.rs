//! `POST /v1/quotes` and `POST /v1/quotes/batch`.

use super::{AppState, may_quote_as, no_book};
use crate::metrics::Outcome;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crossdock_api::{
    Answer, Defaults, FieldProblem, answer_request, parse_request_str, render_error,
};
use crossdock_engine::{Currency, Quote, Scratch};
use crossdock_http::{ApiError, Edge, ErrorBody, Principal, Problem};
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

thread_local! {
    /// Per-thread working memory for quotes: a steady stream of quotes allocates only answers.
    static WORK: RefCell<(Scratch, Quote)> = RefCell::new((
        Scratch::default(),
        Quote::new(Currency::from_code("USD").unwrap_or_else(|| unreachable!("USD is an ISO 4217 currency"))),
    ));
}

fn problems(list: Vec<FieldProblem>) -> Vec<Problem> {
    list.into_iter()
        .map(|p| Problem::new(p.field, p.problem))
        .collect()
}

/// One quote, priced by the tenant's book in force, exactly as `crossdock quote` answers
/// (quote-api.md).
#[utoipa::path(post, path = "/v1/quotes", tag = "quotes", security(("api_key" = [])),
    request_body(content = super::schema::QuoteRequest, description = "a quote request (quote-api.md)", content_type = "application/json"),
    responses(
        (status = 200, description = "the quote: options best first, excluded services with reasons, customs issues", body = super::schema::QuoteAnswer),
        (status = 400, description = "invalid_request, every problem named", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden: another customer", body = ErrorBody),
        (status = 413, description = "too_large: quote_body_bytes_max", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "no_rate_book", body = ErrorBody)))]
pub(crate) async fn quote(
    State(rating): State<AppState>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let (outcome, response) = match quote_one(&rating, principal, body) {
        Ok(answer) => answer,
        Err((outcome, e)) => (outcome, e.into_response()),
    };
    rating.metrics.quote(outcome, started.elapsed(), 1);
    response
}

fn quote_one(
    rating: &crate::Rating,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Outcome, Response), (Outcome, ApiError)> {
    let principal = principal.map_err(|e| (outcome_of(&e), e))?;
    let body = body.map_err(|e| {
        (
            Outcome::TooLarge,
            ApiError::body(
                e,
                "quote_body_bytes_max",
                rating.config.quote_body_bytes_max,
            ),
        )
    })?;
    let live = rating
        .live_book(principal.tenant)
        .ok_or_else(|| (Outcome::Unavailable, no_book()))?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        (
            Outcome::Invalid,
            ApiError::invalid_field("", "the body is not UTF-8 text"),
        )
    })?;
    let defaults = Defaults {
        today: rating.today(),
        customer: principal.customer.clone(),
        explain: true,
    };
    let request = parse_request_str(text, &defaults)
        .map_err(|list| (Outcome::Invalid, ApiError::invalid(problems(list))))?;
    if !may_quote_as(&principal, request.customer.as_deref()) {
        return Err((
            Outcome::Forbidden,
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "customer",
                "this key may quote only as its own customer",
            ),
        ));
    }
    let answer = WORK.with(|work| {
        let (scratch, quote) = &mut *work.borrow_mut();
        answer_request(&live.book, &request, scratch, quote)
    });
    Ok(match answer {
        Answer::Quoted(body) => (
            Outcome::Ok,
            ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        ),
        Answer::Invalid(body) => (
            Outcome::Invalid,
            (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
        ),
    })
}

fn outcome_of(e: &ApiError) -> Outcome {
    match e.status {
        StatusCode::TOO_MANY_REQUESTS => Outcome::RateLimited,
        StatusCode::UNAUTHORIZED => Outcome::Unauthorized,
        _ => Outcome::Unavailable,
    }
}

/// NDJSON in, NDJSON out: one answer (or error object) per non-empty line, in order, at
/// most `batch_lines_max` lines. Priced on a blocking thread, never on the async workers.
#[utoipa::path(post, path = "/v1/quotes/batch", tag = "quotes", security(("api_key" = [])),
    request_body(content = String, description = "one quote request per line", content_type = "application/x-ndjson"),
    responses(
        (status = 200, description = "one answer per line, in order", body = String, content_type = "application/x-ndjson"),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, description = "too_large: batch_body_bytes_max or batch_lines_max", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, description = "no_rate_book", body = ErrorBody)))]
pub(crate) async fn quote_batch(
    State(rating): State<AppState>,
    axum::Extension(edge): axum::Extension<Arc<Edge>>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    match batch(&rating, &edge, principal, body).await {
        Ok((count, out)) => {
            rating.metrics.quote(Outcome::Ok, started.elapsed(), count);
            ([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response()
        }
        Err((outcome, e)) => {
            rating.metrics.quote(outcome, started.elapsed(), 1);
            e.into_response()
        }
    }
}

async fn batch(
    rating: &Arc<crate::Rating>,
    edge: &Edge,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(u64, String), (Outcome, ApiError)> {
    let principal = principal.map_err(|e| (outcome_of(&e), e))?;
    let body = body.map_err(|e| {
        (
            Outcome::TooLarge,
            ApiError::body(
                e,
                "batch_body_bytes_max",
                rating.config.batch_body_bytes_max,
            ),
        )
    })?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        (
            Outcome::Invalid,
            ApiError::invalid_field("", "the body is not UTF-8 text"),
        )
    })?;
    // Count before any work or memory per line: a refused batch costs nothing.
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    let lines_max = rating.config.batch_lines_max;
    if lines > lines_max {
        return Err((
            Outcome::TooLarge,
            ApiError::too_large("body", "batch_lines_max", lines_max, "lines"),
        ));
    }
    // The extractor took one token; the batch pays for each line.
    edge.limiter
        .take(
            &principal.key_id,
            u32::try_from(lines.saturating_sub(1)).unwrap_or(u32::MAX),
        )
        .map_err(|e| (Outcome::RateLimited, e))?;
    let live = rating
        .live_book(principal.tenant)
        .ok_or_else(|| (Outcome::Unavailable, no_book()))?;
    let defaults = Defaults {
        today: rating.today(),
        customer: principal.customer.clone(),
        explain: true,
    };
    let out = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        WORK.with(|work| {
            let (scratch, quote) = &mut *work.borrow_mut();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let answer = match parse_request_str(line, &defaults) {
                    Err(problems) => Answer::Invalid(render_error("invalid_request", &problems)),
                    Ok(request) if !may_quote_as(&principal, request.customer.as_deref()) => {
                        Answer::Invalid(render_error(
                            "forbidden",
                            &[FieldProblem::new(
                                "customer",
                                "this key may quote only as its own customer",
                            )],
                        ))
                    }
                    Ok(request) => answer_request(&live.book, &request, scratch, quote),
                };
                out.push_str(answer.body());
                out.push('\n');
            }
        });
        out
    })
    .await
    .map_err(|e| {
        (
            Outcome::Unavailable,
            ApiError::internal(format!("the batch task failed: {e}")),
        )
    })?;
    Ok((lines as u64, out))
}
