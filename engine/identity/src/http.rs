//! `/v1/keys`: the admin's API keys of its tenant. DTOs (serde) live here only.

use crate::{Identity, KeyId, NewKey};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use crossdock_http::{
    ApiError, ErrorBody, ListParams, Page, Principal, Role, encode_cursor, json, rfc3339,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

type AppState = Arc<Identity>;

pub(crate) fn router(identity: Arc<Identity>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create_key, list_keys))
        .routes(routes!(revoke_key))
        .layer(axum::extract::DefaultBodyLimit::max(KEY_BODY_BYTES_MAX))
        .with_state(identity)
}

/// Largest body of `POST /v1/keys`, in bytes.
const KEY_BODY_BYTES_MAX: usize = 16 * 1024;

/// A key to create.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    /// Narrows the key to one customer of the tenant.
    customer: Option<String>,
    /// One or more of shipper, operator, analyst, finance, admin.
    roles: Vec<String>,
    label: Option<String>,
}

/// A key as listed (never its secret).
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyView {
    id: String,
    customer: Option<String>,
    roles: Vec<&'static str>,
    label: String,
    /// RFC 3339, UTC.
    created_at: String,
    revoked_at: Option<String>,
}

/// A created key: `key` is shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedKeyView {
    #[serde(flatten)]
    key: KeyView,
    /// The whole key (`cdk_<id>_<secret>`); store it now, it is never shown again.
    secret: String,
}

/// A page of keys.
#[derive(Serialize, utoipa::ToSchema)]
pub struct KeyPage {
    data: Vec<KeyView>,
    next_cursor: Option<String>,
    limit: usize,
    cursor: Option<String>,
}

fn view(r: &crate::KeyRecord) -> KeyView {
    KeyView {
        id: r.id.0.clone(),
        customer: r.customer.clone(),
        roles: r.roles.iter().map(|r| r.as_str()).collect(),
        label: r.label.clone(),
        created_at: rfc3339(r.created_at),
        revoked_at: r.revoked_at.map(rfc3339),
    }
}

/// Creates an API key of the caller's tenant.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", security(("api_key" = [])),
    request_body = NewKeyBody,
    responses(
        (status = 201, description = "created; the secret is shown once", body = CreatedKeyView),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: needs admin", body = ErrorBody),
        (status = 413, description = "too_large", body = ErrorBody)))]
async fn create_key(
    State(identity): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let body = body.map_err(|e| ApiError::body(e, "key_body_bytes_max", KEY_BODY_BYTES_MAX))?;
    // JSON whatever the Content-Type says: `curl -d` sends a form type.
    let body: NewKeyBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid_field("body", e.to_string()))?;
    let roles = Role::parse_list(&body.roles).map_err(|e| ApiError::invalid_field("roles", e))?;
    let created = identity
        .create_key(NewKey {
            tenant: principal.tenant,
            customer: body.customer,
            roles,
            label: body.label.unwrap_or_default(),
        })
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &CreatedKeyView {
            key: view(&created.record),
            secret: created.secret,
        },
    ))
}

/// The keys of the caller's tenant, newest first.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", security(("api_key" = [])),
    params(ListParams),
    responses(
        (status = 200, body = KeyPage),
        (status = 400, description = "invalid_request (limit, cursor)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin", body = ErrorBody)))]
async fn list_keys(
    State(identity): State<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    let page = params.check()?;
    let after = match &page.after {
        None => None,
        Some(parts) => match parts.as_slice() {
            [created_at, id] => Some((
                created_at.parse::<i64>().map_err(|_| {
                    ApiError::invalid_field("cursor", "is not a cursor this list gave")
                })?,
                id.clone(),
            )),
            _ => {
                return Err(ApiError::invalid_field(
                    "cursor",
                    "is not a cursor this list gave",
                ));
            }
        },
    };
    let keys = identity
        .list_keys(principal.tenant, after, page.limit + 1)
        .await?;
    let page = Page::from_overfetch(keys, &page, |k| {
        encode_cursor(&[&k.created_at.to_string(), &k.id.0])
    });
    Ok(json(
        StatusCode::OK,
        &KeyPage {
            data: page.data.iter().map(view).collect(),
            next_cursor: page.next_cursor,
            limit: page.limit,
            cursor: page.cursor,
        },
    ))
}

/// Revokes a key of the caller's tenant; every replica refuses it within seconds.
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys", security(("api_key" = [])),
    params(("id" = String, Path, description = "the key id")),
    responses(
        (status = 200, description = "revoked", body = Object),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin", body = ErrorBody),
        (status = 404, description = "no such key in this tenant", body = ErrorBody)))]
async fn revoke_key(
    State(identity): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    if identity
        .revoke_key(principal.tenant, &KeyId(id.clone()), &principal.actor())
        .await?
    {
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "id": id, "revoked": true }),
        ))
    } else {
        Err(ApiError::not_found("key"))
    }
}
