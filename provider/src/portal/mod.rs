//! The portal's pages, served by `softtoken-provider serve` beside the protocol: sign in, *My
//! Profile → Authenticators* (Add, Activate, Complete, Delete), the Activate Token dialog (QR code,
//! password, countdown, Send Email, online link), the test sign-in (a code, a push with number
//! matching), the log, and administration (users, assignments, token settings).
//!
//! Server-side HTML from askama templates (escaped by default; outside text is also neutralised),
//! one small script for the countdown and the push answer, and a content security policy that
//! allows nothing else. Every POST needs the session's CSRF token (the sign-in form a token of its
//! own cookie) and is refused when the browser says it came from another site. Like
//! [`crate::protocol::route`] this is the portal without the socket: [`handle`] answers one request.

pub mod accounts;
mod activation_view;
pub mod admin;
pub mod html;
pub mod mail;
pub mod user_tokens;

use crate::limits::RateLimit;
use crate::protocol::transactions::PushOptions;
use crate::sealed::Sealed;
use crate::{random, Fault, Provider, ProviderError, Result};
use accounts::{Session, User, SESSION_LIFETIME_S};
use askama::Template;
use base64::Engine;
use html::time as web_time;
use mail::Delivery;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
pub use user_tokens::{TokenSettings, UserToken, UserTokenState};
use zeroize::Zeroizing;

/// The policy every portal page is served with: its own script, style and images (and the QR
/// code as a data: image), nothing from elsewhere, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// The session cookie.
const SESSION_COOKIE: &str = "softtoken_session";
/// The sign-in form's CSRF cookie.
const LOGIN_COOKIE: &str = "softtoken_login";
/// The cookie a browser gets once it signed in as a user (it names that user's known browsers).
const DEVICE_COOKIE: &str = "softtoken_device";
/// Days a known-browser cookie lasts.
const DEVICE_COOKIE_DAYS: u64 = 90;
/// Sign-in attempts per minute from one address.
pub const LOGINS_PER_ADDRESS: u32 = 20;
/// Sign-in attempts per minute for one user name from one address, and password changes per
/// minute of one signed-in user.
pub const LOGINS_PER_USER: u32 = 10;
/// Failed sign-ins per minute for one user name from all addresses together; browsers that signed
/// in as that user before are not held back by it.
pub const FAILED_LOGINS_PER_USER: u32 = 30;
/// Seconds a test sign-in push stays answerable.
const TEST_PUSH_LIFETIME_S: u64 = 120;

/// How the portal is set up.
pub struct Portal {
    /// This server's address as browsers and phones reach it (online activation links).
    pub base_url: String,
    /// Served over TLS: cookies are `Secure`, origins `https`.
    pub tls: bool,
    /// Where activation e-mails go.
    pub delivery: Delivery,
    /// The e-mails' sender.
    pub mail_from: String,
    /// How pushes wake phones registered with a Web Push subscription.
    pub wake_ups: crate::push::Senders,
    per_address: RateLimit,
    per_user: RateLimit,
    per_name_and_address: RateLimit,
    failures_per_name: RateLimit,
    /// Signs the known-browser cookies (per process: after a restart a browser is known again
    /// from its next successful sign-in).
    device_key: ring::hmac::Key,
}

impl Portal {
    /// A portal at `base_url`.
    pub fn new(base_url: String, tls: bool, delivery: Delivery, mail_from: String, wake_ups: crate::push::Senders) -> Self {
        let rng = ring::rand::SystemRandom::new();
        let device_key = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng).unwrap_or_else(|_| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[0; 32]));
        Portal {
            base_url,
            tls,
            delivery,
            mail_from,
            wake_ups,
            per_address: RateLimit::new(LOGINS_PER_ADDRESS),
            per_user: RateLimit::new(LOGINS_PER_USER),
            per_name_and_address: RateLimit::new(LOGINS_PER_USER),
            failures_per_name: RateLimit::new(FAILED_LOGINS_PER_USER),
            device_key,
        }
    }

    /// The known-browser cookie's value for a user name.
    fn device_mark(&self, name: &str) -> String {
        softtoken_core::secret::hex_encode(ring::hmac::sign(&self.device_key, name.to_lowercase().as_bytes()).as_ref())
    }
}

/// One request to the portal.
#[derive(Debug, Clone, Copy)]
pub struct WebRequest<'a> {
    /// "GET" or "POST".
    pub method: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The query, without `?`.
    pub query: &'a str,
    /// The `Cookie` header.
    pub cookie: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
    /// The `Host` header.
    pub host: Option<&'a str>,
    /// The `Sec-Fetch-Site` header.
    pub fetch_site: Option<&'a str>,
    /// The body (a form, `application/x-www-form-urlencoded`).
    pub body: &'a str,
    /// The client's address.
    pub peer: IpAddr,
}

/// One reply of the portal.
#[derive(Debug, Clone)]
pub struct WebReply {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Extra headers (`Set-Cookie`, `Location`).
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl WebReply {
    fn html(status: u16, body: String) -> Self {
        WebReply { status, content_type: "text/html; charset=utf-8", headers: Vec::new(), body: body.into_bytes() }
    }
    fn redirect(to: &str) -> Self {
        WebReply { status: 303, content_type: "text/plain; charset=utf-8", headers: vec![("location", to.to_string())], body: Vec::new() }
    }
    fn with_cookie(mut self, cookie: String) -> Self {
        self.headers.push(("set-cookie", cookie));
        self
    }
}

/// Whether a path is the portal's (the rest is the protocol's).
pub fn is_portal_path(path: &str) -> bool {
    path == "/" || path == "/portal" || path.starts_with("/portal/") || path == "/activate"
}

macro_rules! page {
    ($name:ident, $path:literal { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Template)]
        #[template(path = $path)]
        struct $name<'a> {
            title: &'a str,
            user: Option<&'a User>,
            csrf: &'a str,
            notice: Option<String>,
            error: Option<String>,
            $($field: $ty),*
        }
    };
}

page!(LoginPage, "login.html" {});
page!(OpenAppPage, "activate.html" {});
page!(AuthenticatorsPage, "authenticators.html" { rows: Vec<Row>, show_owner: bool, needs_code: bool, admin: bool, max_fail: u32 });
page!(AddPage, "add.html" { needs_code: bool });
page!(ConfirmPage, "confirm.html" { question: String, consequence: String, action: String, confirm_label: String });
page!(DialogPage, "dialog.html" {
    id: i64, qr_base64: String, qr_width: u32, password: Zeroizing<String>, serial: String, expires_at: u64, expires: String,
    lifetime: String, link: Option<String>, sealed: String, can_email: bool, transaction_url: Option<String>,
    manual_code: Option<Zeroizing<String>>, digits: u8, expires_stamp: html::Stamp,
});
page!(TestPage, "test.html" { id: i64, serial: String, digits: u8, verified: Option<(bool, String)>, pushed: Option<PushedView> });
page!(LogPage, "log.html" { rows: Vec<LogRow> });
page!(AuditPage, "audit.html" { rows: Vec<AuditRow>, filter: String });
page!(OathPage, "oath.html" { serial: String, uri: Zeroizing<String>, qr_base64: Zeroizing<String>, qr_width: u32 });
page!(AdminPage, "admin.html" { users: Vec<UserRow>, search: String, settings: TokenSettings });

