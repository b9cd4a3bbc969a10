//! # crossdock-http: the HTTP edge every component shares
//!
//! - **[`ApiError`]**: the one error → response mapping with the stable codes of
//!   api-conventions.md. Each component maps its own error type into it; a failure of ours
//!   is logged with its cause and answered 500 with a fixed message.
//! - **[`Principal`]**: the extractor that turns `Authorization: Bearer <key>` into a
//!   tenant, a customer and [`Role`]s (through the [`Authenticator`] the identity component
//!   provides), applies the per-key rate limit, and the role checks routes share.
//! - **Lists** ([`list`]): `?limit=&cursor=` checked once, pages in the conventions' shape.
//! - **Observation** ([`observe`]): one log line per request with a request id, request
//!   metrics with bounded labels, the Prometheus exporter behind `/metrics`.
//! - **[`app`]**: the router assembled from [`Component`]s, with `/healthz`, `/readyz`,
//!   `/metrics` and `/openapi.json` (OpenAPI 3.1, generated from the route definitions).
//!
//! What it does not know: any component's resources, SQL, pricing. It depends on
//! `crossdock-db` only for the types a component hands over (migrations, subscriptions).

mod error;
pub mod idempotency;
pub mod list;
pub mod observe;
mod principal;
pub mod sealing;
pub mod seams;

pub use error::{ApiError, ErrorBody, INTERNAL_MESSAGE, Problem, json};
pub use list::{ListParams, Page, PageRequest, encode_cursor};
pub use principal::{Authenticator, BoxFuture, Edge, Principal, RateLimiter, Role, TenantId};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use crossdock_db::Migrations;
use crossdock_db::outbox::Subscription;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// What a component hands the runtime: plain data, built once at start.
pub struct Component {
    /// Its name: table prefix, migration track, metrics namespace, `--components` entry.
    pub name: &'static str,
    pub migrations: &'static Migrations,
    /// Its routes, with their OpenAPI descriptions.
    pub router: OpenApiRouter,
    /// The events it consumes.
    pub subscriptions: Vec<Subscription>,
    /// Whether it can serve (`/readyz` answers 200 when every component is ready).
    pub ready: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "crossdock", description = "Cross-border parcel management: rating, orders, labels, tracking, billing. Conventions: ../shared/spec/api-conventions.md."),
    paths(healthz, readyz_doc, openapi_doc, metrics_text),
    components(schemas(ErrorBody, Problem)),
    modifiers(&BearerAuth),
)]
struct BaseDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole application: every component's routes, the shared ones, the layers.
/// Returns the router and the OpenAPI document it serves at `/openapi.json`.
pub fn app(edge: Arc<Edge>, components: Vec<Component>) -> (Router, utoipa::openapi::OpenApi) {
    let mut api = OpenApiRouter::with_openapi(BaseDoc::openapi());
    let mut ready: Vec<Arc<dyn Fn() -> bool + Send + Sync>> = Vec::new();
    for component in components {
        api = api.merge(component.router);
        ready.push(component.ready);
    }
    let (router, mut doc) = api.split_for_parts();
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    let served = Arc::new(doc.to_json().unwrap_or_else(|_| "{}".to_owned()));
    let ready = Arc::new(ready);
    let router = router
        .route("/healthz", get(healthz))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move { readyz(ready.iter().all(|r| r())) }
            }),
        )
        .route("/metrics", get(metrics_text))
        .route(
            "/openapi.json",
            get(move || {
                let served = served.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        served.as_str().to_owned(),
                    )
                }
            }),
        )
        .fallback(not_found)
        .layer(observe::EdgeLayer::new(edge));
    (router, doc)
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "runtime", responses((status = 200, description = "the process runs", body = String)))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: every component can serve (e.g. each tenant's rate book is loaded).
#[utoipa::path(get, path = "/readyz", tag = "runtime", responses(
    (status = 200, description = "ready", body = String),
    (status = 503, description = "starting", body = String)))]
#[allow(dead_code)] // documents the closure route of /readyz in the OpenAPI document
async fn readyz_doc() {}

fn readyz(ready: bool) -> Response {
    if ready {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response()
    }
}

/// This document: every route with its request and answer schemas and error codes.
#[utoipa::path(get, path = "/openapi.json", tag = "runtime", responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
#[allow(dead_code)] // documents the closure route of /openapi.json
async fn openapi_doc() {}

