//! The provider's HTTP server for the transaction protocol (`docs/protocol.md` §5): pending
//! transactions for an authenticated app, answers, and the server's clock.
//!
//! tiny_http (synchronous, a few worker threads) rather than an async stack: each request is a
//! few SQLite statements, and every worker holds its own connection to the same WAL database, whose
//! `BEGIN IMMEDIATE` transactions serialise the answers. [`route`] is the protocol without the
//! socket, so tests can drive it with another clock. Plain HTTP is served on loopback addresses
//! only; TLS is not built in the reference provider, so any other address is refused.

use crate::{Provider, ProviderError, Result};
use serde_json::{json, Value};
use softtoken_core::transaction::{self, Answer, IdentityRequest, Response as TxResponse, Transaction, MAX_ANSWER_SKEW_S};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tiny_http::{Header, Request, Response, Server};

/// Worker threads answering requests.
const WORKERS: usize = 4;
/// Largest request body accepted.
const MAX_BODY: u64 = 16 * 1024;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Serves until the process ends; prints `listening on http://HOST:PORT` first.
pub fn serve(state: &Path, listen: &str) -> Result<()> {
    let addr: SocketAddr = listen.parse().map_err(|_| ProviderError::Usage(format!("--listen {listen:?}: expected HOST:PORT, e.g. 127.0.0.1:8443")))?;
    if !addr.ip().is_loopback() {
        return Err(ProviderError::Usage(format!(
            "--listen {addr}: plain HTTP is served on loopback addresses only, and TLS is not built yet"
        )));
    }
    Provider::open(state)?; // create the schema before workers start
    let server = Arc::new(Server::http(addr).map_err(|e| ProviderError::Usage(format!("cannot listen on {addr}: {e}")))?);
    let bound = server.server_addr().to_ip().ok_or_else(|| ProviderError::Usage("not an IP listener".into()))?;
    println!("listening on http://{bound}");
    use std::io::Write;
    std::io::stdout().flush().ok();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let server = server.clone();
            let state: PathBuf = state.to_path_buf();
            std::thread::spawn(move || -> Result<()> {
                let provider = Provider::open(&state)?;
                for request in server.incoming_requests() {
                    handle(&provider, request);
                }
                Ok(())
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| ProviderError::Usage("a server worker panicked".into()))??;
    }
    Ok(())
}


/// The protocol's error word and HTTP status for a provider error.
fn error_of(e: &ProviderError) -> (u16, &'static str) {
    match e {
        ProviderError::UnknownTransaction(_) | ProviderError::UnknownSerial(_) | ProviderError::UnknownActivation => (404, "not_found"),
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


fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

fn tx_json(tx: &Transaction) -> Value {
    json!({
        "id": tx.id, "serial": tx.serial, "summary": tx.summary,
        "details": tx.details.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "created_at": tx.created_at, "expires_at": tx.expires_at, "number_match": tx.number_match,
    })
}

/// Checks an app's request MAC made with the identity's fetch key (`docs/protocol.md` §5).
fn authenticate(provider: &Provider, serial: &str, request: IdentityRequest<'_>, at: Option<u64>, mac: Option<&str>, now: u64) -> Result<()> {
    let (Some(at), Some(mac)) = (at, mac) else {
        return Err(ProviderError::Usage("at and mac are required".into()));
    };
    if at.abs_diff(now) > MAX_ANSWER_SKEW_S {
        return Err(ProviderError::Stale(MAX_ANSWER_SKEW_S));
    }
    let seed = provider.seed_of(serial)?;
    if !transaction::verify_request_mac(&seed, serial, request, at, mac) {
        return Err(ProviderError::NotAuthentic);
    }
    Ok(())
}

fn handle(provider: &Provider, mut request: Request) {
    let mut body = String::new();
    if request.as_reader().take(MAX_BODY).read_to_string(&mut body).is_err() {
        body.clear();
    }
    let (status, mut value) = route(provider, request.method().as_str(), &request.url().to_string(), &body, now());
    value["server_time"] = json!(now());
    let header = Header::from_bytes("Content-Type", "application/json").expect("static header");
    let _ = request.respond(Response::from_string(value.to_string()).with_status_code(status).with_header(header));
}

/// Answers one request of the protocol at provider time `now`: (HTTP status, JSON body without
/// `server_time`). The server calls it for every request; tests call it directly with another clock.
pub fn route(provider: &Provider, method: &str, url: &str, body: &str, now: u64) -> (u16, Value) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let at = query_param(query, "at").and_then(|v| v.parse::<u64>().ok());
    let mac = query_param(query, "mac");
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
