//! Identities: one token each (an Entrust soft token, or a TOTP/HOTP account), with its secret seed.

use crate::entrust;
use crate::error::{Error, Field, Result};
use crate::otp::{self, Algorithm, Hotp, TimedCode, Totp};
use crate::secret::{hex_encode, Secret};
use serde::{Deserialize, Serialize};

/// The largest clock offset an identity may carry: one day. A provider's (unauthenticated)
/// `server_time` never moves an identity's codes further, and no identity arrives with more.
pub const MAX_TIME_OFFSET_S: i64 = 86_400;

/// What kind of token an identity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    /// An Entrust soft token (TOTP-SHA256 from an activation).
    Entrust,
    /// A time-based otpauth token.
    Totp,
    /// A counter-based otpauth token.
    Hotp,
    /// A Steam Guard token (five characters, HMAC-SHA1, 30 s). Added within vault format 1.
    Steam,
    /// A privacyIDEA or eduMFA push token: no codes, only sign-in requests, answered with the
    /// phone's RSA key (the identity's secret). Added within vault format 2.
    Push,
}

impl IdentityKind {
    /// `entrust`, `totp`, `hotp`, `steam` or `push`.
    pub fn name(self) -> &'static str {
        match self {
            IdentityKind::Entrust => "entrust",
            IdentityKind::Totp => "totp",
            IdentityKind::Hotp => "hotp",
            IdentityKind::Steam => "steam",
            IdentityKind::Push => "push",
        }
    }
}

