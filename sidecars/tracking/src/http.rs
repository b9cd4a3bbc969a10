//! The tracking component's routes (tracking.md): hub scans and carrier pushes in, the
//! timeline, stuck parcels, unmatched events, the public tracking page and the delivery
//! performance report out. Webhook endpoints and carrier connections have their routes in
//! `webhooks.rs` and `poll.rs`.

use crate::formats::{self, BodyError, Parsed};
use crate::ingest::{self, Origin, Outcome};
use crate::model::{Decider, Segment, Source, Status, resolve_segments, utc_text};
use crate::report::{self, Accumulator, ReportEvent, ReportParcel};
use crate::store::{self, EventRow, ParcelRow, StuckFilter};
use crate::{INGEST_BODY_BYTES_MAX, Tracking};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use crossdock_http::{
    ApiError, ErrorBody, ListParams, Page, Principal, Problem, Role, encode_cursor, json,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type AppState = Arc<Tracking>;

pub(crate) fn router(tracking: Arc<Tracking>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(hub_scans))
        .routes(routes!(carrier_events))
        .routes(routes!(shipment_tracking))
        .routes(routes!(stuck))
        .routes(routes!(unmatched))
        .routes(routes!(public_page))
        .routes(routes!(performance))
        .layer(axum::extract::DefaultBodyLimit::max(INGEST_BODY_BYTES_MAX))
        .with_state(tracking.clone())
        .merge(crate::webhooks::routes(tracking.clone()))
        .merge(crate::poll::routes(tracking))
}

/// Views of parcels: shipper (its customer), operator, admin.
pub(crate) const VIEW_ROLES: [Role; 3] = [Role::Shipper, Role::Operator, Role::Admin];
const OPERATOR_ROLES: [Role; 2] = [Role::Operator, Role::Admin];
const REPORT_ROLES: [Role; 2] = [Role::Analyst, Role::Admin];

/// A JSON object body (the routes that take one), or 400 naming `body`.
pub(crate) fn body_object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid_field("body", "must be a JSON object")),
        Err(e) => Err(ApiError::invalid_field("body", format!("not JSON: {e}"))),
    }
}

pub(crate) fn body_bytes(
    body: Result<Bytes, BytesRejection>,
    limit: &'static str,
    max: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|e| ApiError::body(e, limit, max))
}

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::Malformed(problems) => ApiError::invalid(problems),
        BodyError::TooMany { limit } => {
            ApiError::too_large("scans", "hub_scans_max", limit as u64, "scans")
        }
    }
}

/// Accepts parsed events for `origin` and answers the contract's results.
pub(crate) async fn accept(
    tracking: &Tracking,
    origin: Origin,
    items: Vec<Parsed>,
) -> Result<Response, ApiError> {
    let outcomes = accept_items(tracking, origin, items).await?;
    Ok(json(
        StatusCode::OK,
        &json!({ "results": outcomes.iter().map(outcome_json).collect::<Vec<_>>() }),
    ))
}

pub(crate) async fn accept_items(
    tracking: &Tracking,
    origin: Origin,
    items: Vec<Parsed>,
) -> Result<Vec<Outcome>, ApiError> {
    let ids = items
        .iter()
        .map(|_| crossdock_http::new_id("evt"))
        .collect::<Result<Vec<_>, _>>()?;
    let ids_len = ids.len();
    let now_ms = tracking.now_ms();
    let script =
        move |tx: &mut crossdock_db::Tx<'_>| ingest::ingest(tx, &origin, &items, &ids, now_ms);
    // A large body (a carrier's backlog) is bulk work: on SQLite it runs on the background
    // writer, whose WAL checkpoints happen off its thread, and gives way to quotes.
    if ids_len >= BULK_EVENTS_MIN {
        tracking.db.write_bulk(script).await.map_err(ApiError::from)
    } else {
        tracking.db.write(script).await.map_err(ApiError::from)
    }
}

/// Bodies with at least this many events are ingested as bulk work.
pub const BULK_EVENTS_MIN: usize = 500;

fn outcome_json(o: &Outcome) -> Value {
    match o {
        Outcome::Created(id) => json!({"result": "created", "id": id}),
        Outcome::Duplicate(id) => json!({"result": "duplicate", "id": id}),
        Outcome::Unmatched => json!({"result": "unmatched"}),
        Outcome::Invalid(problems) => json!({"result": "invalid", "problems": problems}),
    }
}

