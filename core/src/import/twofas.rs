//! 2FAS Authenticator's `.2fas` backup, schemas 1–4: `{"schemaVersion":N,"services":[…]}` or,
//! encrypted, `"servicesEncrypted":"CIPHERTEXT+TAG:SALT:IV"` (each base64): AES-256-GCM under
//! PBKDF2-HMAC-SHA256(password, salt, 10 000 iterations) over the JSON list of services. Each
//! service has `name`, a base32 `secret` and `otp` (`account`, `issuer`, `digits`, `period`,
//! `algorithm`, `tokenType` TOTP/HOTP/STEAM, `counter`); `groups` name the folders.

use super::{crypto, label, num_of, str_of, Cx, Entry, Kind};
use crate::error::{Error, Result};
use crate::uri::otpauth::decode_base32;
use crate::uri::OtpAuth;
use base64::Engine;
use serde_json::Value;

const APP: &str = "2FAS";
/// The newest schema softtoken reads.
const SCHEMA: u64 = 4;
const ITERATIONS: u32 = 10_000;

pub(super) fn read(v: &Value, cx: &mut Cx) -> Result<()> {
    let schema = num_of(v, "schemaVersion").ok_or_else(|| cx.malformed("no schemaVersion"))?;
    if !(1..=SCHEMA).contains(&schema) {
        return Err(Error::UnsupportedExport { format: APP, reason: format!("schema {schema} (softtoken reads 1 to {SCHEMA})") });
    }
    let services = match v.get("servicesEncrypted").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        Some(sealed) => decrypt(sealed, cx)?,
        None => v.get("services").cloned().ok_or_else(|| cx.malformed("no services"))?,
    };
    let services = services.as_array().ok_or_else(|| cx.malformed("services is not a list"))?;
    let groups: Vec<(&str, &str)> = v["groups"].as_array().map(|g| g.iter().map(|g| (str_of(g, "id"), str_of(g, "name"))).collect()).unwrap_or_default();
    for s in services {
        let otp = &s["otp"];
        let issuer = Some(str_of(otp, "issuer")).filter(|i| !i.trim().is_empty()).unwrap_or(str_of(s, "name"));
        let account = Some(str_of(otp, "account")).filter(|a| !a.trim().is_empty()).unwrap_or(str_of(otp, "label"));
        let label = label(issuer, account);
        let token = service(s, issuer, account);
        if token.is_ok() {
            if let Some((_, g)) = groups.iter().find(|(id, _)| !id.is_empty() && *id == str_of(s, "groupId")) {
                cx.notice(&label, format!("its group ({g}) is not kept: softtoken has no groups"));
            }
        }
        cx.token(label, token)?;
    }
    Ok(())
}

fn decrypt(sealed: &str, cx: &Cx) -> Result<Value> {
    let parts: Vec<&str> = sealed.split(':').collect();
    if parts.len() != 3 {
        return Err(cx.malformed(format!("servicesEncrypted has {} parts, not 3 (data:salt:iv)", parts.len())));
    }
    let b64 = |p: &str, what: &str| base64::engine::general_purpose::STANDARD.decode(p.trim()).map_err(|_| cx.malformed(format!("the {what} is not base64")));
    let (data, salt, iv) = (b64(parts[0], "data")?, b64(parts[1], "salt")?, b64(parts[2], "IV")?);
    let key = crypto::pbkdf2(crypto::Prf::Sha256, cx.password()?, &salt, ITERATIONS)?;
    let plain = crypto::aes_gcm_open(&key[..], &iv, &data, APP)?;
    serde_json::from_slice(&plain).map_err(|e| cx.malformed(format!("the decrypted services are not JSON: {e}")))
}

fn service(s: &Value, issuer: &str, account: &str) -> Result<OtpAuth> {
    let otp = &s["otp"];
    let secret = decode_base32(str_of(s, "secret"))?;
    let kind = match str_of(otp, "tokenType").to_ascii_uppercase().as_str() {
        "" | "TOTP" => Kind::Totp,
        "HOTP" => Kind::Hotp,
        "STEAM" => Kind::Steam,
        other => return Err(Error::UnsupportedExport { format: APP, reason: format!("{other} tokens are not supported") }),
    };
    let algorithm = Some(str_of(otp, "algorithm"));
    Entry { kind, issuer, account, algorithm, digits: num_of(otp, "digits"), period: num_of(otp, "period"), counter: num_of(otp, "counter") }.token(secret)
}
