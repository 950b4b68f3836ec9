//! FreeOTP+'s JSON export: `{"tokens":[{"type","algo","digits","period","counter","issuerExt",
//! "label","secret":[…]}],"tokenOrder":[…]}`. The secret is a list of signed bytes (-128..127).
//! FreeOTP+ increments an HOTP counter before it computes a code, so the counter it stores is one
//! lower than the counter of the next code. A TOTP token whose issuer is "Steam" shows Steam codes.

use super::{array_of, num_of, str_of, Cx, Entry, Kind};
use crate::error::{Error, Field, Result};
use crate::otp;
use crate::secret::Secret;
use crate::uri::OtpAuth;
use serde_json::Value;

const APP: &str = "FreeOTP+";

pub(super) fn read(v: &Value, cx: &mut Cx) -> Result<()> {
    for t in array_of(cx, v, "tokens")? {
        let issuer = str_of(t, "issuerExt").trim().to_string();
        let account = str_of(t, "label").trim().to_string();
        let label = super::label(&issuer, &account);
        let token = token(t, issuer, account);
        cx.token(label, token)?;
    }
    Ok(())
}

fn token(t: &Value, issuer: String, account: String) -> Result<OtpAuth> {
    let bytes = t["secret"].as_array().ok_or_else(|| Error::invalid(Field::Secret, "is missing (a list of bytes)"))?;
    if bytes.len() > otp::MAX_SECRET_LEN {
        return Err(Error::invalid(Field::Secret, format!("is longer than {} bytes", otp::MAX_SECRET_LEN)));
    }
    let secret = Secret::new(
        bytes
            .iter()
            .map(|b| {
                b.as_i64()
                    .filter(|b| (-128..=255).contains(b))
                    .map(|b| b as u8)
                    .ok_or_else(|| Error::invalid(Field::Secret, "holds a value that is not a byte"))
            })
            .collect::<Result<Vec<u8>>>()?,
    );
    otp::check_secret(&secret)?;
    let kind = match str_of(t, "type").to_ascii_uppercase().as_str() {
        "TOTP" if issuer == "Steam" => Kind::Steam,
        "TOTP" => Kind::Totp,
        "HOTP" => Kind::Hotp,
        other => return Err(Error::UnsupportedExport { format: APP, reason: format!("{other:?} tokens are not supported") }),
    };
    let counter = num_of(t, "counter").map(|c| c.saturating_add(1));
    Entry { kind, issuer: &issuer, account: &account, algorithm: Some(str_of(t, "algo")), digits: num_of(t, "digits"), period: num_of(t, "period"), counter }
        .token(secret)
}
