//! The portal's accounts: users and administrators with Argon2id password hashes, and sessions.
//!
//! A password is stored as `argon2id$v=19$m=KIB,t=PASSES,p=LANES$SALT$HASH` (hex salt and hash),
//! so its cost can be raised later without breaking older rows. A session's id lives only in the
//! user's cookie: the database keeps its SHA-256, so a copied database opens no session. Each
//! session has its own CSRF token, which every form of the portal sends back.

use crate::database::{params, OptionalRow};
use crate::{random, Provider, ProviderError, Result};
use zeroize::Zeroizing;

/// Argon2id memory in KiB for new passwords (OWASP's 19 MiB, 2 passes, 1 lane).
const ARGON2_KIB: u32 = 19 * 1024;
/// Argon2id passes for new passwords.
const ARGON2_PASSES: u32 = 2;
/// Most memory a stored hash may ask for (a tampered row cannot make a login take gigabytes).
const MAX_ARGON2_KIB: u32 = 256 * 1024;
/// Most passes a stored hash may ask for.
const MAX_ARGON2_PASSES: u32 = 16;
/// Seconds a session lasts from sign-in.
pub const SESSION_LIFETIME_S: u64 = 8 * 3600;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest user name.
const MAX_NAME_CHARS: usize = 64;

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The name they sign in with.
    pub name: String,
    /// Administrators assign tokens and set the token settings.
    pub admin: bool,
    /// Where activation e-mails go.
    pub email: Option<String>,
}

/// A session found from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    /// Whose.
    pub user: User,
    /// The token every form of this session carries.
    pub csrf: String,
}

/// A new session: the cookie value (never stored) and its CSRF token.
pub struct NewSession {
    /// The cookie's value.
    pub id: Zeroizing<String>,
    /// The session's CSRF token.
    pub csrf: String,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession").field("id", &"[redacted]").finish()
    }
}

fn argon2id(password: &str, salt: &[u8], m_kib: u32, passes: u32, lanes: u32) -> Result<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(m_kib, passes, lanes, Some(32)).map_err(|e| ProviderError::Fault(format!("Argon2 parameters: {e}")))?;
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut out[..])
        .map_err(|e| ProviderError::Fault(format!("Argon2: {e}")))?;
    Ok(out)
}

/// A new password's stored form.
pub fn hash_password(rng: &ring::rand::SystemRandom, password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(rng, &mut salt).map_err(|_| ProviderError::random())?;
    let hash = argon2id(password, &salt, ARGON2_KIB, ARGON2_PASSES, 1)?;
    let hex = softtoken_core::secret::hex_encode;
    Ok(format!("argon2id$v=19$m={ARGON2_KIB},t={ARGON2_PASSES},p=1${}${}", hex(&salt), hex(&hash[..])))
}

/// Whether `password` matches a stored form (constant-time compare; capped costs).
pub fn verify_password(stored: &str, password: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let ["argon2id", "v=19", costs, salt, hash] = parts.as_slice() else { return false };
    let cost: Vec<Option<u32>> = ["m=", "t=", "p="].iter().zip(costs.split(',')).map(|(name, c)| c.strip_prefix(name)?.parse().ok()).collect();
    let [Some(m), Some(t), Some(p)] = cost[..] else { return false };
    if m == 0 || m > MAX_ARGON2_KIB || t == 0 || t > MAX_ARGON2_PASSES || p == 0 || p > 4 {
        return false;
    }
    let (Some(salt), Some(hash)) = (softtoken_core::secret::hex_decode(salt), softtoken_core::secret::hex_decode(hash)) else { return false };
    match argon2id(password, &salt, m, t, p) {
        Ok(found) => subtle::ConstantTimeEq::ct_eq(&found[..], &hash[..]).into(),
        Err(_) => false,
    }
}

/// A user name: 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
pub fn check_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty() && name.chars().count() <= MAX_NAME_CHARS && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ProviderError::Invalid(format!("user name {name:?}: 1 to {MAX_NAME_CHARS} letters, digits, '.', '_', '-' or '@'")))
    }
}

