//! privacyIDEA and eduMFA push tokens over HTTP (`docs/privacyidea.md`): enrollment step 2 and a
//! first poll, polling for sign-in requests, answering them. The core checks and signs
//! ([`softtoken_core::privacyidea`]); this module carries the requests and reads the server's
//! `{"result": …, "detail": …}` replies.

use crate::error::{Error, Result};
use crate::flows::{step, Activity, Fetched, PendingTransaction, VaultAccess};
use crate::transport::{redact_url, HttpRequest, HttpResponse, Method, TransactionTransport};
use serde::Deserialize;
use softtoken_core::clock::Clock;
use softtoken_core::error::PolicyRule;
use softtoken_core::identity::{Identity, IdentityKind};
use softtoken_core::otp::Algorithm;
use softtoken_core::privacyidea::challenge::{poll_message, MAX_CHALLENGES};
use softtoken_core::privacyidea::keys::PHONE_KEY_BITS;
use softtoken_core::privacyidea::{time, Challenge, PhoneKey, PolledChallenge, PushEnrollment, PushLink, ServerKey};
use softtoken_core::protocol::{Refusal, TransactionState};
use softtoken_core::transaction::{Response, Transaction};

/// The Firebase token a poll-only phone sends (the official app's word for "none").
const NO_FIREBASE_TOKEN: &str = "no_firebase_token";
/// Characters escaped in query values: everything but unreserved ones (so `+`, `=`, `:` travel
/// as escapes and the server reads them back exactly).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The server's reply envelope.
#[derive(Deserialize)]
struct Envelope {
    result: ResultPart,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ResultPart {
    status: bool,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<ErrorPart>,
}

#[derive(Deserialize)]
struct ErrorPart {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

/// A finished push enrollment.
#[derive(Debug, Clone)]
pub struct PushEnrolled {
    /// The stored identity.
    pub identity: Identity,
    /// Sign-in requests already waiting at the first poll.
    pub waiting: usize,
}

/// What answering a sign-in request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// Approved, cancelled or denied.
    pub state: TransactionState,
    /// The code to type into the login page, when the server sends one to the phone
    /// (privacyIDEA's "code to phone").
    pub display_code: Option<String>,
}

fn sent(transport: &dyn TransactionTransport, request: HttpRequest) -> Result<(serde_json::Value, Option<serde_json::Value>)> {
    let where_ = redact_url(&request.url);
    let response = transport.send(&request).map_err(Error::Unreachable)?;
    read_reply(&response, &where_)
}

/// Reads `{"result": {"status", "value" | "error"}, "detail"}`: the value and detail, or the
/// server's refusal with its own message.
fn read_reply(response: &HttpResponse, where_: &str) -> Result<(serde_json::Value, Option<serde_json::Value>)> {
    let Ok(envelope) = serde_json::from_str::<Envelope>(&response.body) else {
        return Err(Error::NotProtocol(format!("HTTP {} from {where_} is not a privacyIDEA reply", response.status)));
    };
    if envelope.result.status && (200..300).contains(&response.status) {
        return Ok((envelope.result.value.unwrap_or(serde_json::Value::Null), envelope.detail));
    }
    let (code, message) = envelope.result.error.map(|e| (e.code, e.message)).unwrap_or((None, None));
    let message = message.unwrap_or_else(|| "no message".into());
    let refusal = match (response.status, code) {
        (_, Some(10)) if message.contains("valid range") => Refusal::Stale,
        (_, Some(10)) => Refusal::BadMac,
        (404, _) => Refusal::NotFound,
        (403, _) => Refusal::BadMac,
        (500..=599, _) => Refusal::Internal,
        (400, _) => Refusal::BadRequest,
        _ => Refusal::Unknown,
    };
    let code = code.map(|c| format!(", code {c}")).unwrap_or_default();
    Err(Error::Refused { refusal, message: format!("{message} (HTTP {}{code} from {where_})", response.status) })
}

fn post(url: &str, tls_verify: bool, body: serde_json::Value) -> HttpRequest {
    HttpRequest { method: Method::Post, url: url.to_string(), headers: Vec::new(), body: Some(body.to_string()), tls_verify }
}

/// Enrolls a push token from its link: checks the link, makes the phone's RSA key, sends step 2
/// to the link's URL, reads the server's key, polls once to prove both keys work, and only then
/// stores the identity. `allow_unverified_tls` accepts a link's `sslverify=0` for a server off
/// this machine (refused otherwise).
pub fn enroll(
    access: &dyn VaultAccess,
    transport: &dyn TransactionTransport,
    clock: &dyn Clock,
    link: &str,
    name: Option<&str>,
    allow_unverified_tls: bool,
) -> Result<PushEnrolled> {
    let read_at = clock.unix_time();
    let enrollment = PushEnrollment::parse(link)?;
    let tls_verify = enrollment.tls_verify(allow_unverified_tls)?;
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&enrollment.label).to_string();
    softtoken_core::identity::check_name(&name)?;
    // What the vault would refuse is refused before the server is told anything.
    step(access, Activity::Action, |v| {
        if enrollment.wants_app_lock && !v.has_pin() {
            return Err(softtoken_core::Error::PolicyViolation(PolicyRule::PinRequired { identity: name.clone() }));
        }
        match v.identities().iter().find(|i| i.push_link.as_ref().is_some_and(|l| l.serial == enrollment.serial && l.url == enrollment.url)) {
            Some(i) => Err(softtoken_core::Error::Duplicate { existing: i.name.clone() }),
            None => Ok(()),
        }
    })?;
    let key = PhoneKey::generate(PHONE_KEY_BITS)?;
    if clock.unix_time() > enrollment.deadline(read_at) {
        return Err(softtoken_core::Error::PushProtocol(format!(
            "the enrollment link was valid for {} minutes and has expired: ask for a new one",
            enrollment.ttl_min
        ))
        .into());
    }
    let body = serde_json::json!({
        "enrollment_credential": enrollment.enrollment_credential,
        "serial": enrollment.serial,
        "fbtoken": NO_FIREBASE_TOKEN,
        "pubkey": key.public_key_spki_base64()?,
    });
    let (value, detail) = sent(transport, post(&enrollment.url, tls_verify, body))?;
    if value != serde_json::Value::Bool(true) {
        return Err(Error::NotProtocol("the server did not confirm the enrollment (result.value is not true)".into()));
    }
    let server_key = detail
        .as_ref()
        .and_then(|d| d.get("public_key"))
        .and_then(|k| k.as_str())
        .ok_or_else(|| Error::NotProtocol("the enrollment reply has no detail.public_key (the server's key)".into()))?;
    let server_key = ServerKey::parse(server_key)?;
    let identity = Identity {
        id: softtoken_core::identity::new_id(&ring::rand::SystemRandom::new())?,
        name,
        provider: enrollment.issuer.clone().or_else(|| Some(enrollment.server.name().to_string())),
        kind: IdentityKind::Push,
        algorithm: Algorithm::Sha256,
        digits: 6,
        period: 30,
        counter: 0,
        serial: Some(enrollment.serial.clone()),
        policy: None,
        registration_url: Some(enrollment.url.clone()),
        created_at: read_at,
        time_offset_s: 0,
        transaction_url: None,
        push_token: None,
        push_link: Some(PushLink {
            server: enrollment.server,
            serial: enrollment.serial.clone(),
            url: enrollment.url.clone(),
            server_key: server_key.to_base64(),
            tls_verify,
        }),
        seed: key.pkcs8().clone(),
    };
    identity.validate()?;
    // The self-test: a poll signed with the new key, its challenges checked with the server's.
    let waiting = poll(transport, clock, &identity).map_err(|e| {
        Error::NotProtocol(format!(
            "the server enrolled {} but the first poll failed, so nothing was stored (ask for a new enrollment): {e}",
            enrollment.serial
        ))
    })?;
    let stored = step(access, Activity::Action, |v| v.add(identity).cloned())?;
    Ok(PushEnrolled { identity: stored, waiting: waiting.len() })
}

