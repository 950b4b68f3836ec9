//! The protocol's requests and replies (`docs/protocol.md` §5): URLs, JSON bodies, and the error
//! words of a refusal. No vault here; [`crate::online`] ties it to the identities.

use crate::error::{Error, Result};
use crate::transport::{redact_url, HttpRequest, Method, TransactionTransport};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;
use softtoken_core::protocol::{
    ActivationReply, AnswerRequest, CompleteActivation, PendingReply, PushTokenRequest, RefusalReply, StateReply, TransactionBody, TransactionState,
};
use softtoken_core::transaction::{self, Answer, Transaction};

/// What an online activation returns: the numbers a manual activation would type.
pub use softtoken_core::protocol::ActivationReply as OnlineActivation;

/// A reply: its value or refusal, and the provider's clock when it sent one.
#[derive(Debug)]
pub struct Reply<T> {
    /// What the request produced.
    pub result: Result<T>,
    /// `server_time` of the reply (every reply carries it, refusals too).
    pub server_time: Option<u64>,
}

impl<T> Reply<T> {
    fn map<U>(self, f: impl FnOnce(T) -> Result<U>) -> Reply<U> {
        Reply { result: self.result.and_then(f), server_time: self.server_time }
    }
}

/// One provider, at its base URL, over a transport.
pub struct ProviderClient<'a> {
    base: &'a str,
    transport: &'a dyn TransactionTransport,
}

fn path_segment(s: &str) -> Result<&str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(softtoken_core::Error::MalformedUri(format!("{s:?} cannot be put in a URL path")).into());
    }
    Ok(s)
}

fn bad_reply(what: &str) -> Error {
    Error::NotProtocol(what.to_string())
}

impl<'a> ProviderClient<'a> {
    /// A client of the provider at `base` (already checked by `softtoken_core::link::check_base_url`).
    pub fn new(base: &'a str, transport: &'a dyn TransactionTransport) -> Self {
        ProviderClient { base, transport }
    }

    fn call<T: DeserializeOwned>(&self, method: Method, path: Result<String>, body: Option<&dyn erased::Body>) -> Reply<T> {
        self.call_with(method, path, Vec::new(), body)
    }

    /// Sends one request and reads the reply as `T` (a success) or a [`RefusalReply`].
    fn call_with<T: DeserializeOwned>(
        &self,
        method: Method,
        path: Result<String>,
        headers: Vec<(String, String)>,
        body: Option<&dyn erased::Body>,
    ) -> Reply<T> {
        let path = match path {
            Ok(p) => p,
            Err(e) => return Reply { result: Err(e), server_time: None },
        };
        let body = match body.map(|b| b.json()).transpose() {
            Ok(b) => b,
            Err(e) => return Reply { result: Err(e), server_time: None },
        };
        let request = HttpRequest { method, url: format!("{}{path}", self.base), headers, body, tls_verify: true };
        let response = match self.transport.send(&request) {
            Ok(r) => r,
            Err(e) => return Reply { result: Err(Error::Unreachable(e)), server_time: None },
        };
        // Each reply is read straight into its type (no intermediate JSON tree: smaller phone code).
        // `server_time` through the JSON tree type the core already links (a struct of its own
        // would add a deserializer to the phone library).
        let server_time = serde_json::from_str::<serde_json::Value>(&response.body).ok().and_then(|v| v["server_time"].as_u64());
        let not_protocol = || Error::NotProtocol(format!("HTTP {} from {} without a protocol reply", response.status, redact_url(&request.url)));
        let result = if (200..300).contains(&response.status) {
            serde_json::from_str::<T>(&response.body).map_err(|e| bad_reply(&e.to_string()))
        } else {
            match serde_json::from_str::<RefusalReply>(&response.body) {
                Ok(r) => Err(Error::Refused { refusal: r.error, message: r.message }),
                Err(_) => Err(not_protocol()),
            }
        };
        Reply { result, server_time }
    }

    /// `GET /v1/time`: the provider's clock.
    pub fn time(&self) -> Reply<()> {
        self.call::<IgnoredAny>(Method::Get, Ok("/v1/time".into()), None).map(|_| Ok(()))
    }

    /// `GET /v1/activation/{token}`.
    pub fn activation(&self, token: &str) -> Reply<ActivationReply> {
        self.call(Method::Get, path_segment(token).map(|t| format!("/v1/activation/{t}")), None)
    }

