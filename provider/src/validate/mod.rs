//! privacyIDEA's validate API, the subset the authentication plugins speak (FreeRADIUS' rlm_rest,
//! Keycloak, SimpleSAMLphp, PAM, NGINX, the Windows credential provider): `/validate/check`,
//! `/validate/triggerchallenge`, `/validate/polltransaction` and `/validate/radiuscheck`, with
//! privacyIDEA's parameter names (query, form or JSON), reply shapes, decisions and messages, so a
//! plugin configured for privacyIDEA works against this provider unchanged (`docs/validate.md`).
//!
//! Behind it: Entrust-style tokens (codes, and push challenges to apps that are online, with number
//! matching), standard TOTP and HOTP tokens ([`crate::tokens::oath`]). Every request and decision
//! goes to the append-only audit log ([`audit`]); triggering a challenge needs an operator's API
//! token ([`api_tokens`]). Like [`crate::protocol::route`] this is the API without the socket.

pub mod api_tokens;
pub mod audit;
mod check;
mod reply;
pub mod settings;

use crate::protocol::{Admit, Charge};
use crate::{Provider, ProviderError};
pub use check::Decision;
use reply::{error_reply, PiError};
use serde_json::Value;

/// Longest value of any parameter (a longer one is refused with privacyIDEA's parameter error).
pub const MAX_PARAMETER_CHARS: usize = 256;
/// Parameters kept from one request (more are ignored; a plugin sends at most a dozen).
const MAX_PARAMETERS: usize = 64;

/// One request to the validate API.
#[derive(Debug, Clone, Copy)]
pub struct ValidateRequest<'a> {
    /// "GET" or "POST".
    pub method: &'a str,
    /// Path and query.
    pub url: &'a str,
    /// The `Authorization` header (an API token for `triggerchallenge`).
    pub authorization: Option<&'a str>,
    /// The body: form-encoded or a JSON object.
    pub body: &'a str,
    /// The client's address, for the audit log and the limits.
    pub address: &'a str,
}

/// A reply: HTTP status and JSON body (`None`: an empty body, as `radiuscheck` answers).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidateReply {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Option<Value>,
    /// The methods the endpoint answers, on a 405 (the `Allow` header).
    pub allow: Option<&'static str>,
}

/// The validate API's endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Check,
    RadiusCheck,
    TriggerChallenge,
    PollTransaction,
}

impl Endpoint {
    /// The methods it answers.
    fn methods(self) -> &'static str {
        match self {
            Endpoint::Check | Endpoint::RadiusCheck => "GET, POST",
            Endpoint::TriggerChallenge => "POST",
            Endpoint::PollTransaction => "GET",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Endpoint::Check => "check",
            Endpoint::RadiusCheck => "radiuscheck",
            Endpoint::TriggerChallenge => "triggerchallenge",
            Endpoint::PollTransaction => "polltransaction",
        }
    }
}

/// Whether `path` is under `/validate/` (the server sends those here).
pub fn is_validate_path(path: &str) -> bool {
    path == "/validate" || path.starts_with("/validate/")
}

