//! One log line per request with a request id, request metrics with bounded labels, and
//! the Prometheus exporter.
//!
//! The log line names the method, the route *template* (`/v1/rate-books/{id}`), the
//! status, the time taken and the key id (public) — never headers, bodies or query
//! strings, so no secret reaches the log. The request id is the client's `x-request-id`
//! when it is a short printable token, else a new one; it is echoed in the answer.

use crate::Edge;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

/// Where the principal extractor leaves the calling key's public id for the log line.
#[derive(Clone, Debug, Default)]
pub struct KeyForLog(pub std::sync::Arc<std::sync::Mutex<Option<String>>>);

const REQUEST_ID_CHARS_MAX: usize = 64;

/// A new request id, `req_` and 16 hex digits: 8 of the process (start time and pid), 8
/// of a counter. Written into a fixed buffer: one allocation, the header's.
fn next_request_id() -> HeaderValue {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PREFIX: OnceLock<u32> = OnceLock::new();
    let prefix = *PREFIX.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        (nanos as u64 ^ u64::from(std::process::id()) << 20) as u32
    });
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) as u32;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = *b"req_0000000000000000";
    for (i, word) in [prefix, count].into_iter().enumerate() {
        for nibble in 0..8 {
            id[4 + i * 8 + nibble] = HEX[((word >> (28 - 4 * nibble)) & 0xf) as usize];
        }
    }
    HeaderValue::from_bytes(&id).unwrap_or_else(|_| HeaderValue::from_static("req_unknown"))
}

/// Request metrics by (method, route template, status). Handles are registered once per
/// combination and kept per thread in a short list, so a request pays a few string
/// comparisons and no allocation, not the registry's label building.
fn request_metrics(
    method: &Method,
    route: &str,
    status: u16,
) -> (metrics::Counter, metrics::Histogram) {
    type Entry = (Method, Box<str>, u16, metrics::Counter, metrics::Histogram);
    /// Combinations kept per thread; past it the list starts again (labels are bounded by
    /// the routes, so this only happens under a flood of odd statuses).
    const ENTRIES_MAX: usize = 256;
    thread_local! {
        static HANDLES: std::cell::RefCell<Vec<Entry>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    HANDLES.with(|handles| {
        let mut handles = handles.borrow_mut();
        if let Some((.., counter, histogram)) = handles
            .iter()
            .find(|(m, r, s, ..)| *s == status && m == method && **r == *route)
        {
            return (counter.clone(), histogram.clone());
        }
        let labels = [
            ("route", route.to_owned()),
            ("method", method.to_string()),
            ("status", status.to_string()),
        ];
        let counter = metrics::counter!("crossdock_http_requests_total", &labels);
        let histogram =
            metrics::histogram!("crossdock_http_request_duration_seconds", &labels[..2]);
        if handles.len() >= ENTRIES_MAX {
            handles.clear();
        }
        handles.push((
            method.clone(),
            route.into(),
            status,
            counter.clone(),
            histogram.clone(),
        ));
        (counter, histogram)
    })
}

/// Whether each request gets its log line (the `access_log` setting). Off by default: a
/// line per quote costs a quarter of a one-core server's quote rate (measured), so an
/// operator turns it on where the log is worth that.
static ACCESS_LOG: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns the per-request log line on or off for this process.
pub fn set_access_log(on: bool) {
    ACCESS_LOG.store(on, Ordering::Relaxed);
}

/// The edge's one layer, around every route: puts the [`Edge`] on the request (for the
/// [`crate::Principal`] extractor), then times the request, echoes or makes its request id,
/// writes the log line and the request metrics. Hand-written rather than
/// `middleware::from_fn` + `Extension`: that pair boxes a future and clones the stack per
/// request, which showed on the quote path (ARCHITECTURE.md, "The HTTP edge").
#[derive(Clone, Debug)]
pub struct EdgeLayer {
    edge: Arc<Edge>,
}

impl EdgeLayer {
    pub fn new(edge: Arc<Edge>) -> EdgeLayer {
        EdgeLayer { edge }
    }
}

impl<S> tower::Layer<S> for EdgeLayer {
    type Service = EdgeService<S>;

    fn layer(&self, inner: S) -> EdgeService<S> {
        EdgeService {
            inner,
            edge: self.edge.clone(),
        }
    }
}

/// The service [`EdgeLayer`] wraps each route in.
#[derive(Clone, Debug)]
pub struct EdgeService<S> {
    inner: S,
    edge: Arc<Edge>,
}

/// What a request's answer needs from its start.
struct Started {
    at: Instant,
    given: Option<HeaderValue>,
    method: Method,
    route: Option<MatchedPath>,
    key_slot: Option<KeyForLog>,
}

impl<S> tower::Service<Request> for EdgeService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let at = Instant::now();
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
        request.extensions_mut().insert(self.edge.clone());
        let inner = if crate::idempotency::applies(&request, &self.edge) {
            // The clone is ready-checked inside; the original stays ready for the next call.
            let service = self.inner.clone();
            Inner::Kept {
                future: Box::pin(crate::idempotency::run(self.edge.clone(), service, request)),
            }
        } else {
            Inner::Direct {
                future: self.inner.call(request),
            }
        };
        Observed {
            inner,
            started: Some(Started {
                at,
                given,
                method,
                route,
                key_slot,
            }),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer, then the request's log line, metrics and id.
    pub struct Observed<F> {
        #[pin]
        inner: Inner<F>,
        started: Option<Started>,
    }
}

pin_project_lite::pin_project! {
    /// The route's own future, or (a `POST` with `Idempotency-Key`) the boxed one that keeps
    /// its answer.
    #[project = InnerProj]
    pub enum Inner<F> {
        Direct { #[pin] future: F },
        Kept { future: Pin<Box<dyn Future<Output = Response> + Send>> },
    }
}

impl<F> Future for Observed<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = match this.inner.project() {
            InnerProj::Direct { future } => future.poll(cx),
            InnerProj::Kept { future } => future.as_mut().poll(cx).map(Ok),
        };
        let Poll::Ready(Ok(mut response)) = polled else {
            return Poll::Pending;
        };
        if let Some(started) = this.started.take() {
            finish(started, &mut response);
        }
        Poll::Ready(Ok(response))
    }
}

fn finish(started: Started, response: &mut Response) {
    let elapsed = started.at.elapsed();
    let status = response.status().as_u16();
    let id = started.given.unwrap_or_else(next_request_id);
    let route = started
        .route
        .as_ref()
        .map_or("unmatched", MatchedPath::as_str);
    if let Some(slot) = started.key_slot {
        let key = slot.0.lock().ok().and_then(|k| k.clone());
        tracing::info!(
            request_id = id.to_str().unwrap_or("-"),
            method = %started.method,
            route,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            key = key.as_deref().unwrap_or("-"),
            "request"
        );
    }
    let (requests, duration) = request_metrics(&started.method, route, status);
    requests.increment(1);
    duration.record(elapsed.as_secs_f64());
    response.headers_mut().insert("x-request-id", id);
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
