//! The core's rich error: every message names what is wrong and where.
//!
//! Shells map these to their own small public errors at one boundary (the CLI to exit codes, the FFI
//! crate to a flat enum a UI can act on).

use std::fmt;

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The input a validation error is about, named as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Entrust serial number (10 digits).
    SerialNumber,
    /// Entrust activation code (16 digits).
    ActivationCode,
    /// Entrust registration code (10 digits).
    RegistrationCode,
    /// The password that comes with an activation QR code.
    ActivationPassword,
    /// A one-time password typed by the user.
    Otp,
    /// An OTP secret (seed).
    Secret,
    /// The OTP hash algorithm.
    Algorithm,
    /// Number of OTP digits.
    Digits,
    /// TOTP period in seconds.
    Period,
    /// HOTP counter.
    Counter,
    /// An `otpauth://` label.
    Label,
    /// A policy document.
    Policy,
    /// A push transaction (id, number to match, response).
    Transaction,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::SerialNumber => "serial number",
            Field::Transaction => "transaction",
            Field::ActivationCode => "activation code",
            Field::RegistrationCode => "registration code",
            Field::ActivationPassword => "activation password",
            Field::Otp => "OTP",
            Field::Secret => "secret",
            Field::Algorithm => "algorithm",
            Field::Digits => "digits",
            Field::Period => "period",
            Field::Counter => "counter",
            Field::Label => "label",
            Field::Policy => "policy",
        })
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A value the user typed or pasted is malformed; `reason` says how.
    #[error("{field}: {reason}")]
    Invalid {
        /// Which input.
        field: Field,
        /// What is wrong, e.g. "check digit does not match".
        reason: String,
    },
    /// The activation QR code's MAC does not match: the password is wrong (or the URI was altered).
    #[error("wrong activation password (or the activation URI was altered)")]
    WrongPassword,
    /// The backup password does not open the backup.
    #[error("wrong backup password")]
    WrongBackupPassword,
    /// A URI that cannot be parsed.
    #[error("malformed URI: {0}")]
    MalformedUri(String),
    /// The decrypted activation payload is not what Entrust sends.
    #[error("malformed activation payload: {0}")]
    MalformedPayload(String),
    /// An activation URI of a format version softtoken does not know.
    #[error("unsupported activation URI version {0:?} (softtoken reads v=1)")]
    UnsupportedVersion(String),
    /// Token recovery found no device random that reproduces the codes.
    #[error("no device random reproduces these codes: check the serial number, activation code, policy, the codes and their times")]
    NoMatch,
    /// The PIN is wrong; `attempts_left` counts attempts before the next delay.
    #[error("wrong PIN ({attempts_left} attempts left)")]
    WrongPin {
        /// Attempts before the next delay (0 once delays have begun).
        attempts_left: u32,
    },
    /// Too many wrong PINs: wait before the next attempt.
    #[error("locked: try again in {retry_after_s} s")]
    Locked {
        /// Seconds until the next attempt is allowed.
        retry_after_s: u64,
    },
    /// The vault is locked (never unlocked, locked by the user, or idle too long).
    #[error("the vault is locked: unlock it with the PIN")]
    VaultLocked,
    /// The maximum of wrong PINs was reached: restore a backup or activate again.
    #[error("locked for good after too many wrong PINs: restore a backup or activate the tokens again")]
    LockedPermanently,
    /// The vault file (or its previous generation) failed its integrity check.
    #[error("vault file is corrupt or was tampered with{}", if *.previous_available { " (the previous version is intact: `softtoken restore-previous` brings it back)" } else { "" })]
    CorruptVault {
        /// True when the previous generation opens cleanly.
        previous_available: bool,
    },
    /// A vault or backup of a format version this build does not know.
    #[error("unsupported {what} format version {version} (this softtoken reads up to {supported}): update softtoken")]
    UnsupportedFormat {
        /// "vault" or "backup".
        what: &'static str,
        /// The version found.
        version: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The device key that seals the vault is missing (another device, or the key was invalidated).
    #[error("the device key for this vault is missing ({0}): the vault was made on another device or its key was reset; restore it from a backup")]
    KeyUnavailable(String),
    /// The platform key store failed.
    #[error("device key store failed: {0}")]
    Platform(String),
    /// Reading or writing files failed.
    #[error("storage: {0}")]
    Storage(String),
    /// An organisation's policy forbids what was asked.
    #[error("policy: {0}")]
    PolicyViolation(String),
    /// No identity has that name or id.
    #[error("no identity named {0:?}")]
    NotFound(String),
    /// The operation needs an unlocked vault or another state.
    #[error("{0}")]
    State(String),
    /// The provider could not be reached, or answered something that is not the protocol.
    #[error("provider unreachable: {0}")]
    Network(String),
    /// The provider refused the request; `code` is the protocol's error word (`docs/protocol.md` §5).
    #[error("the provider refused: {message} ({code})")]
    Refused {
        /// `not_found`, `already_answered`, `expired`, `bad_mac`, `stale`, `wrong_number`, …
        code: String,
        /// The provider's explanation.
        message: String,
    },
    /// Token recovery found several device randoms; more codes are needed.
    #[error("{candidates} device randoms match these codes: add a code from a later time step (--otp CODE@UNIXTIME)")]
    Ambiguous {
        /// How many candidates survived.
        candidates: usize,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: Field, reason: impl Into<String>) -> Self {
        Error::Invalid { field, reason: reason.into() }
    }
}