/// A user as the Administration page lists them.
struct UserRow {
    name: String,
    /// The name as a path segment.
    path: String,
    admin: bool,
    email: String,
    authenticators: i64,
    directory: bool,
    is_me: bool,
}
page!(AccountPage, "account.html" { min_chars: usize });

/// An authenticator's row.
struct Row {
    id: i64,
    owner: String,
    serial: String,
    state: &'static str,
    state_word: &'static str,
    expires: Option<html::Stamp>,
    assigned_by: Option<String>,
    digits: Option<u8>,
    kind: &'static str,
    fail_count: u32,
    can_activate: bool,
    can_complete: bool,
    can_test: bool,
    /// An administrator disabled its token.
    disabled: bool,
    /// A registration code typed and refused, shown again in its field.
    typed: String,
}

impl From<&UserToken> for Row {
    fn from(a: &UserToken) -> Self {
        Row {
            id: a.id,
            owner: a.owner.clone(),
            serial: a.serial.clone().unwrap_or_else(|| "—".into()),
            state: a.state.as_str(),
            state_word: match a.state {
                UserTokenState::Assigned => "assigned",
                UserTokenState::Waiting => "waiting",
                UserTokenState::Expired => "expired",
                UserTokenState::Active => "active",
                UserTokenState::Removed => "removed",
            },
            expires: a.expires_at.map(html::stamp),
            assigned_by: a.assigned_by.clone(),
            digits: a.digits,
            kind: match a.kind.as_str() {
                "totp" => "TOTP",
                "hotp" => "HOTP",
                _ => "Soft token",
            },
            fail_count: a.fail_count,
            can_activate: a.kind == "entrust" && matches!(a.state, UserTokenState::Assigned | UserTokenState::Expired | UserTokenState::Waiting),
            can_complete: a.state == UserTokenState::Waiting,
            can_test: a.state == UserTokenState::Active && !a.disabled,
            disabled: a.disabled,
            typed: String::new(),
        }
    }
}

/// A sent test push.
struct PushedView {
    id: String,
    number: u8,
    state: &'static str,
    wake: Option<String>,
}

/// One request of the validate API's audit log.
struct AuditRow {
    at: html::Stamp,
    address: String,
    endpoint: String,
    user: String,
    serial: String,
    decision: String,
    message: String,
}

/// One line of the log: a push answer or one of the portal's events.
struct LogRow {
    at: html::Stamp,
    owner: String,
    serial: String,
    /// What happened, in words.
    what: String,
    /// The sign-in request's words, for an answer.
    request: String,
    /// `confirm`, `cancel`, `suspicious`, … for answers; `event` for the portal's.
    kind: String,
}

/// What the *Send Email* form carries, sealed under the key-encryption key and bound to the user
/// and authenticator: the activation the dialog showed (its password is never stored).
#[derive(Serialize, Deserialize)]
struct MailBlob {
    serial: String,
    password: String,
    uri: String,
    expires_at: u64,
    link: Option<String>,
}

impl Drop for MailBlob {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.password.zeroize();
        self.uri.zeroize();
    }
}

fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').filter_map(|c| c.trim().split_once('=')).find(|(n, _)| *n == name).map(|(_, v)| v)
}

fn form(body: &str) -> HashMap<String, String> {
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

fn same(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

fn render(t: &impl Template) -> Result<String> {
    t.render().map_err(|e| ProviderError::Fault(format!("page: {e}")))
}

/// What a person is told for an error (internal ones are not detailed).
fn message_of(e: &ProviderError) -> String {
    match e {
        ProviderError::Expired => "This activation expired before it was completed: pick Activate for a new QR code and password.".into(),
        // A mail failure says what to fix (the relay refused, the outbox is not writable).
        ProviderError::Mail(_) => format!("{}.", e.to_string().trim_end_matches('.')),
        e if e.fault() == Fault::Server => "Something went wrong on the server; try again.".into(),
        other => format!("{}.", other.to_string().trim_end_matches('.')),
    }
}

fn status_of(e: &ProviderError) -> u16 {
    match e {
        ProviderError::UnknownAuthenticator(_) | ProviderError::UnknownTransaction(_) => 404,
        ProviderError::Forbidden => 403,
        e if e.fault() == Fault::Server => 500,
        _ => 400,
    }
}

/// Answers one request to the portal at `now`.
pub fn handle(provider: &Provider, portal: &Portal, request: &WebRequest<'_>, now: u64) -> WebReply {
    let mut reply = match dispatch(provider, portal, request, now) {
        Ok(reply) => reply,
        Err(e) => WebReply::html(status_of(&e), format!("<!doctype html><title>Error</title><p>{}</p>", crate::portal::html::escape(&message_of(&e)))),
    };
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        // Not "no-referrer": under it a browser sends `Origin: null` with every form, and the
        // origin check below could not tell this portal's forms from anyone's.
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ] {
        reply.headers.push((name, value.to_string()));
    }
    if portal.tls {
        reply.headers.push(("strict-transport-security", "max-age=31536000".into()));
    }
    reply
}

fn cookie_attributes(portal: &Portal, max_age: u64) -> String {
    format!("Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}", if portal.tls { "; Secure" } else { "" })
}

/// Refuses a POST a browser says came from another site, or whose Origin is not this server.
fn check_origin(portal: &Portal, request: &WebRequest<'_>) -> std::result::Result<(), WebReply> {
    let forbidden = |why: &str| WebReply::html(403, format!("<!doctype html><title>Refused</title><p>{why}</p>"));
    if request.fetch_site.is_some_and(|s| s != "same-origin" && s != "none") {
        return Err(forbidden("This form was sent from another site: refused."));
    }
    if let Some(origin) = request.origin {
        let expected = request.host.map(|h| format!("{}://{h}", if portal.tls { "https" } else { "http" }));
        if expected.as_deref() != Some(origin) {
            return Err(forbidden("This form was sent from another origin: refused."));
        }
    }
    Ok(())
}

fn not_found() -> WebReply {
    WebReply::html(404, "<!doctype html><title>Not found</title><p>No such page.</p>".into())
}

/// The pages anyone may fetch: the portal's root, its script and style, the sign-in form.
fn public(provider: &Provider, portal: &Portal, request: &WebRequest<'_>, parts: &[&str], now: u64) -> Option<Result<WebReply>> {
    let asset = |content_type: &'static str, body: &[u8]| Some(Ok(WebReply { status: 200, content_type, headers: Vec::new(), body: body.to_vec() }));
    match (request.method, parts) {
        ("GET", [""]) => Some(Ok(WebReply::redirect("/portal"))),
        ("GET", ["portal", "static", "portal.css"]) => asset("text/css; charset=utf-8", include_bytes!("../../static/portal.css")),
        ("GET", ["portal", "static", "portal.js"]) => asset("text/javascript; charset=utf-8", include_bytes!("../../static/portal.js")),
        ("GET", ["portal", "login"]) => Some(login_page(provider, portal, request, None, 200)),
        // The https form of an online activation link lands here; the token stays in the fragment.
        ("GET", ["activate"]) => {
            Some(render(&OpenAppPage { title: "Open softtoken", user: None, csrf: "", notice: None, error: None }).map(|page| WebReply::html(200, page)))
        }
        ("POST", ["portal", "login"]) => Some(match check_origin(portal, request) {
            Err(reply) => Ok(reply),
            Ok(()) => sign_in(provider, portal, request, now),
        }),
        _ => None,
    }
}

/// A request of a signed-in person: their session, and the form's fields once its origin and
/// CSRF token were checked.
struct SignedIn<'a> {
    session: Session,
    session_id: &'a str,
    fields: HashMap<String, String>,
}

