//! A Steam Guard `.maFile` (Steam Desktop Authenticator and the tools that dump the Steam app):
//! `{"shared_secret":BASE64,"account_name",…}`, and the Steam mobile app's own account file,
//! `{"accounts":{"<key>":{…the same fields…},…}}` (one entry per signed-in account). Only
//! `shared_secret` makes codes; the other secrets (`identity_secret` for trade confirmations,
//! the revocation code) are not kept, and the report says so.

use super::{str_of, Cx};
use crate::error::{Error, Field, Result};
use crate::secret::Secret;
use crate::uri::OtpAuth;
use base64::Engine;
use serde_json::Value;

/// Whether `v` is the Steam app's account file: an `accounts` object whose entries carry
/// `shared_secret` (LastPass's `accounts` is an array, next to a `version`).
pub(super) fn is_accounts_file(v: &Value) -> bool {
    v.get("accounts").and_then(Value::as_object).is_some_and(|a| !a.is_empty() && a.values().all(|e| e.get("shared_secret").is_some()))
}

pub(super) fn read(v: &Value, cx: &mut Cx) -> Result<()> {
    match v.get("accounts").and_then(Value::as_object) {
        Some(accounts) if is_accounts_file(v) => accounts.values().try_for_each(|account| read_one(account, cx)),
        _ => read_one(v, cx),
    }
}

fn read_one(v: &Value, cx: &mut Cx) -> Result<()> {
    let account = Some(str_of(v, "account_name").trim()).filter(|a| !a.is_empty()).unwrap_or("Steam").to_string();
    let label = super::label("Steam", &account);
    let token = base64::engine::general_purpose::STANDARD
        .decode(str_of(v, "shared_secret").trim())
        .map_err(|_| Error::invalid(Field::Secret, "shared_secret is not base64"))
        .and_then(|b| {
            let s = Secret::new(b);
            crate::otp::check_secret(&s)?;
            Ok(OtpAuth::steam(Some("Steam".into()), account.clone(), s))
        });
    if token.is_ok() && (!str_of(v, "identity_secret").is_empty() || !str_of(v, "revocation_code").is_empty()) {
        cx.notice(&label, "its identity secret and revocation code (trade confirmations, removing the authenticator) are not kept: keep the .maFile");
    }
    cx.token(label, token)
}
