//! Carrier connections and the pollers (tracking.md, "Carriers").
//!
//! Push connections (`17track`, `aftership`, `upu-edi`) keep the secret their signatures
//! are checked with. Poll connections keep `base_url`, `token`, `interval_s`,
//! `rate_per_s` and the cursor. The scheduler runs one task per due connection; a task
//! asks `GET {base_url}/events?limit=100[&cursor=C]` with the bearer token and commits a
//! page's events and the next cursor in one transaction, so a restart resumes from the
//! stored cursor. It asks again at once while `has_more`, else after `interval_s`; at most
//! `rate_per_s` requests start in any second; after a 429 it waits `Retry-After` seconds;
//! other failures back off from 1 s, doubling, to 300 s. A due connection is claimed with
//! a compare-and-set on `next_poll_ms`, so two processes never poll it at once.

use crate::formats::{self, Parsed};
use crate::http::{body_bytes, body_object};
use crate::ingest::{self, Origin};
use crate::model::Source;
use crate::webhooks::{check_url, client, literal_refused};
use crate::{BODY_BYTES_MAX, Tracking};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use crossdock_db::{DbError, Row, Tx};
use crossdock_http::{ApiError, ErrorBody, Principal, Problem, Role, json};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type AppState = Arc<Tracking>;

/// Events asked per poll request.
pub const POLL_PAGE_EVENTS: u32 = 100;
/// The longest back-off after failures.
pub const BACKOFF_MAX_MS: i64 = 300_000;
/// A page body over this is a failure (bytes).
pub const POLL_BODY_BYTES_MAX: usize = 5 * 1024 * 1024;
/// How long a claimed connection is left to its task before another may take it.
const CLAIM_MS: i64 = 10 * 60_000;
/// The scheduler's look for due connections.
const SCHEDULER_TICK: Duration = Duration::from_millis(250);
/// Bounds of a poll connection's settings.
const INTERVAL_S_MAX: i64 = 86_400;
const RATE_PER_S_MAX: i64 = 1_000;
/// Where a push connection's secret and a poll connection's token are kept (sealed).
pub const SECRET_PLACE: &str = "tracking_connections.secret";
pub const TOKEN_PLACE: &str = "tracking_connections.token";
/// Longest secret or token, in bytes.
const SECRET_BYTES_MAX: usize = 1_024;

pub(crate) fn routes(tracking: Arc<Tracking>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(tracking)
}

/// A carrier connection as stored.
#[derive(Clone, Debug)]
pub struct ConnectionRow {
    pub seq: i64,
    pub id: String,
    pub tenant: i64,
    pub format: String,
    pub carrier: String,
    pub secret: Option<String>,
    pub base_url: Option<String>,
    pub token: Option<String>,
    pub interval_s: Option<i64>,
    pub rate_per_s: Option<i64>,
    pub cursor: Option<String>,
    pub next_poll_ms: i64,
    pub failures: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "seq, id, tenant_id, format, carrier, secret, base_url, token, interval_s, rate_per_s, cursor, \
     next_poll_ms, failures, last_error, created_at";

fn connection_row(r: &Row) -> Result<ConnectionRow, DbError> {
    Ok(ConnectionRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        tenant: r.get(2)?,
        format: r.get(3)?,
        carrier: r.get(4)?,
        secret: r.get(5)?,
        base_url: r.get(6)?,
        token: r.get(7)?,
        interval_s: r.get(8)?,
        rate_per_s: r.get(9)?,
        cursor: r.get(10)?,
        next_poll_ms: r.get(11)?,
        failures: r.get(12)?,
        last_error: r.get(13)?,
        created_at: r.get(14)?,
    })
}

pub fn connection_by_id(tx: &mut Tx<'_>, id: &str) -> Result<Option<ConnectionRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM tracking_connections WHERE id = $1");
    tx.query_opt(&sql, &[&id])?
        .map(|r| connection_row(&r))
        .transpose()
}

/// What the API shows of a connection: never its secret or token.
fn connection_json(c: &ConnectionRow) -> Value {
    let mut v = json!({"id": c.id, "format": c.format, "carrier": c.carrier,
        "created_at": crossdock_http::rfc3339(c.created_at)});
    if c.format == "poll" {
        v["base_url"] = json!(c.base_url);
        v["interval_s"] = json!(c.interval_s);
        v["rate_per_s"] = json!(c.rate_per_s);
        v["cursor"] = json!(c.cursor);
        v["failures"] = json!(c.failures);
        v["last_error"] = json!(c.last_error);
    } else {
        v["url"] = json!(format!(
            "/v1/carriers/{}/events?connection={}",
            c.format, c.id
        ));
    }
    v
}

