//! Activation, preview then commit: decrypting a QR code or typing serial + activation code gives a
//! [`PendingActivation`] showing provider, serial, policy and the registration code; it becomes an
//! [`Identity`] only on commit, and dropping it (cancel) wipes its seed.

use crate::entrust::{self, ActivationCode, ObservedOtp, Policy, RegistrationCode, SerialNumber};
use crate::error::Result;
use crate::identity::{new_id, Identity, IdentityKind};
use crate::otp;
use crate::secret::Secret;
use crate::uri::{OtpAuth, OtpKind};
use ring::rand::SecureRandom;

/// An activation shown to the user before anything is stored.
#[derive(Debug)]
pub struct PendingActivation {
    /// Token serial number.
    pub serial: SerialNumber,
    /// False when the payload's serial failed its check digit (a warning to show).
    pub serial_check_digit_ok: bool,
    /// Identity provider name: the activation's company name (`issuer`), else the registration
    /// address's host.
    pub provider: Option<String>,
    /// The policy string, verbatim.
    pub policy: Option<String>,
    /// Where the token registers.
    pub registration_url: Option<String>,
    /// The code the user types into the company's portal.
    pub registration_code: RegistrationCode,
    /// Code length.
    pub digits: u8,
    /// False when neither the caller nor the activation said the code length, so `digits` is
    /// Entrust's default guess (6): the app should say so, or ask.
    pub digits_known: bool,
    transaction_url: Option<String>,
    seed: Secret,
}

/// The authority of an address without user info (`https://u@h:8443/x` → `h:8443`); an address
/// without a scheme starts with it (`myid.umc.edu/igst` → `myid.umc.edu`). A backslash ends the
/// authority, as in WHATWG URL parsing (`https://evil\@bank.example` → `evil`).
pub(crate) fn url_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#', '\\']).next().unwrap_or("").rsplit('@').next().unwrap_or("")
}

/// The host part of a registration address (`myid.umc.edu/igst` → `myid.umc.edu`).
pub fn provider_from_url(url: &str) -> Option<String> {
    let host = url_authority(url).split(':').next().unwrap_or("").trim();
    (!host.is_empty()).then(|| host.to_string())
}

impl PendingActivation {
    /// From a secactivate URI and its password; `digits` overrides the payload (default 6).
    pub fn from_uri(uri: &str, password: &str, digits: Option<u8>, rng: &dyn SecureRandom) -> Result<Self> {
        let p = entrust::decrypt_uri(uri, password)?;
        let digits_known = digits.or(p.digits).is_some();
        let digits = otp::check_digits(digits.or(p.digits).unwrap_or(entrust::DEFAULT_DIGITS))?;
        let rc = RegistrationCode::generate(rng)?;
        let seed = entrust::seed_from_registration(&p.serial, &p.activation_code, &rc, p.policy.as_deref());
        Ok(PendingActivation {
            provider: p.issuer.clone().or_else(|| p.registration_url.as_deref().and_then(provider_from_url)),
            serial: p.serial.clone(),
            serial_check_digit_ok: p.serial_check_digit_ok,
            policy: p.policy.clone(),
            registration_url: p.registration_url.clone(),
            registration_code: rc,
            digits,
            digits_known,
            transaction_url: p.transaction_url.clone(),
            seed,
        })
    }

    /// From a typed serial number and activation code (no policy: manual activation has none).
    pub fn from_numbers(serial: &str, activation_code: &str, digits: Option<u8>, rng: &dyn SecureRandom) -> Result<Self> {
        Self::from_online(serial, activation_code, None, digits, None, rng)
    }

    /// From what an online activation returned (`docs/protocol.md` §6): the same numbers as a
    /// manual activation plus the policy, and the provider's base URL as the registration address.
    pub fn from_online(
        serial: &str,
        activation_code: &str,
        policy: Option<&str>,
        digits: Option<u8>,
        base_url: Option<&str>,
        rng: &dyn SecureRandom,
    ) -> Result<Self> {
        let serial = SerialNumber::parse(serial)?;
        let ac = ActivationCode::parse(activation_code)?;
        if let Some(p) = policy {
            Policy::parse(Some(p))?;
        }
        let digits_known = digits.is_some();
        let digits = otp::check_digits(digits.unwrap_or(entrust::DEFAULT_DIGITS))?;
        let rc = RegistrationCode::generate(rng)?;
        let seed = entrust::seed_from_registration(&serial, &ac, &rc, policy);
        Ok(PendingActivation {
            serial,
            serial_check_digit_ok: true,
            provider: base_url.and_then(provider_from_url),
            policy: policy.map(str::to_string),
            registration_url: base_url.map(str::to_string),
            registration_code: rc,
            digits,
            digits_known,
            transaction_url: None,
            seed,
        })
    }

