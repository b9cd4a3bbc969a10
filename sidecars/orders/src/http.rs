//! The orders component's routes (orders-labels.md): orders, batches, shipping, shipments,
//! number ranges and shipment events. Bodies are read as JSON whatever the
//! `Content-Type` says (`curl -d` sends a form type); every route maps `OrdersError` into
//! the edge's one `ApiError`.

use crate::error::OrdersError;
use crate::model::{RangeFormat, Source};
use crate::ship::{self, Shipped};
use crate::store::{self, OrderFilter, RangeRow, ShipmentFilter};
use crate::{Actor, BATCH_ITEMS_MAX, BODY_BYTES_MAX, Created, Orders, json as render, new_id};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use crossdock_http::{
    ApiError, ErrorBody, ListParams, Page, PageRequest, Principal, Problem, Role, encode_cursor,
    json, rfc3339,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type AppState = Arc<Orders>;

pub(crate) fn router(orders: Arc<Orders>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_order, list_orders))
        .routes(routes!(get_order, patch_order))
        .routes(routes!(create_batch))
        .routes(routes!(ship_order))
        .routes(routes!(ship_batch))
        .routes(routes!(get_shipment))
        .routes(routes!(list_shipments))
        .routes(routes!(void_shipment))
        .routes(routes!(handover_shipment))
        .routes(routes!(relabel_shipment))
        .routes(routes!(create_range, list_ranges))
        .routes(routes!(list_events))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(orders.clone())
        .merge(crate::upload::routes(orders.clone()))
        .merge(crate::inbound::routes(orders))
}

/// Orders, ship, shipments: shipper (own customer), operator, admin.
const ORDER_ROLES: [Role; 3] = [Role::Shipper, Role::Operator, Role::Admin];
/// Hand-over, relabel, events: operator, admin.
const OPERATOR_ROLES: [Role; 2] = [Role::Operator, Role::Admin];

fn body_json(body: Result<Bytes, BytesRejection>, empty_ok: bool) -> Result<Value, ApiError> {
    let body = body.map_err(|e| ApiError::body(e, "orders_body_bytes_max", BODY_BYTES_MAX))?;
    if empty_ok && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid_field("body", format!("not JSON: {e}")))
}

fn page_of(params: &HashMap<String, String>) -> Result<(PageRequest, Option<i64>), ApiError> {
    let page = ListParams {
        limit: params.get("limit").cloned(),
        cursor: params.get("cursor").cloned(),
    }
    .check()?;
    let before = page.before_seq()?;
    Ok((page, before))
}

fn filter(params: &HashMap<String, String>, key: &str) -> Option<String> {
    params.get(key).filter(|v| !v.is_empty()).cloned()
}

fn page_json<T>(
    items: Vec<T>,
    page: &PageRequest,
    seq: impl Fn(&T) -> i64,
    view: impl Fn(&T) -> Value,
) -> Response {
    let page = Page::from_overfetch(items, page, |item| encode_cursor(&[&seq(item).to_string()]));
    json(
        StatusCode::OK,
        &json!({
            "data": page.data.iter().map(view).collect::<Vec<_>>(),
            "next_cursor": page.next_cursor,
            "limit": page.limit,
            "cursor": page.cursor,
        }),
    )
}

/// Creates an order, or answers the customer's order with this reference (200) when the
/// content is the same; other content: 409 `idempotency_mismatch`.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", security(("api_key" = [])),
    request_body(content = Object, description = "an order (orders-labels.md)", content_type = "application/json"),
    responses(
        (status = 201, description = "created, `ready` or `held` with every problem", body = Object),
        (status = 200, description = "the existing order with this reference", body = Object),
        (status = 400, description = "invalid_request: wrong types, unknown fields, bad codes, no reference", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "forbidden: a role, or another customer", body = ErrorBody),
        (status = 409, description = "idempotency_mismatch", body = ErrorBody),
        (status = 413, body = ErrorBody)))]
async fn create_order(
    State(orders): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let value = body_json(body, false)?;
    match orders
        .create(&Actor::of(&principal), &value, Source::Api)
        .await?
    {
        Created::Created(row) => Ok(json(StatusCode::CREATED, &render::order(&row))),
        Created::Duplicate(row) => Ok(json(StatusCode::OK, &render::order(&row))),
    }
}

