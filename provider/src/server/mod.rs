//! The provider's HTTP server for the open protocol (`docs/protocol.md` §5): online activation,
//! pending transactions for an authenticated app, answers, unregistering, push tokens, the clock.
//!
//! axum on a small tokio runtime, served by axum-server so the same code serves plain HTTP or TLS
//! (rustls with ring, from a PEM certificate and key). Plain HTTP is refused on anything but a
//! loopback address. Each request's endpoint is parsed once ([`Route`]); it runs
//! [`route_admitted`] on a blocking thread with a database connection (SQLite or PostgreSQL) from a
//! small pool, under the server's rate limits; the database's write transactions serialise the
//! answers. `protocol::route` is the protocol without the socket, so tests can drive it with
//! another clock. Paths under `/portal` go to the portal ([`crate::portal::handle`]).

use crate::limits::RateLimit;
use crate::protocol::{refusal_reply, route_admitted, Admit, Charge, Request, Route};
use crate::{Provider, ProviderError, Result};
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, Method as HttpMethod, StatusCode, Uri};
use serde_json::{json, Value};
use softtoken_core::protocol::{Refusal, RefusalReply};
use softtoken_core::transaction::Response;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

pub mod request_log;

/// Runtime worker threads (requests themselves run on tokio's blocking pool).
const WORKERS: usize = 4;
/// Largest request body accepted (a larger one is a 413 `too_large`).
const MAX_BODY: usize = 16 * 1024;
/// Idle database connections kept for the next requests.
const IDLE_CONNECTIONS: usize = 64;
/// The default time a client has to send a request's headers (and then its body), and how long an
/// idle keep-alive connection is kept: a client sending a byte a second is cut off instead of
/// holding its connection ([`Limits::header_timeout_s`]).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time a connection may stay open without a byte read or written, whatever its protocol (hyper
/// times out HTTP/1 heads, but an HTTP/2 connection that made one request could otherwise stay
/// open in silence for ever, and enough of them fill the connection limit).
const IDLE_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest request head (request line and headers).
const MAX_HEAD: usize = 16 * 1024;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A certificate chain and its private key, both PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain (leaf first).
    pub certificate: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How much one client may take of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at once; more are closed when accepted.
    pub connections: usize,
    /// Open connections at once from one address.
    pub connections_per_address: usize,
    /// Answers and activation completions per minute from one address (bursts up to this many).
    pub answers_per_address: u32,
    /// Answers per minute for one identity, and completions per minute for one activation.
    pub answers_per_identity: u32,
    /// Seconds a client has to send a request's headers, and then its body (also how long an
    /// HTTP/1 keep-alive connection may wait for its next request).
    pub header_timeout_s: u64,
    /// Seconds after its last byte either way that any connection, HTTP/2 included, is closed.
    pub idle_timeout_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connections: 1024,
            connections_per_address: 128,
            answers_per_address: 600,
            answers_per_identity: 60,
            header_timeout_s: HEADER_TIMEOUT.as_secs(),
            idle_timeout_s: IDLE_TIMEOUT.as_secs(),
        }
    }
}

/// Connections to the state database, reused across requests.
struct Pool {
    portal: crate::portal::Portal,
    database: crate::Database,
    kek: PathBuf,
    idle: Mutex<Vec<Provider>>,
    per_address: RateLimit,
    per_identity: RateLimit,
    /// Time a request's body may take to arrive.
    body_timeout: Duration,
}

impl Pool {
    fn with_provider<T>(&self, f: impl FnOnce(&Provider) -> T) -> std::result::Result<T, ProviderError> {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let provider = taken.map(Ok).unwrap_or_else(|| Provider::open_database(&self.database, &self.kek))?;
        let out = f(&provider);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(provider);
        }
        Ok(out)
    }

    /// Routes one request from `peer` under the rate limits of answers and completions (see
    /// [`Limited`]).
    fn route(&self, endpoint: Route<'_>, request: &Request<'_>, peer: IpAddr) -> (u16, Value) {
        let limits = Limited { pool: self, address: peer.to_string() };
        let reply = self.with_provider(|provider| route_admitted(provider, endpoint, request, now(), &limits));
        reply.unwrap_or_else(|e| refusal_reply(&e))
    }
}

/// The limited requests are the ones that change state and check a MAC or a registration code.
/// An authentic answer spends its address's and its identity's budget; an unauthenticated one only
/// its address's; Suspicious and Cancel with a valid MAC are never refused by a limit: they only
/// ever stop a sign-in.
struct Limited<'a> {
    pool: &'a Pool,
    address: String,
}

