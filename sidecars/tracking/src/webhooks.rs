//! Customer webhooks (tracking.md, "Customer webhooks"): endpoints, the fan-out of
//! `tracking.updated` into one message per endpoint (a durable outbox consumer, so each
//! event is queued once), and the delivery worker.
//!
//! A message is delivered signed per Standard Webhooks with `webhook-id` = the event id;
//! success is a 2xx within `webhook_timeout_s`; anything else (redirects are not followed,
//! refused addresses) is retried after each of `webhook_retry_delays_s` with the same id
//! and a fresh timestamp and signature, then becomes a dead letter. A 410 disables the
//! endpoint and dead-letters the message. Dead letters are replayed on request.
//!
//! Outbound addresses: a URL is checked when registered (its host resolved, every address
//! checked) and again at every connection — the HTTP client resolves names through
//! [`CheckedResolver`], which refuses a name with any disallowed address, and a literal
//! address is checked before each attempt. No proxy from the environment is used and no
//! redirect is followed.

use crate::address::{self, Cidr, Host};
use crate::http::{body_bytes, body_object};
use crate::{BODY_BYTES_MAX, Tracking};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crossdock_db::outbox::{Handler, Subscription};
use crossdock_db::{DbError, Row, Tx};
use crossdock_events::{Event, TrackingUpdated, decode};
use crossdock_http::{
    ApiError, ErrorBody, ListParams, Page, Principal, Problem, Role, encode_cursor, json,
};
use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type AppState = Arc<Tracking>;

/// The event types an endpoint can ask for.
pub const EVENT_TYPES: [&str; 1] = ["tracking.updated"];
/// Messages one worker round sends at most (concurrently).
const ROUND_MESSAGES: i64 = 64;
/// How long a claimed message is left to its sender before another worker may take it.
const CLAIM_MS: i64 = 120_000;
/// The longest the worker sleeps when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Endpoints per tenant.
pub const ENDPOINTS_MAX: i64 = 100;
/// Where endpoint secrets are kept (sealed; `sealing.rs`).
const SECRET_PLACE: &str = "tracking_webhooks.secret";
/// Longest URL, in bytes.
const URL_BYTES_MAX: usize = 2048;

const ROLES: [Role; 2] = [Role::Admin, Role::Shipper];

pub(crate) fn routes(tracking: Arc<Tracking>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, patch, delete))
        .routes(routes!(dead_letters))
        .routes(routes!(replay))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(tracking)
}

/// An endpoint as stored.
#[derive(Clone, Debug)]
pub struct EndpointRow {
    pub seq: i64,
    pub id: String,
    pub tenant: i64,
    pub customer: Option<String>,
    pub url: String,
    pub events: Vec<String>,
    pub status: String,
    pub secret: String,
    pub created_ms: i64,
}

const ENDPOINT_COLUMNS: &str =
    "seq, id, tenant_id, customer, url, events, status, secret, created_ms";

fn endpoint_row(r: &Row) -> Result<EndpointRow, DbError> {
    let events: String = r.get(5)?;
    Ok(EndpointRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        tenant: r.get(2)?,
        customer: r.get(3)?,
        url: r.get(4)?,
        events: events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect(),
        status: r.get(6)?,
        secret: r.get(7)?,
        created_ms: r.get(8)?,
    })
}

fn endpoint_by_id(tx: &mut Tx<'_>, id: &str) -> Result<Option<EndpointRow>, DbError> {
    let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM tracking_webhooks WHERE id = $1");
    tx.query_opt(&sql, &[&id])?
        .map(|r| endpoint_row(&r))
        .transpose()
}

fn endpoint_json(e: &EndpointRow) -> Value {
    json!({"id": e.id, "url": e.url, "events": e.events, "customer": e.customer, "status": e.status,
        "created_at": crossdock_http::rfc3339(e.created_ms.div_euclid(1000))})
}

/// A name resolver standing in for the system's (tests only).
pub type Lookup = Arc<dyn Fn(&str) -> Vec<IpAddr> + Send + Sync>;

