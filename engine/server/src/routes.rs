//! The HTTP routes. Every error becomes a response in one place ([`ApiError`]), with a stable
//! `error` code and the problems named.

use crate::metrics::Outcome;
use crate::state::{AppState, BookError, Principal};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crossdock_api::{
    Answer, Defaults, FieldProblem, answer_request, parse_request_str, render_error,
};
use crossdock_engine::{Currency, Quote, Scratch};
use crossdock_store::{BookId, BookRecord, KeyId, NewKey, Role};
use serde::Deserialize;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

type AppStateRef = Arc<AppState>;

/// An error answer: status, stable code, the problems, and `Retry-After` for 429.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub problems: Vec<FieldProblem>,
    pub retry_after_s: Option<u64>,
    /// A JSON value to include as `report` (refused rate books).
    pub report: Option<serde_json::Value>,
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
            problems: vec![FieldProblem::new(field, problem)],
            retry_after_s: None,
            report: None,
        }
    }

    fn unauthorized(why: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "authorization",
            why,
        )
    }

    fn forbidden(why: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "", why)
    }

    fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "",
            format!("no such {what}"),
        )
    }

    fn internal(why: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "",
            format!("the server could not answer: {why}"),
        )
    }

    fn body(rejection: BytesRejection) -> ApiError {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "too_large",
                "",
                "the request body is larger than this endpoint accepts",
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "",
                format!("the body could not be read: {rejection}"),
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = render_error(self.code, &self.problems);
        if let Some(report) = &self.report {
            body.pop();
            body.push_str(",\"report\":");
            body.push_str(&report.to_string());
            body.push('}');
        }
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
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

impl From<BookError> for ApiError {
    fn from(e: BookError) -> ApiError {
        match e {
            BookError::NotFound => ApiError::not_found("rate book"),
            BookError::NothingToRollBack => ApiError::new(
                StatusCode::CONFLICT,
                "nothing_to_roll_back",
                "",
                "no earlier book was in force",
            ),
            BookError::Upload(crate::books::UploadError::BadArchive(why)) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_archive",
                "body",
                format!("not a usable rate book archive: {why}"),
            ),
            BookError::Upload(other) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "book_refused",
                "body",
                other.to_string(),
            ),
            BookError::Unusable(report) => {
                let mut e = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "book_refused",
                    "body",
                    "the rate book fails its checks; see report",
                );
                e.report = serde_json::from_str(&report).ok();
                e
            }
            BookError::Store(e) => ApiError::internal(e),
        }
    }
}

impl FromRequestParts<AppStateRef> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppStateRef,
    ) -> Result<Principal, ApiError> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized("an API key is required: Authorization: Bearer <key>")
        })?;
        let presented = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <key>"))?;
        let record = state
            .verify_key(presented)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API key"))?;
        Ok(Principal {
            key_id: record.id.0.clone(),
            tenant: record.tenant,
            customer: record.customer.clone(),
            roles: record.roles.clone(),
        })
    }
}

fn require(principal: &Principal, roles: &[Role]) -> Result<(), ApiError> {
    if roles.iter().any(|r| principal.has(*r)) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|r| role_name(*r)).collect();
        Err(ApiError::forbidden(format!(
            "this key needs the role {}",
            names.join(" or ")
        )))
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Shipper => "shipper",
        Role::Analyst => "analyst",
        Role::Admin => "admin",
    }
}

fn json(status: StatusCode, value: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

thread_local! {
    /// Per-thread working memory for quotes: a steady stream of quotes allocates only answers.
    static WORK: RefCell<(Scratch, Quote)> = RefCell::new((Scratch::default(), Quote::new(Currency::from_code("USD").unwrap_or_else(|| unreachable!()))));
}

// ---------------------------------------------------------------------------------------
// Health

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(state): State<AppStateRef>) -> Response {
    if state.ready.load(std::sync::atomic::Ordering::Acquire) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response()
    }
}

