//! The provider's HTTP server for the transaction protocol (`docs/protocol.md` §5): pending
//! transactions for an authenticated app, answers, and the server's clock.
//!
//! tiny_http (synchronous, a few worker threads) rather than an async stack: each request is a
//! few SQLite statements, and every worker holds its own connection to the same WAL database, whose
//! `BEGIN IMMEDIATE` transactions serialise the answers. Plain HTTP is served on loopback addresses
//! only; TLS is not built yet, so any other address is refused.

use crate::{Provider, ProviderError, Result};
use serde_json::{json, Value};
use softtoken_core::transaction::{self, Answer, Response as TxResponse, Transaction, MAX_ANSWER_SKEW_S};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tiny_http::{Header, Method, Request, Response, Server};

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

fn reply(request: Request, status: u16, mut body: Value) {
    body["server_time"] = json!(now());
    let header = Header::from_bytes("Content-Type", "application/json").expect("static header");
    let _ = request.respond(Response::from_string(body.to_string()).with_status_code(status).with_header(header));
}

/// The protocol's error word and HTTP status for a provider error.
fn error_of(e: &ProviderError) -> (u16, &'static str) {
    match e {
        ProviderError::UnknownTransaction(_) | ProviderError::UnknownSerial(_) => (404, "not_found"),
        ProviderError::AlreadyAnswered(_) => (409, "already_answered"),
        ProviderError::TransactionExpired(_) => (410, "expired"),
        ProviderError::NotAuthentic => (401, "bad_mac"),
        ProviderError::Stale(_) => (401, "stale"),
        ProviderError::WrongNumber => (403, "wrong_number"),
        ProviderError::TooManyPending(_) => (429, "too_many_pending"),
        ProviderError::Core(_) | ProviderError::Usage(_) | ProviderError::Expired | ProviderError::AlreadyCompleted(_) | ProviderError::NotCompleted(_) => {
            (400, "bad_request")
        }
        ProviderError::Db(_) => (500, "internal"),
    }
}

fn fail(request: Request, e: ProviderError) {
    let (status, word) = error_of(&e);
    reply(request, status, json!({"error": word, "message": e.to_string()}));
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

fn handle(provider: &Provider, mut request: Request) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (request.method(), parts.as_slice()) {
        (Method::Get, ["v1", "time"]) => reply(request, 200, json!({})),
        (Method::Get, ["v1", "identities", serial, "transactions"]) => {
            let serial = serial.to_string();
            let at = query_param(query, "at").and_then(|v| v.parse::<u64>().ok());
            let mac = query_param(query, "mac").map(str::to_string);
            let (Some(at), Some(mac)) = (at, mac) else {
                return fail(request, ProviderError::Usage("at and mac are required".into()));
            };
            let now = now();
            if at.abs_diff(now) > MAX_ANSWER_SKEW_S {
                return fail(request, ProviderError::Stale(MAX_ANSWER_SKEW_S));
            }
            match provider.seed_of(&serial) {
                Ok(seed) if transaction::fetch_mac(&seed, &serial, at) == mac => match provider.pending(&serial, now) {
                    Ok(list) => reply(request, 200, json!({"transactions": list.iter().map(tx_json).collect::<Vec<_>>()})),
                    Err(e) => fail(request, e),
                },
                Ok(_) => fail(request, ProviderError::NotAuthentic),
                Err(e) => fail(request, e),
            }
        }
        (Method::Post, ["v1", "transactions", id, "answer"]) => {
            let id = id.to_string();
            let mut body = String::new();
            if request.as_reader().take(MAX_BODY).read_to_string(&mut body).is_err() {
                return fail(request, ProviderError::Usage("unreadable body".into()));
            }
            let parsed: Option<(TxResponse, u64, u8, String)> = serde_json::from_str::<Value>(&body).ok().and_then(|v| {
                Some((
                    TxResponse::parse(v["response"].as_str()?).ok()?,
                    v["answered_at"].as_u64()?,
                    u8::try_from(v["number"].as_u64().unwrap_or(0)).ok()?,
                    v["mac"].as_str()?.to_string(),
                ))
            });
            let Some((response, answered_at, number, mac)) = parsed else {
                return fail(request, ProviderError::Usage("body: {\"response\",\"answered_at\",\"number\",\"mac\"} expected".into()));
            };
            match provider.answer(&id, &Answer { response, answered_at, number }, &mac, now()) {
                Ok(state) => reply(request, 200, json!({"state": state.as_str()})),
                Err(e) => fail(request, e),
            }
        }
        (Method::Get, ["v1", "transactions", id]) => match provider.status(id, now()) {
            Ok(state) => reply(request, 200, json!({"state": state.as_str()})),
            Err(e) => fail(request, e),
        },
        _ => reply(request, 404, json!({"error": "not_found", "message": "no such endpoint"})),
    }
}
