//! andOTP backups. Plain: a JSON list of `{"secret","issuer","label","digits","type",
//! "algorithm","period","counter","tags"}` (`type` TOTP, HOTP or STEAM; without `issuer`, the
//! label reads "Issuer - Account"). Encrypted: a big-endian 32-bit PBKDF2 iteration count, a
//! 12-byte salt, a 12-byte nonce, then AES-256-GCM under PBKDF2-HMAC-SHA1(password, salt). The old
//! encrypted format has only the nonce and the sealed JSON, under SHA-256(password). The files
//! carry no magic, so an encrypted one is tried as the new format, then as the old.

use super::{crypto, num_of, str_of, Cx, Entry, Kind};
use crate::error::{Error, Result};
use crate::uri::otpauth::decode_base32;
use crate::uri::OtpAuth;
use serde_json::Value;

const APP: &str = "andOTP";
const TAG: usize = 16;

/// Whether binary bytes can be an encrypted andOTP backup: long enough for a nonce and a tag, and
/// not a file with a well-known magic (images, PDF, ZIP, gzip), which would otherwise be taken
/// for one and fail as a "wrong password".
pub(super) fn looks_encrypted(bytes: &[u8]) -> bool {
    const MAGICS: [&[u8]; 8] = [b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"BM"];
    bytes.len() > 12 + TAG && !MAGICS.iter().any(|m| bytes.starts_with(m))
}

pub(super) fn read(bytes: &[u8], cx: &mut Cx) -> Result<()> {
    let v: Value = match cx.document(bytes) {
        Some(v) => v,
        None => {
            if !looks_encrypted(bytes) {
                return Err(cx.malformed("too short for an encrypted backup"));
            }
            let plain = decrypt(bytes, cx.password()?)?;
            serde_json::from_slice(&plain).map_err(|e| cx.malformed(format!("the decrypted backup is not JSON: {e}")))?
        }
    };
    let entries = v.as_array().ok_or_else(|| cx.malformed("not a list of entries"))?;
    for e in entries {
        let (issuer, account) = names(e);
        let label = super::label(&issuer, &account);
        let token = entry(e, issuer, account);
        if token.is_ok() {
            let tags: Vec<&str> = e["tags"].as_array().map(|t| t.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            if !tags.is_empty() {
                cx.notice(&label, format!("its tags ({}) are not kept: softtoken has no tags", tags.join(", ")));
            }
        }
        cx.token(label, token)?;
    }
    Ok(())
}

/// Tries the new format (when its iteration count is plausible), then the old one.
fn decrypt(bytes: &[u8], password: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let iterations = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if bytes.len() > 4 + 12 + 12 + TAG && (1..=crypto::MAX_PBKDF2_ITERATIONS).contains(&iterations) {
        let key = crypto::pbkdf2(crypto::Prf::Sha1, password, &bytes[4..16], iterations)?;
        match crypto::aes_gcm_open(&key[..], &bytes[16..28], &bytes[28..], APP) {
            Err(Error::WrongExportPassword { .. }) => {}
            other => return other,
        }
    }
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    key.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, password.as_bytes()).as_ref());
    crypto::aes_gcm_open(&key[..], &bytes[..12], &bytes[12..], APP)
}

fn names(e: &Value) -> (String, String) {
    let label = str_of(e, "label").trim();
    match e.get("issuer").and_then(Value::as_str) {
        Some(issuer) => (issuer.trim().to_string(), label.to_string()),
        None => match label.split_once(" - ") {
            Some((i, a)) => (i.trim().to_string(), a.trim().to_string()),
            None => (String::new(), label.to_string()),
        },
    }
}

fn entry(e: &Value, issuer: String, account: String) -> Result<OtpAuth> {
    let secret = decode_base32(str_of(e, "secret"))?;
    let kind = match str_of(e, "type").to_ascii_uppercase().as_str() {
        "TOTP" => Kind::Totp,
        "HOTP" => Kind::Hotp,
        "STEAM" => Kind::Steam,
        other => return Err(Error::UnsupportedExport { format: APP, reason: format!("{other:?} tokens are not supported") }),
    };
    let algorithm = Some(str_of(e, "algorithm"));
    Entry { kind, issuer: &issuer, account: &account, algorithm, digits: num_of(e, "digits"), period: num_of(e, "period"), counter: num_of(e, "counter") }
        .token(secret)
}
