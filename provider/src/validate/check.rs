//! The decisions of the validate API, as privacyIDEA makes them for tokens without a PIN:
//!
//! - `pass` a current code of one of the user's active tokens → ACCEPT ("matching 1 tokens"); a code
//!   already used → REJECT "wrong otp value. previous otp used again"; a wrong code of the right
//!   length → REJECT "wrong otp value" (each token checked counts a failure); another length →
//!   REJECT "wrong otp pin"; a token at its fail limit → REJECT "Failcounter exceeded" until reset.
//! - `pass` empty and the user has a token whose app is online → a push challenge (CHALLENGE, a
//!   transaction the app lists, with number matching when the operator turns it on).
//! - `transaction_id` with `pass` → the code answers that challenge; with an empty `pass` it
//!   finalises an accepted push (once).
//! - `triggerchallenge` → a challenge on every active token: push to online apps, "enter the code"
//!   for the others.
//!
//! Every code check and its counters (last step, HOTP counter, fail count) run in one write
//! transaction, so a code is accepted once however many requests race with it.

use super::reply::{decision_body, PiError};
use super::settings::{OtpPin, ValidateSettings};
use super::Params;
use crate::database::{params, Db, OptionalRow};
use crate::protocol::transactions::{PushOptions, State};
use crate::{random, sealed, Provider, ProviderError};
use serde_json::{json, Map, Value};
use softtoken_core::otp::{parse_code, Algorithm, Hotp, Totp};
use softtoken_core::Secret;

/// Time steps accepted either side of the provider's clock.
const TOTP_WINDOW: u64 = 2;
/// HOTP counters looked ahead of the last one used (privacyIDEA's default window).
const HOTP_LOOK_AHEAD: u64 = 10;

/// The message of a push challenge.
const PUSH_MESSAGE: &str = "Please confirm the authentication on your mobile device!";
/// The message of a challenge answered by typing a code.
const OTP_MESSAGE: &str = "please enter otp: ";

/// A decision: privacyIDEA's `result.authentication`, `result.value` and `detail`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// ACCEPT, REJECT, CHALLENGE or DECLINED.
    pub authentication: &'static str,
    /// `result.value`: true/false, or the number of challenges for `triggerchallenge`.
    pub value: Value,
    /// `detail`.
    pub detail: Map<String, Value>,
    /// For the audit log: the user and token a request without them (a poll) was about.
    pub(super) subject: Option<(Option<String>, String)>,
}

impl Decision {
    fn new(authentication: &'static str, value: Value) -> Self {
        Decision { authentication, value, detail: Map::new(), subject: None }
    }

    fn reject(message: &str) -> Self {
        Decision::new("REJECT", json!(false)).with("message", json!(message))
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.detail.insert(key.into(), value);
        self
    }

    /// Adds the serial, type and code length of the one token a decision is about.
    fn about(self, t: &TokenRow) -> Self {
        self.with("serial", json!(t.serial)).with("type", json!(t.kind)).with("otplen", json!(t.digits))
    }

    /// Whether the user may in.
    pub fn accepted(&self) -> bool {
        self.authentication == "ACCEPT"
    }

    /// The message, or the challenge state, for the audit log.
    pub fn message(&self) -> &str {
        self.detail.get("message").or_else(|| self.detail.get("challenge_status")).and_then(Value::as_str).unwrap_or("")
    }

    /// The serial the decision is about, if one.
    pub fn serial(&self) -> Option<&str> {
        self.detail.get("serial").and_then(Value::as_str).or(self.subject.as_ref().map(|(_, serial)| serial.as_str()))
    }

    /// The user the decision is about, when the request did not name one.
    pub fn user(&self) -> Option<&str> {
        self.subject.as_ref().and_then(|(user, _)| user.as_deref())
    }

    /// The reply body.
    pub(super) fn to_json(&self, now: u64) -> Value {
        decision_body(self.value.clone(), self.authentication, Value::Object(self.detail.clone()), now)
    }
}

/// An active token as the checks read it.
#[derive(Debug, Clone)]
struct TokenRow {
    serial: String,
    /// `entrust`, `totp` or `hotp`.
    kind: String,
    algorithm: Option<String>,
    digits: u8,
    period: u32,
    counter: Option<i64>,
    last_step: Option<i64>,
    fail_count: u32,
    online: bool,
    push_token: Option<String>,
    seed: Vec<u8>,
    pin_hash: Option<String>,
}

