//! Online activation by link and the identity's registration at the provider
//! (`docs/protocol.md` §5–§7): the single-use link token, the registration code posted by the app,
//! the push token that wakes it, and unregistering when the app removes the identity.

use crate::database::{params, OptionalRow};
use crate::{Provider, ProviderError, Result};
use softtoken_core::transaction::check_push_token;

/// What `GET /v1/activation/{token}` returns: the numbers a manual activation would type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkActivation {
    /// Serial number, dashed.
    pub serial: String,
    /// Activation code, dashed.
    pub activation_code: String,
    /// Policy string, verbatim.
    pub policy: Option<String>,
    /// 6 or 8.
    pub digits: u8,
}

impl Provider {
    /// The activation behind a link token, while it is neither used nor expired.
    pub fn link_activation(&self, token: &str, now: u64) -> Result<LinkActivation> {
        let row: Option<(String, Vec<u8>, Option<String>, u8, i64)> = self
            .db
            .query_row(
                "SELECT serial, activation_code, policy, digits, expires_at FROM tokens WHERE activation_token = ?1 AND completed_at IS NULL",
                params![crate::sealed::sha256_hex(token)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let (serial, activation_code, policy, digits, expires_at) = row.ok_or(ProviderError::UnknownActivation)?;
        if now >= expires_at as u64 {
            return Err(ProviderError::Expired);
        }
        let activation_code = self.activation_code_of(&serial, &activation_code)?.dashed();
        Ok(LinkActivation { serial, activation_code, policy, digits })
    }

    /// Completes the activation of a link with the registration code the app posted, records the
    /// push token and burns the link token; returns the serial.
    pub fn complete_link(&self, token: &str, registration_code: &str, push_token: Option<&str>, now: u64) -> Result<String> {
        if let Some(t) = push_token {
            check_push_token(t)?;
        }
        let serial = self.link_activation(token, now)?.serial;
        self.complete(&serial, registration_code, now)?;
        self.db.execute("UPDATE tokens SET activation_token = NULL, push_token = ?1 WHERE serial = ?2", params![push_token, serial])?;
        Ok(serial)
    }

    /// Records the push token that wakes the identity's app.
    pub fn set_push_token(&self, serial: &str, token: &str) -> Result<()> {
        check_push_token(token)?;
        self.seed_of(serial)?; // completed and not unregistered
        self.db.execute("UPDATE tokens SET push_token = ?1 WHERE serial = ?2", params![token, serial])?;
        Ok(())
    }

    /// The push token registered for an identity.
    pub fn push_token_of(&self, serial: &str) -> Result<Option<String>> {
        self.db
            .query_row("SELECT push_token FROM tokens WHERE serial = ?1", params![serial], |r| r.get(0))
            .optional()?
            .ok_or_else(|| ProviderError::UnknownSerial(serial.into()))
    }

    /// The app removed the identity: forget its push token, cancel its pending transactions and
    /// refuse new ones. Returns how many pending transactions were cancelled.
    pub fn unregister(&self, serial: &str, now: u64) -> Result<usize> {
        let db = crate::database::begin_write(&self.db)?;
        let changed =
            db.execute("UPDATE tokens SET push_token = NULL, unregistered_at = ?1 WHERE serial = ?2 AND unregistered_at IS NULL", params![now as i64, serial])?;
        if changed == 0 {
            let known: Option<i64> = db.query_row("SELECT 1 FROM tokens WHERE serial = ?1", params![serial], |r| r.get(0)).optional()?;
            return Err(match known {
                Some(_) => ProviderError::Unregistered(serial.into()),
                None => ProviderError::UnknownSerial(serial.into()),
            });
        }
        let cancelled = db.execute("UPDATE transactions SET state = 'cancelled' WHERE serial = ?1 AND state = 'pending'", params![serial])?;
        db.commit()?;
        Ok(cancelled)
    }

    /// Whether the app unregistered the identity.
    pub fn is_unregistered(&self, serial: &str) -> Result<bool> {
        let at: Option<Option<i64>> = self.db.query_row("SELECT unregistered_at FROM tokens WHERE serial = ?1", params![serial], |r| r.get(0)).optional()?;
        Ok(at.ok_or_else(|| ProviderError::UnknownSerial(serial.into()))?.is_some())
    }
}
