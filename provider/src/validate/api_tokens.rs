//! The operator's API tokens: what a plugin sends in the `Authorization` header to trigger
//! challenges (`/validate/triggerchallenge`) and nothing else. A token is 128 random bits shown
//! once; the state keeps its SHA-256 only.

use super::reply::PiError;
use crate::database::{params, OptionalRow};
use crate::{random, sealed, Provider, Result};

/// The prefix of every API token (so a leaked one is recognisable in logs and scanners).
pub const PREFIX: &str = "stapi_";

impl Provider {
    /// Makes a new API token labelled `label`; returns it (shown once, stored hashed).
    pub fn create_api_token(&self, label: &str, now: u64) -> Result<zeroize::Zeroizing<String>> {
        let token = zeroize::Zeroizing::new(format!("{PREFIX}{}", random::hex(&self.rng, 16)?));
        self.db.execute("INSERT INTO api_tokens (id_hash, label, created_at) VALUES (?1, ?2, ?3)", params![sealed::sha256_hex(&token), label, now as i64])?;
        Ok(token)
    }

    /// Whether `token` is one of this provider's API tokens.
    pub fn is_api_token(&self, token: &str) -> Result<bool> {
        let found: Option<i64> =
            self.db.query_row("SELECT 1 FROM api_tokens WHERE id_hash = ?1", params![sealed::sha256_hex(token)], |r| r.get(0)).optional()?;
        Ok(found.is_some())
    }
}

/// Checks the `Authorization` header: the token itself (as privacyIDEA's plugins send their JWT),
/// or `Bearer TOKEN`.
pub(super) fn authorize(provider: &Provider, header: Option<&str>) -> std::result::Result<(), PiError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(PiError::no_authorization)?;
    let token = header.strip_prefix("Bearer ").map(str::trim).unwrap_or(header);
    if provider.is_api_token(token)? {
        Ok(())
    } else {
        Err(PiError::wrong_authorization())
    }
}