/// The caller's orders, newest first; filters `status`, `reference`, `customer`, `source`.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", security(("api_key" = [])),
    params(ListParams,
        ("status" = Option<String>, Query, description = "held, ready or shipped"),
        ("reference" = Option<String>, Query), ("customer" = Option<String>, Query),
        ("source" = Option<String>, Query, description = "api, batch, upload, inbox, webhook")),
    responses((status = 200, description = "a page of orders", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_orders(
    State(orders): State<AppState>,
    principal: Principal,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let (page, before) = page_of(&params)?;
    let actor = Actor::of(&principal);
    let mut f = OrderFilter {
        status: filter(&params, "status"),
        reference: filter(&params, "reference"),
        customer: filter(&params, "customer"),
        source: filter(&params, "source"),
    };
    if let Some(own) = &actor.customer {
        if f.customer.as_ref().is_some_and(|c| c != own) {
            return Ok(page_json(
                Vec::<store::OrderRow>::new(),
                &page,
                |r| r.seq,
                render::order,
            ));
        }
        f.customer = Some(own.clone());
    }
    let (tenant, limit) = (actor.tenant.0, page.limit as i64 + 1);
    let rows = orders
        .db
        .read(move |tx| store::list_orders(tx, tenant, &f, before, limit))
        .await
        .map_err(ApiError::from)?;
    Ok(page_json(rows, &page, |r| r.seq, render::order))
}

/// One order.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_order(
    State(orders): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let row = orders.order(&Actor::of(&principal), &id).await?;
    Ok(json(StatusCode::OK, &render::order(&row)))
}

/// Corrects a `held` or `ready` order (RFC 7396 merge patch) and validates it again.
#[utoipa::path(patch, path = "/v1/orders/{id}", tag = "orders", security(("api_key" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "an RFC 7396 merge patch", content_type = "application/merge-patch+json"),
    responses((status = 200, body = Object), (status = 400, description = "reference or customer, or the patched order is invalid", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "shipped", body = ErrorBody)))]
async fn patch_order(
    State(orders): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let patch = body_json(body, false)?;
    let row = orders.patch(&Actor::of(&principal), &id, &patch).await?;
    Ok(json(StatusCode::OK, &render::order(&row)))
}

/// Up to 1,000 orders: one result per order, in order.
#[utoipa::path(post, path = "/v1/orders/batch", tag = "orders", security(("api_key" = [])),
    request_body(content = Object, description = "{\"orders\": [...]}", content_type = "application/json"),
    responses((status = 200, description = "{\"results\": [{index, reference, status: created|duplicate|invalid, order, order_status, problems}]}", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, description = "over 1,000 orders", body = ErrorBody)))]
async fn create_batch(
    State(orders): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let value = body_json(body, false)?;
    let items = batch_items(&value, "orders")?;
    let actor = Actor::of(&principal);
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        results.push(batch_result(&orders, &actor, index, item, Source::Batch).await?);
    }
    Ok(json(StatusCode::OK, &json!({ "results": results })))
}

fn batch_items<'v>(value: &'v Value, key: &str) -> Result<&'v Vec<Value>, ApiError> {
    let unknown: Vec<Problem> = value
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| *k != key && *k != "ship_date")
                .map(|k| Problem::new(k.clone(), "unknown field"))
                .collect()
        })
        .unwrap_or_default();
    if !unknown.is_empty() {
        return Err(ApiError::invalid(unknown));
    }
    let items = value[key]
        .as_array()
        .ok_or_else(|| ApiError::invalid_field(key, "must be an array"))?;
    if items.len() > BATCH_ITEMS_MAX {
        return Err(ApiError::too_large(
            key,
            "batch_items_max",
            BATCH_ITEMS_MAX,
            "items",
        ));
    }
    Ok(items)
}

