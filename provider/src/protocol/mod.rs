//! The protocol of `docs/protocol.md` §5 without the socket: [`route`] answers one request at a
//! provider time. The HTTP server (`server`, feature "server") calls it for every request; tests and
//! the demo call it directly (the demo plays the company's side in process, without a socket).

pub mod activation;
pub mod transactions;

use crate::{Provider, ProviderError, Result};
use serde_json::{json, Value};
use softtoken_core::protocol::{
    ActivationReply, AnswerRequest, CompleteActivation, Completed, PendingReply, PushTokenReply, PushTokenRequest, Refusal, RefusalReply, StateReply,
    TransactionBody, UnregisterReply,
};
use softtoken_core::transaction::{self, Answer, IdentityRequest, Response as TxResponse, Transaction, MAX_ANSWER_SKEW_S};

/// The protocol's refusal for a provider error.
fn refusal_of(e: &ProviderError) -> Refusal {
    match e {
        ProviderError::UnknownTransaction(_) | ProviderError::UnknownActivation | ProviderError::UnknownAuthenticator(_) => Refusal::NotFound,
        // Identity requests never tell an unknown serial from a bad MAC (see `authenticate`); the
        // other paths that still name it are the operator's CLI.
        ProviderError::UnknownSerial(_) => Refusal::NotFound,
        ProviderError::AlreadyAnswered(_) => Refusal::AlreadyAnswered,
        ProviderError::AlreadyCompleted(_) => Refusal::AlreadyCompleted,
        ProviderError::TransactionExpired(_) | ProviderError::Expired => Refusal::Expired,
        ProviderError::Unregistered(_) => Refusal::Unregistered,
        ProviderError::NotAuthentic | ProviderError::MacMissing => Refusal::BadMac,
        ProviderError::Stale(_) => Refusal::Stale,
        ProviderError::WrongNumber => Refusal::WrongNumber,
        ProviderError::TooManyPending(_) => Refusal::TooManyPending,
        ProviderError::Core(_)
        | ProviderError::Invalid(_)
        | ProviderError::Refused(_)
        | ProviderError::NotCompleted(_)
        | ProviderError::NotOffline(_)
        | ProviderError::Forbidden
        | ProviderError::WrongPassword => Refusal::BadRequest,
        ProviderError::Db(_) | ProviderError::SealBroken { .. } | ProviderError::KekMismatch { .. } | ProviderError::Mail(_) | ProviderError::Fault(_) => {
            Refusal::Internal
        }
    }
}

/// A reply body as JSON (the protocol's structs always serialise).
fn reply(body: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(body).map_err(|e| ProviderError::Fault(format!("reply: {e}")))
}

/// A request body as `T`, or a `bad_request` that names the expected shape.
fn body_of<T: serde::de::DeserializeOwned>(body: &str, shape: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| ProviderError::Invalid(format!("body: {shape} expected ({e})")))
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

fn tx_body(tx: &Transaction) -> Result<Box<serde_json::value::RawValue>> {
    let body = serde_json::to_string(&TransactionBody::of(tx)).map_err(|e| ProviderError::Fault(format!("reply: {e}")))?;
    serde_json::value::RawValue::from_string(body).map_err(|e| ProviderError::Fault(format!("reply: {e}")))
}

/// Checks an app's request MAC made with the identity's fetch key (`docs/protocol.md` §5). An
/// unknown serial, one not completed and a wrong MAC are the same `bad_mac`, so the endpoint
/// cannot be used to learn which serials exist; only an authenticated caller learns that its
/// identity was unregistered.
fn authenticate(provider: &Provider, serial: &str, request: IdentityRequest<'_>, at: Option<u64>, mac: Option<&str>, now: u64) -> Result<()> {
    let (Some(at), Some(mac)) = (at, mac) else {
        return Err(ProviderError::MacMissing);
    };
    if at.abs_diff(now) > MAX_ANSWER_SKEW_S {
        return Err(ProviderError::Stale(MAX_ANSWER_SKEW_S));
    }
    let key = provider.request_seed(serial)?;
    // The MAC is checked on both paths (the decoy's too), so both take the same time.
    let authentic = transaction::verify_request_mac(&key.seed, serial, request, at, mac);
    if !(authentic && key.known) {
        return Err(ProviderError::NotAuthentic);
    }
    if key.unregistered {
        return Err(ProviderError::Unregistered(serial.into()));
    }
    Ok(())
}