impl TokenRow {
    /// Its app lists transactions: an Entrust-style token activated online or with a push token.
    fn receives_push(&self) -> bool {
        self.kind == "entrust" && (self.online || self.push_token.is_some())
    }

    /// Whether `pin` is this token's PIN (none set: the empty PIN).
    fn pin_matches(&self, pin: &str) -> bool {
        match &self.pin_hash {
            None => pin.is_empty(),
            Some(hash) => crate::portal::accounts::verify_password(hash, pin),
        }
    }

    /// The code `pass` holds for this token under `otppin`: after its PIN (tokenpin), or all of
    /// it (none); `None` when the PIN does not match or `pass` is too short.
    fn code_in<'p>(&self, pass: &'p str, otppin: OtpPin) -> Option<&'p str> {
        match otppin {
            OtpPin::None => Some(pass),
            OtpPin::Tokenpin => {
                let split = pass.len().checked_sub(usize::from(self.digits))?;
                let (pin, code) = (pass.get(..split)?, pass.get(split..)?);
                self.pin_matches(pin).then_some(code)
            }
        }
    }
}

const TOKEN_COLUMNS: &str =
    "t.serial, t.kind, t.algorithm, t.digits, t.period, t.counter, t.last_step, t.fail_count, t.online, t.push_token, t.seed, t.pin_hash";
const ACTIVE: &str = "t.completed_at IS NOT NULL AND t.unregistered_at IS NULL AND t.seed IS NOT NULL AND t.disabled = 0";

fn token_row(r: &crate::database::Row) -> crate::Result<TokenRow> {
    Ok(TokenRow {
        serial: r.get(0)?,
        kind: r.get(1)?,
        algorithm: r.get(2)?,
        digits: r.get(3)?,
        period: r.get(4)?,
        counter: r.get(5)?,
        last_step: r.get(6)?,
        fail_count: r.get(7)?,
        online: r.get(8)?,
        push_token: r.get(9)?,
        seed: r.get(10)?,
        pin_hash: r.get(11)?,
    })
}

/// Whom a request is about: a user (of the realm), a token's serial, or both.
struct Who {
    user: Option<String>,
    serial: Option<String>,
}

impl Who {
    fn resolve(provider: &Provider, params: &Params, settings: &ValidateSettings, now: u64) -> Result<Who, PiError> {
        let (user, serial) = (params.given("user"), params.given("serial"));
        if user.is_none() && serial.is_none() {
            return Err(PiError::no_user_or_serial());
        }
        // A directory user typed in another case is the user first seen for that entry.
        let canonical = match user {
            None => None,
            Some(user) => {
                let realm = params.given("realm").unwrap_or(&settings.realm);
                match provider.known_user(user, now)? {
                    Some(known) if realm == settings.realm => Some(known.name),
                    _ => return Err(PiError::unknown_user(user, realm)),
                }
            }
        };
        let user = canonical.as_deref();
        if let Some(serial) = serial {
            let owner: Option<Option<String>> = provider
                .db
                .query_row("SELECT a.owner FROM tokens t LEFT JOIN authenticators a ON a.serial = t.serial WHERE t.serial = ?1", params![serial], |r| r.get(0))
                .optional()?;
            match (owner, user) {
                (None, _) => return Err(PiError::unknown_serial()),
                (Some(owner), Some(user)) if owner.as_deref() != Some(user) => return Err(PiError::parameter("Given serial does not belong to given user!")),
                _ => {}
            }
        }
        Ok(Who { user: user.map(str::to_string), serial: serial.map(str::to_string) })
    }