impl SignedIn<'_> {
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }
}

/// The session of `request`, or the reply that sends its sender to sign in (or refuses its form).
fn signed_in<'a>(
    provider: &Provider,
    portal: &Portal,
    request: &WebRequest<'a>,
    parts: &[&str],
    now: u64,
) -> Result<std::result::Result<SignedIn<'a>, WebReply>> {
    let session_id = cookie(request.cookie, SESSION_COOKIE);
    let session = match session_id {
        Some(id) => provider.session(id, now)?,
        None => None,
    };
    let (Some(session), Some(session_id)) = (session, session_id) else {
        return Ok(Err(if request.method == "GET" && parts.first() == Some(&"portal") && parts.get(1) != Some(&"transactions") {
            WebReply::redirect("/portal/login")
        } else {
            WebReply::html(401, "<!doctype html><title>Sign in</title><p>Your session ended: <a href=\"/portal/login\">sign in</a> again.</p>".into())
        }));
    };
    let mut fields = HashMap::new();
    if request.method == "POST" {
        if let Err(reply) = check_origin(portal, request) {
            return Ok(Err(reply));
        }
        fields = form(request.body);
        if !fields.get("csrf").is_some_and(|t| same(t, &session.csrf)) {
            return Ok(Err(WebReply::html(
                403,
                "<!doctype html><title>Refused</title><p>This form is out of date or not from this portal: reload the page and try again.</p>".into(),
            )));
        }
    }
    Ok(Ok(SignedIn { session, session_id, fields }))
}

/// Routes one portal request: the public pages, else the signed-in person's.
fn dispatch(provider: &Provider, portal: &Portal, request: &WebRequest<'_>, now: u64) -> Result<WebReply> {
    let parts: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    if let Some(reply) = public(provider, portal, request, &parts, now) {
        return reply;
    }
    let me = match signed_in(provider, portal, request, &parts, now)? {
        Ok(me) => me,
        Err(reply) => return Ok(reply),
    };
    let (session, user) = (&me.session, &me.session.user);
    let id_of = |s: &str| s.parse::<i64>().map_err(|_| ProviderError::UnknownAuthenticator(-1));
    let address = request.peer.to_string();
    let event = |owner: &str, serial: Option<&str>, what: &str| provider.portal_event(&address, &user.name, owner, serial, what, now);
    match (request.method, parts.as_slice()) {
        ("GET", ["portal"]) => authenticators_page(provider, session, request.query.split('&').any(|q| q == "all=1"), None, None, 200, now),
        ("POST", ["portal", "logout"]) => {
            provider.sign_out(me.session_id)?;
            Ok(WebReply::redirect("/portal/login").with_cookie(format!("{SESSION_COOKIE}=; {}", cookie_attributes(portal, 0))))
        }
        ("GET", ["portal", "add"]) => add_page(provider, session, None, 200, now),
        ("POST", ["portal", "authenticators"]) => match provider.add_authenticator(user, Some(&portal.base_url), Some(me.field("otp")), now) {
            Ok((id, issued)) => {
                event(&user.name, Some(&issued.serial), "soft token added: activation issued")?;
                activation_view::show_dialog(provider, portal, session, id, &issued, now)
            }
            Err(e) if e.fault() == Fault::Server => Err(e),
            Err(e) => add_page(provider, session, Some(message_of(&e)), status_of(&e), now),
        },
        ("POST", ["portal", "authenticators", "oath"]) => {
            let kind = crate::tokens::oath::OathKind::parse(me.field("kind")).ok_or_else(|| ProviderError::Invalid("choose TOTP or HOTP".into()));
            match kind.and_then(|kind| provider.add_oath_authenticator(user, kind, Some(me.field("otp")), now)) {
                Ok(issued) => {
                    event(&user.name, Some(&issued.serial), "authenticator app token added")?;
                    activation_view::show_secret(provider, portal, session, &issued)
                }
                Err(e) if e.fault() == Fault::Server => Err(e),
                Err(e) => add_page(provider, session, Some(message_of(&e)), status_of(&e), now),
            }
        }
        ("GET", ["portal", "authenticators", id, "activation"]) => activation_view::dialog_page(provider, portal, request, session, id_of(id)?, now),
        ("GET", ["portal", "authenticators", id, "secret"]) => activation_view::secret_page(provider, portal, request, session, id_of(id)?, now),
        ("GET", ["portal", "authenticators", id, "delete"]) => delete_page(provider, session, id_of(id)?, now),
        ("POST", ["portal", "authenticators", id, action]) => authenticator_action(provider, portal, request, &me, id_of(id)?, action, now),
        ("GET", ["portal", "authenticators", id, "test"]) => test_page(provider, session, id_of(id)?, None, None, None, now),
        ("GET", ["portal", "transactions", id]) => transaction_state(provider, user, id, now),
        ("GET", ["portal", "log"]) => log_page(provider, session),
        ("GET", ["portal", "account"]) => account_page(session, None, None, 200),
        ("POST", ["portal", "account", "password"]) => change_password(provider, portal, &me),
        ("GET", ["portal", "admin"]) => admin_page(provider, session, request.query, None, None, 200),
        ("GET", ["portal", "audit"]) => audit_page(provider, session, request.query),
        ("GET", ["portal", "audit.jsonl"]) => audit_export(provider, session),
        ("GET", ["portal", "admin", "users", name, "delete"]) => delete_user_page(session, &url_decode(name)),
        ("POST", ["portal", "admin", "users", name, action]) => user_action(provider, &me, &address, &url_decode(name), action, now),
        ("POST", ["portal", "admin", action]) => admin_action(provider, &me, &address, action, now),
        _ => Ok(not_found()),
    }
}