/// A request's endpoint, parsed once from its method and path: the server's limits and the
/// handlers both read this value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `GET /v1/time`.
    Time,
    /// `GET /v1/activation/{token}`.
    Activation(&'a str),
    /// `POST /v1/activation/{token}`.
    CompleteActivation(&'a str),
    /// `GET /v1/identities/{serial}/transactions`.
    Pending(&'a str),
    /// `DELETE /v1/identities/{serial}`.
    Unregister(&'a str),
    /// `POST /v1/identities/{serial}/push-token`.
    PushToken(&'a str),
    /// `POST /v1/transactions/{id}/answer`.
    Answer(&'a str),
    /// `GET /v1/transactions/{id}`.
    Status(&'a str),
    /// A known path with another method: the methods it answers (the `Allow` header).
    MethodNotAllowed(&'static str),
    /// No such endpoint.
    NotFound,
}

impl<'a> Route<'a> {
    /// The endpoint of `method` on `url` (path and query; the query is not read).
    pub fn parse(method: &str, url: &'a str) -> Route<'a> {
        let path = url.split_once('?').map_or(url, |(p, _)| p);
        let parts: Vec<&'a str> = path.trim_matches('/').split('/').collect();
        match (method, parts.as_slice()) {
            ("GET", ["v1", "time"]) => Route::Time,
            ("GET", ["v1", "activation", token]) => Route::Activation(token),
            ("POST", ["v1", "activation", token]) => Route::CompleteActivation(token),
            ("GET", ["v1", "identities", serial, "transactions"]) => Route::Pending(serial),
            ("DELETE", ["v1", "identities", serial]) => Route::Unregister(serial),
            ("POST", ["v1", "identities", serial, "push-token"]) => Route::PushToken(serial),
            ("POST", ["v1", "transactions", id, "answer"]) => Route::Answer(id),
            ("GET", ["v1", "transactions", id]) => Route::Status(id),
            (_, parts) => match parts {
                ["v1", "time"] | ["v1", "identities", _, "transactions"] | ["v1", "transactions", _] => Route::MethodNotAllowed("GET"),
                ["v1", "activation", _] => Route::MethodNotAllowed("GET, POST"),
                ["v1", "identities", _] => Route::MethodNotAllowed("DELETE"),
                ["v1", "identities", _, "push-token"] | ["v1", "transactions", _, "answer"] => Route::MethodNotAllowed("POST"),
                _ => Route::NotFound,
            },
        }
    }
}

/// The methods an endpoint of the protocol answers, for a path (`None`: no such endpoint). A known
/// path with another method is a 405 `method_not_allowed` with these in its `Allow` header.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    match Route::parse("", path) {
        Route::MethodNotAllowed(allowed) => Some(allowed),
        _ => None,
    }
}

/// What a request that changes state would spend, asked before it runs: the server's rate
/// limits answer (`docs/protocol.md` §5, "Limits"); [`route`] admits everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charge<'a> {
    /// An answer. `identity` is the serial whose seed its MAC verified with (`None`: not
    /// authentic, so no identity's budget may be spent on it), with the response it carries.
    Answer {
        /// The identity that made the answer, when its MAC verifies.
        identity: Option<&'a str>,
        /// Confirm, Cancel or Suspicious.
        response: TxResponse,
    },
    /// A registration code posted for an activation link.
    Completion {
        /// The link's token.
        token: &'a str,
    },
    /// A request to the validate API (a code checked, a challenge made or polled), for `user`
    /// when it names one.
    Validate {
        /// The `user` parameter.
        user: Option<&'a str>,
    },
}

/// Admits or refuses a [`Charge`] (the server's limits; tests and the demo admit all).
pub trait Admit {
    /// Whether the request may run now.
    fn admit(&self, charge: Charge<'_>) -> bool;
}

/// Admits everything.
pub struct Unlimited;

impl Admit for Unlimited {
    fn admit(&self, _: Charge<'_>) -> bool {
        true
    }
}

fn rate_limited() -> (u16, Value) {
    let refusal = Refusal::RateLimited;
    (refusal.status(), json!(RefusalReply { error: refusal, message: "too many answers: wait a minute and try again".into() }))
}

/// Answers one request of the protocol at provider time `now`: (HTTP status, JSON body without
/// `server_time`). Tests and the demo call it directly with another clock; the server calls
/// [`route_admitted`] with its limits.
pub fn route(provider: &Provider, request: &Request<'_>, now: u64) -> (u16, Value) {
    route_admitted(provider, Route::parse(request.method, request.url), request, now, &Unlimited)
}

/// [`route`] for an endpoint already parsed, asking `limits` before the requests that change
/// state. An answer is charged to its identity only once its MAC verifies (anyone who knows a
/// transaction id could otherwise spend the identity's budget and block the user's own answer).
pub fn route_admitted(provider: &Provider, endpoint: Route<'_>, request: &Request<'_>, now: u64, limits: &dyn Admit) -> (u16, Value) {
    let Request { authorization, body, .. } = *request;
    let auth = authorization.and_then(transaction::parse_authorization);
    let (at, mac) = (auth.map(|(at, _)| at), auth.map(|(_, mac)| mac));
    let result: Result<Value> = match endpoint {
        Route::Time => Ok(json!({})),
        Route::Activation(token) => provider.link_activation(token, now).and_then(|a| {
            reply(ActivationReply { serial: a.serial, activation_code: a.activation_code.to_string(), policy: a.policy, digits: Some(a.digits) })
        }),
        Route::CompleteActivation(token) => {
            if !limits.admit(Charge::Completion { token }) {
                return rate_limited();
            }
            body_of::<CompleteActivation>(body, "{\"registration_code\",\"push_token\"}").and_then(|c| {
                let serial = provider.complete_link(token, &c.registration_code, c.push_token.as_deref(), now)?;
                reply(Completed { serial, completed: true })
            })
        }
        Route::Pending(serial) => authenticate(provider, serial, IdentityRequest::Fetch, at, mac, now)
            .and_then(|()| provider.pending(serial, now))
            .and_then(|list| reply(PendingReply { transactions: list.iter().map(tx_body).collect::<Result<_>>()? })),
        Route::Unregister(serial) => authenticate(provider, serial, IdentityRequest::Unregister, at, mac, now)
            .and_then(|()| provider.unregister(serial, now))
            .and_then(|cancelled| reply(UnregisterReply { unregistered: true, cancelled })),
        Route::PushToken(serial) => body_of::<PushTokenRequest>(body, "{\"push_token\",\"at\",\"mac\"}").and_then(|p| {
            authenticate(provider, serial, IdentityRequest::PushToken(&p.push_token), Some(p.at), Some(&p.mac), now)?;
            provider.set_push_token(serial, &p.push_token)?;
            reply(PushTokenReply { registered: true })
        }),
        Route::Answer(id) => {
            match body_of::<AnswerRequest>(body, "{\"response\",\"answered_at\",\"number\",\"mac\"}").and_then(|a| Ok((TxResponse::parse(&a.response)?, a))) {
                Err(e) => Err(e),
                Ok((response, a)) => {
                    let answer = Answer { response, answered_at: a.answered_at, number: a.number };
                    let identity = provider.authentic_answerer(id, &answer, &a.mac);
                    if !limits.admit(Charge::Answer { identity: identity.as_deref(), response }) {
                        return rate_limited();
                    }
                    provider.answer(id, &answer, &a.mac, now).and_then(|state| reply(StateReply { state }))
                }
            }
        }
        Route::Status(id) => provider.status(id, now).and_then(|state| reply(StateReply { state })),
        Route::MethodNotAllowed(allowed) => {
            let refusal = Refusal::MethodNotAllowed;
            return (refusal.status(), json!(RefusalReply { error: refusal, message: format!("this endpoint answers {allowed}") }));
        }
        Route::NotFound => {
            let refusal = Refusal::NotFound;
            return (refusal.status(), json!(RefusalReply { error: refusal, message: "no such endpoint".into() }));
        }
    };
    match result {
        Ok(value) => (200, value),
        Err(e) => refusal_reply(&e),
    }
}

/// The protocol's reply for an error: its refusal word and status. A server fault says only that
/// to the caller; its details go to the provider's standard error, the operator's log.
pub fn refusal_reply(e: &ProviderError) -> (u16, Value) {
    let refusal = refusal_of(e);
    let message = if e.fault() == crate::Fault::Server {
        eprintln!("softtoken-provider: internal error: {}", softtoken_core::text::escape(&e.to_string()));
        "the provider failed to answer; try again".to_string()
    } else {
        e.to_string()
    };
    (refusal.status(), json!(RefusalReply { error: refusal, message }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::allowed_methods;
    use std::collections::BTreeSet;

    /// (METHOD, path) of every operation in docs/openapi.yaml (its layout: paths at two spaces of
    /// indent, methods at four).
    pub(crate) fn openapi_operations() -> BTreeSet<(String, String)> {
        let yaml = include_str!("../../../docs/openapi.yaml");
        let mut ops = BTreeSet::new();
        let mut path = None;
        for line in yaml.lines() {
            if let Some(p) = line.strip_prefix("  /").and_then(|p| p.strip_suffix(':')) {
                path = Some(format!("/{p}"));
            } else if !line.starts_with("   ") && !line.starts_with("  /") && !line.trim().is_empty() && !line.starts_with("  ") {
                path = None;
            } else if let (Some(p), Some(m)) = (&path, line.strip_prefix("    ").and_then(|m| m.strip_suffix(':'))) {
                if ["get", "post", "delete", "put", "patch"].contains(&m) {
                    ops.insert((m.to_uppercase(), p.clone()));
                }
            }
        }
        ops
    }

    /// (METHOD, path) of every row of the endpoint table in docs/protocol.md §5.
    fn protocol_operations() -> BTreeSet<(String, String)> {
        include_str!("../../../docs/protocol.md")
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once('`').map(|(op, _)| op))
            .filter_map(|op| op.split_once(' '))
            .filter(|(m, p)| ["GET", "POST", "DELETE"].contains(m) && p.starts_with("/v1/"))
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect()
    }

    /// The OpenAPI description, the protocol document and the router agree on every endpoint.
    #[test]
    fn openapi_describes_every_route_and_nothing_else() {
        let described: BTreeSet<_> = openapi_operations().into_iter().filter(|(_, p)| p.starts_with("/v1/")).collect();
        assert_eq!(described, protocol_operations(), "docs/openapi.yaml and docs/protocol.md §5 list the same operations");
        assert_eq!(described.len(), 8);
        for (method, path) in &described {
            let concrete = path.replace("{token}", "t0k").replace("{serial}", "12345").replace("{id}", "abc");
            let allowed = allowed_methods(&concrete).unwrap_or_else(|| panic!("{path} is routed"));
            assert!(allowed.split(", ").any(|m| m == method), "{method} {path}: the router answers {allowed}");
        }
        // And the router answers no method the description lacks.
        for (path, methods) in [("/v1/time", "GET"), ("/v1/activation/t", "GET, POST"), ("/v1/identities/1", "DELETE"), ("/v1/transactions/x", "GET")] {
            for m in methods.split(", ") {
                let template = described.iter().find(|(dm, dp)| {
                    dm == m && dp.split('/').count() == path.split('/').count() && dp.split('/').zip(path.split('/')).all(|(a, b)| a == b || a.starts_with('{'))
                });
                assert!(template.is_some(), "{m} {path} is described");
            }
        }
    }
}