    /// The active tokens it names, read through `db` (the write transaction when counting).
    fn tokens(&self, db: &Db) -> crate::Result<Vec<TokenRow>> {
        match (&self.serial, &self.user) {
            (Some(serial), _) => {
                db.query_map(&format!("SELECT {TOKEN_COLUMNS} FROM tokens t WHERE t.serial = ?1 AND {ACTIVE}{}", db.for_update()), params![serial], token_row)
            }
            // In the order they were added (privacyIDEA lists challenges so), which is also the one
            // order every check locks a user's rows in, so two checks never wait on each other.
            (None, Some(user)) => db.query_map(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM authenticators a JOIN tokens t ON t.serial = a.serial WHERE a.owner = ?1 AND {ACTIVE} ORDER BY a.id{}",
                    db.for_update()
                ),
                params![user],
                token_row,
            ),
            (None, None) => Ok(Vec::new()),
        }
    }

    /// The decision when no token is usable: privacyIDEA's "Token is disabled" when an
    /// administrator disabled the only ones there are.
    fn no_tokens(&self, db: &Db) -> crate::Result<Decision> {
        const DISABLED: &str = "t.completed_at IS NOT NULL AND t.unregistered_at IS NULL AND t.disabled = 1";
        let disabled: i64 = match (&self.serial, &self.user) {
            (Some(serial), _) => db.query_row(&format!("SELECT COUNT(*) FROM tokens t WHERE t.serial = ?1 AND {DISABLED}"), params![serial], |r| r.get(0))?,
            (None, Some(user)) => db.query_row(
                &format!("SELECT COUNT(*) FROM authenticators a JOIN tokens t ON t.serial = a.serial WHERE a.owner = ?1 AND {DISABLED}"),
                params![user],
                |r| r.get(0),
            )?,
            (None, None) => 0,
        };
        Ok(Decision::reject(match (disabled > 0, self.serial.is_some()) {
            (true, _) => "Token is disabled",
            (false, true) => "The token is not active",
            (false, false) => "The user has no tokens assigned",
        }))
    }
}

/// What a code is to one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeCheck {
    /// A current code: the step (TOTP) or counter (HOTP) it belongs to.
    Current(i64),
    /// A code this token accepted before.
    Replayed,
    /// Not this token's code.
    Wrong,
    /// Not this token's length (privacyIDEA reads the rest as a wrong PIN).
    OtherLength,
}

fn check_code(provider: &Provider, t: &TokenRow, pass: &str, now: u64) -> crate::Result<CodeCheck> {
    if pass.len() != usize::from(t.digits) || !pass.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(CodeCheck::OtherLength);
    }
    let want = parse_code(pass, t.digits)?;
    let seed = provider.kek.open(sealed::Sealed::Seed, &t.serial, &t.seed)?;
    let algorithm = match &t.algorithm {
        Some(name) => Algorithm::parse(name)?,
        None => Algorithm::Sha256, // Entrust-style seeds
    };
    if t.kind == "hotp" {
        let hotp = Hotp::new(Secret::from_slice(&seed), algorithm, t.digits)?;
        let next = t.counter.unwrap_or(0).max(0) as u64;
        if let Some(c) = hotp.find_counter(pass, next, HOTP_LOOK_AHEAD)? {
            return Ok(CodeCheck::Current(c as i64));
        }
        let earlier = next.saturating_sub(HOTP_LOOK_AHEAD);
        return Ok(if hotp.find_counter(pass, earlier, next - earlier)?.is_some() { CodeCheck::Replayed } else { CodeCheck::Wrong });
    }
    let totp = Totp::new(Secret::from_slice(&seed), algorithm, t.digits, t.period)?;
    let period = u64::from(t.period);
    let first = (now / period).saturating_sub(TOTP_WINDOW);
    let mut replayed = false;
    for (i, value) in totp.values_from(first * period, 2 * TOTP_WINDOW + 1).enumerate() {
        let step = (first + i as u64) as i64;
        if value == want {
            if t.last_step.is_some_and(|last| step <= last) {
                replayed = true;
            } else {
                return Ok(CodeCheck::Current(step));
            }
        }
    }
    Ok(if replayed { CodeCheck::Replayed } else { CodeCheck::Wrong })
}

/// Records an accepted code: the step or counter used (never again), failures reset.
fn record_use(db: &Db, t: &TokenRow, used: i64) -> crate::Result<()> {
    if t.kind == "hotp" {
        db.execute("UPDATE tokens SET counter = ?1, fail_count = 0 WHERE serial = ?2", params![used + 1, t.serial])?;
    } else {
        db.execute("UPDATE tokens SET last_step = ?1, fail_count = 0 WHERE serial = ?2", params![used, t.serial])?;
    }
    Ok(())
}

fn record_failure(db: &Db, t: &TokenRow) -> crate::Result<()> {
    db.execute("UPDATE tokens SET fail_count = fail_count + 1 WHERE serial = ?1", params![t.serial])?;
    Ok(())
}

