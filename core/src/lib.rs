//! softtoken-core: the pure-Rust heart of softtoken.
//!
//! It computes everything an authenticator needs — one-time passwords ([`otp`]), Entrust soft-token
//! activation ([`entrust`]) and `otpauth://` URIs ([`uri`]), PIN-protected storage ([`vault`]) — and
//! does no I/O except the vault file. Shells (the CLI, the
//! UniFFI bindings) convert to and from it; they never compute.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod activation;
pub mod clock;
pub mod entrust;
pub mod error;
pub mod identity;
pub mod import;
pub mod link;
pub mod otp;
pub mod privacyidea;
pub mod protocol;
#[cfg(feature = "render")]
pub mod qr;
pub mod secret;
pub mod text;
pub mod transaction;
pub mod uri;
pub mod vault;

pub use error::{Error, Field, Result};
pub use secret::Secret;

#[cfg(test)]
mod wycheproof_tests;
