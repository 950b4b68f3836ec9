//! Online commands of softtoken's open protocol (docs/protocol.md): activation by link, pending
//! push transactions and answers, push tokens, and `remove` (which unregisters online identities).
//! Requests go through softtoken-net's HTTP transport; `SOFTTOKEN_CA_CERT` names a PEM file of root
//! certificates to trust instead of Mozilla's (a company CA, a test provider's certificate).

use super::vault::{unlock, Ctx};
use crate::output::{emit, shown, warn, CmdResult, Failure};
use clap::Args;
use serde_json::{json, Value};
use softtoken_app::{Authenticator, Response};
use softtoken_net::http::HttpTransport;
use std::sync::Arc;

/// The unlocked vault with the desktop's HTTP transport.
fn online(ctx: &Ctx) -> Result<Authenticator, Failure> {
    let transport = transport()?;
    let app = unlock(ctx)?;
    app.set_transport(Arc::new(transport));
    Ok(app)
}

pub(crate) fn transport() -> Result<HttpTransport, Failure> {
    match std::env::var_os("SOFTTOKEN_CA_CERT").filter(|v| !v.is_empty()) {
        None => Ok(HttpTransport::new()),
        Some(path) => {
            let pem = std::fs::read(&path).map_err(|e| Failure::new(format!("SOFTTOKEN_CA_CERT {}: {e}", path.to_string_lossy())))?;
            HttpTransport::with_root_certificates(&pem).map_err(|e| Failure::new(format!("SOFTTOKEN_CA_CERT {}: {e}", path.to_string_lossy())))
        }
    }
}

/// Arguments of `activate-link`.
#[derive(Args)]
pub struct ActivateLinkArgs {
    /// The link from the activation email: softtoken://activate?base=…&token=…
    link: String,
    /// Name for the token (default: the provider's host).
    #[arg(long)]
    name: Option<String>,
    /// A push token (FCM/APNs) to register with the provider; desktops have none.
    #[arg(long)]
    push_token: Option<String>,
}

impl ActivateLinkArgs {
    /// The link alone (no name, no push token), as `open` passes it on.
    pub fn new(link: String) -> Self {
        ActivateLinkArgs { link, name: None, push_token: None }
    }
}

/// Runs `activate-link`.
pub fn activate_link(ctx: &Ctx, a: &ActivateLinkArgs) -> CmdResult {
    let done = online(ctx)?.activate_link(&a.link, a.push_token.as_deref(), a.name.as_deref())?;
    let i = &done.identity;
    emit(
        ctx.json,
        &json!({"id": i.id, "name": i.name, "serial": i.serial, "provider": i.provider, "registration_code": done.registration_code, "completed": true}),
        &format!(
            "Activated \"{}\" (serial {}) at {}: the app sent registration code {} itself.\n",
            shown(&i.name),
            i.serial.as_deref().unwrap_or(""),
            i.transaction_url.as_deref().unwrap_or(""),
            done.registration_code
        ),
    )
}

/// Runs `transactions`: every pending push transaction of the online identities.
pub fn transactions(ctx: &Ctx) -> CmdResult {
    let fetched = online(ctx)?.pending_transactions()?;
    let mut text = String::new();
    let list: Vec<Value> = fetched
        .transactions
        .iter()
        .map(|p| {
            let t = &p.transaction;
            // Summary and details are the website's words: escaped, so they cannot move the
            // cursor, rewrite a line, or forge one.
            text += &format!(
                "{}  {}  {}{}\n",
                t.id,
                shown(&p.identity_name),
                shown(&t.summary),
                match (t.number_match, p.choices.is_empty()) {
                    (false, _) => String::new(),
                    (true, true) => "  [type the number the website shows]".into(),
                    (true, false) =>
                        format!("  [pick what the login page shows: {}]", p.choices.iter().map(|c| shown(c).into_owned()).collect::<Vec<_>>().join(" ")),
                }
            );
            for (k, val) in &t.details {
                text += &format!("    {}: {}\n", shown(k), shown(val));
            }
            json!({
                "id": t.id, "identity": p.identity_name, "identity_id": p.identity_id, "summary": t.summary,
                "details": t.details.iter().map(|(k, val)| json!([k, val])).collect::<Vec<_>>(),
                "created_at": t.created_at, "expires_at": t.expires_at, "number_match": t.number_match,
                "choices": (!p.choices.is_empty()).then_some(&p.choices),
            })
        })
        .collect();
    let errors: Vec<Value> = fetched.failures.iter().map(|(name, e)| json!({"identity": name, "error": e.to_string()})).collect();
    for (name, e) in &fetched.failures {
        warn(&format!("{}: {e}", shown(name)));
    }
    if list.is_empty() {
        text += "no pending transactions\n";
    }
    emit(ctx.json, &json!({"transactions": list, "errors": errors}), &text)
}