/// What a code was to the tokens it was checked against.
enum Codes {
    /// A current code of this token (now used).
    Accepted(TokenRow),
    /// No token's current code; `one` is the token when only one was checked.
    Failed { one: Option<TokenRow>, replayed: bool },
    /// No token has codes of its length.
    OtherLength,
    /// The tokens it could be for are at their fail limit.
    Locked,
}

/// Checks `pass` against `tokens` (re-read inside one write transaction): the first current code
/// accepts; otherwise every token of the right length counts a failure.
fn check_codes(
    provider: &Provider,
    tokens: impl Fn(&Db) -> crate::Result<Vec<TokenRow>>,
    pass: &str,
    now: u64,
    max_fail: u32,
    otppin: OtpPin,
) -> crate::Result<Codes> {
    // The PINs (Argon2id, tens of milliseconds each) are checked before the write lock is taken.
    let codes: std::collections::HashMap<String, &str> =
        tokens(&provider.db)?.iter().filter_map(|t| t.code_in(pass, otppin).map(|code| (t.serial.clone(), code))).collect();
    // The token rows are locked (PostgreSQL: those rows only; SQLite: its write lock) from their
    // reading to the commit of their counters.
    let tx = crate::database::begin_row_locks(&provider.db)?;
    let rows = tokens(&tx)?;
    if codes.is_empty() {
        // No token's PIN matched (or `pass` is too short for any): a failure for each, as
        // privacyIDEA counts it, so PINs cannot be guessed without limit either.
        for t in &rows {
            record_failure(&tx, t)?;
        }
        tx.commit()?;
        return Ok(Codes::OtherLength);
    }
    let mut checked: Vec<(TokenRow, CodeCheck)> = Vec::new();
    let mut locked = false;
    for t in rows {
        let Some(code) = codes.get(&t.serial) else { continue };
        let result = check_code(provider, &t, code, now)?;
        if result == CodeCheck::OtherLength {
            continue;
        }
        if t.fail_count >= max_fail {
            locked = true;
            continue;
        }
        if let CodeCheck::Current(used) = result {
            record_use(&tx, &t, used)?;
            tx.commit()?;
            return Ok(Codes::Accepted(t));
        }
        checked.push((t, result));
    }
    for (t, _) in &checked {
        record_failure(&tx, t)?;
    }
    tx.commit()?;
    let replayed = checked.iter().any(|(_, r)| *r == CodeCheck::Replayed);
    Ok(match checked.len() {
        0 if locked => Codes::Locked,
        0 => Codes::OtherLength,
        1 => Codes::Failed { one: checked.pop().map(|(t, _)| t), replayed },
        _ => Codes::Failed { one: None, replayed },
    })
}

/// One request to decide: the provider, its parameters, the client's address, the time, and how
/// pushes wake apps.
pub(super) struct Call<'a> {
    pub provider: &'a Provider,
    pub params: &'a Params,
    pub address: &'a str,
    pub now: u64,
    pub wake_ups: &'a crate::push::Senders,
}

/// `/validate/check` and `/validate/radiuscheck`.
pub(super) fn check(call: &Call<'_>) -> Result<Decision, PiError> {
    let Call { provider, params, now, .. } = *call;
    let settings = provider.validate_settings()?;
    let pass = params.get("pass").ok_or_else(|| PiError::missing("pass"))?;
    let who = Who::resolve(provider, params, &settings, now)?;
    if let Some(id) = params.given("transaction_id") {
        return answer_challenge(provider, &who, id, pass, now, &settings);
    }
    let tokens = who.tokens(&provider.db)?;
    if tokens.is_empty() {
        return Ok(who.no_tokens(&provider.db)?);
    }
    // The PIN alone (empty for a token without one; always empty under otppin none) starts a push
    // to the tokens whose app is online.
    let online: Vec<TokenRow> =
        tokens.iter().filter(|t| t.receives_push() && if settings.otppin == OtpPin::None { pass.is_empty() } else { t.pin_matches(pass) }).cloned().collect();
    if pass.is_empty() && online.is_empty() {
        return Ok(Decision::reject("wrong otp pin"));
    }
    if !online.is_empty() {
        let challenged = challenge(call, &who, online, false, &settings)?;
        if settings.push_wait_s == 0 {
            return Ok(challenged);
        }
        return wait_for_push(call, &who, &challenged, &settings);
    }
    let several = tokens.len() > 1;
    Ok(match check_codes(provider, |db| who.tokens(db), pass, now, settings.max_fail, settings.otppin)? {
        Codes::Accepted(t) => Decision::new("ACCEPT", json!(true)).with("message", json!("matching 1 tokens")).about(&t),
        Codes::Failed { one, replayed } => {
            let decision = Decision::reject(if replayed { "wrong otp value. previous otp used again" } else { "wrong otp value" });
            match one {
                Some(t) if !several => decision.about(&t),
                _ => decision,
            }
        }
        Codes::OtherLength => Decision::reject("wrong otp pin"),
        Codes::Locked => Decision::reject("Failcounter exceeded"),
    })
}

