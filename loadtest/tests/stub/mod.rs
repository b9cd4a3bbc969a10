//! A stand-in for the crossdock quote server: the routes the generator loads, canned answers,
//! a switchable book in force, and faults on demand.
//!
//! Faults are asked for by the request itself, through its `customer`: `bad` answers 400,
//! `throttle` 429, `boom` 500, and `hangup` closes the connection without an answer. Server-wide
//! faults come from [`StubConfig`]: one stall of the whole server, and a lag after each
//! activation during which quotes still name the previous book (the bug the swap classifier
//! exists to catch).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct StubConfig {
    pub key: String,
    /// The n-th quote call (1-based) stalls the whole server for `stall`: every answer waits
    /// until the stall is over.
    pub stall_at_call: Option<u64>,
    pub stall: Duration,
    /// After an activation is answered, quotes keep naming the previous book this long.
    pub activation_lag: Duration,
}

struct Book {
    id: i64,
    label: String,
    hash: String,
}

struct Active {
    label: String,
    previous: String,
    since: Instant,
}

struct State {
    config: StubConfig,
    quote_calls: AtomicU64,
    arrivals: Mutex<Vec<Instant>>,
    stall_until: Mutex<Option<Instant>>,
    books: Mutex<Vec<Book>>,
    active: Mutex<Active>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running stub on 127.0.0.1; stopped when dropped.
pub struct Stub {
    pub addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stub {
    pub fn start(config: StubConfig) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let initial = "stub-initial@00000000".to_owned();
        let state = Arc::new(State {
            config,
            quote_calls: AtomicU64::new(0),
            arrivals: Mutex::new(Vec::new()),
            stall_until: Mutex::new(None),
            books: Mutex::new(Vec::new()),
            active: Mutex::new(Active {
                label: initial.clone(),
                previous: initial,
                since: Instant::now(),
            }),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&state);
        // Its own thread and runtime: the generator under test has the calling thread's.
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("stub runtime");
            runtime.block_on(serve(listener, served, stopped));
        });
        Self {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// When each quote call (single or batch) arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        lock(&self.state.arrivals).clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&state), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: StatusCode, body: impl Into<Bytes>) -> Answer {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// Returning `Err` makes hyper close the connection without an answer.
async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Answer, std::io::Error> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if parts.method == Method::GET && path == "/healthz" {
        return Ok(answer(StatusCode::OK, "ok\n"));
    }
    let authorized = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {}", state.config.key));
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    if !authorized {
        return Ok(answer(
            StatusCode::UNAUTHORIZED,
            r#"{"error":"unauthorized","problems":[]}"#,
        ));
    }
    match (parts.method, path.as_str()) {
        (Method::POST, "/v1/quotes") => quote(&state, &body).await,
        (Method::POST, "/v1/quotes/batch") => Ok(batch(&state, &body).await),
        (Method::POST, "/v1/rate-books") => Ok(upload(&state, &body)),
        (Method::POST, route)
            if route.starts_with("/v1/rate-books/") && route.ends_with("/activate") =>
        {
            let id = route
                .trim_start_matches("/v1/rate-books/")
                .trim_end_matches("/activate");
            Ok(activate(&state, id))
        }
        _ => Ok(answer(
            StatusCode::NOT_FOUND,
            r#"{"error":"not_found","problems":[]}"#,
        )),
    }
}

/// Counts the call and waits out a stall in progress (or starts one).
async fn arrive(state: &State) {
    let now = Instant::now();
    lock(&state.arrivals).push(now);
    let call = state.quote_calls.fetch_add(1, Ordering::Relaxed) + 1;
    let until = {
        let mut stall_until = lock(&state.stall_until);
        if state.config.stall_at_call == Some(call) {
            *stall_until = Some(now + state.config.stall);
        }
        *stall_until
    };
    if let Some(until) = until.filter(|&until| until > now) {
        tokio::time::sleep_until(until.into()).await;
    }
}

fn label_in_force(state: &State) -> String {
    let active = lock(&state.active);
    if active.since.elapsed() < state.config.activation_lag {
        active.previous.clone()
    } else {
        active.label.clone()
    }
}

fn has_customer(body: &[u8], customer: &str) -> bool {
    let needle = format!("\"customer\":\"{customer}\"");
    body.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn quote_answer(label: &str) -> String {
    format!(
        r#"{{"rate_book":"{label}","currency":"EUR","options":[],"excluded":[],"customs":{{"issues":[]}}}}"#
    )
}

const INVALID: &str = r#"{"error":"invalid_request","problems":[{"field":"customer","problem":"the stub refuses it"}]}"#;

async fn quote(state: &State, body: &[u8]) -> Result<Answer, std::io::Error> {
    arrive(state).await;
    if has_customer(body, "hangup") {
        return Err(std::io::Error::other("hang up"));
    }
    Ok(if has_customer(body, "bad") {
        answer(StatusCode::BAD_REQUEST, INVALID)
    } else if has_customer(body, "throttle") {
        let mut response = answer(
            StatusCode::TOO_MANY_REQUESTS,
            r#"{"error":"rate_limited","problems":[]}"#,
        );
        response
            .headers_mut()
            .insert("retry-after", hyper::header::HeaderValue::from_static("1"));
        response
    } else if has_customer(body, "boom") {
        answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error":"internal","problems":[]}"#,
        )
    } else {
        answer(StatusCode::OK, quote_answer(&label_in_force(state)))
    })
}

async fn batch(state: &State, body: &[u8]) -> Answer {
    arrive(state).await;
    let label = label_in_force(state);
    let mut out = String::new();
    for line in body.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        out += &if has_customer(line, "bad") {
            INVALID.to_owned()
        } else {
            quote_answer(&label)
        };
        out.push('\n');
    }
    answer(StatusCode::OK, out)
}

/// Stores a tar upload; the label is `name@hash8` with the name from `book.toml`.
fn upload(state: &State, body: &[u8]) -> Answer {
    let mut name = None;
    let mut archive = tar::Archive::new(body);
    let Ok(entries) = archive.entries() else {
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"error":"bad_archive","problems":[]}"#,
        );
    };
    for entry in entries {
        let Ok(mut entry) = entry else {
            return answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"error":"bad_archive","problems":[]}"#,
            );
        };
        if entry.path().is_ok_and(|p| p.as_os_str() == "book.toml") {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut entry, &mut text);
            name = text.lines().find_map(|l| {
                l.strip_prefix("name = ")
                    .map(|v| v.trim_matches('"').to_owned())
            });
        }
    }
    let Some(name) = name else {
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"error":"book_refused","problems":[{"field":"book.toml","problem":"missing"}]}"#,
        );
    };
    // FNV-1a: a stable content hash without a dependency.
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let hash = format!("{hash:016x}");
    let mut books = lock(&state.books);
    let (status, id, label) = match books.iter().find(|b| b.hash == hash) {
        Some(book) => (StatusCode::OK, book.id, book.label.clone()),
        None => {
            let id = books.len() as i64 + 1;
            let label = format!("{name}@{}", &hash[..8]);
            books.push(Book {
                id,
                label: label.clone(),
                hash: hash.clone(),
            });
            (StatusCode::CREATED, id, label)
        }
    };
    answer(
        status,
        format!(
            r#"{{"id":{id},"label":"{label}","content_hash":"{hash}","report":{{"errors":[],"warnings":[]}}}}"#
        ),
    )
}

fn activate(state: &State, id: &str) -> Answer {
    let books = lock(&state.books);
    let Some(book) = id
        .parse::<i64>()
        .ok()
        .and_then(|id| books.iter().find(|b| b.id == id))
    else {
        return answer(
            StatusCode::NOT_FOUND,
            r#"{"error":"not_found","problems":[]}"#,
        );
    };
    let mut active = lock(&state.active);
    let previous_id = books
        .iter()
        .find(|b| b.label == active.label)
        .map_or("null".to_owned(), |b| b.id.to_string());
    active.previous = std::mem::replace(&mut active.label, book.label.clone());
    active.since = Instant::now();
    answer(
        StatusCode::OK,
        format!(
            r#"{{"active":{{"id":{},"label":"{}"}},"previous":{previous_id}}}"#,
            book.id, book.label
        ),
    )
}