/// Metrics show every tenant's book labels, so only the operator (an admin of the default
/// tenant) may read them.
pub async fn metrics(
    State(state): State<AppStateRef>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Admin])?;
    let operator = state
        .store
        .tenant_by_name(&state.config.default_tenant)
        .await
        .map_err(ApiError::internal)?;
    if operator != Some(principal.tenant) {
        return Err(ApiError::forbidden(
            "metrics are for the operator's admin keys",
        ));
    }
    let text = state.metrics.render(&state.live_labels());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

// ---------------------------------------------------------------------------------------
// Quotes

/// `POST /v1/quotes`: one request, one answer, priced by the tenant's book in force.
pub async fn quote(
    State(state): State<AppStateRef>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let (outcome, response) = match quote_one(&state, principal, body) {
        Ok(answer) => answer,
        Err((outcome, e)) => (outcome, e.into_response()),
    };
    state.metrics.quote(outcome, started.elapsed(), 1);
    response
}

fn quote_one(
    state: &AppState,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Outcome, Response), (Outcome, ApiError)> {
    let principal = principal.map_err(|e| (Outcome::Unauthorized, e))?;
    limit(state, &principal, 1)?;
    let body = body.map_err(|e| (Outcome::TooLarge, ApiError::body(e)))?;
    let live = state.live_book(principal.tenant).ok_or_else(no_book)?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        (
            Outcome::Invalid,
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "",
                "the body is not UTF-8 text",
            ),
        )
    })?;
    let defaults = Defaults {
        today: state.clock.today(),
        customer: principal.customer.clone(),
        explain: true,
    };
    let request = parse_request_str(text, &defaults).map_err(|problems| {
        (
            Outcome::Invalid,
            ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_request",
                problems,
                retry_after_s: None,
                report: None,
            },
        )
    })?;
    if !principal.may_quote_as(request.customer.as_deref()) {
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

fn no_book() -> (Outcome, ApiError) {
    (
        Outcome::Unavailable,
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_rate_book",
            "",
            "this tenant has no rate book in force; publish and activate one",
        ),
    )
}

fn limit(state: &AppState, principal: &Principal, tokens: u32) -> Result<(), (Outcome, ApiError)> {
    state
        .take_token(&principal.key_id, tokens)
        .map_err(|seconds| {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "",
                format!("too many requests for this key; retry in {seconds} s"),
            );
            e.retry_after_s = Some(seconds);
            (Outcome::RateLimited, e)
        })
}