    /// `POST /v1/activation/{token}`: sends the registration code (and push token) instead of the
    /// user typing it into a portal.
    pub fn complete_activation(&self, token: &str, registration_code: &str, push_token: Option<&str>) -> Reply<()> {
        let body = CompleteActivation { registration_code: registration_code.into(), push_token: push_token.map(str::to_string) };
        // A 2xx reply is the completion; its body (`Completed`) is not needed here.
        self.call::<IgnoredAny>(Method::Post, path_segment(token).map(|t| format!("/v1/activation/{t}")), Some(&body)).map(|_| Ok(()))
    }

    /// `GET /v1/identities/{serial}/transactions` with the fetch MAC in `Authorization`: the
    /// pending transactions, each read on its own (a malformed one is reported, not fatal to the
    /// others).
    pub fn pending(&self, serial: &str, at: u64, mac: &str) -> Reply<Vec<Result<Transaction>>> {
        let path = path_segment(serial).map(|s| format!("/v1/identities/{s}/transactions"));
        self.call_with::<PendingReply>(Method::Get, path, vec![authorization(at, mac)], None).map(|reply| {
            if reply.transactions.len() > MAX_PENDING_LISTED {
                return Err(bad_reply("more pending transactions than any provider keeps"));
            }
            Ok(reply.transactions.iter().map(|t| transaction_of(t.get(), serial)).collect())
        })
    }

    /// `POST /v1/transactions/{id}/answer` → the transaction's new state.
    pub fn answer(&self, id: &str, answer: &Answer, mac: &str) -> Reply<TransactionState> {
        let body = AnswerRequest { response: answer.response.as_str().into(), answered_at: answer.answered_at, number: answer.number, mac: mac.into() };
        self.call::<StateReply>(Method::Post, path_segment(id).map(|i| format!("/v1/transactions/{i}/answer")), Some(&body)).map(|r| Ok(r.state))
    }

    /// `DELETE /v1/identities/{serial}` with the request MAC in `Authorization`: the app removed
    /// the identity.
    pub fn unregister(&self, serial: &str, at: u64, mac: &str) -> Reply<()> {
        // A 2xx reply is the success; its body (`UnregisterReply`) is not needed here.
        self.call_with::<IgnoredAny>(Method::Delete, path_segment(serial).map(|s| format!("/v1/identities/{s}")), vec![authorization(at, mac)], None)
            .map(|_| Ok(()))
    }

    /// `POST /v1/identities/{serial}/push-token`: records the token that wakes the app.
    pub fn push_token(&self, serial: &str, token: &str, at: u64, mac: &str) -> Reply<()> {
        let body = PushTokenRequest { push_token: token.into(), at, mac: mac.into() };
        // A 2xx reply is the success; its body (`PushTokenReply`) is not needed here.
        self.call::<IgnoredAny>(Method::Post, path_segment(serial).map(|s| format!("/v1/identities/{s}/push-token")), Some(&body)).map(|_| Ok(()))
    }
}

/// The most pending transactions one reply may list (a provider keeps 5 per identity).
const MAX_PENDING_LISTED: usize = 100;

/// The `Authorization` header of an identity request (`docs/protocol.md` §5).
fn authorization(at: u64, mac: &str) -> (String, String) {
    ("Authorization".into(), format!("{} at={at}, mac={mac}", transaction::AUTH_SCHEME))
}

/// A transaction from its JSON (`docs/protocol.md` §5); it must belong to `serial`.
fn transaction_of(t: &str, serial: &str) -> Result<Transaction> {
    let t: TransactionBody = serde_json::from_str(t).map_err(|e| bad_reply(&format!("a pending item is not a transaction ({e})")))?;
    let tx = t.into_transaction(serial);
    tx.validate()?;
    Ok(tx)
}

/// Request bodies as one object-safe type (serialised when sent).
mod erased {
    use super::*;

    /// A request body.
    pub trait Body {
        /// Its JSON text.
        fn json(&self) -> Result<String>;
    }

    impl<T: Serialize> Body for T {
        fn json(&self) -> Result<String> {
            serde_json::to_string(self).map_err(|e| softtoken_core::Error::Encoding(e.to_string()).into())
        }
    }
}
