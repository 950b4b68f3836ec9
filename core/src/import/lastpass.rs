//! LastPass Authenticator's JSON export: `{"version":3,"accounts":[{"issuerName","userName",
//! "secret","timeStep","digits","algorithm","folderData"}],"folders":[…]}`. It holds TOTP tokens only.

use super::{array_of, num_of, str_of, Cx, Entry, Kind};
use crate::error::Result;
use crate::uri::otpauth::decode_base32;
use crate::uri::OtpAuth;
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
    let algorithm = Some(str_of(a, "algorithm"));
    Entry { kind: Kind::Totp, issuer: &issuer, account: &account, algorithm, digits: num_of(a, "digits"), period: num_of(a, "timeStep"), counter: None }
        .token(secret)
}