/// `/validate/triggerchallenge` (the caller's API token was checked).
pub(super) fn trigger(call: &Call<'_>) -> Result<Decision, PiError> {
    let (provider, params) = (call.provider, call.params);
    let settings = provider.validate_settings()?;
    let who = Who::resolve(provider, params, &settings, call.now)?;
    let tokens = who.tokens(&provider.db)?;
    if tokens.is_empty() {
        return Ok(Decision::new("REJECT", json!(0)).with("messages", json!([])).with("multi_challenge", json!([])).with("transaction_ids", json!([])));
    }
    challenge(call, &who, tokens, true, &settings)
}

/// Makes one challenge (one transaction id) over `tokens`: a push transaction for each online
/// app (woken by Web Push where it registered), an "enter the code" challenge for the others.
fn challenge(call: &Call<'_>, who: &Who, tokens: Vec<TokenRow>, triggered: bool, settings: &ValidateSettings) -> Result<Decision, PiError> {
    let Call { provider, address, now, wake_ups, .. } = *call;
    let id: String = random::digits(&provider.rng, 20)?.iter().map(|d| char::from(b'0' + d)).collect();
    let expires_at = now.saturating_add(settings.challenge_lifetime_s);
    let mut challenges = Vec::new();
    for t in &tokens {
        let mut entry = json!({"transaction_id": id, "serial": t.serial, "type": t.kind});
        let push_id = if t.receives_push() {
            let mut details = Vec::new();
            if let Some(user) = &who.user {
                details.push(("User".to_string(), user.clone()));
            }
            details.push(("From".to_string(), address.to_string()));
            let opts = PushOptions {
                summary: "Sign-in request".into(),
                details,
                lifetime_s: settings.challenge_lifetime_s,
                number_match: settings.number_matching,
                offline: false,
            };
            let pushed = match provider.push(&t.serial, &opts, now) {
                Ok(p) => p,
                // Too many pending for this app: the other tokens may still be challenged.
                Err(ProviderError::TooManyPending(_)) if tokens.len() > 1 => continue,
                Err(e) => return Err(e.into()),
            };
            // The outcome is recorded with the wake-up; the app also finds it when it polls.
            let _ = provider.wake(wake_ups, &t.serial, &pushed.transaction_id, pushed.push_token.as_deref(), now);
            let message = match pushed.number {
                Some(n) => format!("{PUSH_MESSAGE} Enter the number {n} in the app."),
                None => PUSH_MESSAGE.to_string(),
            };
            entry["type"] = json!("push");
            entry["client_mode"] = json!("poll");
            entry["message"] = json!(message);
            entry["attributes"] = json!({"hideResponseInput": true});
            if let Some(n) = pushed.number {
                entry["presence_answer"] = json!(n.to_string());
            }
            Some(pushed.transaction_id)
        } else {
            entry["client_mode"] = json!("interactive");
            entry["message"] = json!(OTP_MESSAGE);
            None
        };
        provider.db.execute(
            "INSERT INTO challenges (transaction_id, serial, user_name, push_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, t.serial, who.user, push_id, now as i64, expires_at as i64],
        )?;
        challenges.push(entry);
    }
    if challenges.is_empty() {
        return Err(ProviderError::TooManyPending(crate::protocol::transactions::MAX_PENDING).into());
    }
    let messages: Vec<Value> = challenges.iter().map(|c| c["message"].clone()).collect();
    let mut unique: Vec<&str> = messages.iter().filter_map(Value::as_str).collect();
    unique.dedup();
    let last = challenges.last().cloned().unwrap_or_default();
    let preferred = if challenges.iter().any(|c| c["client_mode"] == "poll") { "poll" } else { "interactive" };
    let value = if triggered { json!(challenges.len()) } else { json!(false) };
    let mut decision = Decision::new("CHALLENGE", value)
        .with("transaction_id", json!(id))
        .with("transaction_ids", json!(vec![id.clone(); challenges.len()]))
        .with("message", json!(unique.join(", ")))
        .with("messages", json!(messages))
        .with("serial", last["serial"].clone())
        .with("type", last["type"].clone())
        .with("client_mode", json!(preferred))
        .with("preferred_client_mode", json!(preferred));
    if preferred == "poll" {
        decision = decision.with("attributes", json!({"hideResponseInput": true}));
    }
    Ok(decision.with("multi_challenge", Value::Array(challenges)))
}

