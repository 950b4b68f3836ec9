//! The protocol's requests and replies (`docs/protocol.md` §5): URLs, JSON bodies, and the error
//! words of a refusal. No vault here; [`crate::online`] ties it to the identities.

use crate::transport::{redact_url, HttpRequest, Method, TransactionTransport};
use serde_json::{json, Value};
use softtoken_core::transaction::{self, Answer, Transaction};
use softtoken_core::{Error, Result};

/// What an online activation returns: the numbers a manual activation would type.
#[derive(Clone, PartialEq, Eq)]
pub struct OnlineActivation {
    /// Serial number, dashed.
    pub serial: String,
    /// Activation code (secret: redacted in Debug).
    pub activation_code: String,
    /// The policy string, verbatim.
    pub policy: Option<String>,
    /// Code length.
    pub digits: Option<u8>,
}

impl std::fmt::Debug for OnlineActivation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineActivation")
            .field("serial", &self.serial)
            .field("activation_code", &"[redacted]")
            .field("policy", &self.policy)
            .field("digits", &self.digits)
            .finish()
    }
}

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
        return Err(Error::Network(format!("{s:?} cannot be put in a URL path")));
    }
    Ok(s)
}

fn bad_reply(what: &str) -> Error {
    Error::Network(format!("the provider's reply is not the protocol's: {what}"))
}

impl<'a> ProviderClient<'a> {
    /// A client of the provider at `base` (already checked by `softtoken_core::link::check_base_url`).
    pub fn new(base: &'a str, transport: &'a dyn TransactionTransport) -> Self {
        ProviderClient { base, transport }
    }

    fn call(&self, method: Method, path: Result<String>, body: Option<Value>) -> Reply<Value> {
        self.call_with(method, path, Vec::new(), body)
    }

    fn call_with(&self, method: Method, path: Result<String>, headers: Vec<(String, String)>, body: Option<Value>) -> Reply<Value> {
        let path = match path {
            Ok(p) => p,
            Err(e) => return Reply { result: Err(e), server_time: None },
        };
        let request = HttpRequest { method, url: format!("{}{path}", self.base), headers, body: body.map(|b| b.to_string()) };
        let response = match self.transport.send(&request) {
            Ok(r) => r,
            Err(e) => return Reply { result: Err(Error::Network(e)), server_time: None },
        };
        let value: Option<Value> = serde_json::from_str(&response.body).ok();
        let server_time = value.as_ref().and_then(|v| v["server_time"].as_u64());
        let result = match value {
            Some(v) if (200..300).contains(&response.status) => Ok(v),
            Some(v) if v["error"].is_string() => Err(Error::Refused {
                code: v["error"].as_str().unwrap_or_default().to_string(),
                message: v["message"].as_str().unwrap_or("no reason given").to_string(),
            }),
            _ => Err(Error::Network(format!("HTTP {} from {} without a protocol reply", response.status, redact_url(&request.url)))),
        };
        Reply { result, server_time }
    }

    /// `GET /v1/time`: the provider's clock.
    pub fn time(&self) -> Reply<()> {
        self.call(Method::Get, Ok("/v1/time".into()), None).map(|_| Ok(()))
    }

    /// `GET /v1/activation/{token}`.
    pub fn activation(&self, token: &str) -> Reply<OnlineActivation> {
        self.call(Method::Get, path_segment(token).map(|t| format!("/v1/activation/{t}")), None).map(|v| {
            Ok(OnlineActivation {
                serial: v["serial"].as_str().ok_or_else(|| bad_reply("no serial"))?.to_string(),
                activation_code: v["activation_code"].as_str().ok_or_else(|| bad_reply("no activation_code"))?.to_string(),
                policy: v["policy"].as_str().map(str::to_string),
                digits: v["digits"].as_u64().map(|d| u8::try_from(d).map_err(|_| bad_reply("digits"))).transpose()?,
            })
        })
    }

