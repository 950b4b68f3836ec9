//! URIs that carry tokens: `otpauth://` (and, later, Google's migration format).

pub mod otpauth;

pub use otpauth::{OtpAuth, OtpKind};
