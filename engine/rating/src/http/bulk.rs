//! `POST /v1/route`: bulk pre-routing over HTTP, answers streamed back as they are priced.

use super::{AppState, no_book};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crossdock_engine::{Quote, Scratch};
use crossdock_http::{ApiError, Edge, ErrorBody, Principal, Role};
use std::sync::Arc;

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

/// Bulk pre-routing: `Content-Type: text/csv` takes and answers CSV (the bulk file columns
/// of quote-api.md); anything else is NDJSON, one parcel per line, answered one line per
/// parcel. An operations task: the key needs the analyst or operator role.
#[utoipa::path(post, path = "/v1/route", tag = "quotes", security(("api_key" = [])),
    request_body(content = String, description = "parcels: CSV with the bulk columns, or NDJSON", content_type = "text/csv"),
    responses(
        (status = 200, description = "one routed row per parcel, in order, streamed", body = String, content_type = "text/csv"),
        (status = 400, description = "invalid_request: the CSV header", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs analyst or operator", body = ErrorBody),
        (status = 413, description = "too_large: batch_body_bytes_max", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, description = "no_rate_book", body = ErrorBody)))]
pub(crate) async fn route(
    State(rating): State<AppState>,
    axum::Extension(edge): axum::Extension<Arc<Edge>>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Analyst, Role::Operator])?;
    let body = body.map_err(|e| {
        ApiError::body(
            e,
            "batch_body_bytes_max",
            rating.config.batch_body_bytes_max,
        )
    })?;
    let live = rating.live_book(principal.tenant).ok_or_else(no_book)?;
    let csv_mode = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let rows = body.iter().filter(|b| **b == b'\n').count();
    edge.limiter.take(
        &principal.key_id,
        u32::try_from(rows.saturating_sub(1)).unwrap_or(u32::MAX),
    )?;
    let mut options = crossdock_bulk::RouteOptions::new(rating.today());
    options.threads = Some(1);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    if csv_mode {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(std::io::Cursor::new(body.clone()));
        let header_row = reader
            .headers()
            .map_err(|e| ApiError::invalid_field("body", format!("CSV header: {e}")))?
            .clone();
        crossdock_bulk::check_csv_header(&header_row)
            .map_err(|why| ApiError::invalid_field("body", format!("the CSV {why}")))?;
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