fn url_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// What an action on an authenticator leads to.
enum Outcome {
    /// The Activate Token dialog for a fresh activation.
    Dialog(crate::Issued),
    /// The authenticators page with a notice, after an event for the log.
    Notice { serial: Option<String>, event: &'static str, notice: String },
}

/// Activate, Complete, Delete, Disable / Enable, Reset, Send Email, and the test sign-ins of one
/// authenticator.
fn authenticator_action(
    provider: &Provider,
    portal: &Portal,
    request: &WebRequest<'_>,
    me: &SignedIn<'_>,
    id: i64,
    action: &str,
    now: u64,
) -> Result<WebReply> {
    let (session, user) = (&me.session, &me.session.user);
    let a = provider.authenticator(user, id, now)?;
    let notice = |event: &'static str, notice: String| Outcome::Notice { serial: a.serial.clone(), event, notice };
    let outcome = match action {
        "activate" => provider.activate(user, id, Some(&portal.base_url), Some(me.field("otp")), now).map(Outcome::Dialog),
        "reset" => reset_fails(provider, user, id, now).map(|n| notice("fail counter reset", n)),
        "disable" | "enable" => provider.set_authenticator_disabled(user, id, action == "disable", now).map(|serial| {
            let (event, words) = if action == "disable" {
                ("token disabled", format!("{serial} is disabled: its codes and sign-in requests are refused until it is enabled."))
            } else {
                ("token enabled", format!("{serial} is enabled again."))
            };
            notice(event, words)
        }),
        "complete" => {
            let typed = me.field("registration_code").trim();
            match provider.complete_authenticator(user, id, typed, now) {
                Ok(serial) => Ok(notice(
                    "activation completed",
                    format!("Activation of {serial} completed: its codes are accepted now. Try a sign-in with Test sign-in."),
                )),
                // What was typed stays in the field, and the reason is said in words.
                Err(e) if e.fault() != Fault::Server => {
                    let page = AuthenticatorsView { typed: Some((id, typed.to_string())), ..AuthenticatorsView::default() };
                    return authenticators_view(provider, session, page, Some(complete_error(&e)), status_of(&e), now);
                }
                Err(e) => Err(e),
            }
        }
        "delete" if me.field("confirm") != "yes" => return delete_page(provider, session, id, now),
        "delete" => provider.delete_authenticator(user, id, now).map(|()| notice("authenticator deleted", format!("Authenticator {id} deleted."))),
        "email" => send_email(provider, portal, user, id, me.field("sealed"), now).map(|n| notice("activation e-mailed", n)),
        "verify" => return test_page(provider, session, id, Some(me.field("otp")), None, None, now),
        "push" => return test_push(provider, portal, session, id, request.peer, now),
        _ => return Ok(not_found()),
    };
    match outcome {
        Ok(Outcome::Dialog(issued)) => {
            provider.portal_event(&request.peer.to_string(), &user.name, &a.owner, Some(&issued.serial), "activation issued", now)?;
            activation_view::show_dialog(provider, portal, session, id, &issued, now)
        }
        Ok(Outcome::Notice { serial, event, notice }) => {
            provider.portal_event(&request.peer.to_string(), &user.name, &a.owner, serial.as_deref(), event, now)?;
            authenticators_page(provider, session, false, Some(notice), None, 200, now)
        }
        // A mail failure is shown on the page: it says what to fix.
        Err(e) if e.fault() == Fault::Server && !matches!(e, ProviderError::Mail(_)) => Err(e),
        Err(e) => authenticators_page(provider, session, false, None, Some(message_of(&e)), status_of(&e), now),
    }
}

/// Why a registration code was refused, in words a user acts on.
fn complete_error(e: &ProviderError) -> String {
    use softtoken_core::{Error as CoreError, Field};
    match e {
        ProviderError::Core(CoreError::Invalid { field: Field::RegistrationCode, reason }) if reason.contains("check digit") => {
            "That registration code has a typo: check the ten digits the app shows (the last one checks the others) and type them again.".into()
        }
        ProviderError::Core(CoreError::Invalid { field: Field::RegistrationCode, .. }) => {
            "A registration code is ten digits, as the app shows them (12345-67890): type all ten.".into()
        }
        other => message_of(other),
    }
}

/// Asks before deleting an authenticator (a form, no script needed).
fn delete_page(provider: &Provider, session: &Session, id: i64, now: u64) -> Result<WebReply> {
    let a = provider.authenticator(&session.user, id, now)?;
    let what = match &a.serial {
        Some(serial) => format!("authenticator {id} ({}, serial number {serial})", a.kind),
        None => format!("authenticator {id}"),
    };
    confirm_page(
        session,
        "Delete an authenticator",
        format!("Delete {what}?"),
        "Its codes and sign-in requests stop working at once. The app keeps the token until it is removed there. This cannot be undone.",
        format!("/portal/authenticators/{id}/delete"),
        "Delete",
    )
}

/// A page that asks before an action that cannot be undone: a form posting `confirm=yes`.
fn confirm_page(session: &Session, title: &str, question: String, consequence: &str, action: String, confirm_label: &str) -> Result<WebReply> {
    let page = ConfirmPage {
        title,
        user: Some(&session.user),
        csrf: &session.csrf,
        notice: None,
        error: None,
        question,
        consequence: consequence.into(),
        action,
        confirm_label: confirm_label.into(),
    };
    Ok(WebReply::html(200, render(&page)?))
}

/// Asks before deleting a user.
fn delete_user_page(session: &Session, name: &str) -> Result<WebReply> {
    if !session.user.admin {
        return Err(ProviderError::Forbidden);
    }
    confirm_page(
        session,
        "Delete a user",
        format!("Delete the user {name}?"),
        "Their sessions end, their tokens stop working and the account is gone. This cannot be undone.",
        format!("/portal/admin/users/{}/delete", percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)),
        "Delete user",
    )
}

/// An administrator's action on one user: delete (confirmed), set a new password.
fn user_action(provider: &Provider, me: &SignedIn<'_>, address: &str, name: &str, action: &str, now: u64) -> Result<WebReply> {
    let admin = &me.session.user;
    if !admin.admin {
        return Err(ProviderError::Forbidden);
    }
    let done = match action {
        "delete" if me.field("confirm") != "yes" => return delete_user_page(&me.session, name),
        "delete" => provider.delete_user(admin, name, now).map(|()| ("user deleted", format!("User {name} deleted; their tokens no longer work."))),
        "password" => provider
            .reset_password(name, &Zeroizing::new(me.field("password").to_string()))
            .map(|()| ("password reset", format!("The password of {name} was set; their sessions have ended."))),
        _ => return Ok(not_found()),
    };
    match done {
        Ok((event, notice)) => {
            provider.portal_event(address, &admin.name, name, None, event, now)?;
            admin_page(provider, &me.session, "", Some(notice), None, 200)
        }
        Err(e) if e.fault() == Fault::Server => Err(e),
        Err(e) => admin_page(provider, &me.session, "", None, Some(message_of(&e)), status_of(&e)),
    }
}