/// Checks an outbound URL as registration does: http(s), its host resolved, every address
/// allowed. Sends nothing.
pub async fn check_url(
    url: &str,
    allow: &[Cidr],
    lookup: Option<&Lookup>,
) -> Result<address::Target, String> {
    if url.len() > URL_BYTES_MAX {
        return Err(format!("longer than {URL_BYTES_MAX} bytes"));
    }
    let target = address::parse_url(url)?;
    let addrs = match (&target.host, lookup) {
        (Host::Domain(name), Some(lookup)) => lookup(name)
            .into_iter()
            .map(|ip| SocketAddr::new(ip, target.port))
            .collect(),
        _ => resolve(&target.host, target.port).await?,
    };
    let host = target.host.to_string();
    address::check_all(
        &host,
        &addrs.iter().map(SocketAddr::ip).collect::<Vec<_>>(),
        allow,
    )?;
    Ok(target)
}

async fn resolve(host: &Host, port: u16) -> Result<Vec<SocketAddr>, String> {
    match host {
        Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
        Host::Domain(name) => match tokio::net::lookup_host((name.as_str(), port)).await {
            Ok(addrs) => Ok(addrs.collect()),
            Err(_) => Err(format!("{name} does not resolve")),
        },
    }
}

/// The HTTP client's resolver: a name resolves only if every address it has is allowed, and
/// the connection then uses those checked addresses.
#[derive(Clone)]
pub struct CheckedResolver {
    pub allow: Arc<Vec<Cidr>>,
    pub lookup: Option<Lookup>,
}

impl std::fmt::Debug for CheckedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedResolver")
            .field("allow", &self.allow)
            .finish_non_exhaustive()
    }
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow.clone();
        let lookup = self.lookup.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = match lookup {
                Some(lookup) => lookup(&host)
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            address::check_all(&host, &ips, &allow).map_err(|e| {
                Box::new(std::io::Error::other(e)) as Box<dyn std::error::Error + Send + Sync>
            })?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The outbound HTTP client: checked resolution, no redirects, no proxy, the timeout.
pub fn client(
    allow: &[Cidr],
    lookup: Option<Lookup>,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(CheckedResolver {
            allow: Arc::new(allow.to_vec()),
            lookup,
        }))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// Before each attempt: a URL whose host is an address literal is checked here (the
/// resolver sees only names).
pub fn literal_refused(url: &str, allow: &[Cidr]) -> Option<String> {
    match address::parse_url(url) {
        Err(e) => Some(e),
        Ok(t) => match t.host {
            Host::Ip(ip) => address::refused(ip, allow),
            Host::Domain(_) => None,
        },
    }
}

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> Result<String, ApiError> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

fn body_json(
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    body_object(&body_bytes(
        body,
        "webhooks_body_bytes_max",
        BODY_BYTES_MAX,
    )?)
}

/// The endpoint `id` for this caller (404 for another tenant's or customer's).
async fn visible(
    tracking: &Tracking,
    principal: &Principal,
    id: String,
) -> Result<EndpointRow, ApiError> {
    let row = tracking.db.read(move |tx| endpoint_by_id(tx, &id)).await?;
    row.filter(|e| {
        e.tenant == principal.tenant.0
            && match &principal.customer {
                None => true,
                Some(own) => e.customer.as_deref() == Some(own.as_str()),
            }
    })
    .ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

/// Registers an endpoint (admin; a shipper for its own customer). The secret is answered
/// this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", security(("api_key" = [])),
    request_body(content = Object, description = "{url, events: [\"tracking.updated\"], customer}", content_type = "application/json"),
    responses((status = 201, description = "{id, url, events, customer, status, secret}", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "the URL's host does not resolve or an address is not allowed", body = ErrorBody)))]