impl Provider {
    /// Creates a user (or administrator) with a password of at least [`MIN_PASSWORD_CHARS`].
    pub fn add_user(&self, name: &str, password: &str, admin: bool, email: Option<&str>, now: u64) -> Result<User> {
        check_user_name(name)?;
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(ProviderError::Invalid(format!("the password must have at least {MIN_PASSWORD_CHARS} characters")));
        }
        if let Some(e) = email {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
                && !e.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"".contains(c));
            if !ok {
                return Err(ProviderError::Invalid(format!("e-mail address {e:?} is not valid")));
            }
        }
        let hash = hash_password(&self.rng, password)?;
        let added = self.db.execute(
            "INSERT INTO users (name, password, admin, email, created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO NOTHING",
            params![name, hash, admin, email, now as i64],
        )?;
        if added == 0 {
            return Err(ProviderError::Refused(format!("user {name} exists already")));
        }
        Ok(User { name: name.into(), admin, email: email.map(str::to_string) })
    }

    /// A user by name.
    pub fn user(&self, name: &str) -> Result<Option<User>> {
        self.db
            .query_row("SELECT name, admin, email FROM users WHERE name = ?1", params![name], |r| {
                Ok(User { name: r.get(0)?, admin: r.get(1)?, email: r.get(2)? })
            })
            .optional()
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        self.db.query_map("SELECT name, admin, email FROM users ORDER BY name", params![], |r| Ok(User { name: r.get(0)?, admin: r.get(1)?, email: r.get(2)? }))
    }

    /// Checks a password and opens a session; `None` for an unknown user or a wrong password (the
    /// same work is done for both, so timing does not tell which names exist).
    pub fn sign_in(&self, name: &str, password: &str, now: u64) -> Result<Option<(User, NewSession)>> {
        let row: Option<(String, bool, Option<String>)> = self
            .db
            .query_row("SELECT password, admin, email FROM users WHERE name = ?1", params![name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        // An unknown name is checked against a dummy hash of the same cost.
        const DUMMY: &str = "argon2id$v=19$m=19456,t=2,p=1$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000";
        let user = match &row {
            // A user of the directory (known, or a name it may know): the directory checks the
            // password, and the session is the directory entry's user whatever case was typed.
            Some((stored, _, _)) if stored == crate::directory::DIRECTORY_PASSWORD => {
                if self.directory_password_matches(name, password)? {
                    self.known_user(name, now)?
                } else {
                    None
                }
            }
            None if self.directory()?.is_some() => {
                verify_password(DUMMY, password);
                if self.directory_password_matches(name, password)? {
                    self.known_user(name, now)?
                } else {
                    None
                }
            }
            _ => {
                let ok = verify_password(row.as_ref().map_or(DUMMY, |r| r.0.as_str()), password);
                row.filter(|_| ok).map(|(_, admin, email)| User { name: name.into(), admin, email })
            }
        };
        let Some(user) = user else { return Ok(None) };
        let id = Zeroizing::new(random::hex(&self.rng, 32)?);
        let csrf = random::hex(&self.rng, 16)?;
        self.db.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now as i64])?;
        self.db.execute(
            "INSERT INTO sessions (id_hash, \"user\", csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![crate::sealed::sha256_hex(&id), user.name, csrf, now as i64, now.saturating_add(SESSION_LIFETIME_S) as i64],
        )?;
        Ok(Some((user, NewSession { id, csrf })))
    }

    /// The live session a cookie names.
    pub fn session(&self, id: &str, now: u64) -> Result<Option<Session>> {
        self.db
            .query_row(
                "SELECT u.name, u.admin, u.email, s.csrf FROM sessions s JOIN users u ON u.name = s.\"user\" WHERE s.id_hash = ?1 AND s.expires_at > ?2",
                params![crate::sealed::sha256_hex(id), now as i64],
                |r| Ok(Session { user: User { name: r.get(0)?, admin: r.get(1)?, email: r.get(2)? }, csrf: r.get(3)? }),
            )
            .optional()
    }

    /// A user changes their own password: the current one is checked first (a wrong one changes
    /// nothing), and every other session of theirs ends; `keep` (the session asking) stays.
    pub fn change_password(&self, name: &str, current: &str, new: &str, keep: &str) -> Result<()> {
        let stored: Option<String> = self.db.query_row("SELECT password FROM users WHERE name = ?1", params![name], |r| r.get(0)).optional()?;
        if !stored.is_some_and(|h| verify_password(&h, current)) {
            return Err(ProviderError::WrongPassword);
        }
        self.set_password(name, new, Some(keep))
    }

    /// An administrator (the `user password` command) sets a user's password; every session of
    /// theirs ends.
    pub fn reset_password(&self, name: &str, new: &str) -> Result<()> {
        if self.user(name)?.is_none() {
            return Err(ProviderError::Refused(format!("there is no user {name}")));
        }
        self.set_password(name, new, None)
    }

    fn set_password(&self, name: &str, new: &str, keep: Option<&str>) -> Result<()> {
        if new.chars().count() < MIN_PASSWORD_CHARS {
            return Err(ProviderError::Invalid(format!("the password must have at least {MIN_PASSWORD_CHARS} characters")));
        }
        let hash = hash_password(&self.rng, new)?;
        let tx = crate::database::begin_write(&self.db)?;
        tx.execute("UPDATE users SET password = ?1 WHERE name = ?2", params![hash, name])?;
        let keep = keep.map(crate::sealed::sha256_hex).unwrap_or_default();
        tx.execute("DELETE FROM sessions WHERE \"user\" = ?1 AND id_hash <> ?2", params![name, keep])?;
        tx.commit()?;
        Ok(())
    }

    /// Ends a session.
    pub fn sign_out(&self, id: &str) -> Result<()> {
        self.db.execute("DELETE FROM sessions WHERE id_hash = ?1", params![crate::sealed::sha256_hex(id)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_tampered_costs_are_refused() {
        let rng = ring::rand::SystemRandom::new();
        let stored = hash_password(&rng, "correct horse battery").unwrap();
        assert!(stored.starts_with("argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(&stored, "correct horse battery"));
        assert!(!verify_password(&stored, "correct horse batterz"));
        // A row asking for 4 GiB is refused without hashing.
        let hostile = stored.replace("m=19456", "m=4194304");
        assert!(!verify_password(&hostile, "correct horse battery"));
        assert!(!verify_password("plain text", "plain text"));
    }

    #[test]
    fn sessions_are_stored_hashed_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        p.add_user("alice", "alice password 1", false, Some("alice@example.com"), 0).unwrap();
        assert!(p.add_user("alice", "alice password 2", false, None, 0).is_err());
        assert!(p.add_user("bob", "short", false, None, 0).is_err());
        assert!(p.sign_in("alice", "wrong password!", 10).unwrap().is_none());
        assert!(p.sign_in("nobody", "alice password 1", 10).unwrap().is_none());
        let (user, session) = p.sign_in("alice", "alice password 1", 10).unwrap().unwrap();
        assert!(!user.admin);
        let stored: String = p.db.query_row("SELECT id_hash FROM sessions", params![], |r| r.get(0)).unwrap();
        assert_ne!(stored, *session.id, "the database holds the session id's hash only");
        assert_eq!(p.session(&session.id, 11).unwrap().unwrap().csrf, session.csrf);
        assert!(p.session(&session.id, 10 + SESSION_LIFETIME_S).unwrap().is_none());
        p.sign_out(&session.id).unwrap();
        assert!(p.session(&session.id, 11).unwrap().is_none());
    }

    #[test]
    fn a_password_change_needs_the_current_password_and_ends_the_other_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        p.add_user("alice", "alice password 1", false, None, 0).unwrap();
        let (_, here) = p.sign_in("alice", "alice password 1", 10).unwrap().unwrap();
        let (_, elsewhere) = p.sign_in("alice", "alice password 1", 10).unwrap().unwrap();
        // A stolen session alone cannot change the password.
        assert!(matches!(p.change_password("alice", "a wrong guess", "attacker password", &here.id), Err(ProviderError::WrongPassword)));
        assert!(p.sign_in("alice", "alice password 1", 20).unwrap().is_some(), "a refused change changes nothing");
        assert!(p.change_password("alice", "alice password 1", "short", &here.id).is_err());
        p.change_password("alice", "alice password 1", "alice password 2", &here.id).unwrap();
        assert!(p.sign_in("alice", "alice password 1", 30).unwrap().is_none());
        assert!(p.sign_in("alice", "alice password 2", 30).unwrap().is_some());
        assert!(p.session(&here.id, 30).unwrap().is_some(), "the session that changed it stays");
        assert!(p.session(&elsewhere.id, 30).unwrap().is_none(), "the others end");
        // An administrator's reset ends every session of theirs.
        p.reset_password("alice", "alice password 3").unwrap();
        assert!(p.session(&here.id, 40).unwrap().is_none());
        assert!(p.sign_in("alice", "alice password 3", 40).unwrap().is_some());
        assert!(p.reset_password("nobody", "some password 1").is_err());
    }
}
