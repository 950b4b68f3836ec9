//! Entrust-style tokens, the provider's side of `docs/entrust.md`: [`Provider::issue`] mints a
//! serial number, an activation code and a QR password and encrypts them into a secactivate URI;
//! [`Provider::complete`] takes the registration code the user typed and derives the same seed
//! as the app; [`Provider::verify`] checks a code.

use crate::database::{params, OptionalRow};
use crate::{random, sealed, Provider, ProviderError, Result};
use softtoken_core::entrust::{self, ActivationCode, RegistrationCode, SerialNumber};
use softtoken_core::link::{check_base_url, OnlineActivationLink};
use softtoken_core::otp::{Algorithm, Totp};
use softtoken_core::Secret;
use zeroize::Zeroizing;

#[cfg(feature = "server")]
pub mod oath;

/// The policy put in QR payloads unless told otherwise (the one of the spec's public sample).
pub const DEFAULT_POLICY: &str = r#"{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}"#;
/// The registration address put in payloads unless told otherwise.
pub const DEFAULT_REGISTRATION_URL: &str = "provider.softtoken.invalid/activate";
/// Entrust deployments make an activation valid for 5 minutes.
pub const DEFAULT_LIFETIME_S: u64 = 300;

/// How to issue a token.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    /// 6 or 8.
    pub digits: u8,
    /// Policy string, verbatim, or none.
    pub policy: Option<String>,
    /// Activation password length (4..=16 digits).
    pub password_length: usize,
    /// Seconds the activation stays valid.
    pub lifetime_s: u64,
    /// `regurl` of the payload.
    pub registration_url: Option<String>,
    /// Also make an online activation link to this provider base URL (`docs/protocol.md` §6);
    /// the QR payload then carries it as `txurl`, so a token activated from the QR code (not
    /// only from the link) receives push sign-ins.
    pub online_base_url: Option<String>,
    /// The company's name, put in the payload as `issuer` (the app shows it and names the token
    /// after it).
    pub issuer: Option<String>,
}

impl Default for IssueOptions {
    fn default() -> Self {
        IssueOptions {
            digits: 6,
            policy: Some(DEFAULT_POLICY.into()),
            password_length: 8,
            lifetime_s: DEFAULT_LIFETIME_S,
            registration_url: Some(DEFAULT_REGISTRATION_URL.into()),
            online_base_url: None,
            issuer: None,
        }
    }
}

/// A freshly issued activation: what the portal shows the user. Its secrets (password,
/// activation code, the link's token) are zeroized when dropped and redacted in Debug; the
/// portal carries it sealed from the form that issued it to the page that shows it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Issued {
    /// Serial number, dashed.
    pub serial: String,
    /// Activation code, dashed.
    pub activation_code: String,
    /// The QR password.
    pub password: String,
    /// The secactivate URI (the QR code's text).
    pub uri: String,
    /// Unix time the activation expires.
    pub expires_at: u64,
    /// The online activation link (`softtoken://activate?…`) when issued with a base URL.
    pub link: Option<String>,
    /// Where the app gets push sign-ins (the base URL, also in the QR payload as `txurl`).
    pub transaction_url: Option<String>,
    /// Code length.
    pub digits: u8,
    /// True when issued without a policy: serial number + activation code also activate it.
    pub manual_possible: bool,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("serial", &self.serial)
            .field("activation_code", &"[redacted]")
            .field("password", &"[redacted]")
            .field("uri", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("link", &self.link.as_ref().map(|_| "[redacted]"))
            .field("transaction_url", &self.transaction_url)
            .field("digits", &self.digits)
            .finish()
    }
}

impl Drop for Issued {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.activation_code.zeroize();
        self.password.zeroize();
        if let Some(link) = &mut self.link {
            link.zeroize();
        }
    }
}

/// A verification result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Whether the code matched within the window.
    pub valid: bool,
    /// Steps between the code's time step and the server's (positive: the device is ahead).
    pub drift_steps: Option<i64>,
}