/// An administrator unlocks a token the validate API locked after too many failed checks.
fn reset_fails(provider: &Provider, user: &User, id: i64, now: u64) -> Result<String> {
    if !user.admin {
        return Err(ProviderError::Forbidden);
    }
    let a = provider.authenticator(user, id, now)?;
    let serial = a.serial.ok_or_else(|| ProviderError::Refused(format!("authenticator {id} has no token yet")))?;
    provider.reset_fail_count(&serial)?;
    Ok(format!("The fail counter of {serial} is back to 0 (it was {}).", a.fail_count))
}

/// The state of a transaction the person may see (their own; an administrator's: any), as JSON for
/// the test page's script.
fn transaction_state(provider: &Provider, user: &User, id: &str, now: u64) -> Result<WebReply> {
    let owned = provider.serial_of_transaction(id)?.and_then(|serial| provider.owner_of_serial(&serial).ok().flatten());
    let state = match owned {
        Some(owner) if user.admin || owner == user.name => Some(provider.status(id, now)?),
        _ => None,
    };
    let (status, body) = match state {
        Some(s) => (200, serde_json::json!({"state": s.as_str()})),
        None => (404, serde_json::json!({"error": "not_found"})),
    };
    Ok(WebReply { status, content_type: "application/json", headers: Vec::new(), body: body.to_string().into_bytes() })
}

/// The log: push answers and the portal's events (activations, deletions, resets…), the person's
/// own or everyone's for an administrator, newest first, in words.
fn log_page(provider: &Provider, session: &Session) -> Result<WebReply> {
    let user = &session.user;
    let owner = if user.admin { None } else { Some(user.name.as_str()) };
    let mut rows: Vec<LogRow> = provider
        .log_of(owner)?
        .into_iter()
        .map(|(e, owner, summary)| LogRow {
            at: html::stamp(e.at),
            owner,
            serial: e.serial,
            what: admin::answer_in_words(&e.response).to_string(),
            request: softtoken_core::text::neutralise(&summary).into_owned(),
            kind: e.response,
        })
        .collect();
    rows.extend(provider.portal_events(owner, 500)?.into_iter().map(|e| LogRow {
        at: html::stamp(e.at),
        owner: softtoken_core::text::neutralise(e.user.as_deref().unwrap_or("")).into_owned(),
        serial: e.serial.unwrap_or_default(),
        what: capitalised(&softtoken_core::text::neutralise(&e.message)),
        request: String::new(),
        kind: "event".into(),
    }));
    rows.sort_by_key(|r| std::cmp::Reverse(r.at.unix));
    rows.truncate(500);
    Ok(WebReply::html(200, render(&LogPage { title: "Log", user: Some(user), csrf: &session.csrf, notice: None, error: None, rows })?))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The validate API's audit log for administrators, newest first (`?user=NAME` for one user's).
fn audit_page(provider: &Provider, session: &Session, query: &str) -> Result<WebReply> {
    if !session.user.admin {
        return Err(ProviderError::Forbidden);
    }
    let filter = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "user").map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty());
    let mut rows: Vec<AuditRow> = provider
        .audit_log(filter.as_deref(), 500)?
        .into_iter()
        .map(|e| AuditRow {
            at: html::stamp(e.at),
            address: e.address,
            endpoint: e.endpoint,
            user: softtoken_core::text::neutralise(e.user.as_deref().unwrap_or("")).into_owned(),
            serial: e.serial.unwrap_or_default(),
            decision: e.decision,
            message: softtoken_core::text::neutralise(&e.message).into_owned(),
        })
        .collect();
    rows.reverse();
    let page =
        AuditPage { title: "Audit", user: Some(&session.user), csrf: &session.csrf, notice: None, error: None, rows, filter: filter.unwrap_or_default() };
    Ok(WebReply::html(200, render(&page)?))
}

/// The whole audit log as JSON lines (administrators), for export.
fn audit_export(provider: &Provider, session: &Session) -> Result<WebReply> {
    if !session.user.admin {
        return Err(ProviderError::Forbidden);
    }
    let mut body = Vec::new();
    for e in provider.audit_log(None, crate::validate::audit::MAX_LISTED)? {
        body.extend(serde_json::to_vec(&e).map_err(|e| ProviderError::Fault(format!("audit export: {e}")))?);
        body.push(b'\n');
    }
    Ok(WebReply {
        status: 200,
        content_type: "application/x-ndjson",
        headers: vec![("content-disposition", "attachment; filename=\"audit.jsonl\"".into())],
        body,
    })
}

/// Changes the signed-in person's password (limited per user; their other sessions end).
fn change_password(provider: &Provider, portal: &Portal, me: &SignedIn<'_>) -> Result<WebReply> {
    let user = &me.session.user;
    let (new, repeat) = (Zeroizing::new(me.field("new").to_string()), Zeroizing::new(me.field("repeat").to_string()));
    let changed = if portal.per_user.take(&user.name.to_lowercase()).is_err() {
        Err(ProviderError::Refused("too many attempts: wait a minute and try again".into()))
    } else if new != repeat {
        Err(ProviderError::Invalid("the two new passwords differ".into()))
    } else {
        provider.change_password(&user.name, &Zeroizing::new(me.field("current").to_string()), &new, me.session_id)
    };
    match changed {
        Ok(()) => account_page(&me.session, Some("Password changed; your other sessions have ended.".into()), None, 200),
        Err(e) if e.fault() == Fault::Server => Err(e),
        Err(e) => account_page(&me.session, None, Some(message_of(&e)), status_of(&e)),
    }
}

/// Administration: assign a soft token, add a user, save the token settings.
fn admin_action(provider: &Provider, me: &SignedIn<'_>, address: &str, action: &str, now: u64) -> Result<WebReply> {
    let user = &me.session.user;
    if !user.admin {
        return Err(ProviderError::Forbidden);
    }
    let subject = me.field("user").trim().to_string();
    let done = match action {
        "assign" => provider
            .assign(user, &subject, now)
            .map(|id| (Some((subject.clone(), "soft token assigned")), format!("Soft token {id} assigned to {subject}: they pick Activate in their portal."))),
        "users" => {
            let email = Some(me.field("email").trim()).filter(|e| !e.is_empty());
            let password = Zeroizing::new(me.field("password").to_string());
            provider
                .add_user(me.field("name").trim(), &password, me.field("admin") == "1", email, now)
                .map(|u| (Some((u.name.clone(), "user added")), format!("User {} added.", u.name)))
        }
        "settings" => parse_settings(&me.fields).and_then(|s| provider.set_token_settings(&s)).map(|()| (None, "Token settings saved.".to_string())),
        _ => return Ok(not_found()),
    };
    match done {
        Ok((event, notice)) => {
            if let Some((whom, what)) = event {
                provider.portal_event(address, &user.name, &whom, None, what, now)?;
            }
            admin_page(provider, &me.session, "", Some(notice), None, 200)
        }
        Err(e) if e.fault() == Fault::Server => Err(e),
        Err(e) => admin_page(provider, &me.session, "", None, Some(message_of(&e)), status_of(&e)),
    }
}