/// One order of a batch or an upload as its result row; only a failure of ours is an `Err`.
pub(crate) async fn batch_result(
    orders: &Orders,
    actor: &Actor,
    index: usize,
    item: &Value,
    source: Source,
) -> Result<Value, ApiError> {
    let reference = item["reference"].as_str().map(str::to_owned);
    let row = |status: &str, order: Option<&store::OrderRow>, problems: Value| {
        json!({
            "index": index,
            "reference": reference,
            "status": status,
            "order": order.map(|o| o.id.clone()),
            "order_status": order.map(|o| o.status.clone()),
            "problems": problems,
        })
    };
    match orders.create(actor, item, source).await {
        Ok(Created::Created(o)) => Ok(row(
            "created",
            Some(&o),
            serde_json::from_str(&o.problems).unwrap_or_default(),
        )),
        Ok(Created::Duplicate(o)) => Ok(row(
            "duplicate",
            Some(&o),
            serde_json::from_str(&o.problems).unwrap_or_default(),
        )),
        Err(OrdersError::Invalid(problems)) => Ok(row("invalid", None, problems_json(&problems))),
        Err(OrdersError::Forbidden(why)) => Ok(row(
            "invalid",
            None,
            json!([{"field": "customer", "problem": why}]),
        )),
        Err(OrdersError::Conflict { problems, .. }) => {
            Ok(row("invalid", None, problems_json(&problems)))
        }
        Err(other) => Err(other.into()),
    }
}

fn problems_json(problems: &[Problem]) -> Value {
    Value::Array(
        problems
            .iter()
            .map(|p| json!({"field": p.field, "problem": p.problem}))
            .collect(),
    )
}

fn shipped(result: Shipped) -> Response {
    match result {
        Shipped::Created(doc) => json(StatusCode::CREATED, &doc),
        Shipped::Existing(doc) => json(StatusCode::OK, &doc),
    }
}

/// Ships an order: rank 1 of its quote, segment 1 issued, in one transaction.
#[utoipa::path(post, path = "/v1/orders/{id}/ship", tag = "shipments", security(("api_key" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "{\"ship_date\": \"2026-12-01\"} (optional; default today, UTC)", content_type = "application/json"),
    responses(
        (status = 201, description = "the shipment", body = Object),
        (status = 200, description = "the order's live shipment (nothing issued)", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "held: its problems", body = ErrorBody),
        (status = 422, description = "no_service (with excluded), range_exhausted, credit_exceeded", body = ErrorBody),
        (status = 503, description = "no rate book", body = ErrorBody)))]
async fn ship_order(
    State(orders): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let date = ship::ship_date(&body_json(body, true)?)?;
    Ok(shipped(
        orders.ship(&Actor::of(&principal), &id, date).await?,
    ))
}

/// Ships up to 1,000 orders: one result per order, in order.
#[utoipa::path(post, path = "/v1/shipments/batch", tag = "shipments", security(("api_key" = [])),
    request_body(content = Object, description = "{\"orders\": [ids], \"ship_date\"}", content_type = "application/json"),
    responses((status = 200, description = "{\"results\": [{order, status: created|existing|failed, shipment | error}]}", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn ship_batch(
    State(orders): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let value = body_json(body, false)?;
    let items = batch_items(&value, "orders")?;
    let date = ship::ship_date(
        &json!({"ship_date": value.get("ship_date").cloned().unwrap_or(Value::Null)}),
    )?;
    let actor = Actor::of(&principal);
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let Some(id) = item.as_str() else {
            results.push(json!({"order": item, "status": "failed", "error": {"error": "invalid_request", "problems": [{"field": "orders", "problem": "an order id"}]}}));
            continue;
        };
        results.push(match orders.ship(&actor, id, date.clone()).await {
            Ok(Shipped::Created(doc)) => json!({"order": id, "status": "created", "shipment": doc}),
            Ok(Shipped::Existing(doc)) => {
                json!({"order": id, "status": "existing", "shipment": doc})
            }
            Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => return Err(e.into()),
            Err(e) => {
                json!({"order": id, "status": "failed", "error": ApiError::from(e).body_json()})
            }
        });
    }
    Ok(json(StatusCode::OK, &json!({ "results": results })))
}

/// One shipment.
#[utoipa::path(get, path = "/v1/shipments/{id}", tag = "shipments", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_shipment(
    State(orders): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let row = orders.shipment(&Actor::of(&principal), &id).await?;
    Ok(json(StatusCode::OK, &ship::doc_of(&row)?))
}