async fn create(
    State(tracking): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ROLES)?;
    let mut map = body_json(body)?;
    let mut problems = Vec::new();
    let url = match map.remove("url") {
        Some(Value::String(u)) => Some(u),
        Some(_) => {
            problems.push(Problem::new("url", "must be a string"));
            None
        }
        None => {
            problems.push(Problem::new("url", "required"));
            None
        }
    };
    let events: Vec<String> = match map.remove("events") {
        None => vec![EVENT_TYPES[0].to_owned()],
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(t) if EVENT_TYPES.contains(&t) => {
                        if !out.iter().any(|have: &String| have == t) {
                            out.push(t.to_owned());
                        }
                    }
                    _ => problems.push(Problem::new(
                        format!("events[{i}]"),
                        format!("not an event type; one of {}", EVENT_TYPES.join(", ")),
                    )),
                }
            }
            out
        }
        Some(_) => {
            problems.push(Problem::new("events", "a non-empty array of event types"));
            Vec::new()
        }
    };
    let customer = match (map.remove("customer"), &principal.customer) {
        (None | Some(Value::Null), own) => own.clone(),
        (Some(Value::String(c)), None) if !c.is_empty() => Some(c),
        (Some(Value::String(c)), Some(own)) if c == *own => Some(c),
        (Some(Value::String(_)), Some(_)) => {
            return Err(ApiError::forbidden(
                "this key may register webhooks only for its own customer",
            ));
        }
        (Some(_), _) => {
            problems.push(Problem::new("customer", "must be a customer's name"));
            None
        }
    };
    for key in map.keys() {
        problems.push(Problem::new(key.clone(), "unknown field"));
    }
    let Some(url) = url.filter(|_| problems.is_empty()) else {
        return Err(ApiError::invalid(problems));
    };
    if let Err(why) = check_url(
        &url,
        &tracking.config.allow_cidrs,
        tracking.config.lookup.as_ref(),
    )
    .await
    {
        return Err(ApiError::unprocessable("address_refused", "url", why));
    }
    let endpoint = EndpointRow {
        seq: 0,
        id: crossdock_http::new_id("whk")?,
        tenant: principal.tenant.0,
        customer,
        url,
        events,
        status: "enabled".into(),
        secret: new_secret()?,
        created_ms: tracking.now_ms(),
    };
    let mut row = endpoint.clone();
    row.secret = tracking
        .config
        .sealer
        .seal(SECRET_PLACE, &endpoint.secret)
        .map_err(ApiError::internal)?;
    let now = tracking.clock.now_unix();
    let inserted = tracking
        .db
        .write(move |tx| {
            let count: i64 = tx
                .query_one("SELECT COUNT(*) FROM tracking_webhooks WHERE tenant_id = $1", &[&row.tenant])?
                .get(0)?;
            if count >= ENDPOINTS_MAX {
                return Ok(false);
            }
            let events = row.events.join(",");
            tx.execute(
                "INSERT INTO tracking_webhooks (id, tenant_id, customer, url, events, status, secret, created_ms, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[&row.id, &row.tenant, &row.customer, &row.url, &events, &row.status, &row.secret, &row.created_ms, &now],
            )?;
            Ok::<_, DbError>(true)
        })
        .await?;
    if !inserted {
        return Err(ApiError::unprocessable(
            "limit_reached",
            "url",
            format!("a tenant has at most {ENDPOINTS_MAX} webhook endpoints"),
        ));
    }
    let mut answer = endpoint_json(&endpoint);
    answer["secret"] = json!(endpoint.secret);
    Ok(json(StatusCode::CREATED, &answer))
}

