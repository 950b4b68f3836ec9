//! The protocol of `docs/protocol.md` §5 without the socket: [`route`] answers one request at a
//! provider time. The HTTP server (`server`, feature "server") calls it for every request; tests and
//! the demo call it directly (the demo plays the company's side in process, without a socket).

use crate::{Provider, ProviderError, Result};
use serde_json::{json, Value};
use softtoken_core::transaction::{self, Answer, IdentityRequest, Response as TxResponse, Transaction, MAX_ANSWER_SKEW_S};

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
