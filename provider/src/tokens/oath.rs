//! Standard TOTP and HOTP tokens (RFC 6238, RFC 4226) for any authenticator app: issued to a user
//! as an `otpauth://` URI (and its QR code), the secret sealed at rest like an Entrust-style seed,
//! checked by the validate API ([`crate::validate`]) with the same replay and fail-counter rules.

use crate::database::params;
use crate::{random, sealed, Provider, ProviderError, Result};
use softtoken_core::otp::Algorithm;
use softtoken_core::uri::otpauth::{OtpAuth, OtpKind};
use softtoken_core::Secret;

/// The issuer written in URIs unless the operator names one.
pub const DEFAULT_ISSUER: &str = "softtoken";
/// Secret length in bytes: the hash's output length, as RFC 4226 recommends (SHA-1: 20).
fn secret_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
        Algorithm::Sha512 => 64,
    }
}

/// A standard token's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OathKind {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
}

impl OathKind {
    /// The word stored and shown (`totp`, `hotp`), privacyIDEA's token type names.
    pub fn as_str(self) -> &'static str {
        match self {
            OathKind::Totp => "totp",
            OathKind::Hotp => "hotp",
        }
    }

    /// Parses `totp` or `hotp`.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "totp" => Some(OathKind::Totp),
            "hotp" => Some(OathKind::Hotp),
            _ => None,
        }
    }
}

/// How to issue a standard token.
#[derive(Debug, Clone)]
pub struct OathOptions {
    /// TOTP or HOTP.
    pub kind: OathKind,
    /// 6 or 8.
    pub digits: u8,
    /// The HMAC hash (SHA-1 is what every app reads).
    pub algorithm: Algorithm,
    /// Seconds per TOTP code.
    pub period: u32,
    /// The issuer the app shows.
    pub issuer: String,
}

impl OathOptions {
    /// Defaults of the kind: 6 digits, SHA-1, 30 s, issuer `softtoken`.
    pub fn new(kind: OathKind) -> Self {
        OathOptions { kind, digits: 6, algorithm: Algorithm::Sha1, period: 30, issuer: DEFAULT_ISSUER.into() }
    }
}

/// A standard token just issued: its serial and the `otpauth://` URI the app scans. The URI holds
/// the secret: zeroized when dropped, redacted in Debug.
pub struct IssuedOath {
    /// Its serial (`TOTP…`, `HOTP…`).
    pub serial: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The owner's authenticator it became (its number in the portal).
    pub authenticator: i64,
}

impl std::fmt::Debug for IssuedOath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedOath").field("serial", &self.serial).field("uri", &"[redacted]").finish()
    }
}

impl Drop for IssuedOath {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.uri);
    }
}

