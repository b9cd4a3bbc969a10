//! The HTTP API in-process (no sockets), through the same runtime `crossdock serve`
//! starts: every route, the tenant walls, limits, hostile uploads, swaps under concurrent
//! quotes, and the active book surviving a restart on SQLite and on PostgreSQL.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use crossdock::{Config, Runtime};
use crossdock_http::{Clock, Role, TenantId};
use crossdock_identity::NewKey;
use crossdock_rating::books::pack_dir;
use crossdock_rating::{Rating, RatingConfig};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

/// 2026-11-24 00:00 UTC.
struct FixedClock;

impl Clock for FixedClock {
    fn now_unix(&self) -> i64 {
        1_795_478_400
    }
}

fn today() -> crossdock_engine::Date {
    crossdock_engine::Date::from_days_since_epoch((FixedClock.now_unix() / 86_400) as i32)
}

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rate-tables/demo")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "crossdock-http-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    nanos * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

struct Harness {
    rt: Runtime,
    app: Router,
    /// Tenant "default": admin+analyst+shipper key, and a shipper key for customer "acme".
    admin: String,
    shipper: String,
    /// Tenant "other": an analyst+admin key.
    other: String,
}

impl Harness {
    fn rating(&self) -> &Arc<Rating> {
        self.rt.rating.as_ref().expect("rating is served")
    }

    fn tenant(&self) -> TenantId {
        self.rt.default_tenant
    }
}

fn config(data_dir: &Path, database: Option<String>) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        database,
        default_book: Some(demo_dir()),
        rate_limit_per_s: 1_000,
        rate_limit_burst: 1_000,
        outbox_poll: std::time::Duration::from_millis(200),
        rating: RatingConfig {
            data_dir: data_dir.to_path_buf(),
            isolate_checks: false,
            quote_body_bytes_max: 16 * 1024,
            ..RatingConfig::default()
        },
        ..Config::default()
    }
}

async fn start(config: &Config) -> Runtime {
    Runtime::start(config, Arc::new(FixedClock))
        .await
        .expect("the runtime starts")
}

async fn key(rt: &Runtime, tenant: &str, roles: Vec<Role>, customer: Option<&str>) -> String {
    let t = rt.identity.ensure_tenant(tenant).await.unwrap();
    rt.identity
        .create_key(NewKey {
            tenant: t,
            customer: customer.map(String::from),
            roles,
            label: "test".into(),
        })
        .await
        .unwrap()
        .secret
}

async fn harness_with(config: Config) -> Harness {
    let rt = start(&config).await;
    let admin = key(
        &rt,
        "default",
        vec![Role::Admin, Role::Analyst, Role::Shipper],
        None,
    )
    .await;
    let shipper = key(&rt, "default", vec![Role::Shipper], Some("acme")).await;
    let other = key(
        &rt,
        "other",
        vec![Role::Admin, Role::Analyst, Role::Shipper],
        None,
    )
    .await;
    Harness {
        app: rt.router.clone(),
        rt,
        admin,
        shipper,
        other,
    }
}

