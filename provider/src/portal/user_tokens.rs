//! The portal's model: each user's authenticators, their states and actions, and the token
//! settings administrators choose. The HTML is `web` (feature "server"); this is the state.
//!
//! An authenticator belongs to a user. It is *assigned* until its first activation is issued,
//! *waiting* while that activation's password is valid, *expired* when it ran out uncompleted,
//! *active* once the registration code was typed into Complete, and *removed* when the app
//! unregistered it. Activate on an assigned or expired one issues a new QR code and password.

use super::accounts::User;
use crate::database::{params, OptionalRow};
use crate::{IssueOptions, Issued, Provider, ProviderError, Result, DEFAULT_LIFETIME_S, DEFAULT_POLICY, DEFAULT_REGISTRATION_URL};
use serde::{Deserialize, Serialize};

/// Longest activation lifetime an administrator may set (a day).
pub const MAX_LIFETIME_S: u64 = 86_400;

/// The token settings new activations use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSettings {
    /// 6 or 8.
    pub digits: u8,
    /// Seconds an activation's QR code and password stay valid.
    pub lifetime_s: u64,
    /// Digits of the activation password (4 to 16).
    pub password_length: usize,
    /// The policy put in the QR payload, verbatim (none: manual activation possible too).
    pub policy: Option<String>,
    /// Authenticators one user may have at once (assigned ones included).
    #[serde(default = "default_max_per_user")]
    pub max_per_user: u32,
    /// Authenticators one user may add in an hour.
    #[serde(default = "default_adds_per_hour")]
    pub adds_per_hour: u32,
    /// The company's name, carried in activations (`issuer`): the app shows it and names the
    /// token after it. None: the app names it after the registration address.
    #[serde(default)]
    pub company: Option<String>,
    /// The registration address put in activations (`regurl`, without scheme); None: the
    /// built-in placeholder.
    #[serde(default)]
    pub registration_url: Option<String>,
}

/// The default of [`TokenSettings::max_per_user`].
pub const DEFAULT_MAX_PER_USER: u32 = 10;
/// The default of [`TokenSettings::adds_per_hour`].
pub const DEFAULT_ADDS_PER_HOUR: u32 = 5;

fn default_max_per_user() -> u32 {
    DEFAULT_MAX_PER_USER
}

fn default_adds_per_hour() -> u32 {
    DEFAULT_ADDS_PER_HOUR
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            digits: 6,
            lifetime_s: DEFAULT_LIFETIME_S,
            password_length: 8,
            policy: Some(DEFAULT_POLICY.into()),
            max_per_user: DEFAULT_MAX_PER_USER,
            adds_per_hour: DEFAULT_ADDS_PER_HOUR,
            company: None,
            registration_url: None,
        }
    }
}

impl TokenSettings {
    /// Refuses settings no activation could be issued with.
    pub fn check(&self) -> Result<()> {
        if self.digits != 6 && self.digits != 8 {
            return Err(ProviderError::Invalid("codes have 6 or 8 digits".into()));
        }
        if !(60..=MAX_LIFETIME_S).contains(&self.lifetime_s) {
            return Err(ProviderError::Invalid(format!("the activation lifetime must be 60 to {MAX_LIFETIME_S} seconds")));
        }
        if !(4..=16).contains(&self.password_length) {
            return Err(ProviderError::Invalid("the activation password must have 4 to 16 digits".into()));
        }
        if let Some(p) = &self.policy {
            softtoken_core::entrust::Policy::parse(Some(p))?;
        }
        if !(1..=1000).contains(&self.max_per_user) || !(1..=1000).contains(&self.adds_per_hour) {
            return Err(ProviderError::Invalid("the authenticators per user and per hour must be 1 to 1000".into()));
        }
        let max = softtoken_core::entrust::secactivate::MAX_ISSUER_CHARS;
        if let Some(c) = &self.company {
            if c.trim().is_empty() || c.chars().count() > max || c.chars().any(softtoken_core::text::is_hazard) {
                return Err(ProviderError::Invalid(format!("the company name must be 1 to {max} characters without control characters")));
            }
        }
        if let Some(u) = &self.registration_url {
            if u.is_empty() || u.len() > 200 || u.chars().any(|c| c.is_whitespace() || softtoken_core::text::is_hazard(c)) {
                return Err(ProviderError::Invalid("the registration address must be 1 to 200 characters without spaces".into()));
            }
        }
        Ok(())
    }
}