fn parse_settings(fields: &HashMap<String, String>) -> Result<TokenSettings> {
    let number = |name: &str, what: &str| -> Result<u64> {
        fields.get(name).and_then(|v| v.trim().parse().ok()).ok_or_else(|| ProviderError::Invalid(format!("{what} must be a number")))
    };
    let policy = fields.get("policy").map(|p| p.trim()).filter(|p| !p.is_empty()).map(str::to_string);
    let limit = |name: &str, what: &str, default: u32| -> Result<u32> {
        if fields.get(name).is_none() {
            return Ok(default);
        }
        Ok(number(name, what)?.min(u64::from(u32::MAX)) as u32)
    };
    Ok(TokenSettings {
        digits: number("digits", "the code length")?.min(255) as u8,
        lifetime_s: number("lifetime", "the activation lifetime")?,
        password_length: number("password_length", "the password length")?.min(1024) as usize,
        policy,
        max_per_user: limit("max_per_user", "the authenticators per user", user_tokens::DEFAULT_MAX_PER_USER)?,
        adds_per_hour: limit("adds_per_hour", "the authenticators added per hour", user_tokens::DEFAULT_ADDS_PER_HOUR)?,
        company: fields.get("company").map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
        registration_url: fields.get("registration_url").map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
    })
}

fn login_page(provider: &Provider, portal: &Portal, request: &WebRequest<'_>, error: Option<String>, status: u16) -> Result<WebReply> {
    // The sign-in form's token is the one of its cookie (a new one when there is none).
    let token = match cookie(request.cookie, LOGIN_COOKIE).filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())) {
        Some(t) => t.to_string(),
        None => random::hex(&provider.rng, 16)?,
    };
    let page = render(&LoginPage { title: "Sign in", user: None, csrf: &token, notice: None, error })?;
    Ok(WebReply::html(status, page).with_cookie(format!("{LOGIN_COOKIE}={token}; {}", cookie_attributes(portal, 3600))))
}

fn sign_in(provider: &Provider, portal: &Portal, request: &WebRequest<'_>, now: u64) -> Result<WebReply> {
    let fields = form(request.body);
    let name = fields.get("name").map(|n| n.trim()).unwrap_or("");
    let password = Zeroizing::new(fields.get("password").cloned().unwrap_or_default());
    let expected = cookie(request.cookie, LOGIN_COOKIE);
    if !matches!((expected, fields.get("login_csrf")), (Some(a), Some(b)) if same(a, b)) {
        return login_page(provider, portal, request, Some("The sign-in form is out of date: try again.".into()), 403);
    }
    // Brute force stays bounded without handing anyone a lockout switch: attempts are limited per
    // address and per (name, address), so guesses from one place hold back only that place;
    // failures for a name from everywhere together are limited too, but a browser that signed in
    // as that user before (its known-browser cookie) is never held back by them.
    let name_key = name.to_lowercase();
    let address = request.peer.to_string();
    if portal.per_address.take(&address).and_then(|()| portal.per_name_and_address.take(&format!("{name_key}\n{address}"))).is_err() {
        return login_page(provider, portal, request, Some("Too many sign-in attempts: wait a minute and try again.".into()), 429);
    }
    let mark = portal.device_mark(name);
    let known_browser = cookie(request.cookie, DEVICE_COOKIE).is_some_and(|c| same(c, &mark));
    if !known_browser && !portal.failures_per_name.available(&name_key) {
        let why = "Too many failed sign-ins for this user name: wait a few minutes, or sign in from a browser you used before.";
        return login_page(provider, portal, request, Some(why.into()), 429);
    }
    match provider.sign_in(name, &password, now)? {
        None => {
            let _ = portal.failures_per_name.take(&name_key);
            login_page(provider, portal, request, Some("Wrong user name or password.".into()), 401)
        }
        Some((_, session)) => Ok(WebReply::redirect("/portal")
            .with_cookie(format!("{SESSION_COOKIE}={}; {}", session.id.as_str(), cookie_attributes(portal, SESSION_LIFETIME_S)))
            .with_cookie(format!("{DEVICE_COOKIE}={mark}; {}", cookie_attributes(portal, DEVICE_COOKIE_DAYS * 86_400)))
            .with_cookie(format!("{LOGIN_COOKIE}=; {}", cookie_attributes(portal, 0)))),
    }
}

#[allow(clippy::too_many_arguments)]
fn authenticators_page(
    provider: &Provider,
    session: &Session,
    all: bool,
    notice: Option<String>,
    error: Option<String>,
    status: u16,
    now: u64,
) -> Result<WebReply> {
    let view = AuthenticatorsView { all, notice, ..AuthenticatorsView::default() };
    authenticators_view(provider, session, view, error, status, now)
}

/// How the authenticators page is shown.
#[derive(Default)]
struct AuthenticatorsView {
    /// Everyone's (administrators).
    all: bool,
    notice: Option<String>,
    /// A registration code typed for an authenticator, kept after a refusal.
    typed: Option<(i64, String)>,
}

fn authenticators_view(provider: &Provider, session: &Session, view: AuthenticatorsView, error: Option<String>, status: u16, now: u64) -> Result<WebReply> {
    let all = view.all && session.user.admin;
    let list = provider.authenticators(if all { None } else { Some(&session.user.name) }, now)?;
    let rows = list
        .iter()
        .map(|a| {
            let mut row = Row::from(a);
            if let Some((id, typed)) = &view.typed {
                if *id == a.id {
                    row.typed = typed.clone();
                }
            }
            row
        })
        .collect();
    let page = AuthenticatorsPage {
        title: "Authenticators",
        user: Some(&session.user),
        csrf: &session.csrf,
        notice: view.notice,
        error,
        rows,
        show_owner: all,
        needs_code: provider.needs_second_factor(&session.user, now)?,
        admin: session.user.admin,
        max_fail: provider.validate_settings()?.max_fail,
    };
    Ok(WebReply::html(status, render(&page)?))
}

/// Add: the kinds of authenticator to choose from (as Entrust's portal offers them).
fn add_page(provider: &Provider, session: &Session, error: Option<String>, status: u16, now: u64) -> Result<WebReply> {
    let page = AddPage {
        title: "Add an authenticator",
        user: Some(&session.user),
        csrf: &session.csrf,
        notice: None,
        error,
        needs_code: provider.needs_second_factor(&session.user, now)?,
    };
    Ok(WebReply::html(status, render(&page)?))
}