async fn harness() -> Harness {
    harness_with(config(&temp_dir("sqlite"), None)).await
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, String, Option<String>) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        request = request.header("Authorization", format!("Bearer {key}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned(), retry)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const QUOTE: &str = r#"{"origin":{"country":"CN"},"destination":{"country":"DE","postcode":"10115"},"parcel":{"weight_g":700,"length_mm":300,"width_mm":200,"height_mm":100},"declared_value":{"amount":"45.00","currency":"USD"},"currency":"EUR","landed_cost":true}"#;

#[tokio::test]
async fn health_needs_no_key_and_everything_else_does() {
    let h = harness().await;
    assert_eq!(
        call(&h.app, "GET", "/healthz", None, "").await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h.app, "GET", "/readyz", None, "").await.0,
        StatusCode::OK
    );
    for (method, uri) in [
        ("POST", "/v1/quotes"),
        ("GET", "/v1/rate-books"),
        ("GET", "/metrics"),
        ("GET", "/v1/rate-books/audit"),
        ("POST", "/v1/rate-books/rollback"),
    ] {
        let (status, body, _) = call(&h.app, method, uri, None, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {uri}");
        assert_eq!(json(&body)["error"], "unauthorized");
        let (status, _, _) = call(&h.app, method, uri, Some("cdk_nope_nope"), "").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {uri} with a made-up key"
        );
    }
    let (status, body, _) = call(&h.app, "GET", "/metrics", Some(&h.admin), "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("crossdock_quotes_total{outcome=\"ok\"}")
            && body.contains("crossdock_books_in_force{book=\"demo-"),
        "{body}"
    );
    assert_eq!(
        call(&h.app, "GET", "/metrics", Some(&h.other), "").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&h.app, "GET", "/nowhere", Some(&h.admin), "").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn http_quotes_answer_exactly_as_the_cli() {
    let h = harness().await;
    let (status, body, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let live = h.rating().live_book(h.tenant()).unwrap();
    let defaults = crossdock_api::Defaults {
        today: today(),
        customer: None,
        explain: true,
    };
    let expected = crossdock_api::answer_line(
        &live.book,
        QUOTE,
        &defaults,
        &mut Default::default(),
        &mut crossdock_engine::Quote::new(live.book.base_currency()),
    );
    assert_eq!(body, expected.body());
    assert!(
        json(&body)["options"]
            .as_array()
            .is_some_and(|o| !o.is_empty())
    );
}

#[tokio::test]
async fn bad_requests_are_400_or_413_with_the_problem_named() {
    let h = harness().await;
    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("{".into(), StatusCode::BAD_REQUEST, ""),
        (
            QUOTE.replace("700", "\"700\""),
            StatusCode::BAD_REQUEST,
            "parcel.weight_g",
        ),
        (
            QUOTE.replace(
                "\"currency\":\"EUR\"",
                "\"currency\":\"EUR\",\"colour\":\"red\"",
            ),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
        (
            QUOTE.replace("\"EUR\"", "\"CHF\""),
            StatusCode::BAD_REQUEST,
            "currency",
        ),
        (
            format!("{{\"pad\":\"{}\"}}", "x".repeat(20_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body",
        ),
    ];
    for (body, status, field) in cases {
        let (got, text, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), body.clone()).await;
        assert_eq!(got, status, "{text}");
        let doc = json(&text);
        assert!(doc["error"].is_string(), "{text}");
        assert!(
            doc["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["field"] == field),
            "{field}: {text}"
        );
    }
    // Invalid UTF-8 is a 400 too.
    assert_eq!(
        call(
            &h.app,
            "POST",
            "/v1/quotes",
            Some(&h.admin),
            vec![0xff, 0xfe]
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_shipper_quotes_only_as_its_own_customer() {
    let h = harness().await;
    let as_other = QUOTE.replacen('{', "{\"customer\":\"globex\",", 1);
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/quotes",
        Some(&h.shipper),
        as_other.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(json(&body)["problems"][0]["field"], "customer");
    assert_eq!(
        call(
            &h.app,
            "POST",
            "/v1/quotes",
            Some(&h.shipper),
            QUOTE.replacen('{', "{\"customer\":\"acme\",", 1)
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h.app, "POST", "/v1/quotes", Some(&h.admin), as_other)
            .await
            .0,
        StatusCode::OK
    );
    // A shipper cannot publish, swap or manage keys.
    assert_eq!(
        call(
            &h.app,
            "POST",
            "/v1/rate-books/rollback",
            Some(&h.shipper),
            ""
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&h.app, "GET", "/v1/keys", Some(&h.shipper), "")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn tenants_never_see_each_others_books_or_keys() {
    let h = harness().await;
    // Tenant "other" has no book yet: its quotes are refused, not priced with default's book.
    let (status, body, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.other), QUOTE).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (_, list, _) = call(&h.app, "GET", "/v1/rate-books", Some(&h.admin), "").await;
    let default_book = json(&list)["data"][0]["id"].as_i64().unwrap();
    for (method, uri) in [
        ("GET", format!("/v1/rate-books/{default_book}")),
        ("POST", format!("/v1/rate-books/{default_book}/activate")),
    ] {
        let (status, _, _) = call(&h.app, method, &uri, Some(&h.other), "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {uri}");
    }
    let (_, other_list, _) = call(&h.app, "GET", "/v1/rate-books", Some(&h.other), "").await;
    assert_eq!(json(&other_list)["data"].as_array().unwrap().len(), 0);
    // Keys: other's admin cannot list or revoke default's keys.
    let (_, keys, _) = call(&h.app, "GET", "/v1/keys", Some(&h.admin), "").await;
    let default_key_id = json(&keys)["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        call(
            &h.app,
            "DELETE",
            &format!("/v1/keys/{default_key_id}"),
            Some(&h.other),
            ""
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let (_, other_keys, _) = call(&h.app, "GET", "/v1/keys", Some(&h.other), "").await;
    assert!(!other_keys.contains(&default_key_id));
    // The same book published by "other" is its own copy, activated only for it.
    let archive = pack_dir(&demo_dir()).unwrap();
    let (status, body, _) = call(&h.app, "POST", "/v1/rate-books", Some(&h.other), archive).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = json(&body)["id"].as_i64().unwrap();
    assert_ne!(id, default_book);
    assert_eq!(
        call(
            &h.app,
            "POST",
            &format!("/v1/rate-books/{id}/activate"),
            Some(&h.other),
            ""
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h.app, "POST", "/v1/quotes", Some(&h.other), QUOTE)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &h.app,
            "POST",
            &format!("/v1/rate-books/{id}/activate"),
            Some(&h.admin),
            ""
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn keys_are_created_shown_once_and_revoked() {
    let h = harness().await;
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/keys",
        Some(&h.admin),
        r#"{"roles":["shipper"],"customer":"globex","label":"checkout"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let doc = json(&body);
    let (id, secret) = (
        doc["id"].as_str().unwrap().to_string(),
        doc["secret"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        call(&h.app, "POST", "/v1/quotes", Some(&secret), QUOTE)
            .await
            .0,
        StatusCode::OK
    );
    let (_, list, _) = call(&h.app, "GET", "/v1/keys", Some(&h.admin), "").await;
    assert!(
        list.contains(&id) && !list.contains(&secret),
        "the list never shows secrets"
    );
    assert_eq!(
        call(
            &h.app,
            "DELETE",
            &format!("/v1/keys/{id}"),
            Some(&h.admin),
            ""
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&h.app, "POST", "/v1/quotes", Some(&secret), QUOTE)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = call(
        &h.app,
        "POST",
        "/v1/keys",
        Some(&h.admin),
        r#"{"roles":["king"]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A key revoked through another process (here a second identity on the same database,
/// as `crossdock keys revoke` or another replica does) is refused here as soon as its
/// `key.revoked` event arrives, long before the key cache would expire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_elsewhere_is_refused_within_seconds() {
    let mut c = config(&temp_dir("key-revoked"), None);
    c.key_cache_ttl = std::time::Duration::from_secs(600);
    let h = harness_with(c.clone()).await;
    let created =
        h.rt.identity
            .create_key(NewKey {
                tenant: h.tenant(),
                customer: None,
                roles: vec![Role::Shipper],
                label: "elsewhere".into(),
            })
            .await
            .unwrap();
    let quote = |key: String| {
        let app = h.app.clone();
        async move { call(&app, "POST", "/v1/quotes", Some(&key), QUOTE).await.0 }
    };
    assert_eq!(quote(created.secret.clone()).await, StatusCode::OK);
    let elsewhere = crossdock_identity::Identity::new(
        crossdock::runtime::open_db(&c).await.unwrap(),
        Arc::new(FixedClock),
        std::time::Duration::from_secs(600),
    );
    assert!(
        elsewhere
            .revoke_key(h.tenant(), &created.record.id, "test")
            .await
            .unwrap()
    );
    let started = std::time::Instant::now();
    while quote(created.secret.clone()).await != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "still accepted after 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        quote(h.admin.clone()).await,
        StatusCode::OK,
        "other keys still work"
    );
}

#[tokio::test]
async fn each_key_is_rate_limited_with_retry_after() {
    let mut c = config(&temp_dir("limits"), None);
    c.rate_limit_per_s = 1;
    c.rate_limit_burst = 3;
    let h = harness_with(c).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _, retry) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
        statuses.push((status, retry));
    }
    assert!(
        statuses[..3].iter().all(|(s, _)| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[3].0, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        statuses[3]
            .1
            .as_deref()
            .is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s >= 1)),
        "{statuses:?}"
    );
    // Another key has its own bucket.
    assert_eq!(
        call(&h.app, "POST", "/v1/quotes", Some(&h.shipper), QUOTE)
            .await
            .0,
        StatusCode::OK
    );
}

fn broken_archives() -> Vec<(&'static str, Vec<u8>)> {
    let good = pack_dir(&demo_dir()).unwrap();
    let mut truncated = good.clone();
    truncated.truncate(good.len() / 2);
    let mut flipped = good.clone();
    for i in (600..flipped.len()).step_by(997) {
        flipped[i] ^= 0x5a;
    }
    // A tar whose rates.parquet is garbage.
    let mut builder = tar::Builder::new(Vec::new());
    for file in [
        "book.toml",
        "services.parquet",
        "zones.parquet",
        "surcharges.parquet",
        "restrictions.parquet",
        "prices.parquet",
        "fx.parquet",
        "customs.parquet",
    ] {
        let bytes = std::fs::read(demo_dir().join(file)).unwrap();
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, file, bytes.as_slice())
            .unwrap();
    }
    let junk = b"PAR1 this is not parquet PAR1".to_vec();
    let mut header = tar::Header::new_ustar();
    header.set_size(junk.len() as u64);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, "rates.parquet", junk.as_slice())
        .unwrap();
    let garbage_rates = builder.into_inner().unwrap();
    vec![
        ("empty", vec![]),
        ("text", b"hello".to_vec()),
        ("truncated", truncated),
        ("bit-flipped", flipped),
        ("garbage rates", garbage_rates),
        ("zip junk", b"PK\x03\x04garbage".to_vec()),
    ]
}

#[tokio::test]
async fn broken_and_hostile_uploads_are_refused_and_the_book_in_force_stays() {
    let h = harness().await;
    let (_, before, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    for (what, archive) in broken_archives() {
        let (status, body, _) =
            call(&h.app, "POST", "/v1/rate-books", Some(&h.admin), archive).await;
        assert!(
            status == StatusCode::BAD_REQUEST
                || status == StatusCode::UNPROCESSABLE_ENTITY
                || status == StatusCode::CREATED
                || status == StatusCode::OK,
            "{what}: {status} {body}"
        );
        if status.is_client_error() {
            assert!(json(&body)["error"].is_string(), "{what}: {body}");
        }
    }
    let (_, garbage, _) = {
        let archives = broken_archives();
        let (_, archive) = archives
            .into_iter()
            .find(|(w, _)| *w == "garbage rates")
            .unwrap();
        call(&h.app, "POST", "/v1/rate-books", Some(&h.admin), archive).await
    };
    let doc = json(&garbage);
    assert_eq!(doc["error"], "book_refused");
    assert!(
        doc["report"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["table"] == "rates"),
        "{garbage}"
    );
    // A path outside the book's folder.
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.as_gnu_mut().unwrap().name[..17].copy_from_slice(b"../../etc/book.to");
    header.set_cksum();
    builder.append(&header, &b"evil"[..]).unwrap();
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/rate-books",
        Some(&h.admin),
        builder.into_inner().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // The book in force is untouched.
    let (_, after, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    assert_eq!(before, after);
}

/// A copy of the demo book with a different name (so a different hash and label).
fn renamed_demo(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    for entry in std::fs::read_dir(demo_dir()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let toml = std::fs::read_to_string(dir.join("book.toml")).unwrap();
    let renamed: String = toml
        .lines()
        .map(|l| {
            if l.starts_with("name") {
                format!("name = \"{name}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("book.toml"), renamed).unwrap();
    dir
}

#[tokio::test]
async fn publish_activate_rollback_and_audit() {
    let h = harness().await;
    let (_, list, _) = call(&h.app, "GET", "/v1/rate-books", Some(&h.admin), "").await;
    let first = json(&list)["data"][0]["id"].as_i64().unwrap();
    let archive = pack_dir(&renamed_demo("demo-next")).unwrap();
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/rate-books",
        Some(&h.admin),
        archive.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let second = json(&body)["id"].as_i64().unwrap();
    // Publishing the same bytes again is idempotent.
    let (status, body, _) = call(&h.app, "POST", "/v1/rate-books", Some(&h.admin), archive).await;
    assert_eq!(
        (status, json(&body)["id"].as_i64().unwrap()),
        (StatusCode::OK, second)
    );
    // Not active until activated.
    let (_, answer, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    assert!(
        json(&answer)["rate_book"]
            .as_str()
            .unwrap()
            .starts_with("demo-2026"),
        "{answer}"
    );
    let (status, body, _) = call(
        &h.app,
        "POST",
        &format!("/v1/rate-books/{second}/activate"),
        Some(&h.admin),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json(&body)["previous"], first);
    let (_, answer, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    assert!(
        json(&answer)["rate_book"]
            .as_str()
            .unwrap()
            .starts_with("demo-next@"),
        "{answer}"
    );
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/rate-books/rollback",
        Some(&h.admin),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json(&body)["active"]["id"], first);
    let (_, answer, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    assert!(
        json(&answer)["rate_book"]
            .as_str()
            .unwrap()
            .starts_with("demo-2026"),
        "{answer}"
    );
    let (_, audit, _) = call(&h.app, "GET", "/v1/rate-books/audit", Some(&h.admin), "").await;
    let actions: Vec<String> = json(&audit)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions[..3], ["rollback", "activate", "publish"], "{audit}");
    let (_, one, _) = call(
        &h.app,
        "GET",
        &format!("/v1/rate-books/{second}"),
        Some(&h.admin),
        "",
    )
    .await;
    assert_eq!(
        json(&one)["label"].as_str().unwrap().split('@').next(),
        Some("demo-next")
    );
    assert_eq!(
        call(&h.app, "GET", "/v1/rate-books/999999", Some(&h.admin), "")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&h.app, "GET", "/v1/rate-books/abc", Some(&h.admin), "")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

/// Publishing many books does not keep every one compiled in memory; an evicted book is
/// compiled again from the store when it is activated.
#[tokio::test]
async fn compiled_books_are_bounded_per_tenant_and_rebuilt_on_demand() {
    let h = harness().await;
    let tenant = h.tenant();
    let bound = 1 + crossdock_rating::COMPILED_PER_TENANT;
    let mut ids = Vec::new();
    for i in 0..4 {
        let archive = pack_dir(&renamed_demo(&format!("demo-bound-{i}"))).unwrap();
        let (status, body, _) =
            call(&h.app, "POST", "/v1/rate-books", Some(&h.admin), archive).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(json(&body)["id"].as_i64().unwrap());
        let cached = h.rating().compiled_books(tenant);
        assert!(
            cached <= bound,
            "{cached} compiled books after {} uploads",
            i + 1
        );
    }
    // The first upload was evicted long ago: activating it compiles it again.
    let uri = format!("/v1/rate-books/{}/activate", ids[0]);
    let (status, body, _) = call(&h.app, "POST", &uri, Some(&h.admin), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, answer, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    assert!(
        json(&answer)["rate_book"]
            .as_str()
            .unwrap()
            .starts_with("demo-bound-0@"),
        "{answer}"
    );
    assert!(h.rating().compiled_books(tenant) <= bound);
    // Rolling back to the demo book works too.
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/rate-books/rollback",
        Some(&h.admin),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, answer, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    assert!(
        json(&answer)["rate_book"]
            .as_str()
            .unwrap()
            .starts_with("demo-2026"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaps_during_concurrent_quotes_never_fail_or_mix_books() {
    let mut c = config(&temp_dir("swaps"), None);
    c.rate_limit_per_s = 0;
    let h = harness_with(c).await;
    let archive = pack_dir(&renamed_demo("demo-swap")).unwrap();
    let (_, body, _) = call(&h.app, "POST", "/v1/rate-books", Some(&h.admin), archive).await;
    let second = json(&body)["id"].as_i64().unwrap();
    let (_, list, _) = call(&h.app, "GET", "/v1/rate-books", Some(&h.admin), "").await;
    let first = json(&list)["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] != second)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let labels: Vec<String> = json(&list)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["label"].as_str().unwrap().to_string())
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (app, key, stop) = (h.app.clone(), h.admin.clone(), stop.clone());
        let mut labels_seen = std::collections::HashSet::new();
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, body, _) = call(&app, "POST", "/v1/quotes", Some(&key), QUOTE).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                labels_seen.insert(json(&body)["rate_book"].as_str().unwrap().to_string());
                n += 1;
                // In-process calls complete without awaiting I/O; yield so the swapping task runs.
                tokio::task::yield_now().await;
            }
            (n, labels_seen)
        }));
    }
    for i in 0..20 {
        let id = if i % 2 == 0 { second } else { first };
        let (status, body, _) = call(
            &h.app,
            "POST",
            &format!("/v1/rate-books/{id}/activate"),
            Some(&h.admin),
            "",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        let (n, seen) = w.await.unwrap();
        total += n;
        assert!(
            seen.iter().all(|l| labels.contains(l)),
            "an answer named a book that was never published: {seen:?}"
        );
    }
    assert!(total > 20, "only {total} quotes ran during the swaps");
}

/// Publishes a renamed copy of the demo book and puts it in force; its id.
async fn publish_and_activate(h: &Harness, name: &str) -> i64 {
    let archive = pack_dir(&renamed_demo(name)).unwrap();
    let (status, body, _) = call(&h.app, "POST", "/v1/rate-books", Some(&h.admin), archive).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = json(&body)["id"].as_i64().unwrap();
    let (status, body, _) = call(
        &h.app,
        "POST",
        &format!("/v1/rate-books/{id}/activate"),
        Some(&h.admin),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

async fn restart_keeps_the_active_book(database: Option<String>) {
    let dir = temp_dir("restart");
    let c = config(&dir, database);
    let h = harness_with(c.clone()).await;
    let id = publish_and_activate(&h, "demo-kept").await;
    h.rt.stop().await;
    // A new server on the same database: same book in force, same keys.
    let rt = start(&c).await;
    let live = rt
        .rating
        .as_ref()
        .unwrap()
        .live_book(rt.default_tenant)
        .expect("a book in force after restart");
    assert_eq!(live.id.0, id);
    assert!(live.book.label().starts_with("demo-kept@"));
    assert_eq!(
        call(&rt.router, "POST", "/v1/quotes", Some(&h.admin), QUOTE)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_active_book_survives_a_restart_on_sqlite() {
    restart_keeps_the_active_book(None).await;
}

#[tokio::test]
async fn the_active_book_survives_a_restart_on_postgres() {
    if let Some(schema) = crossdock_db::testing::PgSchema::create() {
        restart_keeps_the_active_book(Some(schema.url())).await;
    }
}

#[tokio::test]
async fn batch_quotes_answer_line_for_line() {
    let h = harness().await;
    let body = format!(
        "{QUOTE}\nnot json\n{}\n",
        QUOTE.replace("\"EUR\"", "\"JPY\"")
    );
    let (status, text, _) = call(&h.app, "POST", "/v1/quotes/batch", Some(&h.admin), body).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let lines: Vec<serde_json::Value> = text.lines().map(json).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["currency"], "EUR");
    assert_eq!(lines[1]["error"], "invalid_request");
    assert_eq!(lines[2]["currency"], "JPY");
}

#[tokio::test]
async fn bulk_route_streams_one_answer_per_parcel_in_ndjson_and_csv() {
    let h = harness().await;
    let ndjson = "{\"id\":\"a\",\"origin_country\":\"CN\",\"dest_country\":\"DE\",\"dest_postcode\":\"10115\",\"weight_g\":700}\n\
                  {\"id\":\"b\",\"origin_country\":\"CN\",\"dest_country\":\"de\",\"weight_g\":700}\n\
                  not json\n\
                  {\"id\":\"d\",\"origin_country\":\"CN\",\"dest_country\":\"DE\",\"weight_g\":999999999}\n";
    let (status, body, _) = call(&h.app, "POST", "/v1/route", Some(&h.admin), ndjson).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows: Vec<serde_json::Value> = body.lines().map(json).collect();
    let statuses: Vec<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        ["routed", "invalid", "invalid", "unroutable"],
        "{body}"
    );
    assert!(
        rows[1]["problems"]
            .as_str()
            .unwrap()
            .contains("dest_country"),
        "{body}"
    );
    assert!(
        rows[3]["reasons"]
            .as_str()
            .unwrap()
            .contains("OVER_MAX_WEIGHT"),
        "{body}"
    );

    let csv = "id,origin_country,dest_country,weight_g,currency\nx,CN,DE,700,EUR\ny,CN,DE,-1,EUR\n";
    let request = Request::builder()
        .method("POST")
        .uri("/v1/route")
        .header("Authorization", format!("Bearer {}", h.admin))
        .header("Content-Type", "text/csv")
        .body(Body::from(csv))
        .unwrap();
    let response = h.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("id,status,service"), "{text}");
    assert!(
        lines[1].starts_with("x,routed,") && lines[1].contains(",EUR,"),
        "{text}"
    );
    assert!(lines[2].starts_with("y,invalid,"), "{text}");
    // A CSV without a required column is refused whole; a shipper key may not run bulk jobs.
    let request = Request::builder()
        .method("POST")
        .uri("/v1/route")
        .header("Authorization", format!("Bearer {}", h.admin))
        .header("Content-Type", "text/csv")
        .body(Body::from("id,origin_country,dest_country\nx,CN,DE\n"))
        .unwrap();
    assert_eq!(
        h.app.clone().oneshot(request).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&h.app, "POST", "/v1/route", Some(&h.shipper), ndjson)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn what_if_diffs_a_stored_book_against_the_one_in_force() {
    let h = harness().await;
    let next = temp_dir("demo-next");
    crossdock_bookgen::write_demo_next(&next).unwrap();
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/rate-books",
        Some(&h.admin),
        pack_dir(&next).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = json(&body)["id"].as_i64().unwrap();

    // A replay set: heavy parcels to Germany, and one bad row.
    let mut csv = String::from("id,origin_country,dest_country,weight_g,currency\n");
    for (i, weight) in [500, 1500, 2500, 4000, 8000, 12000].iter().enumerate() {
        csv.push_str(&format!("p{i},CN,DE,{weight},EUR\n"));
    }
    csv.push_str("bad,CN,de,700,EUR\n");
    let (status, body, _) = call(
        &h.app,
        "PUT",
        "/v1/replays/de-heavy.csv",
        Some(&h.admin),
        csv.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(json(&body)["rows"], 7);
    let (_, body, _) = call(&h.app, "GET", "/v1/replays", Some(&h.admin), "").await;
    assert_eq!(json(&body)["data"][0]["name"], "de-heavy.csv", "{body}");

    let uri = format!("/v1/rate-books/{id}/diff?replay=de-heavy.csv");
    let (status, body, _) = call(&h.app, "GET", &uri, Some(&h.admin), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let doc = json(&body);
    assert!(
        doc["old_book"]
            .as_str()
            .unwrap()
            .starts_with("demo-2026-11@"),
        "{body}"
    );
    assert!(
        doc["new_book"]
            .as_str()
            .unwrap()
            .starts_with("demo-next-2026-12@"),
        "{body}"
    );
    assert_eq!(
        (
            doc["rows"].as_u64(),
            doc["parcels"].as_u64(),
            doc["invalid"].as_u64()
        ),
        (Some(7), Some(6), Some(1))
    );
    let parcels: u64 = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["parcels"].as_u64().unwrap())
        .sum();
    assert_eq!(parcels, 6);

    // The same answer as CSV (one line per group) and as the CLI's table.
    let (status, body, _) = call(
        &h.app,
        "GET",
        &format!("{uri}&format=csv"),
        Some(&h.admin),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.starts_with("service,dest_country,currency,parcels,changed,"),
        "{body}"
    );
    assert_eq!(
        body.lines().count(),
        doc["groups"].as_array().unwrap().len() + 1
    );
    let (_, body, _) = call(
        &h.app,
        "GET",
        &format!("{uri}&format=text"),
        Some(&h.admin),
        "",
    )
    .await;
    assert!(
        body.contains("7 rows: 6 parcels priced by both books"),
        "{body}"
    );

    // Bad questions are named; other tenants and shippers get nothing.
    let cases: [(&str, Option<&str>, StatusCode); 8] = [
        (
            &format!("/v1/rate-books/{id}/diff"),
            Some(&h.admin),
            StatusCode::BAD_REQUEST,
        ),
        (
            &format!("/v1/rate-books/{id}/diff?replay=nope.csv"),
            Some(&h.admin),
            StatusCode::NOT_FOUND,
        ),
        (
            &format!("/v1/rate-books/{id}/diff?replay=../x.csv"),
            Some(&h.admin),
            StatusCode::BAD_REQUEST,
        ),
        (
            &format!("{uri}&format=xml"),
            Some(&h.admin),
            StatusCode::BAD_REQUEST,
        ),
        (
            &format!("{uri}&colour=red"),
            Some(&h.admin),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/v1/rate-books/999999/diff?replay=de-heavy.csv",
            Some(&h.admin),
            StatusCode::NOT_FOUND,
        ),
        (&uri, Some(&h.other), StatusCode::NOT_FOUND),
        (&uri, Some(&h.shipper), StatusCode::FORBIDDEN),
    ];
    for (uri, key, want) in cases {
        let (status, body, _) = call(&h.app, "GET", uri, key, "").await;
        assert_eq!(status, want, "{uri}: {body}");
        assert!(json(&body)["problems"].is_array(), "{body}");
    }
    // A replay upload that is not a parcel file, or has a bad name, is refused and not kept.
    let (status, body, _) = call(
        &h.app,
        "PUT",
        "/v1/replays/x.csv",
        Some(&h.admin),
        "id,weight_g\n1,2\n",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("origin_country") && !body.contains("upload"),
        "{body}"
    );
    let (status, _, _) = call(&h.app, "PUT", "/v1/replays/x.exe", Some(&h.admin), csv).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Parquet that is not a parcel file, and a truncated one.
    let rates = std::fs::read(demo_dir().join("rates.parquet")).unwrap();
    for body in [rates.clone(), rates[..rates.len() / 2].to_vec()] {
        let (status, body, _) =
            call(&h.app, "PUT", "/v1/replays/x.parquet", Some(&h.admin), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json(&body)["error"], "invalid_replay", "{body}");
    }
    let (_, body, _) = call(&h.app, "GET", "/v1/replays", Some(&h.admin), "").await;
    assert_eq!(json(&body)["data"].as_array().unwrap().len(), 1, "{body}");
    let (_, body, _) = call(&h.app, "GET", "/v1/replays", Some(&h.other), "").await;
    assert_eq!(json(&body)["data"].as_array().unwrap().len(), 0, "{body}");
}

/// Rollback compiles the book it returns to *before* recording anything: a stored book that
/// no longer compiles leaves the book in force, the history and the audit as they were, and
/// the answer is our failure (500 with the fixed message), not the caller's.
#[tokio::test]
async fn a_rollback_to_a_book_that_no_longer_compiles_records_nothing() {
    let dir = temp_dir("rollback-first");
    let c = config(&dir, None);
    let h = harness_with(c.clone()).await;
    let second = publish_and_activate(&h, "demo-second").await;
    let admin = h.admin.clone();
    h.rt.stop().await;
    // Damage the first book's stored archive (keeping the size rule), then start afresh so
    // it is not cached.
    let db = crossdock::runtime::open_db(&c).await.unwrap();
    db.write(|tx| {
        tx.execute(
            "UPDATE rating_books SET archive = $1, size_bytes = 3 WHERE id = 1",
            &[&vec![1u8, 2, 3]],
        )
    })
    .await
    .unwrap();
    db.close().await;
    let rt = start(&c).await;
    let audit_before = rt
        .rating
        .as_ref()
        .unwrap()
        .audit(rt.default_tenant, None, 100)
        .await
        .unwrap()
        .len();
    let (status, body, _) = call(
        &rt.router,
        "POST",
        "/v1/rate-books/rollback",
        Some(&admin),
        "",
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        json(&body)["problems"][0]["problem"],
        crossdock_http::INTERNAL_MESSAGE
    );
    let rating = rt.rating.as_ref().unwrap();
    assert_eq!(
        rating
            .active_book(rt.default_tenant)
            .await
            .unwrap()
            .map(|b| b.0),
        Some(second)
    );
    assert_eq!(
        rating.live_book(rt.default_tenant).map(|l| l.id.0),
        Some(second)
    );
    assert_eq!(
        rating
            .audit(rt.default_tenant, None, 100)
            .await
            .unwrap()
            .len(),
        audit_before
    );
    assert_eq!(
        call(&rt.router, "POST", "/v1/quotes", Some(&admin), QUOTE)
            .await
            .0,
        StatusCode::OK
    );
}

/// A batch over `batch_lines_max` lines is refused whole, naming the limit; one at the
/// limit is answered line for line.
#[tokio::test]
async fn batches_over_the_line_limit_are_413_naming_it() {
    let mut c = config(&temp_dir("batch-limit"), None);
    c.rating.batch_lines_max = 3;
    let h = harness_with(c).await;
    let lines = |n: usize| vec![QUOTE; n].join("\n");
    let (status, body, _) =
        call(&h.app, "POST", "/v1/quotes/batch", Some(&h.admin), lines(4)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(json(&body)["error"], "too_large");
    assert!(body.contains("batch_lines_max = 3 lines"), "{body}");
    let (status, body, _) =
        call(&h.app, "POST", "/v1/quotes/batch", Some(&h.admin), lines(3)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.lines().count(), 3);
}

/// When the book checker cannot run, the upload is our failure: 500 with the fixed
/// message (nothing about paths or processes), never `422 book_refused`.
#[tokio::test]
async fn an_upload_the_checker_cannot_check_is_a_500_not_a_refusal() {
    let mut c = config(&temp_dir("checker-missing"), None);
    c.rating.isolate_checks = true;
    c.rating.checker = Some(PathBuf::from("/nonexistent/crossdock-checker"));
    c.default_book = Some(PathBuf::new()); // no book to seed: seeding would need the checker
    let h = harness_with(c).await;
    let (status, body, _) = call(
        &h.app,
        "POST",
        "/v1/rate-books",
        Some(&h.admin),
        pack_dir(&renamed_demo("demo-unchecked")).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(json(&body)["error"], "internal");
    assert!(
        !body.contains("nonexistent") && !body.contains("checker"),
        "{body}"
    );
}

/// `/openapi.json` is OpenAPI 3.1, needs no key, and describes exactly the routes of the
/// README's route table; every route that needs a key documents 401 and its error bodies.
#[tokio::test]
async fn openapi_describes_exactly_the_routes_of_the_readme() {
    let h = harness().await;
    let (status, body, _) = call(&h.app, "GET", "/openapi.json", None, "").await;
    assert_eq!(status, StatusCode::OK);
    let doc = json(&body);
    assert_eq!(doc["openapi"], "3.1.0");
    let mut served = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            served.insert(format!("{} {path}", method.to_uppercase()));
            let public = ["/healthz", "/readyz", "/openapi.json", "/track/{number}"]
                .contains(&path.as_str());
            let responses = op["responses"].as_object().expect("responses");
            if !public {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} documents no 401"
                );
                assert!(
                    responses
                        .iter()
                        .any(|(code, r)| code.starts_with('4')
                            && r.to_string().contains("ErrorBody")),
                    "{method} {path} documents no error body"
                );
            }
        }
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README");
    let table = readme
        .split("| route | role | what |")
        .nth(1)
        .expect("the README's route table");
    let mut documented = std::collections::BTreeSet::new();
    for line in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let first_cell = line.split('|').nth(1).expect("a cell");
        for route in first_cell.split(',') {
            documented.insert(route.trim().trim_matches('`').to_owned());
        }
    }
    assert_eq!(
        served, documented,
        "routes in /openapi.json vs the README's table"
    );
}

/// The OpenAPI schema of a quote answer names every field a real answer has, and the
/// request schema every field of a full request.
#[tokio::test]
async fn openapi_quote_schemas_name_every_field_of_an_answer() {
    let h = harness().await;
    let (_, body, _) = call(&h.app, "GET", "/openapi.json", None, "").await;
    let doc = json(&body);
    let schemas = &doc["components"]["schemas"];
    let (_, answer, _) = call(&h.app, "POST", "/v1/quotes", Some(&h.admin), QUOTE).await;
    let answer = json(&answer);
    let fields = |name: &str| -> Vec<String> {
        schemas[name]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("schema {name}"))
            .keys()
            .cloned()
            .collect()
    };
    for key in answer.as_object().unwrap().keys() {
        assert!(
            fields("QuoteAnswer").contains(key),
            "QuoteAnswer lacks {key}"
        );
    }
    for key in answer["options"][0].as_object().unwrap().keys() {
        assert!(
            fields("QuoteOption").contains(key),
            "QuoteOption lacks {key}"
        );
    }
    for key in json(QUOTE).as_object().unwrap().keys() {
        assert!(
            fields("QuoteRequest").contains(key),
            "QuoteRequest lacks {key}"
        );
    }
}
