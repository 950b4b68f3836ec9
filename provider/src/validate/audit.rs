//! The audit log of the validate API: every request and its decision (when, from which address,
//! which endpoint, user, token, result, message), append-only — nothing in the provider updates
//! or deletes a row — readable by the operator and exported as JSON lines.

use super::Decision;
use crate::database::params;
use crate::{Provider, Result};
use serde::Serialize;

/// Rows a listing returns at most.
pub const MAX_LISTED: usize = 10_000;

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Unix seconds, provider clock.
    pub at: u64,
    /// The client's address.
    pub address: String,
    /// `check`, `radiuscheck`, `triggerchallenge` or `polltransaction`.
    pub endpoint: String,
    /// The user named, if any.
    pub user: Option<String>,
    /// The token the decision is about, if one.
    pub serial: Option<String>,
    /// ACCEPT, REJECT, CHALLENGE, DECLINED, or ERROR.
    pub decision: String,
    /// privacyIDEA's message (or the challenge state, or the error).
    pub message: String,
}

impl Entry {
    pub(super) fn of_decision(endpoint: &str, address: &str, user: Option<&str>, d: &Decision, now: u64) -> Entry {
        Entry {
            at: now,
            address: address.into(),
            endpoint: endpoint.into(),
            user: user.or(d.user()).map(str::to_string),
            serial: d.serial().map(str::to_string),
            decision: d.authentication.into(),
            message: d.message().into(),
        }
    }

    pub(super) fn of_error(endpoint: &str, address: &str, user: Option<&str>, message: &str, now: u64) -> Entry {
        Entry {
            at: now,
            address: address.into(),
            endpoint: endpoint.into(),
            user: user.map(str::to_string),
            serial: None,
            decision: "ERROR".into(),
            message: message.into(),
        }
    }
}

impl Provider {
    /// Appends one entry.
    pub fn append_audit(&self, e: &Entry) -> Result<()> {
        self.db.execute(
            "INSERT INTO audit (at, address, endpoint, user_name, serial, decision, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![e.at as i64, e.address, e.endpoint, e.user, e.serial, e.decision, e.message],
        )?;
        Ok(())
    }

    /// The newest `limit` entries (at most [`MAX_LISTED`]), oldest first; only `user`'s when named.
    pub fn audit_log(&self, user: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        let mut rows = self.audit_entries(None, user, limit)?;
        rows.reverse();
        Ok(rows)
    }

    /// The newest `limit` entries (at most [`MAX_LISTED`]), newest first; only those of
    /// `endpoint` and of `user` when named.
    pub fn audit_entries(&self, endpoint: Option<&str>, user: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        self.db.query_map(
            "SELECT at, address, endpoint, user_name, serial, decision, message FROM audit
             WHERE (CAST(?1 AS TEXT) IS NULL OR endpoint = ?1) AND (CAST(?2 AS TEXT) IS NULL OR user_name = ?2) ORDER BY seq DESC LIMIT ?3",
            params![endpoint, user, limit.min(MAX_LISTED) as i64],
            |r| {
                Ok(Entry {
                    at: r.get::<i64>(0)? as u64,
                    address: r.get(1)?,
                    endpoint: r.get(2)?,
                    user: r.get(3)?,
                    serial: r.get(4)?,
                    decision: r.get(5)?,
                    message: r.get(6)?,
                })
            },
        )
    }
}