/// Registers a carrier connection (admin).
#[utoipa::path(post, path = "/v1/carrier-connections", tag = "tracking", security(("api_key" = [])),
    request_body(content = Object, description = "{format: 17track|aftership|upu-edi, carrier, secret} or {format: poll, carrier, base_url, token, interval_s, rate_per_s}", content_type = "application/json"),
    responses((status = 201, description = "{id, format, carrier, …} (never the secret or token)", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "a poll base_url whose host is refused", body = ErrorBody)))]
async fn create(
    State(tracking): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let mut map = body_object(&body_bytes(
        body,
        "connections_body_bytes_max",
        BODY_BYTES_MAX,
    )?)?;
    let mut problems = Vec::new();
    let mut text =
        |map: &mut serde_json::Map<String, Value>, key: &str, required: bool| -> Option<String> {
            match map.remove(key) {
                Some(Value::String(s)) if !s.is_empty() && s.len() <= SECRET_BYTES_MAX => Some(s),
                Some(Value::String(_)) => {
                    problems.push(Problem::new(key, format!("1 to {SECRET_BYTES_MAX} bytes")));
                    None
                }
                None | Some(Value::Null) if !required => None,
                None | Some(Value::Null) => {
                    problems.push(Problem::new(key, "required"));
                    None
                }
                Some(_) => {
                    problems.push(Problem::new(key, "must be a string"));
                    None
                }
            }
        };
    let format = text(&mut map, "format", true);
    let carrier = text(&mut map, "carrier", true);
    let source = format.as_deref().map(Source::parse_format);
    let mut row = ConnectionRow {
        seq: 0,
        id: crossdock_http::new_id("ccn")?,
        tenant: principal.tenant.0,
        format: format.clone().unwrap_or_default(),
        carrier: carrier.unwrap_or_default(),
        secret: None,
        base_url: None,
        token: None,
        interval_s: None,
        rate_per_s: None,
        cursor: None,
        next_poll_ms: 0,
        failures: 0,
        last_error: None,
        created_at: tracking.clock.now_unix(),
    };
    match source {
        Some(Some(Source::Poll)) => {
            row.base_url = text(&mut map, "base_url", true);
            row.token = text(&mut map, "token", true);
            let mut number = |key: &str, max: i64, default: i64| match map.remove(key) {
                None | Some(Value::Null) => Some(default),
                Some(v) => match v.as_i64() {
                    Some(n) if (1..=max).contains(&n) => Some(n),
                    _ => {
                        problems.push(Problem::new(key, format!("a whole number from 1 to {max}")));
                        None
                    }
                },
            };
            row.interval_s = number("interval_s", INTERVAL_S_MAX, 60);
            row.rate_per_s = number("rate_per_s", RATE_PER_S_MAX, 1);
        }
        Some(Some(_)) => {
            row.secret = text(&mut map, "secret", true);
            if format.as_deref() == Some("upu-edi")
                && let Some(s) = &row.secret
                && crate::formats::sign_standard(b"", s, "x", 0).is_none()
            {
                problems.push(Problem::new(
                    "secret",
                    "a whsec_ secret (whsec_ and base64)",
                ));
            }
        }
        Some(None) => problems.push(Problem::new(
            "format",
            "17track, aftership, upu-edi or poll",
        )),
        None => {}
    }
    for key in map.keys() {
        problems.push(Problem::new(key.clone(), "unknown field"));
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    if let Some(url) = &row.base_url
        && let Err(why) = check_url(
            url,
            &tracking.config.allow_cidrs,
            tracking.config.lookup.as_ref(),
        )
        .await
    {
        return Err(ApiError::unprocessable("address_refused", "base_url", why));
    }
    let mut stored = row.clone();
    let sealer = &tracking.config.sealer;
    stored.secret = row
        .secret
        .as_deref()
        .map(|s| sealer.seal(SECRET_PLACE, s))
        .transpose()
        .map_err(ApiError::internal)?;
    stored.token = row
        .token
        .as_deref()
        .map(|t| sealer.seal(TOKEN_PLACE, t))
        .transpose()
        .map_err(ApiError::internal)?;
    tracking
        .db
        .write(move |tx| {
            tx.execute(
                "INSERT INTO tracking_connections (id, tenant_id, format, carrier, secret, base_url, token, interval_s, \
                 rate_per_s, next_poll_ms, failures, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 0, $10)",
                &[&stored.id, &stored.tenant, &stored.format, &stored.carrier, &stored.secret, &stored.base_url,
                  &stored.token, &stored.interval_s, &stored.rate_per_s, &stored.created_at],
            )
        })
        .await?;
    Ok(json(StatusCode::CREATED, &connection_json(&row)))
}

/// The tenant's carrier connections (admin), newest first.
#[utoipa::path(get, path = "/v1/carrier-connections", tag = "tracking", security(("api_key" = [])),
    responses((status = 200, description = "{data: [connections]}", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list(
    State(tracking): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let tenant = principal.tenant.0;
    let rows = tracking
        .db
        .read(move |tx| {
            let sql = format!("SELECT {COLUMNS} FROM tracking_connections WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1000");
            tx.query(&sql, &[&tenant])?.iter().map(connection_row).collect::<Result<Vec<_>, DbError>>()
        })
        .await?;
    Ok(json(
        StatusCode::OK,
        &json!({"data": rows.iter().map(connection_json).collect::<Vec<_>>(), "next_cursor": null}),
    ))
}

/// When each connection last started a request, for `rate_per_s`.
type Starts = Arc<Mutex<HashMap<String, std::collections::VecDeque<i64>>>>;

/// Starts a task for every due poll connection, one at a time per connection.
pub(crate) async fn scheduler(tracking: Arc<Tracking>) {
    let client = match client(
        &tracking.config.allow_cidrs,
        tracking.config.lookup.clone(),
        tracking.config.timeout,
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "poll client could not be built; polling stops");
            return;
        }
    };
    let running: Arc<Mutex<HashSet<String>>> = Arc::default();
    let starts: Starts = Arc::default();
    loop {
        let now_ms = crossdock_db::unix_now_ms();
        let due = tracking
            .db
            .write(move |tx| claim_due(tx, now_ms))
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "looking for due carrier polls failed");
                Vec::new()
            });
        for c in due {
            let fresh = running
                .lock()
                .map(|mut r| r.insert(c.id.clone()))
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            let (tracking, client, running, starts) = (
                tracking.clone(),
                client.clone(),
                running.clone(),
                starts.clone(),
            );
            tokio::spawn(async move {
                let id = c.id.clone();
                run(&tracking, &client, c, &starts).await;
                if let Ok(mut r) = running.lock() {
                    r.remove(&id);
                }
            });
        }
        tokio::time::sleep(SCHEDULER_TICK).await;
    }
}