/// `POST /v1/quotes/batch`: NDJSON in, NDJSON out, one answer per line in order; a bad line
/// answers its error object in place.
pub async fn quote_batch(
    State(state): State<AppStateRef>,
    principal: Result<Principal, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let result = (|| {
        let principal = principal.map_err(|e| (Outcome::Unauthorized, e))?;
        let body = body.map_err(|e| (Outcome::TooLarge, ApiError::body(e)))?;
        let text = std::str::from_utf8(&body).map_err(|_| {
            (
                Outcome::Invalid,
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "",
                    "the body is not UTF-8 text",
                ),
            )
        })?;
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        limit(&state, &principal, lines.len().max(1) as u32)?;
        let live = state.live_book(principal.tenant).ok_or_else(no_book)?;
        let defaults = Defaults {
            today: state.clock.today(),
            customer: principal.customer.clone(),
            explain: true,
        };
        let mut out = String::with_capacity(lines.len() * 1024);
        WORK.with(|work| {
            let (scratch, quote) = &mut *work.borrow_mut();
            for line in &lines {
                let answer = match parse_request_str(line, &defaults) {
                    Err(problems) => Answer::Invalid(render_error("invalid_request", &problems)),
                    Ok(request) if !principal.may_quote_as(request.customer.as_deref()) => {
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
        Ok::<_, (Outcome, ApiError)>((lines.len() as u64, out))
    })();
    match result {
        Ok((count, out)) => {
            state.metrics.quote(Outcome::Ok, started.elapsed(), count);
            ([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response()
        }
        Err((outcome, e)) => {
            state.metrics.quote(outcome, started.elapsed(), 1);
            e.into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Bulk routing

/// A response body fed by a bounded channel: the pricing thread waits when the client reads
/// slowly, so memory stays bounded whatever the size of the job.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(http_body::Frame::data(b))))
    }
}

/// Rows answered per chunk of the streamed answer.
const ROUTE_CHUNK_ROWS: usize = 1024;

/// `POST /v1/route`: bulk pre-routing over HTTP. `Content-Type: text/csv` takes and answers
/// CSV (the bulk file columns of quote-api.md); anything else is NDJSON, one parcel per line,
/// answered one line per parcel. Answers stream back as they are priced. Bulk jobs are an
/// operations task: the key needs the analyst role.
pub async fn route(
    State(state): State<AppStateRef>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst])?;
    let body = body.map_err(ApiError::body)?;
    let live = state
        .live_book(principal.tenant)
        .ok_or_else(|| no_book().1)?;
    let csv_mode = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let rows = body.iter().filter(|b| **b == b'\n').count().max(1) as u32;
    limit(&state, &principal, rows).map_err(|(_, e)| e)?;
    let mut options = crossdock_bulk::RouteOptions::new(state.clock.today());
    options.threads = Some(1);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    if csv_mode {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(std::io::Cursor::new(body.clone()));
        let header_row = reader
            .headers()
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "body",
                    format!("CSV header: {e}"),
                )
            })?
            .clone();
        crossdock_bulk::check_csv_header(&header_row).map_err(|why| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "body",
                format!("the CSV {why}"),
            )
        })?;
        tokio::task::spawn_blocking(move || {
            let (mut scratch, mut quote) =
                (Scratch::default(), Quote::new(live.book.base_currency()));
            let mut chunk = crossdock_bulk::csv_header_line();
            let mut n = 0;
            for record in reader.records() {
                let line = match record {
                    Ok(record) => crossdock_bulk::route_csv_record(
                        &live.book,
                        &header_row,
                        &record,
                        &options,
                        &mut scratch,
                        &mut quote,
                    )
                    .to_csv_line(),
                    Err(e) => format!(
                        ",invalid,,,,,,,,,,,\"the CSV record could not be read: {}\"\n",
                        e.to_string().replace('"', "'")
                    ),
                };
                chunk.push_str(&line);
                n += 1;
                if n % ROUTE_CHUNK_ROWS == 0
                    && tx
                        .blocking_send(Bytes::from(std::mem::take(&mut chunk)))
                        .is_err()
                {
                    return;
                }
            }
            let _ = tx.blocking_send(Bytes::from(chunk));
        });
    } else {
        tokio::task::spawn_blocking(move || {
            let (mut scratch, mut quote) =
                (Scratch::default(), Quote::new(live.book.base_currency()));
            let text = String::from_utf8_lossy(&body);
            let mut chunk = String::new();
            for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
                chunk.push_str(
                    &crossdock_bulk::route_ndjson_line(
                        &live.book,
                        line,
                        &options,
                        &mut scratch,
                        &mut quote,
                    )
                    .to_json_line(),
                );
                if (i + 1) % ROUTE_CHUNK_ROWS == 0
                    && tx
                        .blocking_send(Bytes::from(std::mem::take(&mut chunk)))
                        .is_err()
                {
                    return;
                }
            }
            let _ = tx.blocking_send(Bytes::from(chunk));
        });
    }
    let content_type = if csv_mode {
        "text/csv"
    } else {
        "application/x-ndjson"
    };
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        axum::body::Body::new(ChannelBody(rx)),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Rate books