impl Provider {
    /// Mints a serial, an activation code and a password; returns the QR URI.
    pub fn issue(&self, opts: &IssueOptions, now: u64) -> Result<Issued> {
        if opts.digits != 6 && opts.digits != 8 {
            return Err(ProviderError::Invalid("Entrust tokens have 6 or 8 digits".into()));
        }
        if !(4..=16).contains(&opts.password_length) {
            return Err(ProviderError::Invalid("--password-length must be 4 to 16 digits".into()));
        }
        if let Some(p) = &opts.policy {
            entrust::Policy::parse(Some(p))?;
        }
        let serial = SerialNumber::from_prefix(random::digits(&self.rng, 9)?.try_into().expect("9"));
        let ac = ActivationCode::from_prefix(random::digits(&self.rng, 15)?.try_into().expect("15"));
        let password: Zeroizing<String> = Zeroizing::new(random::digits(&self.rng, opts.password_length)?.iter().map(|d| (b'0' + d) as char).collect());
        let mut payload = serde_json::Map::new();
        payload.insert("sn".into(), serial.to_string().into());
        payload.insert("ac".into(), ac.dashed().into());
        if let Some(p) = &opts.policy {
            payload.insert("policy".into(), p.clone().into());
        }
        if let Some(u) = &opts.registration_url {
            payload.insert("regurl".into(), u.clone().into());
        }
        // Always said (softtoken's extension), so the app never has to guess 6.
        payload.insert("digits".into(), opts.digits.into());
        // The online activation link (docs/protocol.md §6): a random 128-bit token, stored hashed.
        let link = opts
            .online_base_url
            .as_deref()
            .map(|base| -> Result<OnlineActivationLink> { Ok(OnlineActivationLink { base_url: check_base_url(base)?, token: random::hex(&self.rng, 16)? }) })
            .transpose()?;
        // softtoken's extensions (docs/entrust.md): where push sign-ins come from, and who issued it.
        if let Some(l) = &link {
            payload.insert("txurl".into(), l.base_url.clone().into());
        }
        if let Some(issuer) = opts.issuer.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            payload.insert("issuer".into(), issuer.into());
        }
        let json = Zeroizing::new(serde_json::Value::Object(payload).to_string());
        let mut salt = [0u8; 8];
        random::fill(&self.rng, &mut salt)?;
        let uri = entrust::encrypt_uri(entrust::secactivate::DEFAULT_SCHEME, &json, &password, salt)?;
        let expires_at = now.saturating_add(opts.lifetime_s);
        self.db.execute(
            "INSERT INTO tokens (serial, activation_code, policy, digits, period, created_at, expires_at, activation_token, online) VALUES (?1, ?2, ?3, ?4, 30, ?5, ?6, ?7, ?8)",
            params![
                serial.to_string(),
                self.kek.seal(sealed::Sealed::ActivationCode, &serial.to_string(), ac.dashed().as_bytes())?,
                opts.policy,
                opts.digits,
                now as i64,
                expires_at as i64,
                link.as_ref().map(|l| sealed::sha256_hex(&l.token)),
                link.is_some()
            ],
        )?;
        Ok(Issued {
            serial: serial.to_string(),
            activation_code: ac.dashed(),
            password: password.to_string(),
            uri,
            expires_at,
            transaction_url: link.as_ref().map(|l| l.base_url.clone()),
            link: link.map(|l| l.format()),
            digits: opts.digits,
            manual_possible: opts.policy.is_none(),
        })
    }

    /// Completes an activation with the registration code the user typed into the portal.
    pub fn complete(&self, serial: &str, registration_code: &str, now: u64) -> Result<()> {
        let serial = SerialNumber::parse(serial)?;
        let rc = RegistrationCode::parse(registration_code)?;
        let row: Option<(Vec<u8>, Option<String>, i64, Option<i64>)> = self
            .db
            .query_row("SELECT activation_code, policy, expires_at, completed_at FROM tokens WHERE serial = ?1", params![serial.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let (ac, policy, expires_at, completed_at) = row.ok_or_else(|| ProviderError::UnknownSerial(serial.to_string()))?;
        if completed_at.is_some() {
            return Err(ProviderError::AlreadyCompleted(serial.to_string()));
        }
        if now >= expires_at as u64 {
            return Err(ProviderError::Expired);
        }
        let ac = self.activation_code_of(&serial.to_string(), &ac)?;
        let seed = entrust::seed_from_registration(&serial, &ac, &rc, policy.as_deref());
        let changed = self.db.execute(
            "UPDATE tokens SET registration_code = ?1, seed = ?2, completed_at = ?3 WHERE serial = ?4 AND completed_at IS NULL",
            params![rc.to_string(), self.kek.seal(sealed::Sealed::Seed, &serial.to_string(), seed.expose())?, now as i64, serial.to_string()],
        )?;
        if changed == 0 {
            // Another request completed it between the check and this update.
            return Err(ProviderError::AlreadyCompleted(serial.to_string()));
        }
        Ok(())
    }

    /// An activation code as stored (sealed).
    pub(crate) fn activation_code_of(&self, serial: &str, sealed_code: &[u8]) -> Result<ActivationCode> {
        let plain = self.kek.open(sealed::Sealed::ActivationCode, serial, sealed_code)?;
        let text = std::str::from_utf8(&plain).map_err(|_| ProviderError::SealBroken { what: "activation_code", serial: serial.to_string() })?;
        Ok(ActivationCode::parse(text)?)
    }

    /// Checks a code at `at` within ±`window` steps and reports the drift.
    pub fn verify(&self, serial: &str, otp: &str, at: u64, window: u32) -> Result<Verification> {
        let serial = SerialNumber::parse(serial)?;
        let row: Option<(Option<Vec<u8>>, i64, i64, Option<i64>)> = self
            .db
            .query_row("SELECT seed, digits, period, unregistered_at FROM tokens WHERE serial = ?1", params![serial.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let (seed, digits, period, unregistered_at) = row.ok_or_else(|| ProviderError::UnknownSerial(serial.to_string()))?;
        // A token deleted in the portal or removed from its app (a lost phone's) never verifies.
        if unregistered_at.is_some() {
            return Err(ProviderError::Unregistered(serial.to_string()));
        }
        let seed = seed.ok_or_else(|| ProviderError::NotCompleted(serial.to_string()))?;
        let seed = self.kek.open(sealed::Sealed::Seed, &serial.to_string(), &seed)?;
        let totp = Totp::new(Secret::from_slice(&seed), Algorithm::Sha256, digits as u8, period as u32)?;
        let drift = totp.verify(otp, at, window)?;
        Ok(Verification { valid: drift.is_some(), drift_steps: drift })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use softtoken_core::activation::PendingActivation;

    #[test]
    fn issue_decrypt_complete_verify() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let issued = p.issue(&IssueOptions { digits: 8, ..Default::default() }, 1_000).unwrap();
        assert_eq!(issued.password.len(), 8);
        let payload = entrust::decrypt_uri(&issued.uri, &issued.password).unwrap();
        assert_eq!(payload.serial.to_string(), issued.serial);
        assert_eq!(payload.digits, Some(8));
        assert_eq!(payload.policy.as_deref(), Some(DEFAULT_POLICY));
        let rng = ring::rand::SystemRandom::new();
        let pending = PendingActivation::from_uri(&issued.uri, &issued.password, None, &rng).unwrap();
        let rc = pending.registration_code.to_string();
        let id = pending.into_identity(None, None, 1_000, &rng).unwrap();
        assert!(matches!(p.verify(&issued.serial, "12345678", 1_000, 1), Err(ProviderError::NotCompleted(_))));
        p.complete(&issued.serial, &rc, 1_100).unwrap();
        assert!(matches!(p.complete(&issued.serial, &rc, 1_100), Err(ProviderError::AlreadyCompleted(_))));
        let code = id.code_at(2_000_000).unwrap().code;
        assert_eq!(p.verify(&issued.serial, &code, 2_000_000, 1).unwrap(), Verification { valid: true, drift_steps: Some(0) });
        assert_eq!(p.verify(&issued.serial, &code, 2_000_030, 1).unwrap(), Verification { valid: true, drift_steps: Some(-1) });
        assert!(!p.verify(&issued.serial, &code, 2_000_300, 1).unwrap().valid);
    }

    #[test]
    fn debug_output_of_an_issued_activation_shows_no_secret() {
        // An `Issued` once derived Debug, so a `{:?}` in a log line printed the QR password and the activation code.
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let issued = p.issue(&IssueOptions::default(), 1_000).unwrap();
        let shown = format!("{issued:?}");
        assert!(shown.contains(&issued.serial), "{shown}");
        for secret in [&issued.password, &issued.activation_code, &issued.uri] {
            assert!(!shown.contains(secret.as_str()), "{shown}");
        }
        assert!(!shown.contains(&issued.activation_code.replace('-', "")), "{shown}");
    }

    #[test]
    fn expiry_and_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let issued = p.issue(&IssueOptions { lifetime_s: 60, policy: None, ..Default::default() }, 1_000).unwrap();
        assert!(matches!(p.complete(&issued.serial, "12211-49352", 1_060), Err(ProviderError::Expired)));
        assert_eq!(p.complete(&issued.serial, "12211-49353", 1_000).unwrap_err().to_string(), "registration code: check digit does not match");
        assert!(matches!(p.complete("48244-13456", "12211-49352", 1_000), Err(ProviderError::UnknownSerial(_))));
        assert!(p.issue(&IssueOptions { digits: 7, ..Default::default() }, 0).is_err());
        assert!(p.issue(&IssueOptions { policy: Some("not json".into()), ..Default::default() }, 0).is_err());
    }
}
