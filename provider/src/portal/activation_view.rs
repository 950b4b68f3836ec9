//! Post → redirect → get for what the portal shows once it made it: the Activate Token dialog
//! and a new authenticator app's secret. The form that makes an activation (or a token) answers
//! with a redirect and a short-lived cookie holding what to show, sealed under the state's key and
//! bound to the user and the authenticator; the page it redirects to reads it. Reloading that page
//! shows the same activation again (until it expires) and never makes a new one; a secret is
//! shown once, and the cookie is cleared as it is.

use super::{authenticators_page, cookie, dialog, oath_page, Portal, Session, UserTokenState, WebReply, WebRequest};
use crate::sealed::Sealed;
use crate::{Provider, ProviderError, Result};
use base64::Engine;
use zeroize::Zeroizing;

/// Seconds a new authenticator app's secret waits for its page.
const SECRET_VIEW_S: u64 = 120;

fn cookie_name(what: &str, id: i64) -> String {
    format!("softtoken_{what}_{id}")
}

fn aad(what: &str, session: &Session, id: i64) -> String {
    format!("{what}/{}/{id}", session.user.name)
}

/// A cookie for `/portal/authenticators/{id}/` only, for `max_age` seconds.
fn set_cookie(portal: &Portal, what: &str, id: i64, value: &str, max_age: u64) -> String {
    format!(
        "{}={value}; Path=/portal/authenticators/{id}/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        cookie_name(what, id),
        if portal.tls { "; Secure" } else { "" }
    )
}

fn seal(provider: &Provider, what: &str, session: &Session, id: i64, json: &[u8]) -> Result<String> {
    let sealed = provider.kek().seal(Sealed::View, &aad(what, session, id), json)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed))
}

fn unseal(provider: &Provider, request: &WebRequest<'_>, what: &str, session: &Session, id: i64) -> Option<Zeroizing<Vec<u8>>> {
    let value = cookie(request.cookie, &cookie_name(what, id))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value).ok()?;
    provider.kek().open(Sealed::View, &aad(what, session, id), &bytes).ok()
}

/// Answers the form that issued `issued` for authenticator `id`: to its dialog's page.
pub(super) fn show_dialog(provider: &Provider, portal: &Portal, session: &Session, id: i64, issued: &crate::Issued, now: u64) -> Result<WebReply> {
    // The activation code goes only where the dialog shows it (a token without a policy).
    let mut shown = issued.clone();
    if !shown.manual_possible {
        zeroize::Zeroize::zeroize(&mut shown.activation_code);
    }
    let json = Zeroizing::new(serde_json::to_vec(&shown).map_err(|e| ProviderError::Fault(e.to_string()))?);
    let value = seal(provider, "activation", session, id, &json)?;
    let lifetime = issued.expires_at.saturating_sub(now).max(1);
    Ok(WebReply::redirect(&format!("/portal/authenticators/{id}/activation")).with_cookie(set_cookie(portal, "activation", id, &value, lifetime)))
}

/// `GET /portal/authenticators/{id}/activation`: the dialog while the activation can still be
/// completed; once it expired, or was completed, or on another browser, what to do instead.
pub(super) fn dialog_page(provider: &Provider, portal: &Portal, request: &WebRequest<'_>, session: &Session, id: i64, now: u64) -> Result<WebReply> {
    let a = provider.authenticator(&session.user, id, now)?;
    let issued: Option<crate::Issued> = unseal(provider, request, "activation", session, id).and_then(|json| serde_json::from_slice(&json).ok());
    let gone = |notice: Option<String>, error: Option<String>| {
        authenticators_page(provider, session, false, notice, error, 200, now).map(|r| r.with_cookie(set_cookie(portal, "activation", id, "", 0)))
    };
    let Some(issued) = issued.filter(|i| a.serial.as_deref() == Some(i.serial.as_str())) else {
        return gone(None, Some(format!("The activation of authenticator {id} is not shown here any more: pick Activate for a new QR code and password.")));
    };
    match a.state {
        UserTokenState::Waiting => {}
        UserTokenState::Active => return gone(Some(format!("Authenticator {id} is active: its activation was completed.")), None),
        _ => return gone(None, Some(format!("The activation of authenticator {id} expired: pick Activate for a new QR code and password."))),
    }
    dialog(provider, session, id, &issued, now)
}

/// Answers the form that made an authenticator app's token `issued`.
pub(super) fn show_secret(provider: &Provider, portal: &Portal, session: &Session, issued: &crate::tokens::oath::IssuedOath) -> Result<WebReply> {
    let id = issued.authenticator;
    let json = Zeroizing::new(serde_json::to_vec(&(issued.serial.as_str(), issued.uri.as_str())).map_err(|e| ProviderError::Fault(e.to_string()))?);
    let value = seal(provider, "secret", session, id, &json)?;
    Ok(WebReply::redirect(&format!("/portal/authenticators/{id}/secret")).with_cookie(set_cookie(portal, "secret", id, &value, SECRET_VIEW_S)))
}

/// `GET /portal/authenticators/{id}/secret`: the new token's QR code, this once.
pub(super) fn secret_page(provider: &Provider, portal: &Portal, request: &WebRequest<'_>, session: &Session, id: i64, now: u64) -> Result<WebReply> {
    let clear = set_cookie(portal, "secret", id, "", 0);
    let shown: Option<(String, Zeroizing<String>)> = unseal(provider, request, "secret", session, id)
        .and_then(|json| serde_json::from_slice::<(String, String)>(&json).ok())
        .map(|(serial, uri)| (serial, Zeroizing::new(uri)));
    match shown {
        Some((serial, uri)) => {
            oath_page(session, &crate::tokens::oath::IssuedOath { serial, uri: uri.to_string(), authenticator: id }).map(|r| r.with_cookie(clear))
        }
        None => authenticators_page(
            provider,
            session,
            false,
            None,
            Some(format!(
                "The secret of authenticator {id} was shown once and is not shown again: if it was not scanned, delete the authenticator and add a new one."
            )),
            200,
            now,
        ),
    }
}
