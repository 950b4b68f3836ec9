//! Administration beyond assigning tokens: every user at a glance (searchable), disabling and
//! enabling a token, deleting a user, and the portal's own events (activations issued and
//! completed, deletions, resets) written to the audit log in words, beside the validate API's.

use super::accounts::User;
use crate::database::params;
use crate::validate::audit::Entry;
use crate::{Provider, ProviderError, Result};

/// One user as the Administration page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserOverview {
    /// Sign-in name.
    pub name: String,
    /// An administrator.
    pub admin: bool,
    /// E-mail address.
    pub email: Option<String>,
    /// Authenticators they have (any state).
    pub authenticators: i64,
    /// Signed in through the LDAP directory.
    pub directory: bool,
}

/// The `endpoint` of the portal's events in the audit log.
pub const PORTAL_EVENTS: &str = "portal";

impl Provider {
    /// Every user whose name or e-mail contains `query` (case-insensitive; empty: all), by name.
    pub fn user_overview(&self, query: &str) -> Result<Vec<UserOverview>> {
        let pattern = format!("%{}%", query.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        self.db.query_map(
            "SELECT u.name, u.admin, u.email, (SELECT COUNT(*) FROM authenticators a WHERE a.owner = u.name), u.password
             FROM users u WHERE LOWER(u.name) LIKE ?1 ESCAPE '\\' OR LOWER(COALESCE(u.email, '')) LIKE ?1 ESCAPE '\\' ORDER BY u.name",
            params![pattern],
            |r| {
                Ok(UserOverview {
                    name: r.get(0)?,
                    admin: r.get(1)?,
                    email: r.get(2)?,
                    authenticators: r.get(3)?,
                    directory: r.get::<String>(4)? == crate::directory::DIRECTORY_PASSWORD,
                })
            },
        )
    }

    /// An administrator disables (or enables again) the token of authenticator `id`: while
    /// disabled, the validate API refuses its codes ("Token is disabled") and sends it no push.
    /// Returns its serial.
    pub fn set_authenticator_disabled(&self, admin: &User, id: i64, disabled: bool, now: u64) -> Result<String> {
        if !admin.admin {
            return Err(ProviderError::Forbidden);
        }
        let a = self.authenticator(admin, id, now)?;
        let serial = a.serial.ok_or_else(|| ProviderError::Refused(format!("authenticator {id} has no token yet")))?;
        self.db.execute("UPDATE tokens SET disabled = ?1 WHERE serial = ?2", params![disabled, serial])?;
        if disabled {
            self.db.execute("UPDATE transactions SET state = 'cancelled' WHERE serial = ?1 AND state = 'pending'", params![serial])?;
        }
        Ok(serial)
    }

    /// An administrator deletes a user: their sessions end, their tokens stop working (as a
    /// deleted authenticator's do) and the account is gone. Nobody deletes their own account or
    /// the last administrator.
    pub fn delete_user(&self, admin: &User, name: &str, now: u64) -> Result<()> {
        if !admin.admin {
            return Err(ProviderError::Forbidden);
        }
        if admin.name == name {
            return Err(ProviderError::Refused("you cannot delete your own account".into()));
        }
        let target: Option<bool> = {
            use crate::database::OptionalRow;
            self.db.query_row("SELECT admin FROM users WHERE name = ?1", params![name], |r| r.get(0)).optional()?
        };
        let Some(target_admin) = target else { return Err(ProviderError::Refused(format!("there is no user {name}"))) };
        if target_admin {
            let admins: i64 = self.db.query_row("SELECT COUNT(*) FROM users WHERE admin = ?1", params![true], |r| r.get(0))?;
            if admins <= 1 {
                return Err(ProviderError::Refused("the last administrator cannot be deleted".into()));
            }
        }
        let tx = crate::database::begin_write(&self.db)?;
        tx.execute(
            "UPDATE tokens SET unregistered_at = COALESCE(unregistered_at, ?1), activation_token = NULL WHERE serial IN (SELECT serial FROM authenticators WHERE owner = ?2)",
            params![now as i64, name],
        )?;
        tx.execute(
            "UPDATE transactions SET state = 'cancelled' WHERE state = 'pending' AND serial IN (SELECT serial FROM authenticators WHERE owner = ?1)",
            params![name],
        )?;
        tx.execute("DELETE FROM authenticators WHERE owner = ?1", params![name])?;
        tx.execute("DELETE FROM sessions WHERE \"user\" = ?1", params![name])?;
        tx.execute("DELETE FROM users WHERE name = ?1", params![name])?;
        tx.commit()?;
        Ok(())
    }

    /// Writes one of the portal's events to the audit log: who did it (`actor`, from `address`),
    /// whose it is (`user`), the token, and what happened in words.
    pub fn portal_event(&self, address: &str, actor: &str, user: &str, serial: Option<&str>, what: &str, now: u64) -> Result<()> {
        let message = if actor == user { what.to_string() } else { format!("{what} (by {actor})") };
        self.append_audit(&Entry {
            at: now,
            address: address.to_string(),
            endpoint: PORTAL_EVENTS.into(),
            user: Some(user.to_string()),
            serial: serial.map(str::to_string),
            decision: "EVENT".into(),
            message,
        })
    }
}

/// What a push answer in the log is, in words.
pub fn answer_in_words(response: &str) -> &'static str {
    match response {
        "confirm" => "Confirmed",
        "cancel" => "Cancelled",
        "suspicious" => "Reported as suspicious: denied",
        "wrong_number" => "Denied: another number than the sign-in page showed was chosen",
        "wrong_codes" => "Denied: wrong confirmation codes",
        _ => "Answered",
    }
}

impl Provider {
    /// The portal's events about `owner` (everyone's for `None`), newest first.
    pub fn portal_events(&self, owner: Option<&str>, limit: usize) -> Result<Vec<Entry>> {
        self.audit_entries(Some(PORTAL_EVENTS), owner, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_searched_by_name_or_email_and_deleting_one_is_refused_for_oneself_and_the_last_administrator() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let root = p.add_user("root", "administrator pw", true, None, 0).unwrap();
        p.add_user("dora", "doras own password", false, Some("dora@example.com"), 0).unwrap();
        p.issue_oath("dora", &crate::tokens::oath::OathOptions::new(crate::tokens::oath::OathKind::Totp), 0).unwrap();
        assert_eq!(p.user_overview("DOR").unwrap().len(), 1);
        assert_eq!(p.user_overview("example.com").unwrap()[0].authenticators, 1);
        assert!(p.user_overview("%").unwrap().is_empty(), "LIKE's wildcards are literal");
        assert!(p.delete_user(&root, "root", 250).is_err(), "not oneself");
        let other_admin = User { name: "ghost".into(), admin: true, email: None };
        assert!(p.delete_user(&other_admin, "root", 250).is_err(), "not the last administrator");
        let dora = User { name: "dora".into(), admin: false, email: None };
        assert!(matches!(p.delete_user(&dora, "root", 250), Err(ProviderError::Forbidden)));
        p.delete_user(&root, "dora", 250).unwrap();
        assert!(p.user_overview("").unwrap().iter().all(|u| u.name != "dora"));
        assert!(p.authenticators(Some("dora"), 260).unwrap().is_empty());
    }
}