/// Where an authenticator is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserTokenState {
    /// Assigned by an administrator; no activation issued yet.
    Assigned,
    /// An activation was issued and can still be completed.
    Waiting,
    /// The activation ran out before it was completed.
    Expired,
    /// Completed: the token's codes are accepted.
    Active,
    /// The app removed the identity (unregistered).
    Removed,
}

impl UserTokenState {
    /// The word shown in the portal.
    pub fn as_str(self) -> &'static str {
        match self {
            UserTokenState::Assigned => "assigned",
            UserTokenState::Waiting => "waiting for activation",
            UserTokenState::Expired => "expired",
            UserTokenState::Active => "active",
            UserTokenState::Removed => "removed by the app",
        }
    }
}

/// One authenticator as the portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserToken {
    /// Its number in the portal.
    pub id: i64,
    /// Whose.
    pub owner: String,
    /// The serial of its latest activation.
    pub serial: Option<String>,
    /// Where it is.
    pub state: UserTokenState,
    /// Until when the waiting activation can be completed.
    pub expires_at: Option<u64>,
    /// When it was added or assigned.
    pub created_at: u64,
    /// The administrator who assigned it, if one did.
    pub assigned_by: Option<String>,
    /// Code length.
    pub digits: Option<u8>,
    /// `entrust`, `totp` or `hotp` (`entrust` until a token is issued).
    pub kind: String,
    /// Failed checks in a row (the validate API's fail counter).
    pub fail_count: u32,
    /// An administrator disabled its token.
    pub disabled: bool,
}

impl Provider {
    /// The token settings (defaults until an administrator sets them).
    pub fn token_settings(&self) -> Result<TokenSettings> {
        let stored: Option<String> = self.db.query_row("SELECT value FROM meta WHERE name = 'token_settings'", params![], |r| r.get(0)).optional()?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
    }

    /// Sets the token settings for activations issued from now on.
    pub fn set_token_settings(&self, settings: &TokenSettings) -> Result<()> {
        settings.check()?;
        let json = serde_json::to_string(settings).map_err(|e| ProviderError::Fault(e.to_string()))?;
        self.db
            .execute("INSERT INTO meta (name, value) VALUES ('token_settings', ?1) ON CONFLICT(name) DO UPDATE SET value = excluded.value", params![json])?;
        Ok(())
    }

    /// A user's authenticators (every one for `None`), newest first, with their states at `now`.
    pub fn authenticators(&self, owner: Option<&str>, now: u64) -> Result<Vec<UserToken>> {
        self.db.query_map(
            "SELECT a.id, a.owner, a.serial, a.created_at, a.assigned_by, t.expires_at, t.completed_at, t.unregistered_at, t.digits,
                    COALESCE(t.kind, 'entrust'), COALESCE(t.fail_count, 0), COALESCE(t.disabled, 0)
             FROM authenticators a LEFT JOIN tokens t ON t.serial = a.serial
             WHERE CAST(?1 AS TEXT) IS NULL OR a.owner = ?1 ORDER BY a.id DESC",
            params![owner],
            |r| {
                let (expires_at, completed_at, unregistered_at): (Option<i64>, Option<i64>, Option<i64>) = (r.get(5)?, r.get(6)?, r.get(7)?);
                let state = match (r.get::<Option<String>>(2)?, completed_at, unregistered_at) {
                    (None, _, _) => UserTokenState::Assigned,
                    (Some(_), _, Some(_)) => UserTokenState::Removed,
                    (Some(_), Some(_), None) => UserTokenState::Active,
                    (Some(_), None, None) if expires_at.is_some_and(|e| now < e as u64) => UserTokenState::Waiting,
                    (Some(_), None, None) => UserTokenState::Expired,
                };
                Ok(UserToken {
                    id: r.get(0)?,
                    owner: r.get(1)?,
                    serial: r.get(2)?,
                    state,
                    expires_at: expires_at.map(|e| e as u64).filter(|_| state == UserTokenState::Waiting),
                    created_at: r.get::<i64>(3)? as u64,
                    assigned_by: r.get(4)?,
                    digits: r.get(8)?,
                    kind: r.get(9)?,
                    fail_count: r.get(10)?,
                    disabled: r.get::<i64>(11)? != 0,
                })
            },
        )
    }

    /// One authenticator of `user` (any user's for an administrator).
    pub fn authenticator(&self, user: &User, id: i64, now: u64) -> Result<UserToken> {
        let owner = if user.admin { None } else { Some(user.name.as_str()) };
        self.authenticators(owner, now)?.into_iter().find(|a| a.id == id).ok_or(ProviderError::UnknownAuthenticator(id))
    }