/// Claims the poll connections due now (`next_poll_ms` moved ahead by the claim).
fn claim_due(tx: &mut Tx<'_>, now_ms: i64) -> Result<Vec<ConnectionRow>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tracking_connections WHERE format = 'poll' AND next_poll_ms <= $1 ORDER BY next_poll_ms LIMIT 100"
    );
    let rows = tx.query(&sql, &[&now_ms])?;
    let mut out = Vec::new();
    for r in &rows {
        let mut c = connection_row(r)?;
        let until = now_ms + CLAIM_MS;
        if tx.execute(
            "UPDATE tracking_connections SET next_poll_ms = $3 WHERE id = $1 AND next_poll_ms = $2",
            &[&c.id, &c.next_poll_ms, &until],
        )? == 1
        {
            c.next_poll_ms = until;
            out.push(c);
        }
    }
    Ok(out)
}

/// The wait before the `failures`-th retry: 1 s doubling to 300 s.
pub fn backoff_ms(failures: i64) -> i64 {
    let exp = u32::try_from((failures - 1).clamp(0, 20)).unwrap_or(20);
    (1000i64 << exp).min(BACKOFF_MAX_MS)
}

/// How long to wait before the next request so that at most `rate` start in any second.
fn rate_wait_ms(starts: &Starts, id: &str, rate: i64, now_ms: i64) -> i64 {
    let Ok(mut starts) = starts.lock() else {
        return 0;
    };
    let q = starts.entry(id.to_owned()).or_default();
    while q.front().is_some_and(|t| *t <= now_ms - 1000) {
        q.pop_front();
    }
    if (q.len() as i64) < rate.max(1) {
        return 0;
    }
    q.front().map_or(0, |first| first + 1001 - now_ms).max(0)
}

fn note_start(starts: &Starts, id: &str, now_ms: i64) {
    if let Ok(mut starts) = starts.lock() {
        starts.entry(id.to_owned()).or_default().push_back(now_ms);
    }
}