mod algorithm_name {
    use crate::otp::Algorithm;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(a: &Algorithm, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(a.name())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Algorithm, D::Error> {
        let name = String::deserialize(d)?;
        Algorithm::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// One token in the vault.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Identity {
    /// Stable id (16 lowercase hex digits).
    pub id: String,
    /// Token name chosen by the user (unique in a vault).
    pub name: String,
    /// Identity provider name (the company; from the payload's address or the user).
    pub provider: Option<String>,
    /// Entrust, TOTP or HOTP.
    pub kind: IdentityKind,
    /// HMAC hash.
    #[serde(with = "algorithm_name")]
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: u8,
    /// Seconds per code (TOTP and Entrust).
    pub period: u32,
    /// Next HOTP counter.
    pub counter: u64,
    /// Entrust serial number, dashed.
    pub serial: Option<String>,
    /// Entrust policy string, verbatim.
    pub policy: Option<String>,
    /// Where the token registers (Entrust `regurl`, softtoken provider address).
    pub registration_url: Option<String>,
    /// Unix time the identity was added.
    pub created_at: u64,
    /// Seconds added to this device's clock for this identity's codes.
    pub time_offset_s: i64,
    /// The provider's base URL recorded at online activation: where this identity's transactions
    /// are fetched and answered (`docs/protocol.md` §5, §6). None for tokens activated offline.
    /// Added within vault format 1: optional, absent from older files, omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_url: Option<String>,
    /// The push token (FCM/APNs) last registered at that provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_token: Option<String>,
    /// A privacyIDEA or eduMFA push token's server: serial, URL and public key. Added within
    /// vault format 2: absent from older files, omitted when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_link: Option<crate::privacyidea::PushLink>,
    /// The secret (zeroized on drop, redacted in Debug): the OTP seed, or a push token's private
    /// RSA key (PKCS#8 DER).
    pub seed: Secret,
}

/// A new random identity id.
pub fn new_id(rng: &dyn ring::rand::SecureRandom) -> Result<String> {
    let mut b = [0u8; 8];
    crate::secret::fill_random(rng, &mut b)?;
    Ok(hex_encode(&b))
}

impl Identity {
    /// The name transactions use for this identity: the serial number, else the identity id
    /// (`docs/protocol.md` §1).
    pub fn transaction_serial(&self) -> &str {
        self.serial.as_deref().unwrap_or(&self.id)
    }

    /// The 8-digit offline confirmation code for transaction `id` (`docs/protocol.md` §4).
    pub fn confirmation_code(&self, transaction_id: &str) -> Result<String> {
        if !self.has_codes() {
            return Err(Error::NoCodes(self.name.clone()));
        }
        crate::transaction::confirmation_code(self.seed.expose(), self.transaction_serial(), transaction_id)
    }

    /// Whether the identity was activated online and can fetch and answer push transactions.
    pub fn is_online(&self) -> bool {
        self.transaction_url.is_some()
    }

    /// Whether sign-in requests reach this identity: activated online at a softtoken provider, or
    /// a privacyIDEA / eduMFA push token.
    pub fn receives_push(&self) -> bool {
        self.transaction_url.is_some() || self.push_link.is_some()
    }

    /// Whether the identity shows codes (every kind but a push token).
    pub fn has_codes(&self) -> bool {
        self.kind != IdentityKind::Push
    }

    /// Checks the OTP parameters and the name.
    pub fn validate(&self) -> Result<()> {
        if self.kind == IdentityKind::Push || self.push_link.is_some() {
            return self.validate_push();
        }
        otp::check_secret(&self.seed)?;
        // The online parts: whatever way the identity arrives (activation, link, backup, any
        // import format), its provider address passes the same check as an activation link's,
        // its clock offset the same bound as a provider's correction, its push token the
        // protocol's.
        if let Some(url) = &self.transaction_url {
            crate::link::check_base_url(url)?;
        }
        if self.time_offset_s.unsigned_abs() > MAX_TIME_OFFSET_S.unsigned_abs() {
            return Err(Error::invalid(
                Field::ClockOffset,
                format!("{} s is more than a day ({MAX_TIME_OFFSET_S} s) from this device's clock", self.time_offset_s),
            ));
        }
        if let Some(token) = &self.push_token {
            crate::transaction::check_push_token(token)?;
        }
        if self.kind == IdentityKind::Steam {
            if (self.algorithm, self.digits, self.period) != (Algorithm::Sha1, otp::STEAM_DIGITS, otp::STEAM_PERIOD) {
                return Err(Error::invalid(Field::Digits, "a Steam token has 5 characters, SHA1 and a 30 s period"));
            }
        } else {
            otp::check_digits(self.digits)?;
            otp::check_period(self.period)?;
        }
        check_name(&self.name)
    }

    /// A push token: its link, its key's size, its server's key and address.
    fn validate_push(&self) -> Result<()> {
        let (IdentityKind::Push, Some(link)) = (self.kind, &self.push_link) else {
            return Err(Error::PushProtocol("a push token needs its server link, and only a push token has one".into()));
        };
        if self.seed.is_empty() || self.seed.len() > crate::privacyidea::keys::MAX_PHONE_KEY_DER {
            return Err(Error::invalid(Field::Secret, "a push token's key is empty or too long"));
        }
        crate::link::check_base_url(&link.url)?;
        crate::privacyidea::ServerKey::parse(&link.server_key)?;
        if link.serial.is_empty() || link.serial.len() > 64 || !link.serial.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err(Error::invalid(Field::SerialNumber, "a push token's serial is not 1 to 64 letters, digits, '-', '_' or '.'"));
        }
        check_name(&self.name)
    }

    /// True when the identity's policy demands an app PIN.
    pub fn requires_pin(&self) -> bool {
        // A policy that cannot be read fails closed.
        entrust::Policy::parse(self.policy.as_deref()).map(|p| p.pin_required).unwrap_or(true)
    }

    /// True when the identity's policy forbids biometric unlock (`allowFaceRecognition` false).
    pub fn forbids_biometric(&self) -> bool {
        entrust::Policy::parse(self.policy.as_deref()).map(|p| p.allow_face_recognition == Some(false)).unwrap_or(true)
    }

    /// The TOTP code shown at `unix_time` (HOTP identities: an error; use the vault's `next_hotp`).
    pub fn code_at(&self, unix_time: u64) -> Result<TimedCode> {
        let code = match self.kind {
            IdentityKind::Hotp => Err(Error::HotpNeedsRequest(self.name.clone())),
            IdentityKind::Push => Err(Error::NoCodes(self.name.clone())),
            IdentityKind::Steam => Totp::steam(self.seed.clone()).map(|t| t.with_offset(self.time_offset_s).code_at(unix_time)),
            _ => Totp::new(self.seed.clone(), self.algorithm, self.digits, self.period).map(|t| t.with_offset(self.time_offset_s).code_at(unix_time)),
        };
        // The HMAC left the seed in its padded-key block on the stack.
        crate::secret::scrub_stack();
        code
    }

    /// The TOTP code shown now by `clock`.
    pub fn code_now(&self, clock: &dyn crate::clock::Clock) -> Result<TimedCode> {
        self.code_at(clock.unix_time())
    }

    /// The token as an `otpauth://` URI's content, for moving it to another authenticator
    /// (exports leave out push tokens first: [`Identity::has_codes`]).
    pub fn to_otpauth(&self) -> crate::uri::OtpAuth {
        use crate::uri::{OtpAuth, OtpKind};
        let kind = match self.kind {
            IdentityKind::Hotp => OtpKind::Hotp { counter: self.counter },
            IdentityKind::Steam => OtpKind::Steam,
            _ => OtpKind::Totp { period: self.period },
        };
        let issuer = self.provider.clone().or_else(|| (self.kind == IdentityKind::Entrust).then(|| "Entrust".to_string()));
        OtpAuth { kind, issuer, account: self.name.clone(), secret: self.seed.clone(), algorithm: self.algorithm, digits: self.digits }
    }

    /// The HOTP code for the current counter (the caller advances and saves the counter first).
    pub(crate) fn hotp_code(&self, counter: u64) -> Result<String> {
        let code = Hotp::new(self.seed.clone(), self.algorithm, self.digits).map(|h| h.code(counter));
        crate::secret::scrub_stack();
        code
    }
}

/// Checks a token name: 1 to 64 characters, no control characters.
pub fn check_name(name: &str) -> Result<()> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Error::invalid(Field::Label, "name is empty"));
    }
    if n.chars().count() > 64 {
        return Err(Error::invalid(Field::Label, "name is longer than 64 characters"));
    }
    if n.chars().any(char::is_control) {
        return Err(Error::invalid(Field::Label, "name contains control characters"));
    }
    Ok(())
}
