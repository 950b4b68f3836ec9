//! Deep links: what a phone's link handler receives. [`classify`] routes a link to its flow; every
//! flow shows a preview before anything is stored.

use crate::entrust::{self, SecActivateUri};
use crate::error::{Error, Result};
use crate::uri::{migration, OtpAuth};

/// A recognised link.
#[derive(Debug)]
pub enum Link {
    /// An Entrust activation QR link (needs its password).
    SecActivate(SecActivateUri),
    /// One otpauth token.
    Otpauth(OtpAuth),
    /// A Google Authenticator export (one QR code of a batch).
    Migration(migration::MigrationPart),
}

/// Recognises and parses a link.
pub fn classify(text: &str) -> Result<Link> {
    let t = text.trim();
    if entrust::is_secactivate(t) {
        return Ok(Link::SecActivate(SecActivateUri::parse(t)?));
    }
    if migration::is_migration(t) {
        return Ok(Link::Migration(migration::parse(t)?));
    }
    if t.get(..10).is_some_and(|p| p.eq_ignore_ascii_case("otpauth://")) {
        return Ok(Link::Otpauth(OtpAuth::parse(t)?));
    }
    Err(Error::MalformedUri("not a link softtoken handles (secactivate, otpauth or otpauth-migration)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let v: serde_json::Value = serde_json::from_str(include_str!("../../fixtures/vectors/entrust.json")).unwrap();
        assert!(matches!(classify(v["secactivate"]["uri"].as_str().unwrap()).unwrap(), Link::SecActivate(_)));
        assert!(matches!(classify("otpauth://totp/a?secret=JBSWY3DP").unwrap(), Link::Otpauth(_)));
        let m = migration::format(&[OtpAuth::parse("otpauth://totp/a?secret=JBSWY3DP").unwrap()], 10, 1);
        assert!(matches!(classify(&m[0]).unwrap(), Link::Migration(_)));
        assert!(classify("https://example.com").is_err());
        assert!(classify("otpauth://totp/a").is_err());
    }
}