fn link_of(identity: &Identity) -> Result<&PushLink> {
    identity.push_link.as_ref().ok_or_else(|| Error::NotOnline(identity.name.clone()))
}

/// Polls the token's server: its open sign-in requests, each checked against the server's key.
/// The outer error is the poll's; each item is a challenge or why it was refused.
fn poll(transport: &dyn TransactionTransport, clock: &dyn Clock, identity: &Identity) -> Result<Vec<Result<Challenge>>> {
    let link = link_of(identity)?;
    let key = PhoneKey::from_pkcs8(identity.seed.clone())?;
    let server_key = ServerKey::parse(&link.server_key)?;
    let at = crate::flows::corrected_now(clock, identity.time_offset_s);
    let timestamp = time::iso8601_utc(at, 0);
    let signature = key.sign(&poll_message(&link.serial, &timestamp))?;
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string();
    let url = format!("{}?serial={}&timestamp={}&signature={}", link.url, enc(&link.serial), enc(&timestamp), enc(&signature));
    let (value, _) = sent(transport, HttpRequest { method: Method::Get, url, headers: Vec::new(), body: None, tls_verify: link.tls_verify })?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        _ => return Err(Error::NotProtocol("the poll's result.value is not a list of challenges".into())),
    };
    if items.len() > MAX_CHALLENGES {
        return Err(Error::NotProtocol(format!("the poll listed {} challenges (at most {MAX_CHALLENGES} are read)", items.len())));
    }
    Ok(items
        .into_iter()
        .map(|item| {
            let polled: PolledChallenge = serde_json::from_value(item).map_err(|e| Error::NotProtocol(format!("a polled item is not a challenge ({e})")))?;
            Ok(polled.verify(&server_key, &link.serial)?)
        })
        .collect())
}

