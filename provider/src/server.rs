//! The provider's HTTP server for the open protocol (`docs/protocol.md` §5): online activation,
//! pending transactions for an authenticated app, answers, unregistering, push tokens, the clock.
//!
//! axum on a small tokio runtime, served by axum-server so the same code serves plain HTTP or TLS
//! (rustls with ring, from a PEM certificate and key). Plain HTTP is refused on anything but a
//! loopback address. Each request runs [`route`] on a blocking thread with a SQLite connection from
//! a small pool; the WAL database's `BEGIN IMMEDIATE` transactions serialise the answers. [`route`]
//! is the protocol without the socket, so tests can drive it with another clock.

use crate::{Provider, ProviderError, Result};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, Method as HttpMethod, StatusCode, Uri};
use serde_json::{json, Value};
use softtoken_core::transaction::{self, Answer, IdentityRequest, Response as TxResponse, Transaction, MAX_ANSWER_SKEW_S};
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

/// The protocol's error word and HTTP status for a provider error.
fn error_of(e: &ProviderError) -> (u16, &'static str) {
    match e {
        ProviderError::UnknownTransaction(_) | ProviderError::UnknownActivation => (404, "not_found"),
        // Identity requests never tell an unknown serial from a bad MAC (see `authenticate`); the
        // other paths that still name it are the operator's CLI.
        ProviderError::UnknownSerial(_) => (404, "not_found"),
        ProviderError::AlreadyAnswered(_) => (409, "already_answered"),
        ProviderError::AlreadyCompleted(_) => (409, "already_completed"),
        ProviderError::TransactionExpired(_) | ProviderError::Expired => (410, "expired"),
        ProviderError::Unregistered(_) => (410, "unregistered"),
        ProviderError::NotAuthentic => (401, "bad_mac"),
        ProviderError::Stale(_) => (401, "stale"),
        ProviderError::WrongNumber => (403, "wrong_number"),
        ProviderError::TooManyPending(_) => (429, "too_many_pending"),
        ProviderError::Core(_) | ProviderError::Usage(_) | ProviderError::NotCompleted(_) => (400, "bad_request"),
        ProviderError::Db(_) => (500, "internal"),
    }
}

/// One HTTP request as [`route`] sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// "GET", "POST", "DELETE".
    pub method: &'a str,
    /// Path and query.
    pub url: &'a str,
    /// The `Authorization` header, if sent (identity requests: `Softtoken-MAC at=T, mac=M`).
    pub authorization: Option<&'a str>,
    /// The body as text.
    pub body: &'a str,
}

fn tx_json(tx: &Transaction) -> Value {
    json!({
        "id": tx.id, "serial": tx.serial, "summary": tx.summary,
        "details": tx.details.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "created_at": tx.created_at, "expires_at": tx.expires_at, "number_match": tx.number_match,
    })
}

/// Checks an app's request MAC made with the identity's fetch key (`docs/protocol.md` §5). An
/// unknown serial, one not completed and a wrong MAC are the same `bad_mac`, so the endpoint
/// cannot be used to learn which serials exist; only an authenticated caller learns that its
/// identity was unregistered.
fn authenticate(provider: &Provider, serial: &str, request: IdentityRequest<'_>, at: Option<u64>, mac: Option<&str>, now: u64) -> Result<()> {
    let (Some(at), Some(mac)) = (at, mac) else {
        return Err(ProviderError::Usage("the request MAC is required (Authorization: Softtoken-MAC at=T, mac=M)".into()));
    };
    if at.abs_diff(now) > MAX_ANSWER_SKEW_S {
        return Err(ProviderError::Stale(MAX_ANSWER_SKEW_S));
    }
    let (seed, unregistered) = provider.request_seed(serial)?;
    if !transaction::verify_request_mac(&seed, serial, request, at, mac) {
        return Err(ProviderError::NotAuthentic);
    }
    if unregistered {
        return Err(ProviderError::Unregistered(serial.into()));
    }
    Ok(())
}

/// Answers one request of the protocol at provider time `now`: (HTTP status, JSON body without
/// `server_time`). The server calls it for every request; tests call it directly with another clock.
pub fn route(provider: &Provider, request: &Request<'_>, now: u64) -> (u16, Value) {
    let Request { method, url, authorization, body } = *request;
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let auth = authorization.and_then(transaction::parse_authorization);
    let (at, mac) = (auth.map(|(at, _)| at), auth.map(|(_, mac)| mac));
    let json_body: Option<Value> = serde_json::from_str(body).ok();
    let result: Result<Value> = match (method, parts.as_slice()) {
        ("GET", ["v1", "time"]) => Ok(json!({})),
        ("GET", ["v1", "activation", token]) => provider.link_activation(token, now).map(|a| {
            json!({"serial": a.serial, "activation_code": a.activation_code, "policy": a.policy, "digits": a.digits})
        }),
        ("POST", ["v1", "activation", token]) => {
            match &json_body {
                Some(v) if v["registration_code"].is_string() => provider
                    .complete_link(token, v["registration_code"].as_str().unwrap_or_default(), v["push_token"].as_str(), now)
                    .map(|serial| json!({"serial": serial, "completed": true})),
                _ => Err(ProviderError::Usage("body: {\"registration_code\",\"push_token\"} expected".into())),
            }
        }
        ("GET", ["v1", "identities", serial, "transactions"]) => authenticate(provider, serial, IdentityRequest::Fetch, at, mac, now)
            .and_then(|()| provider.pending(serial, now))
            .map(|list| json!({"transactions": list.iter().map(tx_json).collect::<Vec<_>>()})),
        ("DELETE", ["v1", "identities", serial]) => authenticate(provider, serial, IdentityRequest::Unregister, at, mac, now)
            .and_then(|()| provider.unregister(serial, now))
            .map(|cancelled| json!({"unregistered": true, "cancelled": cancelled})),
        ("POST", ["v1", "identities", serial, "push-token"]) => {
            match &json_body {
                Some(v) if v["push_token"].is_string() => {
                    let token = v["push_token"].as_str().unwrap_or_default();
                    authenticate(provider, serial, IdentityRequest::PushToken(token), v["at"].as_u64(), v["mac"].as_str(), now)
                        .and_then(|()| provider.set_push_token(serial, token))
                        .map(|()| json!({"registered": true}))
                }
                _ => Err(ProviderError::Usage("body: {\"push_token\",\"at\",\"mac\"} expected".into())),
            }
        }
        ("POST", ["v1", "transactions", id, "answer"]) => {
            let parsed: Option<(TxResponse, u64, u8, String)> = json_body.as_ref().and_then(|v| {
                Some((
                    TxResponse::parse(v["response"].as_str()?).ok()?,
                    v["answered_at"].as_u64()?,
                    u8::try_from(v["number"].as_u64().unwrap_or(0)).ok()?,
                    v["mac"].as_str()?.to_string(),
                ))
            });
            match parsed {
                Some((response, answered_at, number, mac)) => {
                    provider.answer(id, &Answer { response, answered_at, number }, &mac, now).map(|state| json!({"state": state.as_str()}))
                }
                None => Err(ProviderError::Usage("body: {\"response\",\"answered_at\",\"number\",\"mac\"} expected".into())),
            }
        }
        ("GET", ["v1", "transactions", id]) => provider.status(id, now).map(|state| json!({"state": state.as_str()})),
        _ => return (404, json!({"error": "not_found", "message": "no such endpoint"})),
    };
    match result {
        Ok(value) => (200, value),
        Err(e) => {
            let (status, word) = error_of(&e);
            (status, json!({"error": word, "message": e.to_string()}))
        }
    }
}