/// privacyIDEA's `push_wait`: the check that started a push waits (up to the setting's seconds,
/// polling the state) for the app's answer and replies ACCEPT once confirmed (the challenge is then
/// used up), DECLINED after Cancel or Suspicious, REJECT when no answer came in time. The clock is
/// the request's time plus the seconds waited.
fn wait_for_push(call: &Call<'_>, who: &Who, challenged: &Decision, settings: &ValidateSettings) -> Result<Decision, PiError> {
    let Some(id) = challenged.detail.get("transaction_id").and_then(Value::as_str) else { return Ok(challenged.clone()) };
    let started = std::time::Instant::now();
    let deadline = std::time::Duration::from_secs(settings.push_wait_s);
    loop {
        let now = call.now + started.elapsed().as_secs();
        let mut states = Vec::new();
        for (serial, push_id) in open_challenges(call.provider, who, id, now)? {
            if let Some(push_id) = push_id {
                states.push((serial, call.provider.status(&push_id, now)?));
            }
        }
        if let Some((serial, _)) = states.iter().find(|(_, s)| *s == State::Approved) {
            if consume(call.provider, id, now)? {
                return Ok(Decision::new("ACCEPT", json!(true)).with("message", json!("Found matching challenge")).with("serial", json!(serial)));
            }
        }
        if !states.is_empty() && states.iter().all(|(_, s)| matches!(s, State::Denied | State::Cancelled | State::Expired)) {
            let (serial, state) = &states[0];
            let status = if *state == State::Cancelled { "cancelled" } else { "declined" };
            return Ok(Decision::new("DECLINED", json!(false))
                .with("challenge_status", json!(status))
                .with("message", json!("The challenge was declined"))
                .with("serial", json!(serial)));
        }
        if started.elapsed() >= deadline {
            return Ok(Decision::reject("No answer from the app in time"));
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// The open challenge rows of transaction `id` that `who` may answer: (serial, push transaction).
fn open_challenges(provider: &Provider, who: &Who, id: &str, now: u64) -> crate::Result<Vec<(String, Option<String>)>> {
    provider.db.query_map(
        "SELECT serial, push_id FROM challenges WHERE transaction_id = ?1 AND consumed_at IS NULL AND expires_at >= ?2
         AND (CAST(?3 AS TEXT) IS NULL OR user_name = ?3) AND (CAST(?4 AS TEXT) IS NULL OR serial = ?4)",
        params![id, now as i64, who.user, who.serial],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Marks a challenge used: it never accepts again. Returns false when another request used it
/// first.
fn consume(provider: &Provider, id: &str, now: u64) -> crate::Result<bool> {
    Ok(provider.db.execute("UPDATE challenges SET consumed_at = ?1 WHERE transaction_id = ?2 AND consumed_at IS NULL", params![now as i64, id])? > 0)
}

/// A code (or, with an empty `pass`, the push's answer) for challenge `id`.
fn answer_challenge(provider: &Provider, who: &Who, id: &str, pass: &str, now: u64, settings: &ValidateSettings) -> Result<Decision, PiError> {
    let rows = open_challenges(provider, who, id, now)?;
    if rows.is_empty() {
        return Ok(Decision::reject("wrong otp pin"));
    }
    // One token: its serial and type are named, as privacyIDEA names them.
    let one: Option<(String, String)> = match rows.as_slice() {
        [(serial, _)] => {
            provider.db.query_row("SELECT serial, kind FROM tokens WHERE serial = ?1", params![serial], |r| Ok((r.get(0)?, r.get(1)?))).optional()?
        }
        _ => None,
    };
    let no_match = || match &one {
        Some((serial, kind)) => Decision::reject("Response did not match the challenge.").with("serial", json!(serial)).with("type", json!(kind)),
        None if rows.len() == 1 => Decision::reject("Response did not match the challenge."),
        None => Decision::reject(&format!("Response did not match for {} tokens.", rows.len())),
    };
    if pass.is_empty() {
        for (serial, push_id) in &rows {
            let Some(push_id) = push_id else { continue };
            if provider.status(push_id, now)? == State::Approved && consume(provider, id, now)? {
                return Ok(Decision::new("ACCEPT", json!(true)).with("message", json!("Found matching challenge")).with("serial", json!(serial)));
            }
        }
        return Ok(no_match());
    }
    let serials: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    let tokens = |db: &Db| -> crate::Result<Vec<TokenRow>> {
        let all = db.query_map(
            &format!(
                "SELECT {TOKEN_COLUMNS} FROM challenges c JOIN tokens t ON t.serial = c.serial LEFT JOIN authenticators a ON a.serial = t.serial
                 WHERE c.transaction_id = ?1 AND {ACTIVE} ORDER BY a.id, t.serial{}",
                db.for_update()
            ),
            params![id],
            token_row,
        )?;
        Ok(all.into_iter().filter(|t| serials.contains(&t.serial.as_str())).collect())
    };
    // The answer to a challenge is the code alone: the PIN was given when it was made.
    Ok(match check_codes(provider, tokens, pass, now, settings.max_fail, OtpPin::None)? {
        Codes::Accepted(t) if consume(provider, id, now)? => {
            Decision::new("ACCEPT", json!(true)).with("message", json!("Found matching challenge")).with("serial", json!(t.serial))
        }
        Codes::Locked => Decision::reject("Failcounter exceeded"),
        _ => no_match(),
    })
}

/// `/validate/polltransaction`: true once a push of the challenge was accepted; a Cancel or a
/// Suspicious answer is DECLINED (Suspicious also says so in `detail.suspicious`).
pub(super) fn poll(provider: &Provider, params: &Params, now: u64) -> Result<Decision, PiError> {
    let id = params.given("transaction_id").ok_or_else(|| PiError::missing("transaction_id"))?;
    let pushes: Vec<(String, Option<String>, String)> = provider.db.query_map(
        "SELECT push_id, user_name, serial FROM challenges WHERE transaction_id = ?1 AND push_id IS NOT NULL AND consumed_at IS NULL",
        params![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let subject = pushes.first().map(|(_, user, serial)| (user.clone(), serial.clone()));
    let decision = |authentication, value| Decision { subject: subject.clone(), ..Decision::new(authentication, value) };
    let mut states = Vec::new();
    for (push_id, _, _) in &pushes {
        states.push((push_id, provider.status(push_id, now)?));
    }
    if states.iter().any(|(_, s)| *s == State::Approved) {
        return Ok(decision("ACCEPT", json!(true)).with("challenge_status", json!("accept")));
    }
    if let Some((push_id, _)) = states.iter().find(|(_, s)| *s == State::Denied) {
        let why: Option<String> =
            provider.db.query_row("SELECT response FROM events WHERE transaction_id = ?1 ORDER BY seq DESC", params![push_id], |r| r.get(0)).optional()?;
        let mut d = decision("DECLINED", json!(false)).with("challenge_status", json!("declined"));
        if why.as_deref() == Some("suspicious") {
            d = d.with("suspicious", json!(true));
        }
        return Ok(d);
    }
    if states.iter().any(|(_, s)| *s == State::Cancelled) {
        return Ok(decision("DECLINED", json!(false)).with("challenge_status", json!("cancelled")));
    }
    Ok(decision("REJECT", json!(false)).with("challenge_status", json!("pending")))
}

impl Provider {
    /// Whether `code` is a current code of one of `user`'s active tokens, checked as
    /// `/validate/check` checks it (accepted once, failures counted, a locked token refused): the
    /// portal asks it before a user with a token adds another.
    pub fn check_user_code(&self, user: &str, code: &str, now: u64) -> crate::Result<bool> {
        let who = Who { user: Some(user.to_string()), serial: None };
        let max_fail = self.validate_settings()?.max_fail;
        Ok(matches!(check_codes(self, |db| who.tokens(db), code, now, max_fail, OtpPin::None)?, Codes::Accepted(_)))
    }
}
