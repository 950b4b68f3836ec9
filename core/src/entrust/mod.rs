//! Entrust soft tokens ("Entrust ST"): the numbers users type, seed derivation, QR activation URIs
//! and moving an existing token. What is and is not known: `docs/entrust.md`.

pub mod codes;
pub mod policy;
pub mod recover;
mod search;
pub mod secactivate;
pub mod seed;

pub use codes::{luhn_check_digit, luhn_valid, ActivationCode, RegistrationCode, SerialNumber};
pub use policy::Policy;
pub use recover::{recover, ObservedOtp, Recovered};
pub use secactivate::{decrypt_uri, encrypt_uri, is_secactivate, ActivationPayload, SecActivateUri};
pub use seed::{derive_seed, seed_from_registration};

/// Entrust tokens compute TOTP with HMAC-SHA256.
pub const ALGORITHM: crate::otp::Algorithm = crate::otp::Algorithm::Sha256;
/// Entrust tokens change code every 30 seconds.
pub const PERIOD: u32 = 30;
/// Default code length (an admin setting; 8 is the other choice).
pub const DEFAULT_DIGITS: u8 = 6;

/// The `otpauth://` form of an Entrust token (issuer `Entrust`, account = serial, SHA256, 30 s), for
/// moving it into any authenticator.
pub fn token_otpauth(serial: &SerialNumber, seed: crate::Secret, digits: u8) -> crate::Result<crate::uri::OtpAuth> {
    Ok(crate::uri::OtpAuth {
        kind: crate::uri::OtpKind::Totp { period: PERIOD },
        issuer: Some("Entrust".into()),
        account: serial.to_string(),
        secret: seed,
        algorithm: ALGORITHM,
        digits: crate::otp::check_digits(digits)?,
    })
}

/// PBKDF2-HMAC-SHA256 of `password` and `salt` into `out`: the one KDF of Entrust's formats (the
/// seed: 8 iterations; the QR keys: 1 000).
pub(crate) fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: std::num::NonZeroU32, out: &mut [u8]) {
    ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, password, out);
}