/// Shipments, newest first; filters `tracking_number` (any segment), `order`, `status`,
/// `service`, `customer`.
#[utoipa::path(get, path = "/v1/shipments", tag = "shipments", security(("api_key" = [])),
    params(ListParams, ("tracking_number" = Option<String>, Query), ("order" = Option<String>, Query),
        ("status" = Option<String>, Query), ("service" = Option<String>, Query), ("customer" = Option<String>, Query)),
    responses((status = 200, description = "a page of shipments", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_shipments(
    State(orders): State<AppState>,
    principal: Principal,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    let (page, before) = page_of(&params)?;
    let actor = Actor::of(&principal);
    let mut f = ShipmentFilter {
        tracking_number: filter(&params, "tracking_number"),
        order: filter(&params, "order"),
        status: filter(&params, "status"),
        service: filter(&params, "service"),
        customer: filter(&params, "customer"),
    };
    let view =
        |r: &store::ShipmentRow| serde_json::from_str::<Value>(&r.doc).unwrap_or(Value::Null);
    if let Some(own) = &actor.customer {
        if f.customer.as_ref().is_some_and(|c| c != own) {
            return Ok(page_json(
                Vec::<store::ShipmentRow>::new(),
                &page,
                |r| r.seq,
                view,
            ));
        }
        f.customer = Some(own.clone());
    }
    let (tenant, limit) = (actor.tenant.0, page.limit as i64 + 1);
    let rows = orders
        .db
        .read(move |tx| store::list_shipments(tx, tenant, &f, before, limit))
        .await
        .map_err(ApiError::from)?;
    Ok(page_json(rows, &page, |r| r.seq, view))
}

/// Voids a `labelled` shipment; the order is `ready` again. Again: 200, unchanged.
#[utoipa::path(post, path = "/v1/shipments/{id}/void", tag = "shipments", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "handed over, scanned or in a bag", body = ErrorBody)))]
async fn void_shipment(
    State(orders): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&ORDER_ROLES)?;
    Ok(json(
        StatusCode::OK,
        &orders.void(&Actor::of(&principal), &id).await?,
    ))
}

/// `labelled` → `handed_over`; idempotent.
#[utoipa::path(post, path = "/v1/shipments/{id}/handover", tag = "shipments", security(("api_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, description = "needs operator or admin", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "voided", body = ErrorBody)))]
async fn handover_shipment(
    State(orders): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&OPERATOR_ROLES)?;
    Ok(json(
        StatusCode::OK,
        &orders.hand_over(&Actor::of(&principal), &id).await?,
    ))
}

/// Issues a segment (default the first unissued): 201; issued already: 200.
#[utoipa::path(post, path = "/v1/shipments/{id}/relabel", tag = "shipments", security(("api_key" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "{\"seq\": 2} (optional)", content_type = "application/json"),
    responses((status = 201, description = "issued", body = Object), (status = 200, description = "issued before", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "skipping a segment, none left, voided", body = ErrorBody), (status = 422, description = "range_exhausted", body = ErrorBody)))]