/// Polls one connection until it has no more for now, then schedules its next turn.
async fn run(
    tracking: &Arc<Tracking>,
    client: &reqwest::Client,
    mut c: ConnectionRow,
    starts: &Starts,
) {
    let rate = c.rate_per_s.unwrap_or(1);
    loop {
        let wait = rate_wait_ms(starts, &c.id, rate, crossdock_db::unix_now_ms());
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
            continue;
        }
        note_start(starts, &c.id, crossdock_db::unix_now_ms());
        let outcome = fetch(tracking, client, &c).await;
        let now_ms = crossdock_db::unix_now_ms();
        let (next_ms, failures, error, page) = match outcome {
            Fetched::Page(page) => {
                let next = if page.has_more {
                    now_ms
                } else {
                    now_ms + c.interval_s.unwrap_or(60) * 1000
                };
                (next, 0, None, Some(page))
            }
            Fetched::RetryAfter(s) => (now_ms + s * 1000, c.failures, Some("429".to_owned()), None),
            Fetched::Failed(why) => {
                let failures = c.failures + 1;
                (now_ms + backoff_ms(failures), failures, Some(why), None)
            }
        };
        let more = page.as_ref().is_some_and(|p| p.has_more);
        match commit(tracking, &c, page, next_ms, failures, error.clone()).await {
            Ok(Some(updated)) => c = updated,
            Ok(None) => return, // deleted, or another process moved the cursor: stop.
            Err(e) => {
                tracing::warn!(connection = %c.id, error = ?e, "storing a poll page failed");
                return;
            }
        }
        if let Some(why) = error {
            tracing::info!(connection = %c.id, failures, why = %why, "carrier poll failed; backing off");
        }
        if !more {
            return;
        }
    }
}

enum Fetched {
    Page(formats::PollPage),
    RetryAfter(i64),
    Failed(String),
}

async fn fetch(tracking: &Tracking, client: &reqwest::Client, c: &ConnectionRow) -> Fetched {
    let base = c.base_url.clone().unwrap_or_default();
    if let Some(why) = literal_refused(&base, &tracking.config.allow_cidrs) {
        return Fetched::Failed(format!("address refused: {why}"));
    }
    let mut url = format!(
        "{}/events?limit={POLL_PAGE_EVENTS}",
        base.trim_end_matches('/')
    );
    if let Some(cursor) = &c.cursor {
        url.push_str("&cursor=");
        url.push_str(&percent_encode(cursor));
    }
    let Some(token) = c
        .token
        .as_deref()
        .and_then(|t| tracking.config.sealer.open(TOKEN_PLACE, t))
    else {
        return Fetched::Failed("the stored token does not open with this key".into());
    };
    let sent = client.get(&url).bearer_auth(token).send().await;
    let response = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Fetched::Failed("timeout".into()),
        Err(_) => return Fetched::Failed("connection failed or address refused".into()),
    };
    let status = response.status().as_u16();
    if status == 429 {
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .map_or(1, |s| s.clamp(0, 86_400));
        return Fetched::RetryAfter(after);
    }
    if !(200..300).contains(&status) {
        return Fetched::Failed(format!("HTTP {status}"));
    }
    if response
        .content_length()
        .is_some_and(|n| n > POLL_BODY_BYTES_MAX as u64)
    {
        return Fetched::Failed("page over 5 MiB".into());
    }
    let body = match response.bytes().await {
        Ok(b) if b.len() <= POLL_BODY_BYTES_MAX => b,
        Ok(_) => return Fetched::Failed("page over 5 MiB".into()),
        Err(_) => return Fetched::Failed("body not read".into()),
    };
    match formats::poll_page(&body) {
        Ok(page) => Fetched::Page(page),
        Err(_) => Fetched::Failed("page not in the poll format".into()),
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Stores a page's events and the next cursor in one transaction (only if the cursor is
/// still the one this page was asked from); the connection as it now is.
async fn commit(
    tracking: &Tracking,
    c: &ConnectionRow,
    page: Option<formats::PollPage>,
    next_ms: i64,
    failures: i64,
    error: Option<String>,
) -> Result<Option<ConnectionRow>, ApiError> {
    let (id, asked_from) = (c.id.clone(), c.cursor.clone());
    let origin = Origin {
        tenant: c.tenant,
        source: Source::Poll,
        connection: Some(c.id.clone()),
        carrier: Some(c.carrier.clone()),
    };
    let (items, cursor): (Vec<Parsed>, Option<String>) = match page {
        Some(p) => {
            let cursor = p.next_cursor.or(asked_from.clone());
            (p.events, cursor)
        }
        None => (Vec::new(), asked_from.clone()),
    };
    let ids = items
        .iter()
        .map(|_| crossdock_http::new_id("evt"))
        .collect::<Result<Vec<_>, _>>()?;
    let now_ms = tracking.now_ms();
    tracking
        .db
        .write(move |tx| {
            let Some(current) = connection_by_id(tx, &id)? else { return Ok(None) };
            if current.cursor != asked_from {
                return Ok(None);
            }
            ingest::ingest(tx, &origin, &items, &ids, now_ms)?;
            tx.execute(
                "UPDATE tracking_connections SET cursor = $2, next_poll_ms = $3, failures = $4, last_error = $5 WHERE id = $1",
                &[&id, &cursor, &next_ms, &failures, &error],
            )?;
            connection_by_id(tx, &id)
        })
        .await
        .map_err(ApiError::from)
}
