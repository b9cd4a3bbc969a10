//! Inbound webhooks (orders-labels.md, "Orders in bulk"): an ERP posts batches of orders
//! to its endpoint without an API key, signed as Standard Webhooks.
//!
//! `POST /v1/inbound/endpoints` (admin) makes an endpoint for one customer and answers its
//! secret once (`whsec_` + base64 of 32 random bytes; kept sealed in `orders_inbound`, it signs).
//! `POST /v1/inbound/orders?endpoint=inb_…` checks, before reading the body: the endpoint
//! exists, `webhook-timestamp` is within [`TOLERANCE_S`] of the runtime's clock, and one
//! of the space-separated `v1,<base64>` signatures of `webhook-signature` is the
//! HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the decoded secret
//! (compared in constant time by `hmac`). Any of that wrong: 401, nothing created. Then
//! a `webhook-id` seen before for the endpoint answers its first answer byte for byte
//! (`orders_inbound_seen`); else the body is a batch (`{"orders": [≤ 1,000]}`) created for
//! the endpoint's customer with source `webhook`, answered like `POST /v1/orders/batch`.

use crate::error::OrdersError;
use crate::model::Source;
use crate::{Actor, BATCH_ITEMS_MAX, BODY_BYTES_MAX, Orders, bulk, new_id};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use crossdock_db::Tx;
use crossdock_http::{ApiError, ErrorBody, Principal, Problem, Role, TenantId, json, rfc3339};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How far `webhook-timestamp` may be from the runtime's clock, in seconds.
pub const TOLERANCE_S: i64 = 300;
/// Where endpoint secrets are kept (sealed).
const SECRET_PLACE: &str = "orders_inbound.secret";
/// Random bytes of an endpoint's secret.
pub const SECRET_BYTES: usize = 32;
/// Longest `webhook-id` kept.
pub const WEBHOOK_ID_CHARS_MAX: usize = 255;
/// Most signatures one `webhook-signature` header may carry.
const SIGNATURES_MAX: usize = 16;

type HmacSha256 = Hmac<sha2::Sha256>;

/// An endpoint as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub tenant: i64,
    pub customer: String,
    /// `whsec_<base64>`.
    pub secret: String,
    pub created_at: i64,
}

fn insert_endpoint(tx: &mut Tx<'_>, e: &Endpoint) -> Result<(), OrdersError> {
    tx.execute(
        "INSERT INTO orders_inbound (id, tenant_id, customer, secret, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[&e.id, &e.tenant, &e.customer, &e.secret, &e.created_at],
    )?;
    Ok(())
}

fn endpoint_by_id(tx: &mut Tx<'_>, id: &str) -> Result<Option<Endpoint>, OrdersError> {
    tx.query_opt(
        "SELECT id, tenant_id, customer, secret, created_at FROM orders_inbound WHERE id = $1",
        &[&id],
    )?
    .map(|r| {
        Ok(Endpoint {
            id: r.get(0)?,
            tenant: r.get(1)?,
            customer: r.get(2)?,
            secret: r.get(3)?,
            created_at: r.get(4)?,
        })
    })
    .transpose()
}

/// The first answer to `webhook_id` at `endpoint`: `(status, body)`.
fn seen(
    tx: &mut Tx<'_>,
    endpoint: &str,
    webhook_id: &str,
) -> Result<Option<(u16, String)>, OrdersError> {
    tx.query_opt(
        "SELECT status, body FROM orders_inbound_seen WHERE endpoint_id = $1 AND webhook_id = $2",
        &[&endpoint, &webhook_id],
    )?
    .map(|r| Ok((u16::try_from(r.get::<i64>(0)?).unwrap_or(500), r.get(1)?)))
    .transpose()
}

/// Keeps an answer unless one is kept already; the kept one.
fn keep(
    tx: &mut Tx<'_>,
    endpoint: &str,
    webhook_id: &str,
    status: u16,
    body: &str,
    now: i64,
) -> Result<(u16, String), OrdersError> {
    tx.execute(
        "INSERT INTO orders_inbound_seen (endpoint_id, webhook_id, status, body, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (endpoint_id, webhook_id) DO NOTHING",
        &[&endpoint, &webhook_id, &i64::from(status), &body, &now],
    )?;
    seen(tx, endpoint, webhook_id)?
        .ok_or_else(|| OrdersError::Failed("a kept webhook answer cannot be read back".into()))
}

/// A new secret: `whsec_` and the base64 of [`SECRET_BYTES`] random bytes.
pub fn new_secret() -> Result<String, OrdersError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| OrdersError::Failed(format!("no randomness: {e}")))?;
    Ok(format!("whsec_{}", STANDARD.encode(bytes)))
}

