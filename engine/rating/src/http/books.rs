//! `/v1/rate-books`: upload, list, read, activate, roll back, audit.

use super::{AppState, parse_book_id};
use crate::model::{AuditEntry, BookId, BookRecord};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use crossdock_http::{
    ApiError, ErrorBody, ListParams, Page, Principal, Role, encode_cursor, json, rfc3339,
};
use serde::Serialize;

/// A stored rate book.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BookView {
    id: i64,
    name: String,
    label: String,
    content_hash: String,
    uploaded_by: String,
    /// RFC 3339, UTC.
    uploaded_at: String,
    size_bytes: i64,
    /// Whether it is the tenant's book in force.
    active: bool,
    /// The check report (warnings), on single-book answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    report: Option<serde_json::Value>,
}

fn view(record: &BookRecord, active: Option<BookId>) -> BookView {
    BookView {
        id: record.id.0,
        name: record.name.clone(),
        label: record.label.clone(),
        content_hash: record.content_hash.clone(),
        uploaded_by: record.uploaded_by.clone(),
        uploaded_at: rfc3339(record.uploaded_at),
        size_bytes: record.size_bytes,
        active: active == Some(record.id),
        report: None,
    }
}

/// A page of books, with the one in force.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BookPage {
    data: Vec<BookView>,
    next_cursor: Option<String>,
    limit: usize,
    cursor: Option<String>,
    /// The id and label of the book in force.
    active: Option<i64>,
    active_label: Option<String>,
}

/// Uploads a tar or zip of a book directory: checked in isolation, stored by content hash.
#[utoipa::path(post, path = "/v1/rate-books", tag = "rate-books", security(("api_key" = [])),
    request_body(content = Vec<u8>, description = "a tar or zip of a rate book directory", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "stored", body = BookView),
        (status = 200, description = "already stored (same content hash)", body = BookView),
        (status = 400, description = "invalid_archive", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst", body = ErrorBody),
        (status = 413, description = "too_large: upload_bytes_max", body = ErrorBody),
        (status = 422, description = "book_refused, with the check report", body = ErrorBody)))]
pub(crate) async fn upload_book(
    State(rating): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst])?;
    let body =
        body.map_err(|e| ApiError::body(e, "upload_bytes_max", rating.config.upload_bytes_max))?;
    let (record, new, report) = rating
        .publish(principal.tenant, body.to_vec(), &principal.actor())
        .await?;
    let active = rating.active_book(principal.tenant).await?;
    let mut doc = view(&record, active);
    doc.report = Some(report);
    Ok(json(
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &doc,
    ))
}

/// The tenant's stored books, newest first.
#[utoipa::path(get, path = "/v1/rate-books", tag = "rate-books", security(("api_key" = [])),
    params(ListParams),
    responses((status = 200, body = BookPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst or admin", body = ErrorBody)))]
pub(crate) async fn list_books(
    State(rating): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst, Role::Admin])?;
    let page = params.check()?;
    let books = rating
        .list_books(principal.tenant, page.before_seq()?, page.limit + 1)
        .await?;
    let active = rating.active_book(principal.tenant).await?;
    let page = Page::from_overfetch(books, &page, |b| encode_cursor(&[&b.id.0.to_string()]));
    Ok(json(
        StatusCode::OK,
        &BookPage {
            data: page.data.iter().map(|b| view(b, active)).collect(),
            next_cursor: page.next_cursor,
            limit: page.limit,
            cursor: page.cursor,
            active: active.map(|a| a.0),
            active_label: rating
                .live_book(principal.tenant)
                .map(|l| l.book.label().to_string()),
        },
    ))
}

/// One stored book with its check report.
#[utoipa::path(get, path = "/v1/rate-books/{id}", tag = "rate-books", security(("api_key" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = BookView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such book in this tenant", body = ErrorBody)))]
pub(crate) async fn get_book(
    State(rating): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst, Role::Admin])?;
    let id = parse_book_id(&id)?;
    let record = rating
        .book(principal.tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("rate book"))?;
    let active = rating.active_book(principal.tenant).await?;
    let mut doc = view(&record, active);
    doc.report = Some(serde_json::from_str(&record.report_json).unwrap_or(serde_json::Value::Null));
    Ok(json(StatusCode::OK, &doc))
}

/// The book in force after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ActiveView {
    active: ActiveBook,
    previous: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActiveBook {
    id: i64,
    label: String,
}

/// Makes a stored book the book in force: atomic; quotes in flight finish on the old one;
/// every replica follows within seconds.
#[utoipa::path(post, path = "/v1/rate-books/{id}/activate", tag = "rate-books", security(("api_key" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ActiveView), (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn activate_book(
    State(rating): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst])?;
    let id = parse_book_id(&id)?;
    let previous = rating
        .activate(principal.tenant, id, &principal.actor())
        .await?;
    let live = rating
        .live_book(principal.tenant)
        .ok_or_else(|| ApiError::internal("no book in force after activation"))?;
    Ok(json(
        StatusCode::OK,
        &ActiveView {
            active: ActiveBook {
                id: live.id.0,
                label: live.book.label().to_string(),
            },
            previous: previous.map(|p| p.0),
        },
    ))
}

/// Back to the book in force before the current one (a second rollback swaps forward).
#[utoipa::path(post, path = "/v1/rate-books/rollback", tag = "rate-books", security(("api_key" = [])),
    responses((status = 200, body = ActiveView), (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst", body = ErrorBody),
        (status = 409, description = "nothing_to_roll_back", body = ErrorBody)))]
pub(crate) async fn rollback_book(
    State(rating): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst])?;
    let before = rating.active_book(principal.tenant).await?;
    let target = rating
        .rollback(principal.tenant, &principal.actor())
        .await?;
    let live = rating
        .live_book(principal.tenant)
        .ok_or_else(|| ApiError::internal("no book in force after rollback"))?;
    Ok(json(
        StatusCode::OK,
        &ActiveView {
            active: ActiveBook {
                id: target.0,
                label: live.book.label().to_string(),
            },
            previous: before.map(|b| b.0),
        },
    ))
}

/// An audit entry.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditView {
    id: i64,
    /// RFC 3339, UTC.
    at: String,
    actor: String,
    /// publish, activate or rollback.
    action: &'static str,
    from: Option<i64>,
    to: Option<i64>,
    content_hash: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    data: Vec<AuditView>,
    next_cursor: Option<String>,
    limit: usize,
    cursor: Option<String>,
}

fn audit_view(e: &AuditEntry) -> AuditView {
    AuditView {
        id: e.id,
        at: rfc3339(e.at),
        actor: e.actor.clone(),
        action: e.action.as_str(),
        from: e.from_book.map(|b| b.0),
        to: e.to_book.map(|b| b.0),
        content_hash: e.content_hash.clone(),
    }
}

/// Who published, activated and rolled back what, when; newest first.
#[utoipa::path(get, path = "/v1/rate-books/audit", tag = "rate-books", security(("api_key" = [])),
    params(ListParams),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst or admin", body = ErrorBody)))]
pub(crate) async fn audit(
    State(rating): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst, Role::Admin])?;
    let page = params.check()?;
    let entries = rating
        .audit(principal.tenant, page.before_seq()?, page.limit + 1)
        .await?;
    let page = Page::from_overfetch(entries, &page, |e| encode_cursor(&[&e.id.to_string()]));
    Ok(json(
        StatusCode::OK,
        &AuditPage {
            data: page.data.iter().map(audit_view).collect(),
            next_cursor: page.next_cursor,
            limit: page.limit,
            cursor: page.cursor,
        },
    ))
}