impl Admit for Limited<'_> {
    fn admit(&self, charge: Charge<'_>) -> bool {
        let (per_address, per_identity) = (&self.pool.per_address, &self.pool.per_identity);
        match charge {
            Charge::Answer { identity: Some(_), response: Response::Cancel | Response::Suspicious } => true,
            Charge::Answer { identity: Some(serial), response: Response::Confirm } => {
                per_address.take(&self.address).and_then(|()| per_identity.take(&format!("serial:{serial}"))).is_ok()
            }
            Charge::Answer { identity: None, .. } => per_address.take(&self.address).is_ok(),
            Charge::Completion { token } => per_address.take(&self.address).and_then(|()| per_identity.take(&format!("activation:{token}"))).is_ok(),
            Charge::Validate { user: None } => per_address.take(&self.address).is_ok(),
            Charge::Validate { user: Some(user) } => per_address.take(&self.address).and_then(|()| per_identity.take(&format!("user:{user}"))).is_ok(),
        }
    }
}

/// Open connections, in all and by address; a connection over either limit is closed at once.
#[derive(Clone)]
struct Admission {
    limits: Limits,
    open: Arc<Mutex<(usize, HashMap<IpAddr, usize>)>>,
}

/// A connection admitted by [`Admission`]; gives its place back when closed.
struct Admitted {
    stream: tokio::net::TcpStream,
    peer: IpAddr,
    open: Arc<Mutex<(usize, HashMap<IpAddr, usize>)>>,
    /// Ends the connection `idle_after` after its last byte either way.
    idle: Pin<Box<tokio::time::Sleep>>,
    idle_after: Duration,
}

impl Admitted {
    fn touch(&mut self) {
        self.idle.as_mut().reset(tokio::time::Instant::now() + self.idle_after);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.peer);
            }
        }
    }
}

impl<S: Send + 'static> axum_server::accept::Accept<tokio::net::TcpStream, S> for Admission {
    type Stream = Admitted;
    type Service = S;
    type Future = std::future::Ready<std::io::Result<(Admitted, S)>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        let refused = |why: &str| std::future::ready(Err(std::io::Error::other(why.to_string())));
        let Ok(peer) = stream.peer_addr().map(|a| a.ip()) else { return refused("no peer address") };
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let from_peer = open.1.get(&peer).copied().unwrap_or(0);
        if open.0 >= self.limits.connections || from_peer >= self.limits.connections_per_address {
            return refused("connection limit");
        }
        open.0 += 1;
        *open.1.entry(peer).or_insert(0) += 1;
        drop(open);
        let idle_after = Duration::from_secs(self.limits.idle_timeout_s.max(1));
        let idle = Box::pin(tokio::time::sleep(idle_after));
        std::future::ready(Ok((Admitted { stream, peer, open: self.open.clone(), idle, idle_after }, service)))
    }
}

impl tokio::io::AsyncRead for Admitted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut tokio::io::ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(read) => {
                self.touch();
                Poll::Ready(read)
            }
            Poll::Pending if std::future::Future::poll(self.idle.as_mut(), cx).is_ready() => {
                Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "idle connection closed")))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for Admitted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, buf);
        if written.is_ready() {
            self.touch();
        }
        written
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

type Reply = (StatusCode, axum::http::HeaderMap, Vec<u8>);

/// How the portal is served.
#[derive(Debug)]
pub struct PortalOptions {
    /// The address browsers and phones reach this server at (default: the listening address).
    pub public_url: Option<String>,
    /// Where activation e-mails go.
    pub delivery: crate::portal::mail::Delivery,
    /// The e-mails' sender.
    pub mail_from: String,
    /// How the test sign-in's pushes wake a phone registered with a Web Push subscription.
    pub wake_ups: crate::push::Senders,
    /// Where the request log goes.
    pub request_log: request_log::Destination,
}

