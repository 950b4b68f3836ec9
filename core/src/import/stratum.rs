//! Stratum (formerly Authenticator Pro) backups. Plain: `{"Authenticators":[{"Type","Issuer",
//! "Username","Secret","Algorithm","Digits","Period","Counter"}],"Categories":[…],
//! "AuthenticatorCategories":[…]}` with `Type` 1 HOTP, 2 TOTP, 3 mOTP, 4 Steam, 5 Yandex and
//! `Algorithm` 0 SHA1, 1 SHA256, 2 SHA512. Encrypted: `AUTHENTICATORPRO`, a 16-byte salt, a
//! 12-byte IV, then AES-256-GCM under Argon2id(password, salt, 3 passes, 64 MiB, 4 lanes). Legacy
//! encrypted: `AuthenticatorPro`, a 20-byte salt, a 16-byte IV, then AES-256-CBC under
//! PBKDF2-HMAC-SHA1(password, salt, 64 000 iterations).

use super::{crypto, label, num_of, str_of, Cx, Entry, Kind};
use crate::error::{Error, Result};
use crate::uri::otpauth::decode_base32;
use crate::uri::OtpAuth;
use serde_json::Value;

const APP: &str = "Stratum";
/// Magic of the current encrypted format.
pub(super) const HEADER: &[u8; 16] = b"AUTHENTICATORPRO";
/// Magic of the legacy encrypted format.
pub(super) const HEADER_LEGACY: &[u8; 16] = b"AuthenticatorPro";

pub(super) fn read(bytes: &[u8], cx: &mut Cx) -> Result<()> {
    let plain = if let Some(rest) = bytes.strip_prefix(HEADER.as_slice()) {
        if rest.len() < 16 + 12 + 16 {
            return Err(cx.malformed("the encrypted backup is shorter than its header"));
        }
        let (salt, rest) = rest.split_at(16);
        let (iv, sealed) = rest.split_at(12);
        let key = crypto::argon2id(cx.password()?, salt, 64 << 10, 3, 4)?;
        Some(crypto::aes_gcm_open(&key[..], iv, sealed, APP)?)
    } else if let Some(rest) = bytes.strip_prefix(HEADER_LEGACY.as_slice()) {
        if rest.len() < 20 + 16 + 16 {
            return Err(cx.malformed("the encrypted backup is shorter than its header"));
        }
        let (salt, rest) = rest.split_at(20);
        let (iv, sealed) = rest.split_at(16);
        let key = crypto::pbkdf2(crypto::Prf::Sha1, cx.password()?, salt, 64_000)?;
        Some(crypto::aes_cbc_open(&key[..], iv, sealed, APP)?)
    } else {
        None
    };
    let v: Value = match plain {
        // CBC has no tag: a wrong password usually fails the padding, else the JSON.
        Some(plain) => serde_json::from_slice(&plain).map_err(|_| Error::WrongExportPassword { format: APP })?,
        None => cx.document_or_err(bytes)?,
    };
    let categories: Vec<(&str, &str)> =
        v["Categories"].as_array().map(|c| c.iter().map(|c| (str_of(c, "Id"), str_of(c, "Name"))).collect()).unwrap_or_default();
    let links = v["AuthenticatorCategories"].as_array().cloned().unwrap_or_default();
    for a in super::array_of(cx, &v, "Authenticators")? {
        let label = label(str_of(a, "Issuer"), str_of(a, "Username"));
        let token = entry(a);
        if token.is_ok() {
            let names: Vec<&str> = links
                .iter()
                .filter(|l| str_of(l, "AuthenticatorSecret") == str_of(a, "Secret"))
                .filter_map(|l| categories.iter().find(|(id, _)| *id == str_of(l, "CategoryId")).map(|(_, n)| *n))
                .collect();
            if !names.is_empty() {
                cx.notice(&label, format!("its categories ({}) are not kept: softtoken has no groups", names.join(", ")));
            }
        }
        cx.token(label, token)?;
    }
    Ok(())
}

fn entry(a: &Value) -> Result<OtpAuth> {
    let secret = decode_base32(str_of(a, "Secret"))?;
    let kind = match num_of(a, "Type") {
        Some(1) => Kind::Hotp,
        Some(2) => Kind::Totp,
        Some(4) => Kind::Steam,
        Some(3) => return Err(Error::UnsupportedExport { format: APP, reason: "mOTP tokens are not supported".into() }),
        Some(5) => return Err(Error::UnsupportedExport { format: APP, reason: "Yandex tokens are not supported".into() }),
        other => return Err(Error::UnsupportedExport { format: APP, reason: format!("token type {other:?} is not supported") }),
    };
    let algorithm = match num_of(a, "Algorithm").unwrap_or(0) {
        0 => "SHA1",
        1 => "SHA256",
        2 => "SHA512",
        n => return Err(Error::invalid(crate::error::Field::Algorithm, format!("algorithm number {n} is not SHA1 (0), SHA256 (1) or SHA512 (2)"))),
    };
    let (issuer, account) = (str_of(a, "Issuer"), str_of(a, "Username"));
    Entry { kind, issuer, account, algorithm: Some(algorithm), digits: num_of(a, "Digits"), period: num_of(a, "Period"), counter: num_of(a, "Counter") }
        .token(secret)
}
