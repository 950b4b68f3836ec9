//! The provider's HTTP server for the open protocol (`docs/protocol.md` §5): online activation,
//! pending transactions for an authenticated app, answers, unregistering, push tokens, the clock.
//!
//! axum on a small tokio runtime, served by axum-server so the same code serves plain HTTP or TLS
//! (rustls with ring, from a PEM certificate and key). Plain HTTP is refused on anything but a
//! loopback address. Each request runs [`route`] on a blocking thread with a SQLite connection from
//! a small pool; the WAL database's `BEGIN IMMEDIATE` transactions serialise the answers. [`route`]
//! is the protocol without the socket, so tests can drive it with another clock.

pub use crate::api::{route, Request};
use crate::{Provider, ProviderError, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, Method as HttpMethod, StatusCode, Uri};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Runtime worker threads (requests themselves run on tokio's blocking pool).
const WORKERS: usize = 4;
/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024;
/// Idle SQLite connections kept for the next requests.
const IDLE_CONNECTIONS: usize = 8;

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

/// Connections to the state database, reused across requests.
struct Pool {
    state: PathBuf,
    idle: Mutex<Vec<Provider>>,
}

impl Pool {
    fn route(&self, request: &Request<'_>) -> (u16, Value) {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let provider = match taken.map(Ok).unwrap_or_else(|| Provider::open(&self.state)) {
            Ok(p) => p,
            Err(e) => return (500, json!({"error": "internal", "message": e.to_string()})),
        };
        let reply = route(&provider, request, now());
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(provider);
        }
        reply
    }
}

async fn handle(
    State(pool): State<Arc<Pool>>,
    method: HttpMethod,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    let url = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| uri.path().to_string());
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (status, mut value) = match std::str::from_utf8(&body) {
        Err(_) => (400, json!({"error": "bad_request", "message": "the body is not UTF-8"})),
        Ok(text) => {
            let text = text.to_string();
            tokio::task::spawn_blocking(move || {
                pool.route(&Request { method: method.as_str(), url: &url, authorization: authorization.as_deref(), body: &text })
            })
                .await
                .unwrap_or_else(|_| (500, json!({"error": "internal", "message": "the request handler failed"})))
        }
    };
    value["server_time"] = json!(now());
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), [(header::CONTENT_TYPE, "application/json")], value.to_string())
}

/// Serves until the process ends; prints `listening on http(s)://HOST:PORT` first. Without `tls`
/// only loopback addresses are accepted.
pub fn serve(state: &Path, listen: &str, tls: Option<&TlsFiles>) -> Result<()> {
    let addr: SocketAddr = listen.parse().map_err(|_| ProviderError::Usage(format!("--listen {listen:?}: expected HOST:PORT, e.g. 127.0.0.1:8443")))?;
    if tls.is_none() && !addr.ip().is_loopback() {
        return Err(ProviderError::Usage(format!(
            "--listen {addr}: plain HTTP is served on loopback addresses only; give --tls-cert and --tls-key to serve HTTPS"
        )));
    }
    Provider::open(state)?; // create the schema before requests arrive
    let io = |what: &str, e: std::io::Error| ProviderError::Usage(format!("{what}: {e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(WORKERS).enable_all().build().map_err(|e| io("cannot start the server", e))?;
    runtime.block_on(async {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| io(&format!("cannot listen on {addr}"), e))?;
        listener.set_nonblocking(true).map_err(|e| io("listener", e))?;
        let bound = listener.local_addr().map_err(|e| io("listener", e))?;
        let pool = Arc::new(Pool { state: state.to_path_buf(), idle: Mutex::new(Vec::new()) });
        let app = axum::Router::new().fallback(handle).layer(DefaultBodyLimit::max(MAX_BODY)).with_state(pool);
        let announce = |scheme: &str| {
            use std::io::Write;
            println!("listening on {scheme}://{bound}");
            std::io::stdout().flush().ok();
        };
        let served = match tls {
            None => {
                announce("http");
                axum_server::from_tcp(listener).map_err(|e| io("listener", e))?.serve(app.into_make_service()).await
            }
            Some(files) => {
                // ring, as everywhere else in softtoken (one process-wide rustls provider).
                let _ = rustls::crypto::ring::default_provider().install_default();
                let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.certificate, &files.key).await.map_err(|e| {
                    ProviderError::Usage(format!("TLS certificate {} / key {}: {e}", files.certificate.display(), files.key.display()))
                })?;
                announce("https");
                axum_server::tls_rustls::from_tcp_rustls(listener, config).map_err(|e| io("listener", e))?.serve(app.into_make_service()).await
            }
        };
        served.map_err(|e| io("server", e))
    })
}