    /// `POST /v1/activation/{token}`: sends the registration code (and push token) instead of the
    /// user typing it into a portal.
    pub fn complete_activation(&self, token: &str, registration_code: &str, push_token: Option<&str>) -> Reply<()> {
        let body = json!({"registration_code": registration_code, "push_token": push_token});
        self.call(Method::Post, path_segment(token).map(|t| format!("/v1/activation/{t}")), Some(body)).map(|v| match v["completed"].as_bool() {
            Some(true) => Ok(()),
            _ => Err(bad_reply("activation not completed")),
        })
    }

    /// `GET /v1/identities/{serial}/transactions` with the fetch MAC in `Authorization`: the
    /// pending transactions, each read on its own (a malformed one is reported, not fatal to the
    /// others).
    pub fn pending(&self, serial: &str, at: u64, mac: &str) -> Reply<Vec<Result<Transaction>>> {
        let path = path_segment(serial).map(|s| format!("/v1/identities/{s}/transactions"));
        self.call_with(Method::Get, path, vec![authorization(at, mac)], None).map(|v| {
            let list = v["transactions"].as_array().ok_or_else(|| bad_reply("no transactions list"))?;
            if list.len() > MAX_PENDING_LISTED {
                return Err(bad_reply("more pending transactions than any provider keeps"));
            }
            Ok(list.iter().map(|t| transaction_of(t, serial)).collect())
        })
    }

    /// `POST /v1/transactions/{id}/answer` → the transaction's new state.
    pub fn answer(&self, id: &str, answer: &Answer, mac: &str) -> Reply<String> {
        let body = json!({"response": answer.response.as_str(), "answered_at": answer.answered_at, "number": answer.number, "mac": mac});
        self.call(Method::Post, path_segment(id).map(|i| format!("/v1/transactions/{i}/answer")), Some(body))
            .map(|v| v["state"].as_str().map(str::to_string).ok_or_else(|| bad_reply("no state")))
    }

    /// `DELETE /v1/identities/{serial}` with the request MAC in `Authorization`: the app removed
    /// the identity.
    pub fn unregister(&self, serial: &str, at: u64, mac: &str) -> Reply<()> {
        self.call_with(Method::Delete, path_segment(serial).map(|s| format!("/v1/identities/{s}")), vec![authorization(at, mac)], None).map(|_| Ok(()))
    }

    /// `POST /v1/identities/{serial}/push-token`: records the token that wakes the app.
    pub fn push_token(&self, serial: &str, token: &str, at: u64, mac: &str) -> Reply<()> {
        let body = json!({"push_token": token, "at": at, "mac": mac});
        self.call(Method::Post, path_segment(serial).map(|s| format!("/v1/identities/{s}/push-token")), Some(body)).map(|_| Ok(()))
    }
}

/// The most pending transactions one reply may list (a provider keeps 5 per identity).
const MAX_PENDING_LISTED: usize = 100;

/// The `Authorization` header of an identity request (`docs/protocol.md` §5).
fn authorization(at: u64, mac: &str) -> (String, String) {
    ("Authorization".into(), format!("{} at={at}, mac={mac}", transaction::AUTH_SCHEME))
}

/// A transaction from its JSON (`docs/protocol.md` §5); it must belong to `serial`.
fn transaction_of(t: &Value, serial: &str) -> Result<Transaction> {
    let text = |k: &str| t[k].as_str().map(str::to_string).ok_or_else(|| bad_reply(&format!("transaction without {k}")));
    let details = t["details"]
        .as_array()
        .ok_or_else(|| bad_reply("transaction without details"))?
        .iter()
        .map(|p| match (p[0].as_str(), p[1].as_str()) {
            (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
            _ => Err(bad_reply("a detail is not a [key, value] pair")),
        })
        .collect::<Result<Vec<_>>>()?;
    let tx = Transaction {
        id: text("id")?,
        serial: serial.to_string(),
        summary: text("summary")?,
        details,
        created_at: t["created_at"].as_u64().ok_or_else(|| bad_reply("transaction without created_at"))?,
        expires_at: t["expires_at"].as_u64().ok_or_else(|| bad_reply("transaction without expires_at"))?,
        number_match: t["number_match"].as_bool().unwrap_or(false),
    };
    tx.validate()?;
    Ok(tx)
}