/// Reads a body of at most [`MAX_BODY`] within `within`; the refusal names the limit broken.
async fn read_body(body: Body, within: Duration) -> std::result::Result<axum::body::Bytes, (Refusal, String)> {
    match tokio::time::timeout(within, axum::body::to_bytes(body, MAX_BODY)).await {
        Err(_) => Err((Refusal::BadRequest, "the body did not arrive in time".into())),
        Ok(Err(_)) => Err((Refusal::TooLarge, format!("the body is larger than {} KiB", MAX_BODY / 1024))),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// A portal request: read off the HTTP request, answered by [`crate::portal::handle`].
async fn portal(pool: Arc<Pool>, peer: SocketAddr, method: HttpMethod, uri: Uri, headers: axum::http::HeaderMap, body: Body) -> Reply {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (cookie, origin, host, fetch_site) =
        (text(header::COOKIE), text(header::ORIGIN), text(header::HOST), text(header::HeaderName::from_static("sec-fetch-site")));
    let body = match read_body(body, pool.body_timeout).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err((refusal, message)) => {
            return (StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST), axum::http::HeaderMap::new(), message.into_bytes())
        }
    };
    let reply = tokio::task::spawn_blocking(move || {
        let request = crate::portal::WebRequest {
            method: method.as_str(),
            path: uri.path(),
            query: uri.query().unwrap_or(""),
            cookie: cookie.as_deref(),
            origin: origin.as_deref(),
            host: host.as_deref(),
            fetch_site: fetch_site.as_deref(),
            body: &body,
            peer: peer.ip(),
        };
        pool.with_provider(|provider| crate::portal::handle(provider, &pool.portal, &request, now()))
    })
    .await;
    match reply {
        Ok(Ok(reply)) => {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(reply.content_type));
            for (name, value) in reply.headers {
                if let Ok(value) = header::HeaderValue::from_str(&value) {
                    headers.append(header::HeaderName::from_static(name), value);
                }
            }
            (StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), headers, reply.body)
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, axum::http::HeaderMap::new(), b"the portal failed".to_vec()),
    }
}

/// A request to the validate API ([`crate::validate`]), with privacyIDEA's reply shapes.
async fn validate(pool: Arc<Pool>, peer: SocketAddr, method: HttpMethod, uri: Uri, headers: axum::http::HeaderMap, body: Body) -> Reply {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let url = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
    let json_headers = || {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
        h
    };
    let body = match read_body(body, pool.body_timeout).await {
        Ok(bytes) => bytes,
        Err((refusal, message)) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let error = json!({"result": {"status": false, "error": {"code": 905, "message": format!("ERR905: {message}")}}, "detail": null});
            return (status, json_headers(), error.to_string().into_bytes());
        }
    };
    let reply = tokio::task::spawn_blocking(move || {
        let text = String::from_utf8_lossy(&body);
        let address = peer.ip().to_string();
        let request =
            crate::validate::ValidateRequest { method: method.as_str(), url: &url, authorization: authorization.as_deref(), body: &text, address: &address };
        let limits = Limited { pool: &pool, address: address.clone() };
        pool.with_provider(|provider| crate::validate::handle(provider, &request, now(), &limits, &pool.portal.wake_ups))
    })
    .await;
    match reply {
        Ok(Ok(reply)) => {
            let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (mut headers, body) = match reply.body {
                Some(body) => (json_headers(), body.to_string().into_bytes()),
                None => (axum::http::HeaderMap::new(), Vec::new()),
            };
            if let Some(allow) = reply.allow {
                headers.insert(header::ALLOW, header::HeaderValue::from_static(allow));
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
            }
            (status, headers, body)
        }
        _ => {
            let error =
                json!({"result": {"status": false, "error": {"code": 903, "message": "ERR903: the server failed to answer; try again"}}, "detail": null});
            (StatusCode::INTERNAL_SERVER_ERROR, json_headers(), error.to_string().into_bytes())
        }
    }
}

fn refused(refusal: Refusal, message: &str) -> (u16, Value) {
    (refusal.status(), json!(RefusalReply { error: refusal, message: message.into() }))
}

async fn handle(
    State(pool): State<Arc<Pool>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: HttpMethod,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Reply {
    if crate::portal::is_portal_path(uri.path()) {
        return portal(pool, peer, method, uri, headers, body).await;
    }
    if crate::validate::is_validate_path(uri.path()) {
        return validate(pool, peer, method, uri, headers, body).await;
    }
    let url = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = match read_body(body, pool.body_timeout).await {
        Err((refusal, message)) => Err(refused(refusal, &message)),
        Ok(bytes) => String::from_utf8(bytes.to_vec()).map_err(|_| refused(Refusal::BadRequest, "the body is not UTF-8")),
    };
    let mut allow = None;
    let (status, mut value) = match body {
        Err(reply) => reply,
        Ok(text) => tokio::task::spawn_blocking(move || {
            let request = Request { method: method.as_str(), url: &url, authorization: authorization.as_deref(), body: &text };
            let endpoint = Route::parse(request.method, request.url);
            let allowed = match endpoint {
                Route::MethodNotAllowed(allowed) => Some(allowed),
                _ => None,
            };
            let (status, value) = pool.route(endpoint, &request, peer.ip());
            (status, value, allowed)
        })
        .await
        .map(|(status, value, allowed)| {
            allow = allowed;
            (status, value)
        })
        .unwrap_or_else(|_| refused(Refusal::Internal, "the request handler failed")),
    };
    value["server_time"] = json!(now());
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    if status == 405 {
        headers.insert(header::ALLOW, header::HeaderValue::from_static(allow.unwrap_or("GET")));
    }
    if status == 429 {
        headers.insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
    }
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), headers, value.to_string().into_bytes())
}