fn book_json(record: &BookRecord, active: Option<BookId>) -> serde_json::Value {
    serde_json::json!({
        "id": record.id.0, "name": record.name, "label": record.label, "content_hash": record.content_hash,
        "uploaded_by": record.uploaded_by, "uploaded_at": record.uploaded_at, "size_bytes": record.size_bytes,
        "active": active == Some(record.id),
    })
}

/// `POST /v1/rate-books`: a tar or zip of a book directory; checked in isolation, stored by
/// content hash. 201 when new, 200 when already stored, 422 with the report when refused.
pub async fn upload_book(
    State(state): State<AppStateRef>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst])?;
    let body = body.map_err(ApiError::body)?;
    let (record, new, report) = state
        .publish(principal.tenant, body.to_vec(), &principal.actor())
        .await?;
    let active = state
        .store
        .active_book(principal.tenant)
        .await
        .map_err(ApiError::internal)?;
    let mut doc = book_json(&record, active);
    doc["report"] = report;
    Ok(json(
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        doc,
    ))
}

pub async fn list_books(
    State(state): State<AppStateRef>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst, Role::Admin])?;
    let books = state
        .store
        .list_books(principal.tenant)
        .await
        .map_err(ApiError::internal)?;
    let active = state
        .store
        .active_book(principal.tenant)
        .await
        .map_err(ApiError::internal)?;
    let live = state
        .live_book(principal.tenant)
        .map(|l| l.book.label().to_string());
    let list: Vec<serde_json::Value> = books.iter().map(|b| book_json(b, active)).collect();
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "active": active.map(|a| a.0), "active_label": live, "books": list }),
    ))
}

fn parse_id(id: &str) -> Result<BookId, ApiError> {
    id.parse::<i64>()
        .map(BookId)
        .map_err(|_| ApiError::not_found("rate book"))
}

pub async fn get_book(
    State(state): State<AppStateRef>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst, Role::Admin])?;
    let id = parse_id(&id)?;
    let record = state
        .store
        .book(principal.tenant, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("rate book"))?;
    let active = state
        .store
        .active_book(principal.tenant)
        .await
        .map_err(ApiError::internal)?;
    let mut doc = book_json(&record, active);
    doc["report"] = serde_json::from_str(&record.report_json).unwrap_or(serde_json::Value::Null);
    Ok(json(StatusCode::OK, doc))
}

pub async fn activate_book(
    State(state): State<AppStateRef>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst])?;
    let id = parse_id(&id)?;
    let previous = state
        .activate_id(principal.tenant, id, &principal.actor())
        .await?;
    let live = state
        .live_book(principal.tenant)
        .ok_or_else(|| ApiError::internal("no book in force after activation"))?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "active": {"id": live.id.0, "label": live.book.label()}, "previous": previous.map(|p| p.0) }),
    ))
}

pub async fn rollback_book(
    State(state): State<AppStateRef>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst])?;
    let target = state.rollback(principal.tenant, &principal.actor()).await?;
    let live = state
        .live_book(principal.tenant)
        .ok_or_else(|| ApiError::internal("no book in force after rollback"))?;
    Ok(json(
        StatusCode::OK,
        serde_json::json!({ "active": {"id": target.0, "label": live.book.label()} }),
    ))
}

// ---------------------------------------------------------------------------------------
// What-if: replay sets and book diffs

/// The largest replay set name; names are `[A-Za-z0-9._-]`, ending `.parquet` or `.csv`.
const REPLAY_NAME_MAX: usize = 100;

fn replay_name(name: &str) -> Result<&str, ApiError> {
    let bad = |why: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "replay",
            format!("{name:?} {why}"),
        )
    };
    if name.is_empty() || name.len() > REPLAY_NAME_MAX {
        return Err(bad(&format!("must be 1 to {REPLAY_NAME_MAX} characters")));
    }
    if name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(bad(
            "may hold only letters, digits, '.', '_' and '-', and not start with '.'",
        ));
    }
    let lower = name.to_ascii_lowercase();
    if !(lower.ends_with(".parquet") || lower.ends_with(".csv")) {
        return Err(bad("must end in .parquet or .csv"));
    }
    Ok(name)
}

