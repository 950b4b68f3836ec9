//! Identities and their codes: list, TOTP codes (reads), the next HOTP code (an action), rename,
//! resynchronise, clock offsets, offline confirmation codes.

use crate::{Activity, Authenticator, ShownCode};
use softtoken_core::identity::{Identity, IdentityKind};
use softtoken_core::otp::TimedCode;
use softtoken_core::{Error, Result};

impl Authenticator {
    /// All identities (a read).
    pub fn identities(&self) -> Result<Vec<Identity>> {
        self.with(Activity::Read, |v| Ok(v.identities().to_vec()))
    }

    /// Takes what another process saved since the unlock (a read; the desktop agent calls it
    /// before it answers). A PIN changed elsewhere locks this session.
    pub fn reload(&self) -> Result<()> {
        let reloaded = self.with(Activity::Read, |v| v.reload());
        if matches!(reloaded, Err(Error::ChangedElsewhere)) {
            self.lock();
        }
        reloaded
    }

    /// One identity by name or id (a read).
    pub fn identity(&self, name_or_id: &str) -> Result<Identity> {
        self.with(Activity::Read, |v| v.find(name_or_id).cloned())
    }

    /// The TOTP code of an identity now (a read: a code screen may call it every second). HOTP
    /// identities are refused: their next code is [`next_hotp`](Self::next_hotp).
    pub fn code(&self, name_or_id: &str) -> Result<ShownCode> {
        self.code_at(name_or_id, self.now())
    }

    /// Waits for the identity's next period edge and returns the code that starts there: the code
    /// ticker a code screen follows (TOTP and Steam only; HOTP is refused and never advanced). A
    /// read: waiting never keeps the vault unlocked, and a vault that locks meanwhile ends the wait
    /// with [`Error::VaultLocked`]. The wait sleeps in slices of at most a second; `cancelled`
    /// ends it within one (`Ok(None)`).
    pub fn next_code(&self, name_or_id: &str, cancelled: &std::sync::atomic::AtomicBool) -> Result<Option<ShownCode>> {
        let first = self.code(name_or_id)?;
        let edge = self.now().saturating_add(u64::from(first.remaining_s.unwrap_or(1)));
        loop {
            if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(None);
            }
            let now = self.now();
            if now >= edge {
                return self.code_at(name_or_id, now).map(Some);
            }
            // Reading the code again checks the vault is still unlocked, without counting as activity.
            self.code_at(name_or_id, now)?;
            std::thread::sleep(std::time::Duration::from_millis((edge - now).min(1) * 1000));
        }
    }

    /// The TOTP code of an identity at `unix_time` (a read; HOTP refused).
    pub fn code_at(&self, name_or_id: &str, unix_time: u64) -> Result<ShownCode> {
        self.with(Activity::Read, |v| {
            let i = v.find(name_or_id)?;
            if i.kind == IdentityKind::Hotp {
                return Err(Error::HotpNeedsRequest(i.name.clone()));
            }
            let TimedCode { code, remaining_s, .. } = i.code_at(unix_time)?;
            Ok(ShownCode { code, remaining_s: Some(remaining_s) })
        })
    }

    /// The next HOTP code: the user asked for it (an action); the counter is advanced and saved
    /// under the vault lock before the code is returned.
    pub fn next_hotp(&self, name_or_id: &str) -> Result<ShownCode> {
        self.with(Activity::Action, |v| Ok(ShownCode { code: v.next_hotp(name_or_id)?, remaining_s: None }))
    }

    /// Renames an identity; returns it renamed.
    pub fn rename(&self, name_or_id: &str, new_name: &str) -> Result<Identity> {
        self.with(Activity::Action, |v| {
            let id = v.find(name_or_id)?.id.clone();
            v.rename(&id, new_name)?;
            v.find(&id).cloned()
        })
    }

    /// Resynchronises an HOTP identity from two consecutive codes; returns the next counter.
    pub fn resync_hotp(&self, name_or_id: &str, first: &str, second: &str) -> Result<u64> {
        self.with(Activity::Action, |v| v.resync_hotp(name_or_id, first, second))
    }

    /// Sets the clock offset an identity's codes use (seconds added to this device's time).
    pub fn set_time_offset(&self, name_or_id: &str, seconds: i64) -> Result<()> {
        self.with(Activity::Action, |v| v.set_time_offset(name_or_id, seconds))
    }

    /// Changes an Entrust identity's code length (6 or 8) without a new registration.
    pub fn set_digits(&self, name_or_id: &str, digits: u8) -> Result<Identity> {
        self.with(Activity::Action, |v| {
            v.set_digits(name_or_id, digits)?;
            v.find(name_or_id).cloned()
        })
    }

    /// Sets (or clears) the address an Entrust identity's push sign-ins come from.
    pub fn set_transaction_url(&self, name_or_id: &str, url: Option<&str>) -> Result<Identity> {
        self.with(Activity::Action, |v| {
            v.set_transaction_url(name_or_id, url)?;
            v.find(name_or_id).cloned()
        })
    }

    /// The offline confirmation code for the transaction id a website shows (an action).
    pub fn confirmation_code(&self, name_or_id: &str, transaction_id: &str) -> Result<String> {
        self.with(Activity::Action, |v| v.find(name_or_id)?.confirmation_code(transaction_id))
    }

    /// Removes an offline identity (one activated online goes through
    /// [`remove`](Self::remove), which unregisters it first).
    pub fn remove_offline(&self, name_or_id: &str) -> Result<Identity> {
        self.with(Activity::Action, |v| v.remove(name_or_id))
    }
}