    /// The provider address for push sign-ins, when the activation carried one or the user gave it.
    pub fn transaction_url(&self) -> Option<&str> {
        self.transaction_url.as_deref()
    }

    /// Names the provider that sends this token's push sign-ins (`docs/protocol.md`): an Entrust
    /// QR code or a manual activation does not carry it (softtoken's provider puts it in its QR
    /// payload as `txurl`). https, or http to a loopback host only.
    pub fn with_transaction_url(mut self, url: &str) -> Result<Self> {
        self.transaction_url = Some(crate::link::check_base_url(url)?);
        Ok(self)
    }

    /// The policy's flags.
    pub fn parsed_policy(&self) -> Result<Policy> {
        Policy::parse(self.policy.as_deref())
    }

    /// Commits: the identity to store (`name` defaults to the provider, else "Entrust <serial>").
    pub fn into_identity(self, name: Option<&str>, provider: Option<&str>, now: u64, rng: &dyn SecureRandom) -> Result<Identity> {
        let provider = provider.map(str::to_string).or(self.provider.clone());
        let mut identity =
            entrust_identity(&self.serial, self.seed.clone(), self.digits, self.policy.clone(), self.registration_url.clone(), provider, name, now, rng)?;
        identity.transaction_url = self.transaction_url;
        Ok(identity)
    }
}

/// An Entrust identity from its seed (activation, or a token moved from the official app).
#[allow(clippy::too_many_arguments)]
pub fn entrust_identity(
    serial: &SerialNumber,
    seed: Secret,
    digits: u8,
    policy: Option<String>,
    registration_url: Option<String>,
    provider: Option<String>,
    name: Option<&str>,
    now: u64,
    rng: &dyn SecureRandom,
) -> Result<Identity> {
    if let Some(p) = &policy {
        // Validated at activation: a policy that is not a JSON object is refused, not stored.
        Policy::parse(Some(p))?;
    }
    let name = name.map(str::to_string).or_else(|| provider.clone()).unwrap_or_else(|| format!("Entrust {serial}"));
    let id = Identity {
        id: new_id(rng)?,
        name,
        provider,
        kind: IdentityKind::Entrust,
        algorithm: entrust::ALGORITHM,
        digits: otp::check_digits(digits)?,
        period: entrust::PERIOD,
        counter: 0,
        serial: Some(serial.to_string()),
        policy,
        registration_url,
        created_at: now,
        time_offset_s: 0,
        transaction_url: None,
        push_token: None,
        push_link: None,
        seed,
    };
    id.validate()?;
    Ok(id)
}

/// A token activated in the official app, to be moved here.
#[derive(Debug, Clone, Copy)]
pub struct MovedToken<'a> {
    /// Serial number.
    pub serial: &'a str,
    /// Activation code.
    pub activation_code: &'a str,
    /// The payload's policy string, verbatim (QR activations only).
    pub policy: Option<&'a str>,
    /// The official app's registration code, when known.
    pub registration_code: Option<&'a str>,
    /// Codes the official app showed (used when there is no registration code).
    pub otps: &'a [ObservedOtp],
    /// Code length with a registration code (codes carry their own length).
    pub digits: Option<u8>,
}

/// The identity of a moved token: its seed from the registration code, or found from the codes it
/// showed (searching with and without the policy; the policy is kept only when it entered the seed).
pub fn moved_identity(t: &MovedToken, provider: Option<String>, name: Option<&str>, now: u64, rng: &dyn SecureRandom) -> Result<Identity> {
    let serial = SerialNumber::parse(t.serial)?;
    let ac = ActivationCode::parse(t.activation_code)?;
    let (seed, digits, policy) = match t.registration_code {
        Some(rc) => {
            let rc = RegistrationCode::parse(rc)?;
            (entrust::seed_from_registration(&serial, &ac, &rc, t.policy), t.digits.unwrap_or(entrust::DEFAULT_DIGITS), t.policy)
        }
        None => {
            let found = entrust::recover(&serial, &ac, t.policy, t.otps)?;
            (found.seed, found.digits, t.policy.filter(|_| found.policy_used))
        }
    };
    entrust_identity(&serial, seed, digits, policy.map(str::to_string), None, provider, name, now, rng)
}