/// A replay set that cannot be read, named by its replay name: the server's own path to it
/// is never shown to callers.
fn replay_error(
    status: StatusCode,
    field: &str,
    e: &crossdock_bulk::BulkError,
    path: &std::path::Path,
    name: &str,
) -> ApiError {
    let problem = e.to_string().replace(&path.display().to_string(), name);
    ApiError::new(status, "invalid_replay", field, problem)
}

/// `PUT /v1/replays/{name}`: stores a parcel file (the bulk columns, Parquet or CSV by the
/// name's extension) for what-ifs, replacing one of the same name. Its header is checked
/// before it is kept.
pub async fn put_replay(
    State(state): State<AppStateRef>,
    principal: Principal,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst])?;
    let name = replay_name(&name)?.to_owned();
    let body = body.map_err(ApiError::body)?;
    let dir = state.replay_dir(principal.tenant);
    let size = body.len();
    let echo = name.clone();
    let stored = tokio::task::spawn_blocking(move || -> Result<u64, ApiError> {
        std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
        // Written under a temporary name, checked, then renamed: a reader never sees half a file.
        let temp = dir.join(format!(".upload-{}-{name}", std::process::id()));
        std::fs::write(&temp, &body).map_err(ApiError::internal)?;
        let rows = crossdock_bulk::diff::check_replay(&temp).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            replay_error(StatusCode::BAD_REQUEST, "body", &e, &temp, &name)
        })?;
        std::fs::rename(&temp, dir.join(&name)).map_err(ApiError::internal)?;
        Ok(rows)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(json(
        StatusCode::CREATED,
        serde_json::json!({"replay": echo, "size_bytes": size, "rows": stored}),
    ))
}

/// `GET /v1/replays`: the tenant's replay sets.
pub async fn list_replays(
    State(state): State<AppStateRef>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst])?;
    let dir = state.replay_dir(principal.tenant);
    let mut sets = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if replay_name(&name).is_err() {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            sets.push(serde_json::json!({"name": name, "size_bytes": size}));
        }
    }
    sets.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(json(StatusCode::OK, serde_json::json!({ "replays": sets })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    replay: Option<String>,
    format: Option<String>,
    strategy: Option<String>,
    top: Option<usize>,
}

/// `GET /v1/rate-books/{id}/diff?replay=NAME`: re-prices the replay set with the book in
/// force (old) and book `id` (new). `format=json` (default), `csv` (every group) or `text`
/// (the table `crossdock book diff` prints). One what-if runs at a time, on one thread.
pub async fn diff_book(
    State(state): State<AppStateRef>,
    principal: Principal,
    Path(id): Path<String>,
    query: Result<Query<DiffQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst])?;
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "query",
            e.body_text(),
        )
    })?;
    let id = parse_id(&id)?;
    let replay = query.replay.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "replay",
            "is required: the name of a replay set (PUT /v1/replays/{name})",
        )
    })?;
    let path = state
        .replay_dir(principal.tenant)
        .join(replay_name(replay)?);
    if !path.is_file() {
        return Err(ApiError::not_found("replay set"));
    }
    let format = query.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "text") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "format",
            format!("{format:?} is not json, csv or text"),
        ));
    }
    let mut options = crossdock_bulk::RouteOptions::new(state.clock.today());
    if let Some(s) = &query.strategy {
        options.strategy = crossdock_engine::Strategy::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "strategy",
                format!("{s:?} is not cheapest, fastest or best_value"),
            )
        })?;
    }
    options.threads = Some(1);
    let new = state.stored_book(principal.tenant, id).await?;
    let _permit = state
        .diff_permit
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let old = state
        .live_book(principal.tenant)
        .ok_or_else(|| no_book().1)?;
    let replay_label = replay.to_owned();
    let job_path = path.clone();
    let report = tokio::task::spawn_blocking(move || {
        crossdock_bulk::diff_file(&old.book, &new, &job_path, &options, &mut |_| {})
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| {
        replay_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "replay",
            &e,
            &path,
            &replay_label,
        )
    })?;
    Ok(match format {
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv")],
            crossdock_bulk::diff::groups_csv(&report),
        )
            .into_response(),
        "text" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            crossdock_bulk::diff::render_table(&report, query.top.unwrap_or(40)),
        )
            .into_response(),
        _ => {
            let mut doc = crossdock_bulk::diff::report_json(&report);
            doc["replay"] = serde_json::Value::from(replay_label);
            json(StatusCode::OK, doc)
        }
    })
}

