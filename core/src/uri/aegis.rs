//! Aegis Authenticator's plain (unencrypted) JSON export: `{"version":1,"header":{…},"db":{"entries":[…]}}`.
//! Encrypted exports (the `db` is a base64 string and `header.slots` is set) are refused with a
//! message saying so.

use super::otpauth::{decode_base32, OtpAuth, OtpKind};
use crate::error::{Error, Result};
use crate::otp::{self, Algorithm};
use serde_json::Value;

/// Each entry's label and token, or why it cannot be used.
pub fn parse(json: &str) -> Result<Vec<(String, Result<OtpAuth>)>> {
    let v: Value = serde_json::from_str(json).map_err(|e| Error::MalformedUri(format!("not an Aegis export: {e}")))?;
    if v["header"]["slots"].is_array() || v["db"].is_string() {
        return Err(Error::MalformedUri("this Aegis export is encrypted: export again from Aegis without encryption".into()));
    }
    let entries = v["db"]["entries"].as_array().ok_or_else(|| Error::MalformedUri("not an Aegis export: no db.entries".into()))?;
    Ok(entries
        .iter()
        .map(|e| {
            let name = e["name"].as_str().unwrap_or("").to_string();
            let issuer = e["issuer"].as_str().unwrap_or("").to_string();
            let label = if issuer.is_empty() { name.clone() } else { format!("{issuer}: {name}") };
            (label, entry(e, name, issuer))
        })
        .collect())
}

fn entry(e: &Value, name: String, issuer: String) -> Result<OtpAuth> {
    let info = &e["info"];
    let kind = match e["type"].as_str().unwrap_or("") {
        "totp" => OtpKind::Totp { period: otp::check_period(info["period"].as_u64().unwrap_or(30).min(u32::MAX as u64) as u32)? },
        "hotp" => OtpKind::Hotp { counter: info["counter"].as_u64().unwrap_or(0) },
        other => return Err(Error::MalformedUri(format!("{other:?} tokens are not supported (only totp and hotp)"))),
    };
    let secret = decode_base32(info["secret"].as_str().unwrap_or(""))?;
    let algorithm = Algorithm::parse(info["algo"].as_str().unwrap_or("SHA1"))?;
    let digits = otp::check_digits(info["digits"].as_u64().unwrap_or(6).min(255) as u8)?;
    Ok(OtpAuth {
        kind,
        issuer: Some(issuer).filter(|i| !i.is_empty()),
        account: if name.is_empty() { "(unnamed)".into() } else { name },
        secret,
        algorithm,
        digits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":2,"entries":[
        {"type":"totp","uuid":"1","name":"alice","issuer":"Example","note":"","icon":null,"info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA256","digits":8,"period":60}},
        {"type":"hotp","uuid":"2","name":"bob","issuer":"","info":{"secret":"GEZDGNBVGY3TQOJQ","algo":"SHA1","digits":6,"counter":5}},
        {"type":"steam","uuid":"3","name":"gaben","issuer":"Steam","info":{"secret":"JBSWY3DP","algo":"SHA1","digits":5,"period":30}},
        {"type":"totp","uuid":"4","name":"broken","issuer":"X","info":{"secret":"not base32!","algo":"SHA1","digits":6,"period":30}}
    ]}}"#;

    #[test]
    fn reads_entries_and_reports_each_problem() {
        let items = parse(EXPORT).unwrap();
        assert_eq!(items.len(), 4);
        let a = items[0].1.as_ref().unwrap();
        assert_eq!((a.issuer.as_deref(), a.account.as_str(), a.algorithm, a.digits, a.kind), (Some("Example"), "alice", Algorithm::Sha256, 8, OtpKind::Totp { period: 60 }));
        assert_eq!(items[1].1.as_ref().unwrap().kind, OtpKind::Hotp { counter: 5 });
        assert!(items[2].1.as_ref().unwrap_err().to_string().contains("\"steam\" tokens are not supported"));
        assert!(items[3].1.as_ref().unwrap_err().to_string().starts_with("secret: is not valid base32"));
        assert_eq!(items[3].0, "X: broken");
    }

    #[test]
    fn encrypted_and_foreign_files() {
        let enc = r#"{"version":1,"header":{"slots":[{"type":1}],"params":{}},"db":"AAAA"}"#;
        assert!(parse(enc).unwrap_err().to_string().contains("encrypted"));
        assert!(parse("[]").is_err());
        assert!(parse("not json").is_err());
    }
}