/// Serves until the process ends; prints `listening on http(s)://HOST:PORT` first. Without `tls`
/// only loopback addresses are accepted.
pub fn serve(database: &crate::Database, kek: &Path, listen: &str, tls: Option<&TlsFiles>, limits: Limits, portal: PortalOptions) -> Result<()> {
    let addr: SocketAddr = listen.parse().map_err(|_| ProviderError::Invalid(format!("--listen {listen:?}: expected HOST:PORT, e.g. 127.0.0.1:8443")))?;
    if tls.is_none() && !addr.ip().is_loopback() {
        return Err(ProviderError::Invalid(format!(
            "--listen {addr}: plain HTTP is served on loopback addresses only; give --tls-cert and --tls-key to serve HTTPS"
        )));
    }
    Provider::open_database(database, kek)?; // create the schema (and check the key) before requests arrive
    let io = |what: &str, e: std::io::Error| ProviderError::Invalid(format!("{what}: {e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(WORKERS).enable_all().build().map_err(|e| io("cannot start the server", e))?;
    runtime.block_on(async {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| io(&format!("cannot listen on {addr}"), e))?;
        listener.set_nonblocking(true).map_err(|e| io("listener", e))?;
        let bound = listener.local_addr().map_err(|e| io("listener", e))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = portal.public_url.clone().unwrap_or_else(|| format!("{scheme}://{bound}"));
        softtoken_core::link::check_base_url(&base_url)?;
        // Recorded for `issue --online` without --base-url (on a blocking thread: the PostgreSQL
        // client runs a runtime of its own, which cannot start inside this one's workers).
        let (recorded_db, recorded_kek, recorded_url) = (database.clone(), kek.to_path_buf(), base_url.clone());
        tokio::task::spawn_blocking(move || Provider::open_database(&recorded_db, &recorded_kek)?.set_public_url(&recorded_url))
            .await
            .map_err(|e| ProviderError::Fault(format!("recording the address: {e}")))??;
        let pool = Arc::new(Pool {
            portal: crate::portal::Portal::new(base_url, tls.is_some(), portal.delivery, portal.mail_from, portal.wake_ups),
            database: database.clone(),
            kek: kek.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            per_address: RateLimit::new(limits.answers_per_address),
            per_identity: RateLimit::new(limits.answers_per_identity),
            body_timeout: Duration::from_secs(limits.header_timeout_s.max(1)),
        });
        let header_timeout = Duration::from_secs(limits.header_timeout_s.max(1));
        // The body limit is applied while reading (a 413 with a JSON refusal), not by axum's layer.
        let log = request_log::RequestLog::start(&portal.request_log)?;
        let app = axum::Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::disable())
            .layer(axum::middleware::from_fn_with_state(log, request_log::record))
            .with_state(pool);
        let admission = Admission { limits, open: Arc::new(Mutex::new((0, HashMap::new()))) };
        // HTTP/1's header timeout also ends idle keep-alive connections; every connection, HTTP/2
        // included (hyper has no idle timeout for it), is also closed after the idle timeout without a
        // byte either way (`Admitted`).
        let harden = |mut server: axum_server::Server<SocketAddr, Admission>| {
            let builder = server.http_builder();
            builder.http1().header_read_timeout(header_timeout).max_buf_size(MAX_HEAD.max(8192));
            server.first_request_timeout(header_timeout)
        };
        let announce = |scheme: &str| {
            use std::io::Write;
            println!("listening on {scheme}://{bound}");
            std::io::stdout().flush().ok();
        };
        let served = match tls {
            None => {
                announce("http");
                let server = harden(axum_server::from_tcp(listener).map_err(|e| io("listener", e))?.acceptor(admission));
                server.serve(app.into_make_service_with_connect_info::<SocketAddr>()).await
            }
            Some(files) => {
                // ring, as everywhere else in softtoken (one process-wide rustls provider).
                let _ = rustls::crypto::ring::default_provider().install_default();
                let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.certificate, &files.key)
                    .await
                    .map_err(|e| ProviderError::Invalid(format!("TLS certificate {} / key {}: {e}", files.certificate.display(), files.key.display())))?;
                announce("https");
                let server = harden(axum_server::from_tcp(listener).map_err(|e| io("listener", e))?.acceptor(admission));
                let server = server.map(|admission| axum_server::tls_rustls::RustlsAcceptor::new(config).acceptor(admission));
                server.serve(app.into_make_service_with_connect_info::<SocketAddr>()).await
            }
        };
        served.map_err(|e| io("server", e))
    })
}