/// The key a `whsec_…` secret signs with (its base64 decoded).
fn key_of(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` with `secret`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = HmacSha256::new_from_slice(&key_of(secret)?).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Whether one of `header`'s space-separated `v1,` signatures signs (`id`, `timestamp`,
/// `body`) with `secret`; each compared in constant time.
pub fn verify(secret: &str, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
    let Some(key) = key_of(secret) else {
        return false;
    };
    header
        .split(' ')
        .filter(|s| !s.is_empty())
        .take(SIGNATURES_MAX)
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .any(|signature| {
            let Ok(mut mac) = HmacSha256::new_from_slice(&key) else {
                return false;
            };
            mac.update(format!("{id}.{timestamp}.").as_bytes());
            mac.update(body);
            mac.verify_slice(&signature).is_ok()
        })
}

type AppState = Arc<Orders>;

pub(crate) fn routes(orders: Arc<Orders>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint))
        .routes(routes!(inbound_orders))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(orders)
}

/// Makes an inbound endpoint for one customer; its secret is answered this once (admin).
#[utoipa::path(post, path = "/v1/inbound/endpoints", tag = "orders", security(("api_key" = [])),
    request_body(content = Object, description = "{\"customer\": \"acme\"}", content_type = "application/json"),
    responses((status = 201, description = "{id, customer, url, secret, created_at}", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_endpoint(
    State(orders): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let body = body.map_err(|e| ApiError::body(e, "orders_body_bytes_max", BODY_BYTES_MAX))?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid_field("body", format!("not JSON: {e}")))?;
    let Some(o) = value.as_object() else {
        return Err(ApiError::invalid_field("", "must be a JSON object"));
    };
    let mut problems: Vec<Problem> = o
        .keys()
        .filter(|k| *k != "customer")
        .map(|k| Problem::new(k.clone(), "unknown field"))
        .collect();
    let customer = match o.get("customer").and_then(Value::as_str).map(str::trim) {
        Some(c) if !c.is_empty() && c.len() <= 200 && !c.chars().any(char::is_control) => {
            c.to_owned()
        }
        _ => {
            problems.push(Problem::new("customer", "required: the customer's name"));
            String::new()
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    if principal
        .customer
        .as_deref()
        .is_some_and(|own| own != customer)
    {
        return Err(ApiError::forbidden(
            "this key may act only for its own customer",
        ));
    }
    let endpoint = Endpoint {
        id: new_id("inb")?,
        tenant: principal.tenant.0,
        customer,
        secret: new_secret()?,
        created_at: orders.clock.now_unix(),
    };
    let mut stored = endpoint.clone();
    stored.secret = orders
        .config
        .sealer
        .seal(SECRET_PLACE, &endpoint.secret)
        .map_err(ApiError::internal)?;
    orders
        .db
        .write(move |tx| insert_endpoint(tx, &stored))
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({
            "id": endpoint.id,
            "customer": endpoint.customer,
            "url": format!("/v1/inbound/orders?endpoint={}", endpoint.id),
            "secret": endpoint.secret,
            "created_at": rfc3339(endpoint.created_at),
        }),
    ))
}

fn unauthorized(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "webhook-signature",
        why,
    )
}

/// A batch of orders from an ERP, signed as Standard Webhooks (no API key).
#[utoipa::path(post, path = "/v1/inbound/orders", tag = "orders",
    params(("endpoint" = String, Query, description = "the endpoint's id (inb_…)")),
    request_body(content = Object, description = "{\"orders\": [...]} (≤ 1,000), with headers webhook-id, webhook-timestamp, webhook-signature", content_type = "application/json"),
    responses((status = 200, description = "{\"results\": [{index, reference, status, order, order_status, problems}]}", body = Object),
        (status = 400, body = ErrorBody),
        (status = 401, description = "unknown endpoint, bad or no signature, timestamp over 300 s off", body = ErrorBody),
        (status = 413, body = ErrorBody)))]
async fn inbound_orders(
    State(orders): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let endpoint_id = params.get("endpoint").cloned().unwrap_or_default();
    let endpoint = if endpoint_id.is_empty() {
        None
    } else {
        orders
            .db
            .read(move |tx| endpoint_by_id(tx, &endpoint_id))
            .await?
    };
    let Some(endpoint) = endpoint else {
        return Err(unauthorized("unknown endpoint"));
    };
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (Some(webhook_id), Some(timestamp), Some(signatures)) = (
        text("webhook-id"),
        text("webhook-timestamp"),
        text("webhook-signature"),
    ) else {
        return Err(unauthorized(
            "webhook-id, webhook-timestamp and webhook-signature are required",
        ));
    };
    if webhook_id.len() > WEBHOOK_ID_CHARS_MAX {
        return Err(unauthorized("webhook-id is too long"));
    }
    let now = orders.clock.now_unix();
    let Some(timestamp) = timestamp
        .parse::<i64>()
        .ok()
        .filter(|t| t.abs_diff(now) <= TOLERANCE_S.unsigned_abs())
    else {
        return Err(unauthorized(
            "webhook-timestamp is not Unix seconds within 300 s of now",
        ));
    };
    let body = body.map_err(|e| ApiError::body(e, "orders_body_bytes_max", BODY_BYTES_MAX))?;
    // Stored sealed (`crossdock_http::sealing`); one that does not open verifies nothing.
    let secret = orders
        .config
        .sealer
        .open(SECRET_PLACE, &endpoint.secret)
        .unwrap_or_default();
    if secret.is_empty() || !verify(&secret, signatures, webhook_id, timestamp, &body) {
        return Err(unauthorized("no signature matches"));
    }
    let (endpoint_key, webhook_key) = (endpoint.id.clone(), webhook_id.to_owned());
    let first = orders
        .db
        .read(move |tx| seen(tx, &endpoint_key, &webhook_key))
        .await?;
    let (status, answer) = match first {
        Some(first) => first,
        None => {
            let (status, answer) = match answer_batch(&orders, &endpoint, &body).await {
                Ok(value) => (StatusCode::OK, value),
                Err(e @ (OrdersError::Db(_) | OrdersError::Failed(_))) => return Err(e.into()),
                Err(refused) => {
                    let e = ApiError::from(refused);
                    (e.status, e.body_json())
                }
            };
            let (endpoint_key, webhook_key) = (endpoint.id.clone(), webhook_id.to_owned());
            let text = answer.to_string();
            orders
                .db
                .write(move |tx| keep(tx, &endpoint_key, &webhook_key, status.as_u16(), &text, now))
                .await?
        }
    };
    Ok((
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        answer,
    )
        .into_response())
}

/// Creates a batch for the endpoint's customer: `{"results": [...]}` like
/// `POST /v1/orders/batch`.
async fn answer_batch(
    orders: &Arc<Orders>,
    endpoint: &Endpoint,
    body: &[u8],
) -> Result<Value, OrdersError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| OrdersError::Invalid(vec![Problem::new("body", format!("not JSON: {e}"))]))?;
    let unknown: Vec<Problem> = value
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| *k != "orders")
                .map(|k| Problem::new(k.clone(), "unknown field"))
                .collect()
        })
        .unwrap_or_else(|| vec![Problem::new("", "must be a JSON object")]);
    if !unknown.is_empty() {
        return Err(OrdersError::Invalid(unknown));
    }
    let Some(items) = value.get("orders").and_then(Value::as_array) else {
        return Err(OrdersError::Invalid(vec![Problem::new(
            "orders",
            "must be an array",
        )]));
    };
    if items.len() > BATCH_ITEMS_MAX {
        return Err(OrdersError::TooLarge {
            field: "orders",
            limit: "batch_items_max",
            max: BATCH_ITEMS_MAX as u64,
            unit: "items",
        });
    }
    let actor = Actor {
        tenant: TenantId(endpoint.tenant),
        customer: Some(endpoint.customer.clone()),
        roles: Vec::new(),
    };
    let references: Vec<Option<String>> = items
        .iter()
        .map(|i| i["reference"].as_str().map(str::to_owned))
        .collect();
    let outcomes = orders
        .create_many(&actor, items.clone(), Source::Webhook)
        .await?;
    let mut results = Vec::with_capacity(outcomes.len());
    for (index, (outcome, reference)) in outcomes.into_iter().zip(references).enumerate() {
        let (status, order, problems) = bulk::outcome_row(outcome)?;
        results.push(json!({
            "index": index,
            "reference": reference,
            "status": status,
            "order": order.as_ref().map(|o| o.id.clone()),
            "order_status": order.as_ref().map(|o| o.status.clone()),
            "problems": problems,
        }));
    }
    Ok(json!({ "results": results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks test vector, as published with its reference libraries
    /// (standard-webhooks and svix-webhooks).
    #[test]
    fn signatures_match_the_published_test_vector() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let (id, ts, body) = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(sign(secret, id, ts, body).as_deref(), Some(expected));
        assert!(verify(secret, expected, id, ts, body));
        assert!(verify(
            secret,
            &format!("v1,bm9wZQ== v2,abc {expected}"),
            id,
            ts,
            body
        ));
        assert!(!verify(secret, expected, id, ts + 1, body));
        assert!(!verify(secret, expected, id, ts, b"{\"test\": 2432232315}"));
        assert!(!verify(secret, "v1,g0hM9SsE", id, ts, body));
        assert!(!verify(secret, "", id, ts, body));
    }

    #[test]
    fn secrets_are_32_random_bytes() {
        let a = new_secret().expect("secret");
        let b = new_secret().expect("secret");
        assert_ne!(a, b);
        assert_eq!(key_of(&a).map(|k| k.len()), Some(SECRET_BYTES));
    }
}
