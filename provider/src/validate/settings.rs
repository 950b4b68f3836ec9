//! The operator's settings of the validate API, kept in the state (defaults until set).

use crate::database::{params, OptionalRow};
use crate::{Provider, ProviderError, Result};
use serde::{Deserialize, Serialize};

/// The realm users are in unless the operator names another.
pub const DEFAULT_REALM: &str = "softtoken";
/// Failed checks in a row after which a token accepts no code until reset (privacyIDEA's default).
pub const DEFAULT_MAX_FAIL: u32 = 10;
/// Seconds a challenge stays answerable (privacyIDEA's default validity).
pub const DEFAULT_CHALLENGE_LIFETIME_S: u64 = 120;

/// How the validate API decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidateSettings {
    /// The one realm the users are in (`realm` parameters naming another are unknown users).
    pub realm: String,
    /// Failed checks in a row before a token is locked (`max_fail`).
    pub max_fail: u32,
    /// Push challenges show a number the user must enter in the app (privacyIDEA's
    /// `push_require_presence`).
    pub number_matching: bool,
    /// Seconds a challenge stays answerable.
    pub challenge_lifetime_s: u64,
    /// Seconds a check that starts a push waits for the app's answer before it replies
    /// (privacyIDEA's `push_wait`): 0 replies at once with the challenge; RADIUS, which cannot
    /// poll, wants about 20.
    #[serde(default)]
    pub push_wait_s: u64,
    /// What comes before the code in `pass` (privacyIDEA's `otppin` policy).
    #[serde(default)]
    pub otppin: OtpPin,
}

/// privacyIDEA's `otppin` policy: what `pass` holds before the code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtpPin {
    /// The token's PIN, when it has one (privacyIDEA's default): `pass` = PIN + code; a token
    /// without a PIN takes the code alone, and its PIN (empty) alone starts a push.
    #[default]
    Tokenpin,
    /// No PIN: `pass` is the code alone, and an empty `pass` starts a push.
    None,
}

impl OtpPin {
    /// The policy's word.
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPin::Tokenpin => "tokenpin",
            OtpPin::None => "none",
        }
    }

    /// Reads `tokenpin` or `none`.
    pub fn parse(word: &str) -> Result<Self> {
        match word {
            "tokenpin" => Ok(OtpPin::Tokenpin),
            "none" => Ok(OtpPin::None),
            _ => Err(ProviderError::Invalid(format!("otppin {word:?}: tokenpin or none"))),
        }
    }
}

/// The longest `push_wait` (RADIUS clients give up after about 30 s).
pub const MAX_PUSH_WAIT_S: u64 = 60;

impl Default for ValidateSettings {
    fn default() -> Self {
        ValidateSettings {
            realm: DEFAULT_REALM.into(),
            max_fail: DEFAULT_MAX_FAIL,
            number_matching: true,
            challenge_lifetime_s: DEFAULT_CHALLENGE_LIFETIME_S,
            push_wait_s: 0,
            otppin: OtpPin::Tokenpin,
        }
    }
}

impl ValidateSettings {
    /// Refuses settings the API could not work with.
    pub fn check(&self) -> Result<()> {
        if self.realm.is_empty() || self.realm.len() > 64 || !self.realm.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(ProviderError::Invalid("the realm is 1 to 64 letters, digits, '-', '_' or '.'".into()));
        }
        if !(1..=1000).contains(&self.max_fail) {
            return Err(ProviderError::Invalid("the fail limit must be 1 to 1000".into()));
        }
        if !(10..=3600).contains(&self.challenge_lifetime_s) {
            return Err(ProviderError::Invalid("the challenge lifetime must be 10 to 3600 seconds".into()));
        }
        if self.push_wait_s > MAX_PUSH_WAIT_S.min(self.challenge_lifetime_s) {
            return Err(ProviderError::Invalid(format!("the push wait must be 0 to {MAX_PUSH_WAIT_S} seconds, and within the challenge lifetime")));
        }
        Ok(())
    }
}

impl Provider {
    /// The validate API's settings.
    pub fn validate_settings(&self) -> Result<ValidateSettings> {
        let stored: Option<String> = self.db.query_row("SELECT value FROM meta WHERE name = 'validate_settings'", params![], |r| r.get(0)).optional()?;
        match stored {
            None => Ok(ValidateSettings::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| ProviderError::Fault(format!("stored validate settings: {e}"))),
        }
    }

    /// Sets the validate API's settings.
    pub fn set_validate_settings(&self, settings: &ValidateSettings) -> Result<()> {
        settings.check()?;
        let json = serde_json::to_string(settings).map_err(|e| ProviderError::Fault(e.to_string()))?;
        self.db
            .execute("INSERT INTO meta (name, value) VALUES ('validate_settings', ?1) ON CONFLICT(name) DO UPDATE SET value = excluded.value", params![json])?;
        Ok(())
    }

    /// Resets a token's fail counter (the operator unlocks it after `max_fail` failures).
    pub fn reset_fail_count(&self, serial: &str) -> Result<()> {
        if self.db.execute("UPDATE tokens SET fail_count = 0 WHERE serial = ?1", params![serial])? == 0 {
            return Err(ProviderError::UnknownSerial(serial.into()));
        }
        Ok(())
    }

    /// Sets a token's PIN (typed before its code where `otppin` is `tokenpin`); an empty one
    /// removes it. Stored as an Argon2id hash.
    pub fn set_token_pin(&self, serial: &str, pin: &str) -> Result<()> {
        if pin.chars().count() > 64 || pin.chars().any(char::is_control) {
            return Err(ProviderError::Invalid("a token PIN has at most 64 printable characters".into()));
        }
        let hash = if pin.is_empty() { None } else { Some(crate::portal::accounts::hash_password(&self.rng, pin)?) };
        if self.db.execute("UPDATE tokens SET pin_hash = ?1 WHERE serial = ?2", params![hash, serial])? == 0 {
            return Err(ProviderError::UnknownSerial(serial.into()));
        }
        Ok(())
    }

    /// A token's failed checks in a row.
    pub fn fail_count(&self, serial: &str) -> Result<u32> {
        self.db
            .query_row("SELECT fail_count FROM tokens WHERE serial = ?1", params![serial], |r| r.get(0))
            .optional()?
            .ok_or_else(|| ProviderError::UnknownSerial(serial.into()))
    }
}
