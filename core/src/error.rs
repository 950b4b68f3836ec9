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
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::SerialNumber => "serial number",
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
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
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
