//! One log line per request with a request id, request metrics with bounded labels, and
//! the Prometheus exporter.
//!
//! The log line names the method, the route *template* (`/v1/rate-books/{id}`), the
//! status, the time taken and the key id (public) — never headers, bodies or query
//! strings, so no secret reaches the log. The request id is the client's `x-request-id`
//! when it is a short printable token, else a new one; it is echoed in the answer.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Where the principal extractor leaves the calling key's public id for the log line.
#[derive(Clone, Debug, Default)]
pub struct KeyForLog(pub std::sync::Arc<std::sync::Mutex<Option<String>>>);

const REQUEST_ID_CHARS_MAX: usize = 64;

fn next_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PREFIX: OnceLock<String> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!(
            "{:08x}",
            (nanos as u64 ^ u64::from(std::process::id()) << 20) as u32
        )
    });
    format!(
        "req_{prefix}{:08x}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Request metrics by (method, route template, status): handles registered once per
/// combination, so a request pays one map lookup, not the registry's label building.
fn request_metrics(
    method: &axum::http::Method,
    route: &str,
    status: u16,
) -> (metrics::Counter, metrics::Histogram) {
    static HANDLES: OnceLock<dashmap::DashMap<String, (metrics::Counter, metrics::Histogram)>> =
        OnceLock::new();
    let handles = HANDLES.get_or_init(dashmap::DashMap::new);
    let key = format!("{method} {route} {status}");
    if let Some(found) = handles.get(&key) {
        return found.clone();
    }
    let labels = [
        ("route", route.to_owned()),
        ("method", method.to_string()),
        ("status", status.to_string()),
    ];
    let made = (
        metrics::counter!("crossdock_http_requests_total", &labels),
        metrics::histogram!("crossdock_http_request_duration_seconds", &labels[..2]),
    );
    handles.insert(key, made.clone());
    made
}

/// Whether each request gets its log line (the `access_log` setting). Off by default: a
/// line per quote costs a quarter of a one-core server's quote rate (measured), so an
/// operator turns it on where the log is worth that.
static ACCESS_LOG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns the per-request log line on or off for this process.
pub fn set_access_log(on: bool) {
    ACCESS_LOG.store(on, Ordering::Relaxed);
}

/// The middleware: request id, timing, the log line and the request metrics. The log line
/// and its key slot cost nothing when the access log is off or `info` is filtered out.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let given = request
        .headers()
        .get("x-request-id")
        .filter(|v| {
            !v.is_empty()
                && v.len() <= REQUEST_ID_CHARS_MAX
                && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
        })
        .cloned();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let logging = ACCESS_LOG.load(Ordering::Relaxed) && tracing::enabled!(tracing::Level::INFO);
    let key_slot = logging.then(|| {
        let slot = KeyForLog::default();
        request.extensions_mut().insert(slot.clone());
        slot
    });
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let id = given.unwrap_or_else(|| {
        HeaderValue::from_str(&next_request_id())
            .unwrap_or_else(|_| HeaderValue::from_static("req_unknown"))
    });
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    if let Some(slot) = key_slot {
        let key = slot.0.lock().ok().and_then(|k| k.clone());
        tracing::info!(
            request_id = id.to_str().unwrap_or("-"),
            method = %method,
            route,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            key = key.as_deref().unwrap_or("-"),
            "request"
        );
    }
    let (requests, duration) = request_metrics(&method, route, status);
    requests.increment(1);
    duration.record(elapsed.as_secs_f64());
    response.headers_mut().insert("x-request-id", id);
    response
}

/// Latency buckets, in seconds, for every histogram: microsecond quotes to minute uploads.
const BUCKETS_S: [f64; 16] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 1.0, 10.0, 60.0,
];

/// Installs the Prometheus recorder once per process (later calls get the same handle) and
/// starts its upkeep, which drains histograms so memory stays bounded between scrapes.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&BUCKETS_S)
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Another recorder may be installed already (a test harness): ours then only
            // renders what it records, which is nothing; metrics are best effort.
            let _ = metrics::set_global_recorder(recorder);
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("crossdock-metrics".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok();
            handle
        })
        .clone()
}
