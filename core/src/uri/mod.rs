//! Formats that carry tokens: `otpauth://`, Google's `otpauth-migration://` and Aegis exports.

pub mod aegis;
pub mod migration;
pub mod otpauth;

pub use otpauth::{OtpAuth, OtpKind};
