//! What-ifs: replay sets (`/v1/replays`) and book diffs (`/v1/rate-books/{id}/diff`).

use super::{AppState, no_book, parse_book_id};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crossdock_http::{ApiError, ErrorBody, ListParams, Page, Principal, Role, encode_cursor, json};
use serde::{Deserialize, Serialize};

/// The largest replay set name; names are `[A-Za-z0-9._-]`, ending `.parquet` or `.csv`.
const REPLAY_NAME_MAX: usize = 100;

fn replay_name(name: &str) -> Result<&str, ApiError> {
    let bad = |why: &str| ApiError::invalid_field("replay", format!("{name:?} {why}"));
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

/// A replay set that cannot be read, named by its replay name: the server's own path to
/// it is never shown to callers.
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

/// A stored replay set.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReplayView {
    name: String,
    size_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<u64>,
}

/// Stores a parcel file (the bulk columns; Parquet or CSV by the name's extension) for
/// what-ifs, replacing one of the same name. Its header is checked before it is kept.
#[utoipa::path(put, path = "/v1/replays/{name}", tag = "what-if", security(("api_key" = [])),
    params(("name" = String, Path, description = "NAME.parquet or NAME.csv")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = ReplayView), (status = 400, description = "invalid_request or invalid_replay", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, description = "needs analyst", body = ErrorBody),
        (status = 413, description = "too_large: upload_bytes_max", body = ErrorBody)))]
pub(crate) async fn put_replay(
    State(rating): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst])?;
    let name = replay_name(&name)?.to_owned();
    let body =
        body.map_err(|e| ApiError::body(e, "upload_bytes_max", rating.config.upload_bytes_max))?;
    let dir = rating.replay_dir(principal.tenant);
    let size = body.len() as u64;
    let echo = name.clone();
    let rows = tokio::task::spawn_blocking(move || -> Result<u64, ApiError> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::internal(format!("replay dir {}: {e}", dir.display())))?;
        // Written under a temporary name, checked, then renamed: a reader never sees half a file.
        let temp = dir.join(format!(".upload-{}-{name}", std::process::id()));
        std::fs::write(&temp, &body)
            .map_err(|e| ApiError::internal(format!("replay {}: {e}", temp.display())))?;
        let rows = crossdock_bulk::diff::check_replay(&temp).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            replay_error(StatusCode::BAD_REQUEST, "body", &e, &temp, &name)
        })?;
        std::fs::rename(&temp, dir.join(&name))
            .map_err(|e| ApiError::internal(format!("replay rename: {e}")))?;
        Ok(rows)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the replay task failed: {e}")))??;
    Ok(json(
        StatusCode::CREATED,
        &ReplayView {
            name: echo,
            size_bytes: size,
            rows: Some(rows),
        },
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReplayPage {
    data: Vec<ReplayView>,
    next_cursor: Option<String>,
    limit: usize,
    cursor: Option<String>,
}

/// The tenant's replay sets, by name.
#[utoipa::path(get, path = "/v1/replays", tag = "what-if", security(("api_key" = [])),
    params(ListParams),
    responses((status = 200, body = ReplayPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst", body = ErrorBody)))]
pub(crate) async fn list_replays(
    State(rating): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst])?;
    let page = params.check()?;
    let after = page.after.as_ref().and_then(|p| p.first().cloned());
    let dir = rating.replay_dir(principal.tenant);
    let mut sets = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if replay_name(&name).is_err()
                || after.as_ref().is_some_and(|a| name.as_str() <= a.as_str())
            {
                continue;
            }
            let size_bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
            sets.push(ReplayView {
                name,
                size_bytes,
                rows: None,
            });
        }
    }
    sets.sort_by(|a, b| a.name.cmp(&b.name));
    sets.truncate(page.limit + 1);
    let page = Page::from_overfetch(sets, &page, |s| encode_cursor(&[&s.name]));
    Ok(json(
        StatusCode::OK,
        &ReplayPage {
            data: page.data,
            next_cursor: page.next_cursor,
            limit: page.limit,
            cursor: page.cursor,
        },
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The replay set's name (PUT /v1/replays/{name}).
    replay: Option<String>,
    /// json (default), csv (every group) or text (the CLI's table).
    format: Option<String>,
    /// cheapest, fastest or best_value.
    strategy: Option<String>,
    /// Groups in the text table.
    top: Option<usize>,
}

/// What-if: the replay set re-priced with the book in force (old) and book `id` (new).
/// One what-if runs at a time, on one thread.
#[utoipa::path(get, path = "/v1/rate-books/{id}/diff", tag = "what-if", security(("api_key" = [])),
    params(("id" = i64, Path), DiffQuery),
    responses((status = 200, description = "the report: totals and groups", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst", body = ErrorBody),
        (status = 404, description = "no such book or replay set", body = ErrorBody),
        (status = 422, description = "invalid_replay", body = ErrorBody),
        (status = 503, description = "no_rate_book", body = ErrorBody)))]
pub(crate) async fn diff_book(
    State(rating): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    query: Result<Query<DiffQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst])?;
    let Query(query) = query.map_err(|e| ApiError::invalid_field("query", e.body_text()))?;
    let id = parse_book_id(&id)?;
    let replay = query.replay.as_deref().ok_or_else(|| {
        ApiError::invalid_field(
            "replay",
            "is required: the name of a replay set (PUT /v1/replays/{name})",
        )
    })?;
    let path = rating
        .replay_dir(principal.tenant)
        .join(replay_name(replay)?);
    if !path.is_file() {
        return Err(ApiError::not_found("replay set"));
    }
    let format = query.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "text") {
        return Err(ApiError::invalid_field(
            "format",
            format!("{format:?} is not json, csv or text"),
        ));
    }
    let mut options = crossdock_bulk::RouteOptions::new(rating.today());
    if let Some(s) = &query.strategy {
        options.strategy = crossdock_engine::Strategy::parse(s).ok_or_else(|| {
            ApiError::invalid_field(
                "strategy",
                format!("{s:?} is not cheapest, fastest or best_value"),
            )
        })?;
    }
    options.threads = Some(1);
    let new = rating.compiled_book(principal.tenant, id).await?;
    let _permit = rating
        .diff_permit
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let old = rating.live_book(principal.tenant).ok_or_else(no_book)?;
    let replay_label = replay.to_owned();
    let job_path = path.clone();
    let report = tokio::task::spawn_blocking(move || {
        crossdock_bulk::diff_file(&old.book, &new, &job_path, &options, &mut |_| {})
    })
    .await
    .map_err(|e| ApiError::internal(format!("the what-if task failed: {e}")))?
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
            json(StatusCode::OK, &doc)
        }
    })
}
