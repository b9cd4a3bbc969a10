//! One HTTP/1.1 keep-alive connection per load task, reconnected after any failure.
//!
//! hyper's connection-level client is used rather than a pooled one: each task owns its
//! connection, so "every connection is busy" is a real, visible state of the run instead of
//! a pool quietly opening more.

use crate::Error;
use crate::target::Target;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use std::fmt;
use std::net::SocketAddr;

/// The largest answer read; a batch of 10 000 quotes with explanations fits many times.
pub const RESPONSE_BYTES_MAX: usize = 256 << 20;

pub static JSON: HeaderValue = HeaderValue::from_static("application/json");
pub static NDJSON: HeaderValue = HeaderValue::from_static("application/x-ndjson");
pub static TAR: HeaderValue = HeaderValue::from_static("application/x-tar");

/// The server and the headers every request carries, built once.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub target: Target,
    host: HeaderValue,
    authorization: HeaderValue,
}

impl Endpoint {
    pub fn new(target: Target, key: &str) -> Result<Self, Error> {
        let host = HeaderValue::from_str(&target.authority)
            .map_err(|_| Error::new(format!("--url: bad host {:?}", target.authority)))?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| Error::new("--key: not a valid header value"))?;
        authorization.set_sensitive(true);
        Ok(Self {
            target,
            host,
            authorization,
        })
    }

    pub fn uri(&self, route: &str) -> Result<Uri, Error> {
        let path = self.target.path(route);
        Uri::try_from(path.as_str())
            .map_err(|e| Error::new(format!("bad request path {path:?}: {e}")))
    }

    pub fn request(
        &self,
        method: Method,
        uri: &Uri,
        content_type: &HeaderValue,
        body: Bytes,
    ) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(CONTENT_TYPE, content_type.clone());
        request
    }
}

/// Why a call got no HTTP answer.
#[derive(Debug)]
pub enum CallError {
    Connect(std::io::Error),
    Http(hyper::Error),
    Body(String),
    /// No complete answer within `--timeout`.
    Timeout,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Connect(e) => write!(f, "connect: {e}"),
            CallError::Http(e) => write!(f, "HTTP: {e}"),
            CallError::Body(e) => write!(f, "reading the answer: {e}"),
            CallError::Timeout => f.write_str("timeout: no complete answer in time"),
        }
    }
}

/// An HTTP answer, its body read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

/// A connection that may not be open yet: opened on first use and after any failure.
#[derive(Debug)]
pub struct Slot {
    addr: SocketAddr,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
}

impl Slot {
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, sender: None }
    }

    /// Opens the connection now if it is not open.
    pub async fn connect(&mut self) -> Result<(), CallError> {
        if self
            .sender
            .as_ref()
            .is_some_and(|sender| !sender.is_closed())
        {
            return Ok(());
        }
        self.sender = None;
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(CallError::Connect)?;
        stream.set_nodelay(true).map_err(CallError::Connect)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(CallError::Http)?;
        // The driver ends when the connection closes or the sender is dropped; its error, if
        // any, reaches the sender's next call.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    /// Sends `request` and reads the whole answer. After a failure the connection is dropped
    /// and the next call opens a new one.
    pub async fn call(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, CallError> {
        self.connect().await?;
        let result = match self.sender.as_mut() {
            Some(sender) => exchange(sender, request).await,
            None => Err(CallError::Body("no connection".to_owned())),
        };
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    /// Forgets the connection, e.g. after a call on it timed out mid-answer.
    pub fn reset(&mut self) {
        self.sender = None;
    }
}

async fn exchange(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> Result<Answer, CallError> {
    sender.ready().await.map_err(CallError::Http)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(CallError::Http)?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, RESPONSE_BYTES_MAX)
        .collect()
        .await
        .map_err(|e| CallError::Body(e.to_string()))?
        .to_bytes();
    Ok(Answer {
        status: parts.status,
        body,
    })
}
