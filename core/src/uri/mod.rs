//! URIs that carry tokens: `otpauth://` (and `steam://`) and Google's `otpauth-migration://`.

pub mod migration;
pub mod otpauth;

pub use otpauth::{OtpAuth, OtpKind};