async fn relabel_shipment(
    State(orders): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&OPERATOR_ROLES)?;
    let body = body_json(body, true)?;
    let mut problems: Vec<Problem> = body
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| *k != "seq")
                .map(|k| Problem::new(k.clone(), "unknown field"))
                .collect()
        })
        .unwrap_or_else(|| vec![Problem::new("", "must be a JSON object")]);
    let seq = match body.get("seq") {
        None | Some(Value::Null) => None,
        Some(v) => match v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
        {
            Some(n) => Some(n),
            None => {
                problems.push(Problem::new("seq", "a segment number from 1"));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let (doc, issued) = orders.relabel(&Actor::of(&principal), &id, seq).await?;
    Ok(json(
        if issued {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &doc,
    ))
}

fn range_view(r: &RangeRow) -> Value {
    let mut v = json!({
        "id": r.id,
        "carrier": r.carrier,
        "first": r.first,
        "last": r.last,
        "next": r.next,
        "remaining": (r.last - r.next + 1).max(0),
        "created_at": rfc3339(r.created_at),
    });
    match &r.format {
        RangeFormat::S10 {
            service_indicator,
            country,
        } => {
            v["format"] = json!("s10");
            v["service_indicator"] = json!(service_indicator);
            v["country"] = json!(country);
        }
        RangeFormat::Internal { prefix } => {
            v["format"] = json!("internal");
            v["prefix"] = json!(prefix);
        }
    }
    v
}

/// Adds a tracking-number range for a carrier (admin).
#[utoipa::path(post, path = "/v1/number-ranges", tag = "number-ranges", security(("api_key" = [])),
    request_body(content = Object, description = "{carrier, format: s10, service_indicator, country, first, last} or {carrier, format: internal, prefix, first, last}", content_type = "application/json"),
    responses((status = 201, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "overlaps a range of the same indicator and country, or prefix", body = ErrorBody)))]
async fn create_range(
    State(orders): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let body = body_json(body, false)?;
    let Some(o) = body.as_object() else {
        return Err(ApiError::invalid_field("", "must be a JSON object"));
    };
    let known = [
        "carrier",
        "format",
        "service_indicator",
        "country",
        "prefix",
        "first",
        "last",
    ];
    let mut problems: Vec<Problem> = o
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| Problem::new(k.clone(), "unknown field"))
        .collect();
    let text = |key: &str, problems: &mut Vec<Problem>| match o.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => s.trim().to_owned(),
        _ => {
            problems.push(Problem::new(key, "required text"));
            String::new()
        }
    };
    let int = |key: &str, problems: &mut Vec<Problem>| match o.get(key).and_then(Value::as_i64) {
        Some(n) => n,
        None => {
            problems.push(Problem::new(key, "required whole number"));
            0
        }
    };
    let carrier = text("carrier", &mut problems);
    let format = match o.get("format").and_then(Value::as_str) {
        Some("s10") => Some(RangeFormat::S10 {
            service_indicator: text("service_indicator", &mut problems),
            country: text("country", &mut problems),
        }),
        Some("internal") => Some(RangeFormat::Internal {
            prefix: text("prefix", &mut problems),
        }),
        _ => {
            problems.push(Problem::new("format", "s10 or internal"));
            None
        }
    };
    let (first, last) = (int("first", &mut problems), int("last", &mut problems));
    if let Some(format) = &format
        && problems.is_empty()
    {
        problems.extend(
            crate::model::range_problems(format, first, last)
                .into_iter()
                .map(|(f, p)| Problem::new(f, p)),
        );
    }
    let (Some(format), true) = (format, problems.is_empty()) else {
        return Err(ApiError::invalid(problems));
    };
    let range = RangeRow {
        id: new_id("rng")?,
        tenant: principal.tenant.0,
        carrier,
        format,
        first,
        last,
        next: first,
        created_at: orders.clock.now_unix(),
    };
    let stored = range.clone();
    let inserted = orders
        .db
        .write(move |tx| store::insert_range(tx, &stored))
        .await
        .map_err(ApiError::from)?;
    if !inserted {
        return Err(ApiError::conflict(
            "conflict",
            "the range overlaps another of the same indicator and country, or prefix",
        ));
    }
    Ok(json(StatusCode::CREATED, &range_view(&range)))
}

/// The tenant's number ranges, newest first, with what remains of each (admin).
#[utoipa::path(get, path = "/v1/number-ranges", tag = "number-ranges", security(("api_key" = [])),
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_ranges(
    State(orders): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let tenant = principal.tenant.0;
    let rows = orders
        .db
        .read(move |tx| store::list_ranges(tx, tenant))
        .await
        .map_err(ApiError::from)?;
    let data: Vec<Value> = rows.iter().map(range_view).collect();
    Ok(json(
        StatusCode::OK,
        &json!({"data": data, "next_cursor": null, "limit": data.len(), "cursor": null}),
    ))
}

/// Shipment events, newest first; filters `type`, `subject` (operator, admin).
#[utoipa::path(get, path = "/v1/events", tag = "events", security(("api_key" = [])),
    params(ListParams, ("type" = Option<String>, Query), ("subject" = Option<String>, Query)),
    responses((status = 200, description = "a page of events {id, type, created_at, subject, data}", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_events(
    State(orders): State<AppState>,
    principal: Principal,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    principal.require(&OPERATOR_ROLES)?;
    let (page, before) = page_of(&params)?;
    let (tenant, limit) = (principal.tenant.0, page.limit as i64 + 1);
    let customer = principal.customer.clone();
    let (kind, subject) = (filter(&params, "type"), filter(&params, "subject"));
    let rows = orders
        .db
        .read(move |tx| {
            store::list_events(
                tx,
                tenant,
                customer.as_deref(),
                kind.as_deref(),
                subject.as_deref(),
                before,
                limit,
            )
        })
        .await
        .map_err(ApiError::from)?;
    Ok(page_json(
        rows,
        &page,
        |r| r.seq,
        |r| serde_json::from_str(&r.doc).unwrap_or(Value::Null),
    ))
}