/// Hub scans (operator, admin), up to 1,000 per call.
#[utoipa::path(post, path = "/v1/hub/scans", tag = "tracking", security(("api_key" = [])),
    request_body(content = Object, description = "{\"scans\": [{scan_id, tracking_number, type, time, facility, country, city, weight_g, bag}]}", content_type = "application/json"),
    responses((status = 200, description = "one result per scan, in order", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn hub_scans(
    State(tracking): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&OPERATOR_ROLES)?;
    let body = body_bytes(body, "ingest_body_bytes_max", INGEST_BODY_BYTES_MAX)?;
    let items = formats::hub_scans(&body).map_err(body_error)?;
    let origin = Origin {
        tenant: principal.tenant.0,
        source: Source::Hub,
        connection: None,
        carrier: None,
    };
    accept(&tracking, origin, items).await
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
struct ConnectionParam {
    /// The carrier connection's id (`ccn_…`).
    connection: Option<String>,
}

/// A carrier's push (no key: the connection's signature). Unknown connection, bad
/// signature or a timestamp outside the replay window: 401, nothing stored.
#[utoipa::path(post, path = "/v1/carriers/{format}/events", tag = "tracking",
    params(("format" = String, Path, description = "17track, aftership or upu-edi"), ConnectionParam),
    request_body(content = String, description = "the carrier's own body"),
    responses((status = 200, description = "one result per event, in order", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn carrier_events(
    State(tracking): State<AppState>,
    Path(format): Path<String>,
    Query(param): Query<ConnectionParam>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let source = match Source::parse_format(&format) {
        Some(s) if s != Source::Poll => s,
        _ => return Err(ApiError::not_found("carrier format")),
    };
    let body = body_bytes(body, "ingest_body_bytes_max", INGEST_BODY_BYTES_MAX)?;
    let unauthorized =
        || ApiError::unauthorized("unknown connection, bad signature or stale timestamp");
    let id = param.connection.ok_or_else(unauthorized)?;
    let connection = {
        let id = id.clone();
        tracking
            .db
            .read(move |tx| crate::poll::connection_by_id(tx, &id))
            .await?
    }
    .filter(|c| c.format == source.as_str())
    .ok_or_else(unauthorized)?;
    // A secret that does not open (another key) verifies nothing: the empty secret.
    let secret = connection
        .secret
        .as_deref()
        .and_then(|s| tracking.config.sealer.open(crate::poll::SECRET_PLACE, s))
        .unwrap_or_default();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let now = tracking.clock.now_unix();
    let window = tracking.config.replay_window_s;
    let fresh = |ts: Option<i64>| ts.is_some_and(|ts| (now - ts).abs() <= window);
    let signed = match source {
        Source::SeventeenTrack => formats::verify_17track(&body, &secret, header("sign")),
        Source::AfterShip => {
            formats::verify_aftership(&body, &secret, header("aftership-hmac-sha256"))
                && fresh(formats::aftership_timestamp(&body))
        }
        Source::UpuEdi => {
            let ts = header("webhook-timestamp").parse::<i64>().ok();
            fresh(ts)
                && formats::verify_standard(
                    &body,
                    &secret,
                    header("webhook-id"),
                    ts.unwrap_or_default(),
                    header("webhook-signature"),
                )
        }
        Source::Hub | Source::Poll => false,
    };
    if !signed {
        return Err(unauthorized());
    }
    let items = match source {
        Source::SeventeenTrack => formats::seventeen_track(&body),
        Source::AfterShip => formats::aftership(&body),
        _ => formats::upu_edi(&body),
    }
    .map_err(body_error)?;
    let origin = Origin {
        tenant: connection.tenant,
        source,
        connection: Some(connection.id),
        carrier: Some(connection.carrier),
    };
    accept(&tracking, origin, items).await
}

/// A parcel's events in the contract's order with their segments resolved.
pub(crate) fn ordered(mut events: Vec<EventRow>) -> Vec<(EventRow, Segment)> {
    events.retain(|e| e.status.is_some());
    let key = |e: &EventRow| Decider {
        instant_ms: e.instant_ms,
        status: e
            .status
            .as_deref()
            .and_then(Status::parse)
            .unwrap_or(Status::InfoReceived),
        sub_status: e.sub_status.clone().unwrap_or_default(),
        identity: e.identity.clone(),
    };
    events.sort_by(|a, b| key(a).order(&key(b)));
    let segments = resolve_segments(
        &events
            .iter()
            .map(|e| e.segment.as_deref().and_then(Segment::parse))
            .collect::<Vec<_>>(),
    );
    events.into_iter().zip(segments).collect()
}

fn event_json(e: &EventRow, segment: Segment) -> Value {
    json!({
        "id": e.id,
        "time": e.time,
        "status": e.status,
        "sub_status": e.sub_status,
        "segment": segment.as_str(),
        "tracking_number": e.tracking_number,
        "carrier": e.carrier,
        "source": e.source,
        "location": {"country": e.country, "city": e.city, "facility": e.facility},
        "raw": {"code": e.code, "description": e.description},
        "received_at": crossdock_http::rfc3339(e.received_at),
    })
}

fn status_time(p: &ParcelRow) -> Value {
    p.status_ms.map_or(Value::Null, |ms| json!(utc_text(ms)))
}

/// The parcel of a shipment for this caller (404 for another tenant's or customer's).
async fn visible_parcel(
    tracking: &Tracking,
    principal: &Principal,
    id: String,
) -> Result<ParcelRow, ApiError> {
    let parcel = tracking.db.read(move |tx| store::parcel(tx, &id)).await?;
    parcel
        .filter(|p| p.tenant == principal.tenant.0 && principal.may_act_for(Some(&p.customer)))
        .ok_or_else(|| ApiError::not_found("shipment"))
}

/// The timeline across segments.
#[utoipa::path(get, path = "/v1/shipments/{id}/tracking", tag = "tracking", security(("api_key" = [])),
    params(("id" = String, Path, description = "shp_…")),
    responses((status = 200, description = "{shipment_id, tracking_number, status, sub_status, status_time, events}", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn shipment_tracking(
    State(tracking): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&VIEW_ROLES)?;
    let parcel = visible_parcel(&tracking, &principal, id).await?;
    let sid = parcel.shipment_id.clone();
    let events = tracking
        .db
        .read(move |tx| store::events_of(tx, &sid))
        .await?;
    let events: Vec<Value> = ordered(events)
        .iter()
        .map(|(e, s)| event_json(e, *s))
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({
            "shipment_id": parcel.shipment_id,
            "tracking_number": parcel.tracking_number,
            "status": parcel.status,
            "sub_status": parcel.sub_status,
            "status_time": status_time(&parcel),
            "events": events,
        }),
    ))
}

fn param(params: &HashMap<String, String>, key: &str) -> Option<String> {
    params.get(key).filter(|v| !v.is_empty()).cloned()
}

/// Parcels with no news for `days` days, oldest first.
#[utoipa::path(get, path = "/v1/tracking/stuck", tag = "tracking", security(("api_key" = [])),
    params(ListParams, ("days" = u32, Query, description = "whole days without an event (required)"),
        ("lane" = Option<String>, Query, description = "CN-DE"), ("status" = Option<String>, Query)),
    responses((status = 200, description = "a page of stuck parcels, oldest first", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn stuck(
    State(tracking): State<AppState>,
    principal: Principal,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    principal.require(&VIEW_ROLES)?;
    let page = ListParams {
        limit: params.get("limit").cloned(),
        cursor: params.get("cursor").cloned(),
    }
    .check()?;
    let mut problems = Vec::new();
    let days = match params.get("days").map(|d| d.parse::<u32>()) {
        Some(Ok(d)) if d <= 3650 => i64::from(d),
        Some(_) => {
            problems.push(Problem::new(
                "days",
                "must be a whole number of days from 0 to 3650",
            ));
            0
        }
        None => {
            problems.push(Problem::new(
                "days",
                "required: whole days without an event",
            ));
            0
        }
    };
    let status = param(&params, "status");
    if let Some(s) = &status
        && Status::parse(s).is_none()
    {
        problems.push(Problem::new("status", "not a tracking status"));
    }
    let after = match page.after.as_deref() {
        None => None,
        Some([ms, id]) => match ms.parse::<i64>() {
            Ok(ms) => Some((ms, id.clone())),
            Err(_) => {
                problems.push(Problem::new("cursor", "is not a cursor this list gave"));
                None
            }
        },
        Some(_) => {
            problems.push(Problem::new("cursor", "is not a cursor this list gave"));
            None
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let filter = StuckFilter {
        customer: principal.customer.clone(),
        lane: param(&params, "lane"),
        status,
    };
    let cutoff = tracking.now_ms() - days * 86_400_000;
    let tenant = principal.tenant.0;
    let limit = page.limit as i64 + 1;
    let rows = tracking
        .db
        .read(move |tx| store::stuck(tx, tenant, cutoff, &filter, after, limit))
        .await?;
    let page = Page::from_overfetch(rows, &page, |p| {
        encode_cursor(&[&p.activity_ms.to_string(), &p.shipment_id])
    });
    let data: Vec<Value> = page
        .data
        .iter()
        .map(|p| {
            json!({"shipment_id": p.shipment_id, "tracking_number": p.tracking_number, "lane": p.lane,
                "status": p.status, "last_event_time": utc_text(p.activity_ms)})
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({"data": data, "next_cursor": page.next_cursor, "limit": page.limit, "cursor": page.cursor}),
    ))
}

/// Events kept for an unknown number or with an unmapped code (operator, admin).
#[utoipa::path(get, path = "/v1/tracking/unmatched", tag = "tracking", security(("api_key" = [])),
    params(ListParams),
    responses((status = 200, description = "a page of unmatched events, newest first", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn unmatched(
    State(tracking): State<AppState>,
    principal: Principal,
    Query(list): Query<ListParams>,
) -> Result<Response, ApiError> {
    principal.require(&OPERATOR_ROLES)?;
    let page = list.check()?;
    let before = page.before_seq()?;
    let tenant = principal.tenant.0;
    let limit = page.limit as i64 + 1;
    let rows = tracking
        .db
        .read(move |tx| store::unmatched(tx, tenant, before, limit))
        .await?;
    let page = Page::from_overfetch(rows, &page, |e| encode_cursor(&[&e.seq.to_string()]));
    let data: Vec<Value> = page
        .data
        .iter()
        .map(|e| {
            json!({"source": e.source, "connection": e.connection, "tracking_number": e.tracking_number,
                "code": e.code, "reason": e.unmatched, "time": e.time,
                "received_at": crossdock_http::rfc3339(e.received_at)})
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({"data": data, "next_cursor": page.next_cursor, "limit": page.limit, "cursor": page.cursor}),
    ))
}

/// The public tracking page (no key): HTML, or JSON with `.json`. Only what the contract
/// allows a buyer to see.
#[utoipa::path(get, path = "/track/{number}", tag = "tracking",
    params(("number" = String, Path, description = "a tracking number; append .json for JSON")),
    responses((status = 200, description = "tracking_number, status, status_time, destination_country, events (time, status, location.country, location.city)", body = Object),
        (status = 404, body = ErrorBody)))]
async fn public_page(
    State(tracking): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let (number, as_json) = match number.strip_suffix(".json") {
        Some(n) => (n.to_owned(), true),
        None => (number, false),
    };
    if number.is_empty() || number.len() > 64 {
        return Err(ApiError::not_found("tracking number"));
    }
    let lookup = number.clone();
    let (parcel, events) = tracking
        .db
        .read(move |tx| {
            let parcels = store::parcels_by_number(tx, &lookup)?;
            match parcels.as_slice() {
                [one] => {
                    let events = store::events_of(tx, &one.shipment_id)?;
                    Ok::<_, crossdock_db::DbError>(Some((one.clone(), events)))
                }
                _ => Ok(None),
            }
        })
        .await?
        .ok_or_else(|| ApiError::not_found("tracking number"))?;
    let events = ordered(events);
    let view = json!({
        "tracking_number": number,
        "status": parcel.status,
        "status_time": status_time(&parcel),
        "destination_country": parcel.destination,
        "events": events.iter().map(|(e, _)| json!({
            "time": e.time, "status": e.status,
            "location": {"country": e.country, "city": e.city},
        })).collect::<Vec<_>>(),
    });
    if as_json {
        return Ok(json(StatusCode::OK, &view));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        public_html(&view),
    )
        .into_response())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn public_html(view: &Value) -> String {
    let s = |v: &Value| escape(v.as_str().unwrap_or(""));
    let mut rows = String::new();
    for e in view["events"].as_array().into_iter().flatten() {
        let place = [s(&e["location"]["city"]), s(&e["location"]["country"])]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            s(&e["time"]),
            s(&e["status"]).replace('_', " "),
            place
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Tracking {n}</title></head>\n<body>\n<h1>Parcel {n}</h1>\n<p>Status: <strong>{st}</strong>{at}</p>\n\
         <p>Destination: {dest}</p>\n<table>\n<thead><tr><th>Time</th><th>Status</th><th>Place</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</body></html>\n",
        n = s(&view["tracking_number"]),
        st = s(&view["status"]).replace('_', " "),
        at = view["status_time"]
            .as_str()
            .map(|t| format!(" since {}", escape(t)))
            .unwrap_or_default(),
        dest = s(&view["destination_country"]),
    )
}

/// Parcels per report page read from the database.
const REPORT_PAGE_PARCELS: i64 = 2_000;

/// Delivery performance by carrier, service, lane and week (analyst, admin).
#[utoipa::path(get, path = "/v1/reports/performance", tag = "tracking", security(("api_key" = [])),
    params(("from" = String, Query, description = "YYYY-MM-DD"), ("to" = String, Query, description = "YYYY-MM-DD"),
        ("group" = Option<String>, Query, description = "carrier,service,lane,week (default all)"),
        ("format" = Option<String>, Query, description = "json (default) or csv")),
    responses((status = 200, description = "{from, to, group, rows}", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn performance(
    State(tracking): State<AppState>,
    principal: Principal,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    principal.require(&REPORT_ROLES)?;
    let mut problems = Vec::new();
    let mut date = |key: &str| match params.get(key).map(|d| report::Date::parse(d)) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            problems.push(Problem::new(key, e));
            None
        }
        None => {
            problems.push(Problem::new(key, "required: YYYY-MM-DD"));
            None
        }
    };
    let (from, to) = (date("from"), date("to"));
    let group = report::parse_group(params.get("group").map(String::as_str))
        .map_err(|e| problems.push(Problem::new("group", e)))
        .ok();
    let csv = match params.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            problems.push(Problem::new("format", "json or csv"));
            false
        }
    };
    let (Some(from), Some(to), Some(group), true) = (from, to, group, problems.is_empty()) else {
        return Err(ApiError::invalid(problems));
    };
    let tenant = principal.tenant.0;
    let customer = principal.customer.clone();
    let keys = group.clone();
    let rows = tracking
        .db
        .read(move |tx| performance_rows(tx, tenant, customer.as_deref(), from, to, keys))
        .await?;
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report::to_csv(&group, &rows),
        )
            .into_response());
    }
    let rows: Vec<String> = rows.iter().map(report::row_json).collect();
    let body = format!(
        "{{\"from\":\"{from}\",\"to\":\"{to}\",\"group\":{},\"rows\":[{}]}}",
        serde_json::to_string(&group.iter().map(|k| k.as_str()).collect::<Vec<_>>())
            .unwrap_or_default(),
        rows.join(",")
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The delivery performance report over a tenant's parcels (a shipper key's customer's
/// only). The tenant's events are read once, in storage order and in pages (a sequential
/// scan, not one index range per parcel), kept compact per parcel, then the parcels are read
/// in pages and each is handed to the accumulator with its events.
pub fn performance_rows(
    tx: &mut crossdock_db::Tx<'_>,
    tenant: i64,
    customer: Option<&str>,
    from: report::Date,
    to: report::Date,
    group: Vec<report::Key>,
) -> Result<Vec<report::Row>, crossdock_db::DbError> {
    let mut events: HashMap<String, Vec<Compact>> = HashMap::new();
    let mut after = 0i64;
    loop {
        let rows = tx.query(
            // `+tenant_id`: no index on it, so both databases walk the table in `seq` order
            // (SQLite would otherwise take the identity index and sort every page).
            "SELECT seq, shipment_id, instant_ms, offset_s, status, sub_status, segment, identity FROM tracking_events \
             WHERE +tenant_id = $1 AND seq > $2 AND shipment_id IS NOT NULL AND status IS NOT NULL ORDER BY seq LIMIT $3",
            &[&tenant, &after, &REPORT_PAGE_EVENTS],
        )?;
        for r in &rows {
            after = r.get(0)?;
            let status: String = r.get(4)?;
            let sub: Option<String> = r.get(5)?;
            let (Some(status), Some(sub)) = (
                Status::parse(&status),
                sub.as_deref().and_then(crate::model::sub_status),
            ) else {
                continue;
            };
            let segment: Option<String> = r.get(6)?;
            let identity: String = r.get(7)?;
            events.entry(r.get(1)?).or_default().push(Compact {
                instant_ms: r.get(2)?,
                offset_s: i32::try_from(r.get::<i64>(3)?).unwrap_or(0),
                status,
                sub_status: sub.sub_status,
                segment: segment.as_deref().and_then(Segment::parse),
                identity: identity_bytes(&identity),
            });
        }
        if (rows.len() as i64) < REPORT_PAGE_EVENTS {
            break;
        }
    }
    let mut acc = Accumulator::new(from, to, group);
    let mut after = String::new();
    loop {
        let page = report_parcels(tx, tenant, customer, &after, REPORT_PAGE_PARCELS)?;
        let Some(last) = page.last() else { break };
        after = last.0.clone();
        for (sid, mut parcel) in page.iter().cloned() {
            let mut list = events.remove(&sid).unwrap_or_default();
            list.sort_by(|a, b| {
                a.instant_ms
                    .cmp(&b.instant_ms)
                    .then(a.status.rank().cmp(&b.status.rank()))
                    .then_with(|| a.sub_status.as_bytes().cmp(b.sub_status.as_bytes()))
                    .then_with(|| a.identity.cmp(&b.identity))
            });
            let segments = resolve_segments(&list.iter().map(|e| e.segment).collect::<Vec<_>>());
            parcel.events = list
                .iter()
                .zip(segments)
                .map(|(e, seg)| ReportEvent {
                    instant_ms: e.instant_ms,
                    offset_s: e.offset_s,
                    status: e.status.as_str().to_owned(),
                    segment: seg.as_str().to_owned(),
                })
                .collect();
            acc.add(&parcel);
        }
        if (page.len() as i64) < REPORT_PAGE_PARCELS {
            break;
        }
    }
    Ok(acc.finish())
}

/// Events per page of the report's scan.
const REPORT_PAGE_EVENTS: i64 = 20_000;

/// An event as the report needs it.
struct Compact {
    instant_ms: i64,
    offset_s: i32,
    status: Status,
    sub_status: &'static str,
    segment: Option<Segment>,
    /// The identity hash's bytes: they order as its hex text does.
    identity: [u8; 16],
}

fn identity_bytes(hex: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, pair) in hex.as_bytes().chunks(2).take(16).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        if let [hi, lo] = pair {
            out[i] = digit(*hi) << 4 | digit(*lo);
        }
    }
    out
}

/// A page of the tenant's parcels (by shipment id), without their events.
fn report_parcels(
    tx: &mut crossdock_db::Tx<'_>,
    tenant: i64,
    customer: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, ReportParcel)>, crossdock_db::DbError> {
    let sql = tx.pick(
        "SELECT shipment_id, carrier, service, lane, transit_max FROM tracking_parcels \
         WHERE tenant_id = $1 AND shipment_id > $2 AND ($3::TEXT IS NULL OR customer = $3) ORDER BY shipment_id LIMIT $4",
        "SELECT shipment_id, carrier, service, lane, transit_max FROM tracking_parcels \
         WHERE tenant_id = $1 AND shipment_id > $2 AND ($3 IS NULL OR customer = $3) ORDER BY shipment_id LIMIT $4",
    ).to_owned();
    tx.query(&sql, &[&tenant, &after, &customer, &limit])?
        .iter()
        .map(|r| {
            Ok((
                r.get(0)?,
                ReportParcel {
                    carrier: r.get(1)?,
                    service: r.get(2)?,
                    lane: r.get(3)?,
                    transit_max: r.get::<Option<i64>>(4)?.and_then(|m| u32::try_from(m).ok()),
                    events: Vec::new(),
                },
            ))
        })
        .collect()
}
