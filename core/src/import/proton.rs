//! Proton Authenticator's JSON export: `{"version":1,"entries":[{"id","content":{"uri",
//! "entry_type":"Totp"|"Steam","name"},"note"}]}`, each token an otpauth or `steam://` URI. Its
//! password-protected export (`{"version","salt","content"}`) is refused: export without a password.

use super::{array_of, num_of, parse_token_uri, str_of, Cx};
use crate::error::{Error, Result};
use serde_json::Value;

const APP: &str = "Proton Authenticator";

pub(super) fn read(v: &Value, cx: &mut Cx) -> Result<()> {
    if v.get("entries").is_none() && v.get("content").is_some() {
        return Err(Error::UnsupportedExport { format: APP, reason: "password-protected exports are not supported: export again without a password".into() });
    }
    if num_of(v, "version") != Some(1) {
        return Err(Error::UnsupportedExport { format: APP, reason: format!("export version {} (softtoken reads 1)", v["version"]) });
    }
    for e in array_of(cx, v, "entries")? {
        let content = &e["content"];
        let token = parse_token_uri(str_of(content, "uri")).map(|mut t| {
            if str_of(content, "entry_type").eq_ignore_ascii_case("steam") && !str_of(content, "name").trim().is_empty() {
                t.account = str_of(content, "name").trim().to_string();
            }
            t
        });
        let label = match &token {
            Ok(t) => super::label(t.issuer.as_deref().unwrap_or(""), &t.account),
            Err(_) => Some(str_of(content, "name")).filter(|n| !n.trim().is_empty()).unwrap_or("(unnamed)").to_string(),
        };
        if token.is_ok() {
            cx.note(&label, e["note"].as_str());
        }
        cx.token(label, token)?;
    }
    Ok(())
}