#[derive(Deserialize)]
pub struct AuditQuery {
    limit: Option<usize>,
}

pub async fn audit(
    State(state): State<AppStateRef>,
    principal: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Analyst, Role::Admin])?;
    let entries = state
        .store
        .audit(principal.tenant, q.limit.unwrap_or(100).min(10_000))
        .await
        .map_err(ApiError::internal)?;
    let list: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "at": e.at, "actor": e.actor, "action": format!("{:?}", e.action).to_lowercase(),
                "from": e.from_book.map(|b| b.0), "to": e.to_book.map(|b| b.0), "content_hash": e.content_hash,
            })
        })
        .collect();
    Ok(json(StatusCode::OK, serde_json::json!({ "entries": list })))
}

// ---------------------------------------------------------------------------------------
// Keys (admin)

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    customer: Option<String>,
    roles: Vec<String>,
    label: Option<String>,
}

pub fn parse_roles(names: &[String]) -> Result<Vec<Role>, String> {
    names
        .iter()
        .map(|n| match n.as_str() {
            "shipper" => Ok(Role::Shipper),
            "analyst" => Ok(Role::Analyst),
            "admin" => Ok(Role::Admin),
            other => Err(format!("{other:?} is not a role (shipper, analyst, admin)")),
        })
        .collect()
}

pub async fn create_key(
    State(state): State<AppStateRef>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Admin])?;
    let body = body.map_err(ApiError::body)?;
    let new: NewKeyBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "",
            e.to_string(),
        )
    })?;
    let roles = parse_roles(&new.roles)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", "roles", e))?;
    if roles.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "roles",
            "at least one role",
        ));
    }
    let created = state
        .store
        .create_key(
            NewKey {
                tenant: principal.tenant,
                customer: new.customer,
                roles,
                label: new.label.unwrap_or_default(),
            },
            state.clock.now_unix(),
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(json(
        StatusCode::CREATED,
        serde_json::json!({ "id": created.record.id.0, "key": created.secret, "note": "shown once; store it now" }),
    ))
}

pub async fn list_keys(
    State(state): State<AppStateRef>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Admin])?;
    let keys = state
        .store
        .list_keys(principal.tenant)
        .await
        .map_err(ApiError::internal)?;
    let list: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| {
            let roles: Vec<&str> = k.roles.iter().map(|r| role_name(*r)).collect();
            serde_json::json!({ "id": k.id.0, "customer": k.customer, "roles": roles, "label": k.label, "created_at": k.created_at, "revoked_at": k.revoked_at })
        })
        .collect();
    Ok(json(StatusCode::OK, serde_json::json!({ "keys": list })))
}

pub async fn revoke_key(
    State(state): State<AppStateRef>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require(&principal, &[Role::Admin])?;
    let revoked = state
        .store
        .revoke_key(principal.tenant, &KeyId(id), state.clock.now_unix())
        .await
        .map_err(ApiError::internal)?;
    state.forget_keys();
    if revoked {
        Ok(json(StatusCode::OK, serde_json::json!({ "revoked": true })))
    } else {
        Err(ApiError::not_found("key"))
    }
}

pub async fn not_found(_headers: HeaderMap) -> ApiError {
    ApiError::not_found("route")
}