fn admin_page(provider: &Provider, session: &Session, query: &str, notice: Option<String>, error: Option<String>, status: u16) -> Result<WebReply> {
    if !session.user.admin {
        return Err(ProviderError::Forbidden);
    }
    let search = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let users = provider
        .user_overview(&search)?
        .into_iter()
        .map(|u| UserRow {
            path: percent_encoding::utf8_percent_encode(&u.name, percent_encoding::NON_ALPHANUMERIC).to_string(),
            is_me: u.name == session.user.name,
            name: u.name,
            admin: u.admin,
            email: u.email.unwrap_or_default(),
            authenticators: u.authenticators,
            directory: u.directory,
        })
        .collect();
    let page = AdminPage {
        title: "Administration",
        user: Some(&session.user),
        csrf: &session.csrf,
        notice,
        error,
        users,
        search,
        settings: provider.token_settings()?,
    };
    Ok(WebReply::html(status, render(&page)?))
}

fn account_page(session: &Session, notice: Option<String>, error: Option<String>, status: u16) -> Result<WebReply> {
    let page = AccountPage {
        title: "My account",
        user: Some(&session.user),
        csrf: &session.csrf,
        notice,
        error,
        min_chars: crate::portal::accounts::MIN_PASSWORD_CHARS,
    };
    Ok(WebReply::html(status, render(&page)?))
}

fn mail_aad(user: &User, id: i64) -> String {
    format!("{}/{id}", user.name)
}

/// The Activate Token dialog for a fresh activation.
/// A new TOTP / HOTP token: its QR code and otpauth:// URI, shown this once.
fn oath_page(session: &Session, issued: &crate::tokens::oath::IssuedOath) -> Result<WebReply> {
    let png = softtoken_core::qr::png(&issued.uri, 6)?;
    let qr_width = png.get(16..20).map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]])).unwrap_or(300);
    let page = OathPage {
        title: "Add an authenticator app",
        user: Some(&session.user),
        csrf: &session.csrf,
        notice: None,
        error: None,
        serial: issued.serial.clone(),
        uri: Zeroizing::new(issued.uri.clone()),
        qr_base64: Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&png)),
        qr_width,
    };
    Ok(WebReply::html(200, render(&page)?))
}

fn dialog(provider: &Provider, session: &Session, id: i64, issued: &crate::Issued, now: u64) -> Result<WebReply> {
    let png = softtoken_core::qr::png(&issued.uri, 6)?;
    let qr_width = png.get(16..20).map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]])).unwrap_or(300);
    let blob = MailBlob {
        serial: issued.serial.clone(),
        password: issued.password.clone(),
        uri: issued.uri.clone(),
        expires_at: issued.expires_at,
        link: issued.link.clone(),
    };
    let json = Zeroizing::new(serde_json::to_vec(&blob).map_err(|e| ProviderError::Fault(e.to_string()))?);
    let sealed = provider.kek().seal(Sealed::Mail, &mail_aad(&session.user, id), &json)?;
    let lifetime = issued.expires_at.saturating_sub(now);
    let page = DialogPage {
        title: "Activate Token",
        user: Some(&session.user),
        csrf: &session.csrf,
        notice: None,
        error: None,
        id,
        qr_base64: base64::engine::general_purpose::STANDARD.encode(&png),
        qr_width,
        password: Zeroizing::new(issued.password.clone()),
        serial: issued.serial.clone(),
        expires_at: issued.expires_at,
        expires: web_time(issued.expires_at),
        lifetime: format!("{}:{:02}", lifetime / 60, lifetime % 60),
        link: issued.link.clone(),
        sealed: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed),
        can_email: session.user.email.is_some(),
        transaction_url: issued.transaction_url.clone(),
        manual_code: issued.manual_possible.then(|| Zeroizing::new(issued.activation_code.clone())),
        digits: issued.digits,
        expires_stamp: html::stamp(issued.expires_at),
    };
    Ok(WebReply::html(200, render(&page)?))
}

/// *Send Email*: the activation the dialog showed, to the user's address.
fn send_email(provider: &Provider, portal: &Portal, user: &User, id: i64, sealed: &str, now: u64) -> Result<String> {
    let to = user.email.as_deref().ok_or_else(|| ProviderError::Refused("your account has no e-mail address: ask an administrator to add one".into()))?;
    let broken = || ProviderError::Refused("this activation can no longer be e-mailed: pick Activate for a new one".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).map_err(|_| broken())?;
    let plain = provider.kek().open(Sealed::Mail, &mail_aad(user, id), &bytes).map_err(|_| broken())?;
    let blob: MailBlob = serde_json::from_slice(&plain).map_err(|_| broken())?;
    let a = provider.authenticator(user, id, now)?;
    if a.serial.as_deref() != Some(blob.serial.as_str()) || a.state != UserTokenState::Waiting {
        return Err(broken());
    }
    let issued = crate::Issued {
        serial: blob.serial.clone(),
        activation_code: String::new(),
        password: blob.password.clone(),
        uri: blob.uri.clone(),
        expires_at: blob.expires_at,
        link: blob.link.clone(),
        transaction_url: None,
        digits: a.digits.unwrap_or(6),
        manual_possible: false,
    };
    let message = crate::portal::mail::activation_message(&portal.mail_from, to, &issued, now)?;
    let name = format!("{}-{}-{}", now, user.name, blob.serial);
    crate::portal::mail::deliver(&portal.delivery, &message, &name)?;
    Ok(format!("The activation e-mail for {} was sent to {to}.", blob.serial))
}

fn active_serial(provider: &Provider, user: &User, id: i64, now: u64) -> Result<(String, u8)> {
    let a = provider.authenticator(user, id, now)?;
    match (a.state, a.serial, a.digits) {
        (UserTokenState::Active, Some(serial), Some(digits)) => Ok((serial, digits)),
        (state, _, _) => Err(ProviderError::Refused(format!("authenticator {id} is {}: complete its activation first", state.as_str()))),
    }
}

fn test_page(
    provider: &Provider,
    session: &Session,
    id: i64,
    otp: Option<&str>,
    pushed: Option<PushedView>,
    error: Option<String>,
    now: u64,
) -> Result<WebReply> {
    let (serial, digits) = active_serial(provider, &session.user, id, now)?;
    let verified = otp.map(|code| match provider.verify(&serial, code.trim(), now, 1) {
        Ok(v) if v.valid => (true, format!("Code accepted (clock drift {} steps).", v.drift_steps.unwrap_or(0))),
        Ok(_) => (false, "Wrong code.".to_string()),
        Err(e) => (false, message_of(&e)),
    });
    let status = if error.is_some() { 409 } else { 200 };
    let page = TestPage { title: "Test sign-in", user: Some(&session.user), csrf: &session.csrf, notice: None, error, id, serial, digits, verified, pushed };
    Ok(WebReply::html(status, render(&page)?))
}