impl Provider {
    /// Issues a TOTP or HOTP token to `owner` (a user of the portal): active at once, listed
    /// among their authenticators, checked by the validate API.
    pub fn issue_oath(&self, owner: &str, opts: &OathOptions, now: u64) -> Result<IssuedOath> {
        if opts.digits != 6 && opts.digits != 8 {
            return Err(ProviderError::Invalid("codes have 6 or 8 digits".into()));
        }
        if !(15..=120).contains(&opts.period) {
            return Err(ProviderError::Invalid("the period must be 15 to 120 seconds".into()));
        }
        if opts.issuer.trim().is_empty() || opts.issuer.chars().count() > 64 || opts.issuer.chars().any(char::is_control) {
            return Err(ProviderError::Invalid("the issuer must be 1 to 64 printable characters".into()));
        }
        if self.known_user(owner, now)?.is_none() {
            return Err(ProviderError::Refused(format!("there is no user {owner}")));
        }
        let mut secret = zeroize::Zeroizing::new(vec![0u8; secret_len(opts.algorithm)]);
        random::fill(&self.rng, &mut secret)?;
        let prefix = match opts.kind {
            OathKind::Totp => "TOTP",
            OathKind::Hotp => "HOTP",
        };
        let serial = format!("{prefix}{}", random::hex(&self.rng, 4)?.to_ascii_uppercase());
        let sealed_seed = self.kek.seal(sealed::Sealed::Seed, &serial, &secret)?;
        let tx = crate::database::begin_write(&self.db)?;
        // An oath token has no activation: the activation code column holds nothing, the token
        // is completed (active) when issued.
        tx.execute(
            "INSERT INTO tokens (serial, activation_code, digits, period, created_at, expires_at, seed, completed_at, kind, algorithm, counter)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?5, ?7, ?8, ?9)",
            params![
                serial,
                Vec::<u8>::new(),
                opts.digits,
                opts.period,
                now as i64,
                sealed_seed,
                opts.kind.as_str(),
                opts.algorithm.name(),
                (opts.kind == OathKind::Hotp).then_some(0i64)
            ],
        )?;
        let authenticator: i64 =
            tx.query_row("INSERT INTO authenticators (owner, serial, created_at) VALUES (?1, ?2, ?3) RETURNING id", params![owner, serial, now as i64], |r| {
                r.get(0)
            })?;
        tx.commit()?;
        let kind = match opts.kind {
            OathKind::Totp => OtpKind::Totp { period: opts.period },
            OathKind::Hotp => OtpKind::Hotp { counter: 0 },
        };
        let auth = OtpAuth {
            kind,
            issuer: Some(opts.issuer.clone()),
            account: format!("{owner} ({serial})"),
            secret: Secret::from_slice(&secret),
            algorithm: opts.algorithm,
            digits: opts.digits,
        };
        Ok(IssuedOath { serial, uri: auth.to_uri(), authenticator })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_totp_token_is_issued_to_a_user_as_an_otpauth_uri_any_app_reads() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        p.add_user("kate", "kate-password-1", false, None, 1_000).unwrap();
        let issued = p.issue_oath("kate", &OathOptions::new(OathKind::Totp), 1_000).unwrap();
        assert!(issued.serial.starts_with("TOTP") && issued.serial.len() == 12, "{}", issued.serial);
        let auth = OtpAuth::parse(&issued.uri).unwrap();
        assert_eq!((auth.digits, auth.algorithm, auth.kind), (6, Algorithm::Sha1, OtpKind::Totp { period: 30 }));
        assert_eq!(auth.secret.expose().len(), 20);
        assert_eq!(auth.issuer.as_deref(), Some("softtoken"));
        assert!(!format!("{issued:?}").contains(&issued.uri[20..]), "the URI is redacted");
        // Listed among kate's authenticators, active.
        let listed = p.authenticators(Some("kate"), 1_000).unwrap();
        assert_eq!(listed[0].serial.as_deref(), Some(issued.serial.as_str()));
        assert_eq!(listed[0].state, crate::portal::UserTokenState::Active);
        // Sealed at rest: the secret's bytes are nowhere in the stored row.
        let stored: Vec<u8> = p.db.query_row("SELECT seed FROM tokens WHERE serial = ?1", params![issued.serial], |r| r.get(0)).unwrap();
        assert!(!stored.windows(20).any(|w| w == auth.secret.expose()));
    }

    #[test]
    fn issuing_refuses_unknown_users_and_bad_options() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        assert!(matches!(p.issue_oath("nobody", &OathOptions::new(OathKind::Hotp), 0), Err(ProviderError::Refused(m)) if m.contains("nobody")));
        p.add_user("olga", "olga-password-1", false, None, 0).unwrap();
        assert!(p.issue_oath("olga", &OathOptions { digits: 7, ..OathOptions::new(OathKind::Hotp) }, 0).is_err());
        assert!(p.issue_oath("olga", &OathOptions { issuer: "a\u{202e}b\n".into(), ..OathOptions::new(OathKind::Hotp) }, 0).is_err());
        let hotp = p.issue_oath("olga", &OathOptions::new(OathKind::Hotp), 0).unwrap();
        assert!(hotp.uri.starts_with("otpauth://hotp/") && hotp.uri.contains("counter=0"), "{}", hotp.uri);
    }
}