/// Prometheus metrics, for the admins of the operator's tenant only (they name every
/// tenant's books).
#[utoipa::path(get, path = "/metrics", tag = "runtime", security(("api_key" = [])), responses(
    (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn metrics_text(
    axum::Extension(edge): axum::Extension<Arc<Edge>>,
    principal: Principal,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin])?;
    if edge.operator_tenant != Some(principal.tenant) {
        return Err(ApiError::forbidden(
            "metrics are for the operator's admin keys",
        ));
    }
    let text = observe::prometheus().render();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// Unix seconds as RFC 3339 UTC (`2026-11-24T08:15:00Z`).
pub fn rfc3339(unix_s: i64) -> String {
    let days = unix_s.div_euclid(86_400);
    let secs = unix_s.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The clock, injected so tests are hermetic; every component takes time from it.
pub trait Clock: Send + Sync + 'static {
    /// Unix seconds, UTC.
    fn now_unix(&self) -> i64;
}

/// The machine's clock.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        crossdock_db::unix_now_s()
    }
}

/// A clock tests set by hand.
#[derive(Debug, Default)]
pub struct FixedClock(pub std::sync::atomic::AtomicI64);

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Random bits in a resource id: 80 (api-conventions.md asks ≥ 80), after 50 bits of time.
const ID_RANDOM_BYTES: usize = 10;

/// The id alphabet: base32 in ASCII order, so ids of one prefix sort by their time part.
const ID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A new opaque resource id, `{prefix}_` and 26 lower-case base32 characters: 10 of the
/// creation time in milliseconds, then 16 of 80 random bits from the operating system
/// (`ord_…`, `shp_…`). Unguessable (the random bits) and never reused.
///
/// Why the time first: ids are the keys of unique indexes. Random keys land on a random
/// page of the index each, so a bulk import of 100,000 shipments rewrote most of every id
/// index in every transaction (on SQLite, several KB of WAL per row for each such index);
/// keys that grow with time land on the last pages, as the row's own sequence does. The
/// same reasoning as UUID version 7 (RFC 9562). The time is the resource's own
/// `created_at`, which the API shows anyway.
pub fn new_id(prefix: &str) -> Result<String, ApiError> {
    new_id_at(prefix, id_clock_ms())
}

fn id_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn new_id_at(prefix: &str, unix_ms: u64) -> Result<String, ApiError> {
    let mut bytes = [0u8; ID_RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    let mut id = String::with_capacity(prefix.len() + 1 + 10 + ID_RANDOM_BYTES * 8 / 5);
    id.push_str(prefix);
    id.push('_');
    // 50 bits of milliseconds (until the year 37648), most significant group first.
    let time = unix_ms & ((1 << 50) - 1);
    for group in (0..10).rev() {
        id.push(ID_ALPHABET[((time >> (group * 5)) & 31) as usize] as char);
    }
    // 10 bytes are 80 bits: 16 groups of 5.
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            id.push(ID_ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    debug_assert_eq!(bits, 0);
    Ok(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_508_100), "2026-11-24T08:15:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    /// Ids are the prefix, ten characters of time that sort as the time does, and sixteen
    /// of 80 random bits (two ids of one millisecond differ there).
    #[test]
    fn ids_sort_by_time_and_keep_80_random_bits() {
        let alphabet = |c: char| super::ID_ALPHABET.contains(&(c as u8));
        let times = [
            0,
            1,
            31,
            32,
            1_795_508_100_000,
            1_795_508_100_001,
            (1 << 50) - 1,
        ];
        let ids: Vec<String> = times
            .iter()
            .map(|&t| super::new_id_at("shp", t).expect("an id"))
            .collect();
        for id in &ids {
            let rest = id.strip_prefix("shp_").expect("the prefix");
            assert_eq!(rest.len(), 26, "{id}");
            assert!(rest.chars().all(alphabet), "{id}");
        }
        for pair in ids.windows(2) {
            assert!(
                pair[0][..14] < pair[1][..14],
                "{} then {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(&ids[0][4..14], "2222222222");
        assert_eq!(&ids[6][4..14], "zzzzzzzzzz");
        let (a, b) = (
            super::new_id_at("evt", 7).expect("an id"),
            super::new_id_at("evt", 7).expect("an id"),
        );
        assert_eq!(a[..14], b[..14]);
        assert_ne!(a[14..], b[14..], "the random part");
        // The real clock: after the tests' fixed times, and growing.
        let now = super::new_id("ord").expect("an id");
        assert!(now[4..14] > ids[4][4..14]);
    }
}