fn test_push(provider: &Provider, portal: &Portal, session: &Session, id: i64, peer: IpAddr, now: u64) -> Result<WebReply> {
    let (serial, _) = active_serial(provider, &session.user, id, now)?;
    let opts = PushOptions {
        summary: "Sign in to the softtoken portal (test)".into(),
        details: vec![("User".into(), session.user.name.clone()), ("From".into(), peer.to_string())],
        lifetime_s: TEST_PUSH_LIFETIME_S,
        number_match: true,
        offline: false,
    };
    let pushed = match provider.push(&serial, &opts, now) {
        Ok(p) => p,
        Err(e @ (ProviderError::TooManyPending(_) | ProviderError::Unregistered(_))) => {
            return test_page(provider, session, id, None, None, Some(message_of(&e)), now)
        }
        Err(e) => return Err(e),
    };
    let wake = provider.wake(&portal.wake_ups, &serial, &pushed.transaction_id, pushed.push_token.as_deref(), now)?.describe_for_user();
    let view = PushedView { id: pushed.transaction_id.clone(), number: pushed.number.unwrap_or(0), state: "pending", wake: Some(wake) };
    test_page(provider, session, id, None, Some(view), None, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sign-in form posted from `peer`, with `cookies` besides the form's own.
    fn sign_in_as(provider: &Provider, portal: &Portal, name: &str, password: &str, peer: &str, cookies: &str) -> WebReply {
        let csrf = "0123456789abcdef0123456789abcdef";
        let cookie = format!("{LOGIN_COOKIE}={csrf}; {cookies}");
        let body = format!("name={name}&password={}&login_csrf={csrf}", password.replace(' ', "+"));
        let request = WebRequest {
            method: "POST",
            path: "/portal/login",
            query: "",
            cookie: Some(&cookie),
            origin: None,
            host: None,
            fetch_site: None,
            body: &body,
            peer: peer.parse().unwrap(),
        };
        handle(provider, portal, &request, 100)
    }

    fn device_cookie(reply: &WebReply) -> String {
        reply.headers.iter().find_map(|(n, v)| (*n == "set-cookie" && v.starts_with(DEVICE_COOKIE)).then(|| v.split(';').next().unwrap().to_string())).unwrap()
    }

    #[test]
    fn wrong_passwords_for_a_name_from_elsewhere_do_not_lock_its_user_out() {
        // The attack (issue 28, finding 10): ten wrong sign-ins as "ALICE" from another address
        // made alice's right password get 429, and blocked her password change.
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        p.add_user("alice", "alice password 1", false, None, 0).unwrap();
        let portal = test_portal(dir.path());
        let statuses: Vec<u16> = (0..12).map(|_| sign_in_as(&p, &portal, "ALICE", "wrong password!", "192.0.2.66", "").status).collect();
        assert_eq!(&statuses[..10], &[401; 10]);
        assert_eq!(&statuses[10..], &[429, 429], "the guessing address is held back");
        let first = sign_in_as(&p, &portal, "alice", "alice password 1", "192.0.2.7", "");
        assert_eq!(first.status, 303, "alice signs in from her own address");
        let known = device_cookie(&first);
        // Guesses from many addresses use up the name's failure budget: a new browser waits, but
        // the browser alice signed in with before is not held back, and brute force stays bounded.
        for i in 0..FAILED_LOGINS_PER_USER {
            sign_in_as(&p, &portal, "alice", "wrong password!", &format!("198.51.100.{}", i + 1), "");
        }
        assert_eq!(sign_in_as(&p, &portal, "alice", "alice password 1", "203.0.113.9", "").status, 429);
        assert_eq!(sign_in_as(&p, &portal, "alice", "alice password 1", "203.0.113.9", &known).status, 303);
        // A cookie made for another name does not pass.
        let forged = format!("{DEVICE_COOKIE}={}", portal.device_mark("mallory"));
        assert_eq!(sign_in_as(&p, &portal, "alice", "alice password 1", "203.0.113.10", &forged).status, 429);
    }

    /// A portal on http://127.0.0.1:1 with its mail in `dir`/outbox and no push senders.
    fn test_portal(dir: &std::path::Path) -> Portal {
        Portal::new("http://127.0.0.1:1".into(), false, Delivery::Outbox(dir.join("outbox")), "portal@example.com".into(), crate::push::Senders::default())
    }

    /// A signed-in request at `now`.
    fn request<'a>(method: &'a str, path: &'a str, cookie: &'a str, body: &'a str) -> WebRequest<'a> {
        WebRequest { method, path, query: "", cookie: Some(cookie), origin: None, host: None, fetch_site: None, body, peer: "192.0.2.7".parse().unwrap() }
    }

    fn set_cookies(reply: &WebReply) -> Vec<String> {
        reply.headers.iter().filter(|(n, _)| *n == "set-cookie").map(|(_, v)| v.split(';').next().unwrap().to_string()).collect()
    }

    #[test]
    fn reloading_the_activate_token_page_makes_no_new_token_and_an_expired_one_shows_no_password() {
        // Issue 33: the dialog was the answer to the POST that made the token, so a reload (or Back)
        // posted again and made another one.
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        p.add_user("alice", "alice password 1", false, None, 0).unwrap();
        p.add_user("bob", "bobs password 12", false, None, 0).unwrap();
        let portal = test_portal(dir.path());
        let session = |name: &str, password: &str| {
            let (_, new) = p.sign_in(name, password, 100).unwrap().unwrap();
            (format!("{SESSION_COOKIE}={}", new.id.as_str()), new.csrf)
        };
        let (alice, csrf) = session("alice", "alice password 1");
        let added = handle(&p, &portal, &request("POST", "/portal/authenticators", &alice, &format!("csrf={csrf}")), 100);
        assert_eq!(added.status, 303);
        let location = added.headers.iter().find(|(n, _)| *n == "location").unwrap().1.clone();
        assert!(location.starts_with("/portal/authenticators/") && location.ends_with("/activation"), "{location}");
        let view = set_cookies(&added).pop().unwrap();
        assert!(added
            .headers
            .iter()
            .any(|(n, v)| *n == "set-cookie" && v.contains("HttpOnly") && v.contains("SameSite=Strict") && v.contains("Path=/portal/authenticators/")));
        let cookies = format!("{alice}; {view}");
        let page = |cookies: &str, now: u64| String::from_utf8(handle(&p, &portal, &request("GET", &location, cookies, ""), now).body).unwrap();
        let password = |html: &str| html.split("id=\"password\" class=\"nowrap\">").nth(1).map(|r| r.split('<').next().unwrap().to_string());
        let first = password(&page(&cookies, 110)).expect("the dialog");
        assert_eq!(password(&page(&cookies, 120)), Some(first), "the same activation, shown again");
        assert_eq!(p.authenticators(Some("alice"), 120).unwrap().len(), 1, "no new token");
        // Expired: no QR code, no password; what to do instead.
        let late = page(&cookies, 100 + crate::DEFAULT_LIFETIME_S + 1);
        assert!(!late.contains("id=\"password\"") && !late.contains("id=\"qr\"") && late.contains("expired"), "{late}");
        // Another user's session with alice's cookie sees nothing of it.
        let (bob, _) = session("bob", "bobs password 12");
        let theirs = handle(&p, &portal, &request("GET", &location, &format!("{bob}; {view}"), ""), 130);
        assert!(!String::from_utf8(theirs.body).unwrap().contains("id=\"password\""));
    }
}
