//! `Idempotency-Key` on every `POST` (api-conventions.md, "Idempotency"), in one place for
//! every component: the first final answer to a key is kept per tenant in the database
//! (`crossdock_db::idempotency`) and given again, same status and body, to a retry with the
//! same request, across restarts and processes; the same key with another request answers
//! `409 idempotency_mismatch`. A retry that arrives while the first request runs waits for
//! its answer (up to [`WAIT_MS_MAX`]), then answers `409 conflict`.
//!
//! Final answers are kept: 2xx and 4xx but 429. A 5xx, 429 or 503 is not final (a retry
//! should run again), so its key is released. A process that dies mid-request leaves a
//! claim that a retry takes over after `crossdock_db::idempotency::CLAIM_STALE_S`.
//!
//! The request is identified by method, path and query, and body (SHA-256): the same key
//! sent to another route is a mismatch.

use crate::{ApiError, Edge, Principal};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crossdock_db::idempotency::{self, Claim, Stored};
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// The header.
pub const HEADER: &str = "idempotency-key";
/// Longest key, in characters (printable ASCII).
pub const KEY_CHARS_MAX: usize = 255;
/// Largest body kept for a key's fingerprint; larger `POST`s with a key answer 413.
pub const BODY_BYTES_MAX: usize = 512 * 1024 * 1024;
/// Largest answer kept; a larger one is answered but not kept (its key is released).
pub const ANSWER_BYTES_MAX: usize = 64 * 1024 * 1024;
/// How long a retry waits for the first request with its key to finish.
pub const WAIT_MS_MAX: u64 = 10_000;
const WAIT_STEP_MS: u64 = 50;
/// How long answers are kept (api-conventions.md: at least 24 hours).
pub const KEEP_S: i64 = 48 * 3600;

/// Whether a request takes the idempotent path: a `POST` with the header, on a runtime
/// that keeps answers.
pub(crate) fn applies(request: &Request, edge: &Edge) -> bool {
    request.method() == axum::http::Method::POST
        && edge.idempotency.is_some()
        && request.headers().contains_key(HEADER)
}

fn key_ok(key: &[u8]) -> bool {
    (1..=KEY_CHARS_MAX).contains(&key.len()) && key.iter().all(|b| (0x20..=0x7e).contains(b))
}

/// Runs `request` through `inner` under its idempotency key.
pub(crate) async fn run<S>(edge: Arc<Edge>, mut inner: S, request: Request) -> Response
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Send,
    S::Future: Send,
{
    let Some(db) = edge.idempotency.clone() else {
        return call(&mut inner, request).await;
    };
    let key = match request.headers().get(HEADER) {
        Some(v) if key_ok(v.as_bytes()) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
        _ => {
            return ApiError::invalid_field(
                "Idempotency-Key",
                format!("1 to {KEY_CHARS_MAX} printable ASCII characters"),
            )
            .into_response();
        }
    };
    // Keys are scoped to the tenant: without a valid key the handler answers 401 itself.
    let principal = match crate::principal::authenticate(&edge, request.headers()).await {
        Ok(p) => p,
        Err(_) => return call(&mut inner, request).await,
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_BYTES_MAX).await else {
        return ApiError::too_large("body", "idempotent_body_bytes_max", BODY_BYTES_MAX, "bytes")
            .into_response();
    };
    let fingerprint = fingerprint(&parts, &principal, &bytes);
    let tenant = principal.tenant.0;
    let mut waited_ms = 0;
    loop {
        let (k, f, now) = (key.clone(), fingerprint.clone(), edge.clock.now_unix());
        let claim = db
            .write(move |tx| idempotency::claim(tx, tenant, &k, &f, now))
            .await;
        match claim {
            Ok(Claim::Run) => break,
            Ok(Claim::Replay(stored)) => return replay(stored),
            Ok(Claim::Mismatch) => {
                return ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_mismatch",
                    "Idempotency-Key",
                    "this key was used with another request",
                )
                .into_response();
            }
            Ok(Claim::InProgress) if waited_ms < WAIT_MS_MAX => {
                tokio::time::sleep(Duration::from_millis(WAIT_STEP_MS)).await;
                waited_ms += WAIT_STEP_MS;
            }
            Ok(Claim::InProgress) => {
                return ApiError::conflict(
                    "conflict",
                    "a request with this Idempotency-Key is still running; retry later",
                )
                .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    let response = call(&mut inner, Request::from_parts(parts, Body::from(bytes))).await;
    let (mut parts, body) = response.into_parts();
    // Our own handlers made this answer in memory: reading it whole costs no more.
    let answer = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let status = parts.status.as_u16();
    let is_final = status < 500 && status != 429;
    let keep = is_final && answer.len() <= ANSWER_BYTES_MAX;
    let stored = Stored {
        status,
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        body: answer.to_vec(),
    };
    let k = key.clone();
    let kept = db
        .write(move |tx| {
            if keep {
                idempotency::complete(tx, tenant, &k, &stored)
            } else {
                idempotency::release(tx, tenant, &k)
            }
        })
        .await;
    if let Err(e) = kept {
        // The answer stands; a retry may run the request again (natural keys still hold).
        tracing::warn!(error = %e, "an idempotency key's answer could not be kept");
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(answer))
}

async fn call<S>(inner: &mut S, request: Request) -> Response
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    use tower::ServiceExt;
    match inner.ready().await {
        Ok(service) => match service.call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        Err(never) => match never {},
    }
}

fn fingerprint(parts: &axum::http::request::Parts, principal: &Principal, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str().as_bytes());
    hash.update(b"\n");
    hash.update(
        parts
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    hash.update(b"\n");
    hash.update(principal.customer.as_deref().unwrap_or("").as_bytes());
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().to_vec()
}

fn replay(stored: Stored) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    if let Ok(v) = HeaderValue::from_str(&stored.content_type)
        && !stored.content_type.is_empty()
    {
        response.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
