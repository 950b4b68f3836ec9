//! LastPass Authenticator's JSON export: `{"version":3,"accounts":[{"issuerName","userName",
//! "secret","timeStep","digits","algorithm","folderData"}],"folders":[…]}`. It holds TOTP tokens only.

use super::{array_of, num_of, str_of, Cx};
use crate::error::Result;
use crate::otp::{self, Algorithm};
use crate::uri::otpauth::decode_base32;
use crate::uri::{OtpAuth, OtpKind};
use serde_json::Value;

pub(super) fn read(v: &Value, cx: &mut Cx) -> Result<()> {
    for a in array_of(cx, v, "accounts")? {
        let issuer = Some(str_of(a, "issuerName")).filter(|i| !i.trim().is_empty()).unwrap_or(str_of(a, "originalIssuerName")).trim().to_string();
        let account = Some(str_of(a, "userName")).filter(|u| !u.trim().is_empty()).unwrap_or(str_of(a, "originalUserName")).trim().to_string();
        let label = super::label(&issuer, &account);
        let token = account_token(a, issuer, account);
        cx.token(label, token)?;
    }
    Ok(())
}

fn account_token(a: &Value, issuer: String, account: String) -> Result<OtpAuth> {
    let secret = decode_base32(str_of(a, "secret"))?;
    let issuer = Some(issuer).filter(|i| !i.is_empty());
    let account = if account.is_empty() { issuer.clone().unwrap_or_else(|| "(unnamed)".into()) } else { account };
    let period = otp::check_period(num_of(a, "timeStep").unwrap_or(30).min(u32::MAX as u64) as u32)?;
    let algorithm = Algorithm::parse(Some(str_of(a, "algorithm")).filter(|x| !x.is_empty()).unwrap_or("SHA1"))?;
    let digits = otp::check_digits(num_of(a, "digits").unwrap_or(6).min(255) as u8)?;
    Ok(OtpAuth { kind: OtpKind::Totp { period }, issuer, account, secret, algorithm, digits })
}