/// An identity from an `otpauth://` URI (`name` defaults to `issuer: account`, or the account).
pub fn otpauth_identity(u: &OtpAuth, name: Option<&str>, now: u64, rng: &dyn SecureRandom) -> Result<Identity> {
    let (kind, period, counter) = match u.kind {
        OtpKind::Totp { period } => (IdentityKind::Totp, period, 0),
        OtpKind::Hotp { counter } => (IdentityKind::Hotp, 30, counter),
        OtpKind::Steam => (IdentityKind::Steam, crate::otp::STEAM_PERIOD, 0),
    };
    let default_name = match &u.issuer {
        Some(i) => format!("{i}: {}", u.account),
        None => u.account.clone(),
    };
    let id = Identity {
        id: new_id(rng)?,
        name: name.map(str::to_string).unwrap_or(default_name),
        provider: u.issuer.clone(),
        kind,
        algorithm: u.algorithm,
        digits: u.digits,
        period,
        counter,
        serial: None,
        policy: None,
        registration_url: None,
        created_at: now,
        time_offset_s: 0,
        transaction_url: None,
        push_token: None,
        push_link: None,
        seed: u.secret.clone(),
    };
    id.validate()?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn preview_from_the_spec_qr_then_commit() {
        let v: serde_json::Value = serde_json::from_str(include_str!("../../fixtures/vectors/entrust.json")).unwrap();
        let s = &v["secactivate"];
        let rng = SystemRandom::new();
        let p = PendingActivation::from_uri(s["uri"].as_str().unwrap(), "54998317", None, &rng).unwrap();
        assert_eq!(p.serial.to_string(), "48244-13456");
        assert_eq!(p.provider.as_deref(), Some("myid.umc.edu"));
        assert_eq!(p.digits, 6);
        assert_eq!(p.parsed_policy().unwrap().trusted_execution.as_deref(), Some("NOT_ALLOWED"));
        let rc = p.registration_code.clone();
        let id = p.into_identity(None, None, 5, &rng).unwrap();
        assert_eq!(id.name, "myid.umc.edu");
        let serial = SerialNumber::parse("48244-13456").unwrap();
        let ac = ActivationCode::parse("1745-7712-6942-8698").unwrap();
        let expected = entrust::seed_from_registration(&serial, &ac, &rc, s["policy"].as_str());
        assert_eq!(id.seed, expected, "the committed seed is the one the registration code gives");
    }

    #[test]
    fn manual_activation_has_no_policy() {
        let rng = SystemRandom::new();
        let p = PendingActivation::from_numbers("48244-13456", "1745-7712-6942-8698", Some(8), &rng).unwrap();
        assert!(p.policy.is_none());
        let id = p.into_identity(Some("work"), Some("ACME"), 0, &rng).unwrap();
        assert_eq!((id.name.as_str(), id.provider.as_deref(), id.digits), ("work", Some("ACME"), 8));
        assert!(PendingActivation::from_numbers("48244-13456", "1745-7712-6942-8698", Some(9), &rng).is_err());
    }

    #[test]
    fn transaction_url_is_checked_and_kept_by_the_identity() {
        let rng = SystemRandom::new();
        let pending = || PendingActivation::from_numbers("48244-13456", "1745-7712-6942-8698", None, &rng).unwrap();
        for bad in ["http://provider.example", "https://user@evil.example", "ftp://127.0.0.1", "https://bank.example/x?y"] {
            assert!(pending().with_transaction_url(bad).is_err(), "{bad}");
        }
        assert_eq!(pending().into_identity(None, None, 0, &rng).unwrap().transaction_url, None);
        let identity = pending().with_transaction_url("https://bank.example/softtoken/").unwrap().into_identity(None, None, 0, &rng).unwrap();
        assert_eq!(identity.transaction_url.as_deref(), Some("https://bank.example/softtoken"));
        assert!(identity.is_online());
    }

    #[test]
    fn provider_hosts() {
        assert_eq!(provider_from_url("myid.umc.edu/igst").as_deref(), Some("myid.umc.edu"));
        assert_eq!(provider_from_url("https://id.example.com:8443/x").as_deref(), Some("id.example.com"));
        assert_eq!(provider_from_url(""), None);
        assert_eq!(provider_from_url("https://evil\\@bank.example/x").as_deref(), Some("evil"), "the host a browser would use");
    }
}