/// A challenge as one of the pending list's transactions: its id is the server's nonce.
fn as_transaction(c: &Challenge, now: u64) -> Transaction {
    Transaction {
        id: c.nonce.clone(),
        serial: c.serial.clone(),
        summary: c.question.clone(),
        details: vec![("title".into(), c.title.clone())],
        created_at: now,
        // The server does not say when its challenges expire (120 s by default).
        expires_at: 0,
        number_match: !c.choices.is_empty(),
    }
}

/// Adds the token's open sign-in requests to `into` (forged ones, and a server that cannot be
/// asked, as failures).
pub(crate) fn fetch_for(transport: &dyn TransactionTransport, clock: &dyn Clock, identity: &Identity, into: &mut Fetched) {
    match poll(transport, clock, identity) {
        Ok(items) => {
            for item in items {
                match item {
                    Ok(c) => into.transactions.push(PendingTransaction {
                        identity_id: identity.id.clone(),
                        identity_name: identity.name.clone(),
                        transaction: as_transaction(&c, clock.unix_time()),
                        choices: c.choices.clone(),
                    }),
                    Err(e) => into.failures.push((identity.name.clone(), e)),
                }
            }
        }
        Err(e) => into.failures.push((identity.name.clone(), e)),
    }
}

/// Answers the sign-in request `nonce` of a push token: polls again (only a challenge the server
/// lists now, with a valid signature, is answered), signs the answer and posts it.
pub(crate) fn respond(
    transport: &dyn TransactionTransport,
    clock: &dyn Clock,
    identity: &Identity,
    nonce: &str,
    response: Response,
    picked: Option<&str>,
) -> Result<Answered> {
    let link = link_of(identity)?;
    let mut forged = None;
    let mut challenge = None;
    for item in poll(transport, clock, identity)? {
        match item {
            Ok(c) if c.nonce == nonce => challenge = Some(c),
            Err(e @ Error::Core(softtoken_core::Error::ForgedChallenge { .. })) => forged = Some(e),
            _ => {}
        }
    }
    let Some(challenge) = challenge else {
        return Err(forged.unwrap_or_else(|| Error::Refused {
            refusal: Refusal::NotFound,
            message: format!("no open sign-in request {nonce} at {} (already answered, expired, or unknown)", identity.name),
        }));
    };
    let key = PhoneKey::from_pkcs8(identity.seed.clone())?;
    let answer = challenge.answer(response, picked, &key)?;
    let body: serde_json::Map<String, serde_json::Value> =
        answer.fields.iter().map(|(k, v)| ((*k).to_string(), serde_json::Value::String(v.clone()))).collect();
    let (value, detail) = sent(transport, post(&link.url, link.tls_verify, serde_json::Value::Object(body)))?;
    if value != serde_json::Value::Bool(true) {
        return Err(Error::Refused {
            refusal: Refusal::NotFound,
            message: format!(
                "the server did not take the answer to {nonce}: the request was answered already, expired, or the value picked is not the one shown"
            ),
        });
    }
    let state = match response {
        Response::Confirm => TransactionState::Approved,
        Response::Cancel => TransactionState::Cancelled,
        Response::Suspicious => TransactionState::Denied,
    };
    let display_code = detail.as_ref().and_then(|d| d.get("display_code")).and_then(|c| c.as_str()).map(str::to_string);
    if let Some(code) = &display_code {
        if code.is_empty() || code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::NotProtocol("the server's code to type is not 1 to 32 letters and digits".into()));
        }
    }
    Ok(Answered { state, display_code })
}
