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

/// The middleware: request id, timing, the log line and the request metrics.
pub async fn observe(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= REQUEST_ID_CHARS_MAX
                && v.bytes().all(|b| b.is_ascii_graphic())
        })
        .map_or_else(next_request_id, str::to_owned);
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    request.extensions_mut().insert(RequestId(id.clone()));
    let key_slot = KeyForLog::default();
    request.extensions_mut().insert(key_slot.clone());
    let mut response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let key = key_slot.0.lock().ok().and_then(|k| k.clone());
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        key = key.as_deref().unwrap_or("-"),
        "request"
    );
    let labels = [
        ("route", route),
        ("method", method.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!("crossdock_http_requests_total", &labels).increment(1);
    metrics::histogram!("crossdock_http_request_duration_seconds", &labels[..2])
        .record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// The request's id, for handlers that log.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

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