/// The request's parameters: the query's, then the body's (form or JSON object), first one wins.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(url: &str, body: &str) -> Result<Params, PiError> {
        let mut list: Vec<(String, String)> = Vec::new();
        if let Some((_, query)) = url.split_once('?') {
            list.extend(form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        let trimmed = body.trim_start();
        if trimmed.starts_with('{') {
            let object: serde_json::Map<String, Value> =
                serde_json::from_str(trimmed).map_err(|e| PiError::parameter(format!("the body is not a JSON object of parameters ({e})")))?;
            for (k, v) in object {
                let text = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    _ => return Err(PiError::parameter(format!("parameter {:?} must be a string", softtoken_core::text::escape(&k)))),
                };
                list.push((k, text));
            }
        } else if !trimmed.is_empty() {
            list.extend(form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        list.truncate(MAX_PARAMETERS);
        for (k, v) in &list {
            if v.chars().count() > MAX_PARAMETER_CHARS {
                return Err(PiError::parameter(format!("parameter {:?} is longer than {MAX_PARAMETER_CHARS} characters", softtoken_core::text::escape(k))));
            }
        }
        Ok(Params(list))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A parameter that is present and not empty.
    fn given(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// Answers one request of the validate API at provider time `now`, after `limits` admit it (per
/// address, and per user for the requests that check a code), and logs it to the audit log.
pub fn handle(provider: &Provider, request: &ValidateRequest<'_>, now: u64, limits: &dyn Admit, wake_ups: &crate::push::Senders) -> ValidateReply {
    let path = request.url.split_once('?').map_or(request.url, |(p, _)| p).trim_end_matches('/');
    let endpoint = match path {
        "/validate/check" | "/validate/samlcheck" => Endpoint::Check,
        "/validate/radiuscheck" => Endpoint::RadiusCheck,
        "/validate/triggerchallenge" => Endpoint::TriggerChallenge,
        "/validate/polltransaction" => Endpoint::PollTransaction,
        _ => return error_reply(&PiError::not_found("no such endpoint of the validate API")),
    };
    let allow = endpoint.methods();
    if !allow.split(", ").any(|m| m == request.method) {
        return ValidateReply { allow: Some(allow), ..error_reply(&PiError::method_not_allowed()) };
    }
    let params = match Params::parse(request.url, request.body) {
        Ok(p) => p,
        Err(e) => return finish(provider, endpoint, request, now, None, Err(e)),
    };
    let user = params.given("user");
    if !limits.admit(Charge::Validate { user }) {
        return finish(provider, endpoint, request, now, user, Err(PiError::rate_limited()));
    }
    let call = check::Call { provider, params: &params, address: request.address, now, wake_ups };
    let outcome = match endpoint {
        Endpoint::Check | Endpoint::RadiusCheck => check::check(&call),
        Endpoint::TriggerChallenge => api_tokens::authorize(provider, request.authorization).and_then(|()| check::trigger(&call)),
        Endpoint::PollTransaction => check::poll(provider, &params, now),
    };
    finish(provider, endpoint, request, now, user, outcome)
}

/// Logs the request's outcome and shapes the reply (`radiuscheck`: 204 or 400 with no body).
fn finish(
    provider: &Provider,
    endpoint: Endpoint,
    request: &ValidateRequest<'_>,
    now: u64,
    user: Option<&str>,
    outcome: Result<Decision, PiError>,
) -> ValidateReply {
    let entry = match &outcome {
        Ok(d) => audit::Entry::of_decision(endpoint.name(), request.address, user, d, now),
        Err(e) => audit::Entry::of_error(endpoint.name(), request.address, user, &e.message, now),
    };
    if let Err(e) = provider.append_audit(&entry) {
        // A request whose decision cannot be recorded is refused: the log is the operator's only
        // account of who signed in.
        eprintln!("softtoken-provider: internal error: audit log: {}", softtoken_core::text::escape(&e.to_string()));
        return error_reply(&PiError::server());
    }
    match (endpoint, outcome) {
        (Endpoint::RadiusCheck, Ok(d)) if d.accepted() => ValidateReply { status: 204, body: None, allow: None },
        (Endpoint::RadiusCheck, _) => ValidateReply { status: 400, body: None, allow: None },
        (_, Ok(d)) => ValidateReply { status: 200, body: Some(d.to_json(now)), allow: None },
        (_, Err(e)) => error_reply(&e),
    }
}

impl From<ProviderError> for PiError {
    fn from(e: ProviderError) -> Self {
        match e.fault() {
            crate::Fault::Server => {
                eprintln!("softtoken-provider: internal error: {}", softtoken_core::text::escape(&e.to_string()));
                PiError::server()
            }
            crate::Fault::Input => PiError::parameter(e.to_string()),
            crate::Fault::Refusal => PiError::validate(e.to_string()),
        }
    }
}

impl From<crate::database::DbError> for PiError {
    fn from(e: crate::database::DbError) -> Self {
        ProviderError::from(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::Endpoint;
    use std::collections::BTreeSet;

    /// docs/openapi.yaml describes every endpoint of the validate API with exactly the methods it
    /// answers (schemathesis checks the rest against a live server).
    #[test]
    fn openapi_describes_every_validate_endpoint_and_its_methods() {
        let described: BTreeSet<(String, String)> =
            crate::protocol::tests::openapi_operations().into_iter().filter(|(_, p)| p.starts_with("/validate/")).collect();
        let mut routed = BTreeSet::new();
        for endpoint in [Endpoint::Check, Endpoint::RadiusCheck, Endpoint::TriggerChallenge, Endpoint::PollTransaction] {
            for method in endpoint.methods().split(", ") {
                routed.insert((method.to_string(), format!("/validate/{}", endpoint.name())));
            }
        }
        assert_eq!(described, routed);
    }
}
