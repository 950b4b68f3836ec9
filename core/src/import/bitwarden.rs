//! Bitwarden's unencrypted exports. JSON: `{"encrypted":false,"items":[{"type":1,"name",
//! "login":{"username","totp"}}]}`; CSV: the columns `name`, `login_username` and `login_totp`
//! among others. The `totp` field holds an otpauth URI, a `steam://` URI or a bare base32 secret
//! (TOTP, SHA1, 6 digits, 30 s). Only logins with a TOTP field hold a token; the others are
//! counted in one notice. Encrypted exports (account- or password-protected) are refused.

use super::{label, str_of, Cx};
use crate::error::{Error, Result};
use crate::uri::otpauth::decode_base32;
use crate::uri::{OtpAuth, OtpKind};

const APP: &str = "Bitwarden";

/// Whether a text is a Bitwarden CSV export (its header names `login_totp`).
pub(super) fn is_csv(text: &str) -> bool {
    text.lines().next().is_some_and(|h| h.split(',').any(|c| c.trim().trim_matches('"') == "login_totp"))
}

pub(super) fn read(bytes: &[u8], cx: &mut Cx) -> Result<()> {
    let mut without_totp = 0usize;
    match cx.document(bytes) {
        Some(v) => {
            if v["encrypted"].as_bool() == Some(true) || v.get("passwordProtected").is_some() {
                return Err(Error::UnsupportedExport { format: APP, reason: "the export is encrypted: export again as .json or .csv (not encrypted)".into() });
            }
            for item in super::array_of(cx, &v, "items")? {
                let totp = item["login"]["totp"].as_str().unwrap_or("");
                if totp.trim().is_empty() {
                    without_totp += 1;
                    continue;
                }
                add(cx, str_of(item, "name"), item["login"]["username"].as_str().unwrap_or(""), totp)?;
            }
        }
        None => {
            let text = super::text_of(cx, bytes)?;
            if !is_csv(text) {
                return Err(cx.malformed("neither a JSON export nor a CSV export with a login_totp column"));
            }
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
            let headers = reader.headers().map_err(|e| cx.malformed(format!("CSV header: {e}")))?.clone();
            let col = |name: &str| headers.iter().position(|h| h.trim() == name);
            let (name, user, totp) = (col("name"), col("login_username"), col("login_totp"));
            for (n, row) in reader.records().enumerate() {
                let row = match row {
                    Ok(r) => r,
                    Err(e) => {
                        cx.skip(format!("CSV row {}", n + 2), cx.malformed(format!("{e}")))?;
                        continue;
                    }
                };
                let get = |c: Option<usize>| c.and_then(|c| row.get(c)).unwrap_or("");
                if get(totp).trim().is_empty() {
                    without_totp += 1;
                    continue;
                }
                add(cx, get(name), get(user), get(totp))?;
            }
        }
    }
    if without_totp > 0 {
        cx.notice("(Bitwarden items)", format!("{without_totp} without a TOTP secret (they hold no token)"));
    }
    Ok(())
}

fn add(cx: &mut Cx, name: &str, username: &str, totp: &str) -> Result<()> {
    let totp = totp.trim();
    let lower = totp.to_ascii_lowercase();
    let issuer = Some(name.trim().to_string()).filter(|n| !n.is_empty());
    let account = if username.trim().is_empty() { issuer.clone().unwrap_or_else(|| "(unnamed)".into()) } else { username.trim().to_string() };
    let token = if lower.starts_with("otpauth://") {
        OtpAuth::parse(totp).map(|mut t| {
            if t.issuer.is_none() {
                t.issuer = issuer.clone();
            }
            t
        })
    } else if lower.starts_with("steam://") {
        decode_base32(&totp[8..]).map(|s| OtpAuth::steam(issuer.clone(), account.clone(), s))
    } else {
        decode_base32(totp).map(|secret| OtpAuth {
            kind: OtpKind::Totp { period: 30 },
            issuer: issuer.clone(),
            account: account.clone(),
            secret,
            algorithm: Default::default(),
            digits: 6,
        })
    };
    let label = match &token {
        Ok(t) => label(t.issuer.as_deref().unwrap_or(""), &t.account),
        Err(_) => label(name, username),
    };
    cx.token(label, token)
}