/// Arguments of `respond`.
#[derive(Args)]
pub struct RespondArgs {
    /// The transaction id (from `softtoken transactions`).
    id: String,
    /// Confirm (the sign-in proceeds, logged), cancel (nothing logged) or suspicious (denied and
    /// logged for the administrator).
    #[arg(value_parser = ["confirm", "cancel", "suspicious"])]
    response: String,
    /// What the website shows, when the transaction asks for it: a softtoken provider's
    /// two-digit number, or the value privacyIDEA's login page shows (a digit or a letter).
    #[arg(long)]
    number: Option<String>,
    /// The identity (name or id) the transaction is listed under; needed when two identities
    /// list the same id (each provider picks its own ids).
    #[arg(long)]
    identity: Option<String>,
}

/// Runs `respond`.
pub fn respond(ctx: &Ctx, a: &RespondArgs) -> CmdResult {
    let response = Response::parse(&a.response)?;
    let answered = online(ctx)?.respond(a.identity.as_deref(), &a.id, response, a.number.as_deref())?;
    let state = answered.state;
    let mut text = format!("{}: {state}\n", a.id);
    if let Some(code) = &answered.display_code {
        text += &format!("Type this code into the login page: {code}\n");
    }
    emit(ctx.json, &json!({"id": a.id, "response": a.response, "state": state, "display_code": answered.display_code}), &text)
}

/// Runs `register-push-token`.
pub fn register_push_token(ctx: &Ctx, token: &str) -> CmdResult {
    let report = online(ctx)?.register_push_token(token)?.registrations;
    let mut text = String::new();
    let rows: Vec<Value> = report
        .iter()
        .map(|p| {
            let r = &p.result;
            text += &format!(
                "{}: {}\n",
                shown(&p.identity_name),
                r.as_ref().map(|()| "registered".to_string()).unwrap_or_else(|e| shown(&e.to_string()).into_owned())
            );
            json!({"identity": p.identity_name, "registered": r.is_ok(), "error": r.as_ref().err().map(ToString::to_string)})
        })
        .collect();
    if rows.is_empty() {
        text = "every online identity already has this push token\n".into();
    }
    let failed = report.iter().any(|p| p.result.is_err());
    emit(ctx.json, &json!({"identities": rows}), &text)?;
    if failed {
        return Err(Failure::new("some providers did not take the push token"));
    }
    Ok(())
}

/// Runs `remove`: an online identity is unregistered at its provider first.
pub fn remove(ctx: &Ctx, key: &str, yes: bool) -> CmdResult {
    let app = online(ctx)?;
    if !yes {
        // What was typed may be a part of the name: the confirmation names the identity found.
        let found = app.identity(key)?;
        if !crate::secrets::interactive() {
            return Err(Failure {
                code: crate::output::exit::USAGE,
                message: format!("removing \"{}\" cannot be undone: add --yes to confirm", shown(&found.name)),
            });
        }
        let issuer = found.provider.as_deref().map(|p| format!(" ({})", shown(p))).unwrap_or_default();
        let answer = crate::secrets::ask(&format!("Remove \"{}\"{issuer}? Its codes are gone unless you have a backup. [y/N] ", shown(&found.name)))?;
        if !matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(Failure::new("nothing removed"));
        }
        return finish_remove(ctx, &app, &found.id);
    }
    finish_remove(ctx, &app, key)
}

fn finish_remove(ctx: &Ctx, app: &Authenticator, key: &str) -> CmdResult {
    let gone = app.remove(key)?;
    let mut text = format!("Removed \"{}\"\n", shown(&gone.name));
    let (unregistered, error) = match &gone.unregistered {
        None => (Value::Null, Value::Null),
        Some(Ok(())) => {
            text += "Its provider forgot it: no more sign-in requests.\n";
            (json!(true), Value::Null)
        }
        Some(Err(e)) => {
            warn(&format!("removed here, but its provider could not be told ({e}); it may still send sign-in requests"));
            (json!(false), json!(e.to_string()))
        }
    };
    if let Some(left) = &gone.left_at_server {
        text += &format!("Note: {}.\n", shown(left));
    }
    emit(
        ctx.json,
        &json!({"id": gone.id, "name": gone.name, "removed": true, "unregistered": unregistered, "unregister_error": error, "left_at_server": gone.left_at_server}),
        &text,
    )
}