/// The caller's endpoints, newest first.
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("api_key" = [])),
    params(ListParams),
    responses((status = 200, description = "a page of endpoints (never their secrets)", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list(
    State(tracking): State<AppState>,
    principal: Principal,
    Query(list): Query<ListParams>,
) -> Result<Response, ApiError> {
    principal.require(&ROLES)?;
    let page = list.check()?;
    let before = page.before_seq()?.unwrap_or(i64::MAX);
    let (tenant, customer, limit) = (
        principal.tenant.0,
        principal.customer.clone(),
        page.limit as i64 + 1,
    );
    let rows = tracking
        .db
        .read(move |tx| {
            let sql = format!(
                "SELECT {ENDPOINT_COLUMNS} FROM tracking_webhooks WHERE tenant_id = $1 AND seq < $2 \
                 AND ({}) ORDER BY seq DESC LIMIT $4",
                tx.pick("$3::TEXT IS NULL OR customer = $3", "$3 IS NULL OR customer = $3")
            );
            tx.query(&sql, &[&tenant, &before, &customer, &limit])?
                .iter()
                .map(endpoint_row)
                .collect::<Result<Vec<_>, DbError>>()
        })
        .await?;
    let page = Page::from_overfetch(rows, &page, |e| encode_cursor(&[&e.seq.to_string()]));
    Ok(json(
        StatusCode::OK,
        &json!({"data": page.data.iter().map(endpoint_json).collect::<Vec<_>>(),
        "next_cursor": page.next_cursor, "limit": page.limit, "cursor": page.cursor}),
    ))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the endpoint", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(tracking): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&ROLES)?;
    let e = visible(&tracking, &principal, id).await?;
    Ok(json(StatusCode::OK, &endpoint_json(&e)))
}

/// Enables or disables an endpoint: `{"status": "enabled" | "disabled"}`.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "{\"status\": \"enabled\" | \"disabled\"}", content_type = "application/json"),
    responses((status = 200, description = "the endpoint", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn patch(
    State(tracking): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ROLES)?;
    let mut map = body_json(body)?;
    let mut e = visible(&tracking, &principal, id).await?;
    let status = match map.remove("status") {
        Some(Value::String(s)) if s == "enabled" || s == "disabled" => s,
        Some(_) => return Err(ApiError::invalid_field("status", "enabled or disabled")),
        None => e.status.clone(),
    };
    if let Some(key) = map.keys().next() {
        return Err(ApiError::invalid_field(
            key,
            "unknown field (only status can change)",
        ));
    }
    let (id, s, now) = (e.id.clone(), status.clone(), tracking.clock.now_unix());
    tracking
        .db
        .write(move |tx| {
            tx.execute(
                "UPDATE tracking_webhooks SET status = $2, updated_at = $3 WHERE id = $1",
                &[&id, &s, &now],
            )
        })
        .await?;
    e.status = status;
    Ok(json(StatusCode::OK, &endpoint_json(&e)))
}

/// Deletes an endpoint and its undelivered messages.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(
    State(tracking): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&ROLES)?;
    let e = visible(&tracking, &principal, id).await?;
    tracking
        .db
        .write(move |tx| {
            tx.execute(
                "DELETE FROM tracking_deliveries WHERE endpoint_id = $1",
                &[&e.id],
            )?;
            tx.execute("DELETE FROM tracking_webhooks WHERE id = $1", &[&e.id])
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Messages that were not delivered after every retry (or on a 410).
#[utoipa::path(get, path = "/v1/webhooks/{id}/dead-letters", tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "{data: [{event_id, type, attempts, last_status, dead_at}]}", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn dead_letters(
    State(tracking): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&ROLES)?;
    let e = visible(&tracking, &principal, id).await?;
    let rows = tracking
        .db
        .read(move |tx| {
            tx.query(
                "SELECT event_id, type, attempts, last_status, dead_at FROM tracking_deliveries \
                 WHERE endpoint_id = $1 AND state = 'dead' ORDER BY seq DESC LIMIT 1000",
                &[&e.id],
            )
        })
        .await?;
    let mut data = Vec::with_capacity(rows.len());
    for r in &rows {
        let last: Option<String> = r.get(3)?;
        data.push(json!({
            "event_id": r.get::<String>(0)?,
            "type": r.get::<String>(1)?,
            "attempts": r.get::<i64>(2)?,
            "last_status": last.as_deref().map(|s| s.parse::<u16>().map_or(json!(s), |n| json!(n))),
            "dead_at": r.get::<Option<i64>>(4)?.map(|ms| crate::model::utc_text(ms - ms.rem_euclid(1000))),
        }));
    }
    Ok(json(
        StatusCode::OK,
        &json!({"data": data, "next_cursor": null}),
    ))
}

/// Sends dead letters again on a fresh schedule: `{"event_ids": […]}` (absent: all).
#[utoipa::path(post, path = "/v1/webhooks/{id}/dead-letters/replay", tag = "webhooks", security(("api_key" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "{\"event_ids\": [\"evt_…\"]} or {}", content_type = "application/json"),
    responses((status = 202, description = "{replayed: n}", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn replay(
    State(tracking): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ROLES)?;
    let body = body_bytes(body, "webhooks_body_bytes_max", BODY_BYTES_MAX)?;
    let ids: Option<Vec<String>> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let mut map = body_object(&body)?;
        let ids = match map.remove("event_ids") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.as_str().map(str::to_owned).ok_or_else(|| {
                            ApiError::invalid_field(
                                &format!("event_ids[{i}]"),
                                "must be an event id",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "event_ids",
                    "an array of event ids",
                ));
            }
        };
        if let Some(key) = map.keys().next() {
            return Err(ApiError::invalid_field(key, "unknown field"));
        }
        ids
    };
    let e = visible(&tracking, &principal, id).await?;
    let now_ms = crossdock_db::unix_now_ms();
    let replayed = tracking
        .db
        .write(move |tx| {
            let mut n = 0;
            let sql = "UPDATE tracking_deliveries SET state = 'pending', attempts = 0, next_at_ms = $2, dead_at = NULL \
                       WHERE endpoint_id = $1 AND state = 'dead'";
            match ids {
                None => n += tx.execute(sql, &[&e.id, &now_ms])?,
                Some(ids) => {
                    let one = format!("{sql} AND event_id = $3");
                    for event in ids {
                        n += tx.execute(&one, &[&e.id, &now_ms, &event])?;
                    }
                }
            }
            Ok::<_, DbError>(n)
        })
        .await?;
    tracking.deliveries.notify_one();
    Ok(json(StatusCode::ACCEPTED, &json!({"replayed": replayed})))
}

pub const FANOUT_CONSUMER: &str = "tracking.webhooks";

/// The body customers receive for a `tracking.updated`.
pub fn message_body(u: &TrackingUpdated) -> String {
    json!({
        "id": u.event_id,
        "type": TrackingUpdated::TOPIC,
        "created_at": u.created_at,
        "subject": u.shipment_id,
        "data": {
            "tracking_number": u.tracking_number,
            "customer": u.customer,
            "sequence": u.sequence,
            "status": u.status,
            "sub_status": u.sub_status,
            "status_time": u.status_time,
            "previous_status": u.previous_status,
        }
    })
    .to_string()
}

/// Queues one message per endpoint that wants the event: the tenant's enabled endpoints
/// for all customers or this one, created before the event.
pub(crate) fn fanout(tracking: Arc<Tracking>) -> Subscription {
    let wake = tracking.deliveries.clone();
    Subscription {
        consumer: FANOUT_CONSUMER.to_owned(),
        topics: vec![TrackingUpdated::TOPIC.to_owned()],
        handler: Handler::Durable(Arc::new(move |tx, message| {
            let Some(update) = decode::<TrackingUpdated>(message) else {
                return Ok(());
            };
            let sql = format!(
                "SELECT {ENDPOINT_COLUMNS} FROM tracking_webhooks WHERE tenant_id = $1 AND status = 'enabled' \
                 AND created_ms <= $2 AND (customer IS NULL OR customer = $3)"
            );
            let endpoints = tx
                .query(
                    &sql,
                    &[&message.tenant, &update.created_ms, &update.customer],
                )?
                .iter()
                .map(endpoint_row)
                .collect::<Result<Vec<_>, _>>()?;
            let mut queued = false;
            for e in endpoints
                .iter()
                .filter(|e| e.events.iter().any(|t| t == TrackingUpdated::TOPIC))
            {
                let body = message_body(&update);
                tx.execute(
                    "INSERT INTO tracking_deliveries (endpoint_id, tenant_id, event_id, type, payload, state, attempts, next_at_ms, created_ms) \
                     VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) ON CONFLICT (endpoint_id, event_id) DO NOTHING",
                    &[&e.id, &message.tenant, &update.event_id, &TrackingUpdated::TOPIC, &body, &update.created_ms],
                )?;
                queued = true;
            }
            if queued {
                wake.notify_one();
            }
            Ok(())
        })),
    }
}

/// A queued message, claimed for one attempt.
#[derive(Clone, Debug)]
struct Message {
    seq: i64,
    endpoint_id: String,
    event_id: String,
    payload: String,
    attempts: i64,
}

/// Messages in flight at once (a slow endpoint holds one of them for up to its timeout).
const IN_FLIGHT_MAX: usize = 256;
/// Outcomes recorded per transaction at most.
const RECORD_BATCH_MAX: usize = 512;

/// The delivery worker: claims due messages while it has room, sends each on its own task,
/// and hands the outcomes to one recorder that writes them in batches.
pub(crate) async fn worker(tracking: Arc<Tracking>) {
    let client = match client(
        &tracking.config.allow_cidrs,
        tracking.config.lookup.clone(),
        tracking.config.timeout,
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; deliveries stop");
            return;
        }
    };
    let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT_MAX));
    let (outcomes, received) = tokio::sync::mpsc::channel::<(Message, Attempt)>(IN_FLIGHT_MAX * 2);
    let recorder = tokio::spawn(record(tracking.clone(), received));
    loop {
        let room = permits.available_permits().min(ROUND_MESSAGES as usize);
        let mut full_round = false;
        if room > 0 {
            match claim(&tracking, room).await {
                Ok(claimed) => {
                    full_round = claimed.len() == room;
                    start_sends(&tracking, &client, &permits, &outcomes, claimed).await;
                }
                Err(e) => tracing::warn!(error = %e, "claiming webhook messages failed"),
            }
        }
        if recorder.is_finished() {
            tracing::error!("the webhook recorder stopped; deliveries stop");
            return;
        }
        if full_round && permits.available_permits() > 0 {
            continue;
        }
        tokio::select! {
            () = tracking.deliveries.notified() => {
                // The fan-out wakes us inside its transaction: let it commit.
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// Claims up to `limit` due messages (`next_at_ms` moved ahead, so no other worker takes
/// them meanwhile).
async fn claim(tracking: &Tracking, limit: usize) -> Result<Vec<Message>, DbError> {
    let now_ms = crossdock_db::unix_now_ms();
    let limit = limit as i64;
    tracking
        .db
        .write(move |tx| {
            let rows = tx.query(
                "SELECT seq, endpoint_id, event_id, payload, attempts, next_at_ms FROM tracking_deliveries \
                 WHERE state = 'pending' AND next_at_ms <= $1 ORDER BY next_at_ms LIMIT $2",
                &[&now_ms, &limit],
            )?;
            let mut claimed = Vec::with_capacity(rows.len());
            for r in &rows {
                let (seq, next): (i64, i64) = (r.get(0)?, r.get(5)?);
                let until = now_ms + CLAIM_MS;
                // Another process may have claimed it since the read: only one wins.
                if tx.execute(
                    "UPDATE tracking_deliveries SET next_at_ms = $3 WHERE seq = $1 AND next_at_ms = $2 AND state = 'pending'",
                    &[&seq, &next, &until],
                )? == 1
                {
                    claimed.push(Message {
                        seq,
                        endpoint_id: r.get(1)?,
                        event_id: r.get(2)?,
                        payload: r.get(3)?,
                        attempts: r.get(4)?,
                    });
                }
            }
            Ok::<_, DbError>(claimed)
        })
        .await
}

/// Reads the messages' endpoints once, then sends each message on its own task.
async fn start_sends(
    tracking: &Arc<Tracking>,
    client: &reqwest::Client,
    permits: &Arc<tokio::sync::Semaphore>,
    outcomes: &tokio::sync::mpsc::Sender<(Message, Attempt)>,
    claimed: Vec<Message>,
) {
    if claimed.is_empty() {
        return;
    }
    let mut ids: Vec<String> = claimed.iter().map(|m| m.endpoint_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let endpoints = tracking
        .db
        .read(move |tx| {
            let mut found = std::collections::HashMap::new();
            for id in ids {
                if let Some(e) = endpoint_by_id(tx, &id)? {
                    found.insert(id, e);
                }
            }
            Ok::<_, DbError>(found)
        })
        .await;
    let endpoints = match endpoints {
        Ok(e) => Arc::new(e),
        Err(e) => {
            // Unclaimed on their own when the claim expires.
            tracing::warn!(error = %e, "reading webhook endpoints failed");
            return;
        }
    };
    for m in claimed {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (tracking, client, outcomes, endpoints) = (
            tracking.clone(),
            client.clone(),
            outcomes.clone(),
            endpoints.clone(),
        );
        tokio::spawn(async move {
            let outcome = match endpoints.get(&m.endpoint_id) {
                None => Attempt::Skipped("endpoint_deleted".into()),
                Some(e) if e.status != "enabled" => Attempt::Skipped("endpoint_disabled".into()),
                Some(e) => {
                    send(
                        &client,
                        &tracking.config.allow_cidrs,
                        &tracking.config.sealer,
                        e,
                        &m,
                    )
                    .await
                }
            };
            let _ = outcomes.send((m, outcome)).await;
            drop(permit);
        });
    }
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    Gone,
    Failed(String),
    /// The endpoint was disabled or deleted meanwhile.
    Skipped(String),
}

/// Writes attempts' outcomes, as many as have arrived (up to [`RECORD_BATCH_MAX`]) per
/// transaction, then wakes the worker.
async fn record(
    tracking: Arc<Tracking>,
    mut received: tokio::sync::mpsc::Receiver<(Message, Attempt)>,
) {
    while let Some(first) = received.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH_MAX {
            match received.try_recv() {
                Ok(one) => batch.push(one),
                Err(_) => break,
            }
        }
        let now_ms = crossdock_db::unix_now_ms();
        let delays = tracking.config.retry_delays_s.clone();
        let written = tracking
            .db
            .write(move |tx| {
                for (m, outcome) in batch {
                    record_one(tx, &m, outcome, &delays, now_ms)?;
                }
                Ok::<_, DbError>(())
            })
            .await;
        if let Err(e) = written {
            // The messages stay claimed until CLAIM_MS passes, then are sent again.
            tracing::warn!(error = %e, "recording webhook attempts failed");
        }
        tracking.deliveries.notify_one();
    }
}

fn record_one(
    tx: &mut Tx<'_>,
    m: &Message,
    outcome: Attempt,
    delays: &[u64],
    now_ms: i64,
) -> Result<(), DbError> {
    let attempts = m.attempts + 1;
    match outcome {
        Attempt::Delivered => {
            tx.execute(
                "UPDATE tracking_deliveries SET state = 'delivered', attempts = $2, last_status = '2xx', delivered_ms = $3 WHERE seq = $1",
                &[&m.seq, &attempts, &now_ms],
            )?;
        }
        Attempt::Gone => {
            tx.execute(
                "UPDATE tracking_deliveries SET state = 'dead', attempts = $2, last_status = '410', dead_at = $3 WHERE seq = $1",
                &[&m.seq, &attempts, &now_ms],
            )?;
            tx.execute(
                "UPDATE tracking_webhooks SET status = 'disabled' WHERE id = $1",
                &[&m.endpoint_id],
            )?;
        }
        Attempt::Skipped(why) => {
            tx.execute(
                "UPDATE tracking_deliveries SET state = 'dead', last_status = $2, dead_at = $3 WHERE seq = $1",
                &[&m.seq, &why, &now_ms],
            )?;
        }
        Attempt::Failed(status) => {
            match delays.get(usize::try_from(m.attempts).unwrap_or(usize::MAX)) {
                Some(delay) => {
                    let next = now_ms + i64::try_from(*delay).unwrap_or(i64::MAX / 4) * 1000;
                    tx.execute(
                    "UPDATE tracking_deliveries SET attempts = $2, last_status = $3, next_at_ms = $4 WHERE seq = $1",
                    &[&m.seq, &attempts, &status, &next],
                )?;
                }
                None => {
                    tx.execute(
                    "UPDATE tracking_deliveries SET state = 'dead', attempts = $2, last_status = $3, dead_at = $4 WHERE seq = $1",
                    &[&m.seq, &attempts, &status, &now_ms],
                )?;
                }
            }
        }
    }
    Ok(())
}

async fn send(
    client: &reqwest::Client,
    allow: &[Cidr],
    sealer: &crossdock_http::sealing::Sealer,
    e: &EndpointRow,
    m: &Message,
) -> Attempt {
    if let Some(why) = literal_refused(&e.url, allow) {
        tracing::warn!(endpoint = %e.id, why = %why, "webhook address refused");
        return Attempt::Failed("refused_address".into());
    }
    let timestamp = crossdock_db::unix_now_s();
    let Some(secret) = sealer.open(SECRET_PLACE, &e.secret) else {
        tracing::error!(endpoint = %e.id, "the endpoint's secret does not open with this key");
        return Attempt::Failed("secret_unreadable".into());
    };
    let Some(signature) =
        crate::formats::sign_standard(m.payload.as_bytes(), &secret, &m.event_id, timestamp)
    else {
        return Attempt::Failed("bad_secret".into());
    };
    let sent = client
        .post(&e.url)
        .header("content-type", "application/json")
        .header("webhook-id", &m.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(m.payload.clone())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Attempt::Delivered,
        Ok(r) if r.status().as_u16() == 410 => Attempt::Gone,
        Ok(r) => Attempt::Failed(r.status().as_u16().to_string()),
        Err(err) if err.is_timeout() => Attempt::Failed("timeout".into()),
        Err(err) if format!("{err:?}").contains("not an allowed destination") => {
            Attempt::Failed("refused_address".into())
        }
        Err(_) => Attempt::Failed("connection_failed".into()),
    }
}
