//! The demo's privacyIDEA part (`softtoken demo --privacyidea URL`): over privacyIDEA's REST API it
//! plays the administrator (enrollment step 1, and deleting the token afterwards) and a website (a
//! login with the token's PIN, then its outcome), while the app does what a phone does: enrolls
//! the push token, lists the sign-in request and answers it. The administrator's password comes
//! from `SOFTTOKEN_PRIVACYIDEA_ADMIN_PASSWORD`; the server needs the poll-only push policies of
//! docs/privacyidea.md and the user in its default realm.

use super::demo::Out;
use crate::output::{shown, Failure};
use serde_json::{json, Value};
use softtoken_app::{Authenticator, HttpRequest, Method, Response, TransactionTransport};
use softtoken_net::http::HttpTransport;

/// The environment variable holding the administrator's password.
pub const ADMIN_PASSWORD_ENV: &str = "SOFTTOKEN_PRIVACYIDEA_ADMIN_PASSWORD";
/// The token PIN the demo sets (the website's login sends it).
const DEMO_TOKEN_PIN: &str = "softtoken-demo-pin";

/// One REST call; the reply's JSON, or privacyIDEA's own error message.
fn call(http: &HttpTransport, method: Method, url: String, admin: Option<&str>, body: Option<Value>) -> Result<Value, Failure> {
    let headers = admin.map(|t| vec![("Authorization".to_string(), t.to_string())]).unwrap_or_default();
    let request = HttpRequest { method, url, headers, body: body.map(|b| b.to_string()), tls_verify: true };
    let reply = http.send(&request).map_err(|e| Failure::new(format!("demo: privacyIDEA: {e}")))?;
    let v: Value = serde_json::from_str(&reply.body).map_err(|_| Failure::new(format!("demo: privacyIDEA answered HTTP {} without JSON", reply.status)))?;
    if v["result"]["status"] != Value::Bool(true) {
        let message = v["result"]["error"]["message"].as_str().unwrap_or("no message");
        return Err(Failure::new(format!("demo: privacyIDEA refused: {}", shown(message))));
    }
    Ok(v)
}

/// Enrolls a push token for `user` at `url`, answers one login with Confirm, and reports what the
/// server saw; the token is removed from both sides at the end.
pub fn run(out: &mut Out, app: &Authenticator, step: usize, url: &str, user: &str) -> Result<Value, Failure> {
    let url = url.trim_end_matches('/');
    let password = std::env::var(ADMIN_PASSWORD_ENV)
        .map_err(|_| Failure::new(format!("demo: --privacyidea needs the administrator's password in {ADMIN_PASSWORD_ENV}")))?;
    let http = HttpTransport::new();
    out.say(format!("{step}. privacyIDEA at {url}: its administrator enrolls a push token for {user} (no Firebase: the app polls)."));
    let auth = call(&http, Method::Post, format!("{url}/auth"), None, Some(json!({"username": "admin", "password": password})))?;
    let admin = auth["result"]["value"]["token"].as_str().ok_or_else(|| Failure::new("demo: privacyIDEA sent no admin token"))?.to_string();
    let init =
        call(&http, Method::Post, format!("{url}/token/init"), Some(&admin), Some(json!({"type": "push", "genkey": 1, "user": user, "pin": DEMO_TOKEN_PIN})))?;
    let link = init["detail"]["pushurl"]["value"]
        .as_str()
        .ok_or_else(|| Failure::new("demo: privacyIDEA sent no push enrollment link (is it configured for push?)"))?;
    let serial = init["detail"]["serial"].as_str().unwrap_or_default().to_string();
    out.say(format!("   the QR code's link: {}…", shown(&link[..link.len().min(48)])));
    let identity = app.enroll_push(link, Some("privacyIDEA (demo)"), false)?.identity;
    out.say(format!("{}. The app made its 4096-bit key, enrolled {serial} and polled once: the server's key works.", step + 1));
    let login = call(&http, Method::Post, format!("{url}/validate/check"), None, Some(json!({"user": user, "pass": DEMO_TOKEN_PIN})))?;
    let transaction_id = login["detail"]["transaction_id"].as_str().ok_or_else(|| Failure::new("demo: the login started no push challenge"))?.to_string();
    out.say(format!("{}. {user} signs in to a website that asks privacyIDEA; the app lists the request:", step + 2));
    let pending = app.pending_transactions()?;
    let request =
        pending.transactions.iter().find(|p| p.identity_id == identity.id).ok_or_else(|| Failure::new("demo: the sign-in request is not in the app's list"))?;
    out.say(format!("    \"{}\" → the user answers Confirm.", shown(&request.transaction.summary)));
    let answered = app.respond(Some(&identity.id), &request.transaction.id, Response::Confirm, None)?;
    let poll = call(&http, Method::Get, format!("{url}/validate/polltransaction?transaction_id={transaction_id}"), None, None)?;
    let status = poll["detail"]["challenge_status"].as_str().unwrap_or("unknown").to_string();
    let finished = call(&http, Method::Post, format!("{url}/validate/check"), None, Some(json!({"user": user, "pass": "", "transaction_id": transaction_id})))?;
    let login_result = finished["result"]["authentication"].as_str().unwrap_or("unknown").to_string();
    out.say(format!("    the app: {}; privacyIDEA: challenge {status}, the website's login {login_result}", answered.state));
    let removed = app.remove(&identity.id)?;
    call(&http, Method::Delete, format!("{url}/token/{serial}"), Some(&admin), None)?;
    out.say(format!(
        "{}. Removed from the app ({}); the demo's administrator deleted it at the server too.",
        step + 3,
        removed.left_at_server.as_deref().map(shown).unwrap_or_default()
    ));
    Ok(json!({"serial": serial, "state": answered.state, "challenge_status": status, "login": login_result}))
}

/// What the demo says when no server is given.
pub fn how_to_run_one(out: &mut Out, step: usize) {
    out.say(format!(
        "{step}. privacyIDEA push sign-ins: not shown (no server given). With a privacyIDEA configured for poll-only push \
         (docs/privacyidea.md): softtoken demo --privacyidea URL [--privacyidea-user NAME], the administrator's password in \
         {ADMIN_PASSWORD_ENV}. One runs here with: bash tests/privacyidea/run.sh --serve FILE (FILE then holds its URL and \
         admin password; users alice, bob, … in its default realm)."
    ));
}