    /// An administrator assigns a new authenticator to `owner` (activated later by its owner).
    pub fn assign(&self, admin: &User, owner: &str, now: u64) -> Result<i64> {
        if !admin.admin {
            return Err(ProviderError::Forbidden);
        }
        if self.known_user(owner, now)?.is_none() {
            return Err(ProviderError::Refused(format!("there is no user {owner}")));
        }
        self.db.query_row(
            "INSERT INTO authenticators (owner, created_at, assigned_by) VALUES (?1, ?2, ?3) RETURNING id",
            params![owner, now as i64, admin.name],
            |r| r.get(0),
        )
    }

    /// Whether `user` has an active authenticator, so that adding or activating another needs a
    /// current code of one (a stolen password alone must not add a token).
    pub fn needs_second_factor(&self, user: &User, now: u64) -> Result<bool> {
        Ok(self.authenticators(Some(&user.name), now)?.iter().any(|a| a.state == UserTokenState::Active))
    }

    /// Refuses to add or activate an authenticator for a user who has an active one, unless
    /// `code` is a current code of one of theirs (checked as the validate API checks it: once,
    /// counting failures).
    fn require_second_factor(&self, user: &User, code: Option<&str>, now: u64) -> Result<()> {
        if !self.needs_second_factor(user, now)? {
            return Ok(());
        }
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            None => Err(ProviderError::Refused(
                "you have an active authenticator: enter a current code from it to add or activate another (a password alone cannot add one)".into(),
            )),
            Some(code) if self.check_user_code(&user.name, code, now)? => Ok(()),
            Some(_) => Err(ProviderError::Refused("that is not a current code of your authenticators: enter the code they show now".into())),
        }
    }

    /// *Add → soft token*: a new authenticator for `user`, activated at once. A user with an
    /// active authenticator gives a current `code` of one. Refused past the operator's cap of
    /// authenticators per user, or of adds per hour (a signed-in user cannot fill the database
    /// with tokens).
    pub fn add_authenticator(&self, user: &User, online_base_url: Option<&str>, code: Option<&str>, now: u64) -> Result<(i64, Issued)> {
        self.check_add_limits(user, now)?;
        self.require_second_factor(user, code, now)?;
        let id =
            self.db.query_row("INSERT INTO authenticators (owner, created_at) VALUES (?1, ?2) RETURNING id", params![user.name, now as i64], |r| r.get(0))?;
        Ok((id, self.activate_checked(user, id, online_base_url, now)?))
    }

    /// *Add → TOTP / HOTP*: a standard token for any authenticator app, under the same rules as
    /// [`Self::add_authenticator`] (a current code once the user has an active token, the caps).
    pub fn add_oath_authenticator(
        &self,
        user: &User,
        kind: crate::tokens::oath::OathKind,
        code: Option<&str>,
        now: u64,
    ) -> Result<crate::tokens::oath::IssuedOath> {
        self.check_add_limits(user, now)?;
        self.require_second_factor(user, code, now)?;
        let digits = self.token_settings()?.digits;
        self.issue_oath(&user.name, &crate::tokens::oath::OathOptions { digits, ..crate::tokens::oath::OathOptions::new(kind) }, now)
    }

    /// The operator's caps on adding: authenticators per user, and added per hour.
    fn check_add_limits(&self, user: &User, now: u64) -> Result<()> {
        let s = self.token_settings()?;
        let held: i64 = self.db.query_row("SELECT COUNT(*) FROM authenticators WHERE owner = ?1", params![user.name], |r| r.get(0))?;
        if held >= i64::from(s.max_per_user) {
            return Err(ProviderError::Refused(format!("you have {held} authenticators, the most allowed here: delete one before adding another")));
        }
        let recent: i64 = self.db.query_row(
            "SELECT COUNT(*) FROM authenticators WHERE owner = ?1 AND assigned_by IS NULL AND created_at > ?2",
            params![user.name, now.saturating_sub(3600) as i64],
            |r| r.get(0),
        )?;
        if recent >= i64::from(s.adds_per_hour) {
            return Err(ProviderError::Refused(format!("{recent} authenticators were added in the last hour, the most allowed: try again later")));
        }
        Ok(())
    }

    /// *Activate*: a new QR code and password for an authenticator not active (a waiting one's
    /// earlier activation can no longer be completed). A user with another active authenticator
    /// gives a current `code` of one.
    pub fn activate(&self, user: &User, id: i64, online_base_url: Option<&str>, code: Option<&str>, now: u64) -> Result<Issued> {
        self.authenticator(user, id, now)?;
        self.require_second_factor(user, code, now)?;
        self.activate_checked(user, id, online_base_url, now)
    }

    fn activate_checked(&self, user: &User, id: i64, online_base_url: Option<&str>, now: u64) -> Result<Issued> {
        let a = self.authenticator(user, id, now)?;
        if matches!(a.state, UserTokenState::Active | UserTokenState::Removed) {
            return Err(ProviderError::Refused(format!("authenticator {id} is {}: add a new one instead", a.state.as_str())));
        }
        let s = self.token_settings()?;
        let opts = IssueOptions {
            digits: s.digits,
            policy: s.policy,
            password_length: s.password_length,
            lifetime_s: s.lifetime_s,
            registration_url: Some(s.registration_url.unwrap_or_else(|| DEFAULT_REGISTRATION_URL.into())),
            online_base_url: online_base_url.map(str::to_string),
            issuer: s.company,
        };
        let issued = self.issue(&opts, now)?;
        if let Some(old) = &a.serial {
            // The earlier activation is over: its password and link no longer complete anything.
            self.db.execute("UPDATE tokens SET expires_at = CASE WHEN expires_at < ?1 THEN expires_at ELSE ?1 END, activation_token = NULL WHERE serial = ?2 AND completed_at IS NULL", params![now as i64, old])?;
        }
        self.db.execute("UPDATE authenticators SET serial = ?1 WHERE id = ?2", params![issued.serial, id])?;
        Ok(issued)
    }

    /// *Complete*: the registration code the app showed, for the waiting authenticator `id`.
    pub fn complete_authenticator(&self, user: &User, id: i64, registration_code: &str, now: u64) -> Result<String> {
        let a = self.authenticator(user, id, now)?;
        match (a.state, a.serial) {
            (UserTokenState::Waiting, Some(serial)) => self.complete(&serial, registration_code, now).map(|()| serial),
            (UserTokenState::Expired, _) => Err(ProviderError::Expired),
            (state, _) => Err(ProviderError::Refused(format!("authenticator {id} is {}: nothing to complete", state.as_str()))),
        }
    }

    /// Deletes an authenticator from the portal; its token no longer verifies or gets pushes.
    pub fn delete_authenticator(&self, user: &User, id: i64, now: u64) -> Result<()> {
        let a = self.authenticator(user, id, now)?;
        if let Some(serial) = &a.serial {
            self.db.execute(
                "UPDATE tokens SET unregistered_at = COALESCE(unregistered_at, ?1), activation_token = NULL WHERE serial = ?2",
                params![now as i64, serial],
            )?;
            self.db.execute("UPDATE transactions SET state = 'cancelled' WHERE serial = ?1 AND state = 'pending'", params![serial])?;
        }
        self.db.execute("DELETE FROM authenticators WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// Gives the token `serial` (just issued by the operator) to `owner`: it becomes one of their
    /// authenticators, checked by the validate API for them.
    pub fn give_token(&self, owner: &str, serial: &str, now: u64) -> Result<i64> {
        if self.known_user(owner, now)?.is_none() {
            return Err(ProviderError::Refused(format!("there is no user {owner}")));
        }
        self.db.query_row("INSERT INTO authenticators (owner, serial, created_at) VALUES (?1, ?2, ?3) RETURNING id", params![owner, serial, now as i64], |r| {
            r.get(0)
        })
    }

    /// The user whose authenticator has this serial.
    pub fn owner_of_serial(&self, serial: &str) -> Result<Option<String>> {
        self.db.query_row("SELECT owner FROM authenticators WHERE serial = ?1", params![serial], |r| r.get(0)).optional()
    }

    /// The logged answers of `user`'s tokens (every token's for `None`), newest first.
    pub fn log_of(&self, owner: Option<&str>) -> Result<Vec<(crate::protocol::transactions::Event, String, String)>> {
        self.db.query_map(
            "SELECT e.transaction_id, e.serial, e.response, e.at, COALESCE(a.owner, ''), COALESCE(t.summary, '')
             FROM events e LEFT JOIN authenticators a ON a.serial = e.serial LEFT JOIN transactions t ON t.id = e.transaction_id
             WHERE CAST(?1 AS TEXT) IS NULL OR a.owner = ?1 ORDER BY e.seq DESC LIMIT 500",
            params![owner],
            |r| {
                Ok((
                    crate::protocol::transactions::Event { transaction_id: r.get(0)?, serial: r.get(1)?, response: r.get(2)?, at: r.get::<i64>(3)? as u64 },
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authenticator_goes_from_assigned_to_active() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let admin = p.add_user("root", "administrator pw", true, None, 0).unwrap();
        let alice = p.add_user("alice", "alice password", false, None, 0).unwrap();
        let bob = p.add_user("bob", "bob's password", false, None, 0).unwrap();
        assert!(matches!(p.assign(&alice, "bob", 0), Err(ProviderError::Forbidden)));
        let id = p.assign(&admin, "alice", 100).unwrap();
        assert_eq!(p.authenticator(&alice, id, 100).unwrap().state, UserTokenState::Assigned);
        assert!(matches!(p.authenticator(&bob, id, 100), Err(ProviderError::UnknownAuthenticator(_))), "bob cannot see alice's token");
        let first = p.activate(&alice, id, None, None, 100).unwrap();
        assert_eq!(p.authenticator(&alice, id, 100).unwrap().state, UserTokenState::Waiting);
        assert_eq!(p.authenticator(&alice, id, 100 + DEFAULT_LIFETIME_S).unwrap().state, UserTokenState::Expired);
        // Activate again: the first activation can no longer be completed.
        let second = p.activate(&alice, id, None, None, 200).unwrap();
        let rng = ring::rand::SystemRandom::new();
        let old = softtoken_core::activation::PendingActivation::from_uri(&first.uri, &first.password, None, &rng).unwrap();
        assert!(p.complete(&first.serial, &old.registration_code.to_string(), 201).is_err());
        let new = softtoken_core::activation::PendingActivation::from_uri(&second.uri, &second.password, None, &rng).unwrap();
        assert!(matches!(p.complete_authenticator(&alice, id, "12211-49353", 201), Err(ProviderError::Core(_))), "a bad check digit is refused");
        p.complete_authenticator(&alice, id, &new.registration_code.to_string(), 201).unwrap();
        assert_eq!(p.authenticator(&alice, id, 201).unwrap().state, UserTokenState::Active);
        assert!(p.activate(&alice, id, None, None, 202).is_err(), "an active token is not activated again");
        p.delete_authenticator(&alice, id, 203).unwrap();
        assert!(p.authenticators(Some("alice"), 203).unwrap().is_empty());
    }

    #[test]
    fn settings_are_checked_and_used() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let alice = p.add_user("alice", "alice password", false, None, 0).unwrap();
        assert!(p.set_token_settings(&TokenSettings { digits: 7, ..Default::default() }).is_err());
        assert!(p.set_token_settings(&TokenSettings { lifetime_s: 10, ..Default::default() }).is_err());
        assert!(p.set_token_settings(&TokenSettings { policy: Some("{".into()), ..Default::default() }).is_err());
        p.set_token_settings(&TokenSettings { digits: 8, lifetime_s: 600, password_length: 12, policy: None, ..Default::default() }).unwrap();
        let (_, issued) = p.add_authenticator(&alice, None, None, 1000).unwrap();
        assert_eq!(issued.password.len(), 12);
        assert_eq!(issued.expires_at, 1600);
        let payload = softtoken_core::entrust::decrypt_uri(&issued.uri, &issued.password).unwrap();
        assert_eq!((payload.digits, payload.policy), (Some(8), None));
    }

    #[test]
    fn one_user_cannot_fill_the_database_with_tokens() {
        // The attack (issue 28, finding 13): one portal user made 300 tokens in 5 s.
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let alice = p.add_user("alice", "alice password", false, None, 0).unwrap();
        let bob = p.add_user("bob", "bob password", false, None, 0).unwrap();
        for i in 0..DEFAULT_ADDS_PER_HOUR {
            p.add_authenticator(&alice, None, None, 1000 + u64::from(i)).unwrap();
        }
        let refused = p.add_authenticator(&alice, None, None, 1010).unwrap_err();
        assert!(refused.to_string().contains("last hour"), "{refused}");
        p.add_authenticator(&bob, None, None, 1010).unwrap();
        // An hour later more may be added, up to the cap per user.
        for i in 0..(DEFAULT_MAX_PER_USER - DEFAULT_ADDS_PER_HOUR) {
            p.add_authenticator(&alice, None, None, 5000 + 800 * u64::from(i)).unwrap();
        }
        let refused = p.add_authenticator(&alice, None, None, 50_000).unwrap_err();
        assert!(refused.to_string().contains("the most allowed here"), "{refused}");
        assert_eq!(p.authenticators(Some("alice"), 50_000).unwrap().len(), DEFAULT_MAX_PER_USER as usize);
        // The operator sets both.
        p.set_token_settings(&TokenSettings { max_per_user: 11, ..Default::default() }).unwrap();
        p.add_authenticator(&alice, None, None, 50_001).unwrap();
        assert!(p.set_token_settings(&TokenSettings { adds_per_hour: 0, ..Default::default() }).is_err());
    }
}
