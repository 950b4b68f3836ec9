//! A session over one vault: open or create, unlock (PIN or biometric), lock, lock by itself after
//! an idle time, and the operations the apps call. The shells' `Authenticator` objects are thin
//! wrappers over this type.
//!
//! **Activity** (what restarts the idle timer) is defined here, once: a user action — unlocking,
//! creating, adding or activating, importing, renaming, removing, asking for the next HOTP code,
//! changing the PIN, turning biometrics on or off, exporting, and the online actions (answering a
//! transaction, activating by link, registering a push token). Reading is not activity: listing
//! identities, showing TOTP codes (a code screen refreshes every second), `is_unlocked`. So a
//! phone left on its code screen still locks itself. Reads go through [`Session::peek`], actions
//! through [`Session::act`]. HOTP codes are never computed by a read: [`Session::code`] refuses
//! them and [`Session::next_hotp`] is the explicit request that advances the counter.

use crate::activation::{moved_identity, otpauth_identity, MovedToken, PendingActivation};
use crate::entrust::ObservedOtp;
use crate::error::{Error, Result};
use crate::identity::{Identity, IdentityKind};
use crate::otp::{Clock, TimedCode};
use crate::uri::OtpAuth;
use crate::vault::backup::ImportReport;
use crate::vault::keys::KdfParams;
use crate::vault::keystore::DeviceKeyStore;
use crate::vault::{LockedVault, Vault, VaultOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// A code as the apps show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownCode {
    /// The digits.
    pub code: String,
    /// Seconds until it changes (`None` for HOTP).
    pub remaining_s: Option<u32>,
}

/// One vault, its lock state and its idle timer.
pub struct Session {
    path: PathBuf,
    store: Arc<dyn DeviceKeyStore>,
    clock: Arc<dyn Clock>,
    vault: Option<Vault>,
    idle_limit_s: u64,
    last_activity: u64,
}

/// Default idle time before the vault locks itself.
pub const DEFAULT_AUTO_LOCK_S: u64 = 300;

/// What unlocking needs, taken out of the session so the KDF (or the platform's biometric prompt)
/// runs without holding whatever guards the session; [`Session::install`] puts the result in.
pub struct Unlocker {
    path: PathBuf,
    store: Arc<dyn DeviceKeyStore>,
    clock: Arc<dyn Clock>,
}

impl Unlocker {
    /// Unlocks with the PIN (`None` for a PIN-less vault).
    pub fn unlock(&self, pin: Option<&str>) -> Result<Vault> {
        Vault::open(&self.path, self.store.clone(), pin, self.clock.unix_time())
    }

    /// Unlocks with the biometric slot (refused while wrong PINs have the vault waiting).
    pub fn unlock_biometric(&self) -> Result<Vault> {
        LockedVault::open(&self.path, self.store.clone())?.unlock_biometric(self.clock.unix_time())
    }
}

impl Session {
    /// A session for the vault at `path` (which may not exist yet).
    pub fn new(path: PathBuf, store: Arc<dyn DeviceKeyStore>, clock: Arc<dyn Clock>) -> Self {
        Session { path, store, clock, vault: None, idle_limit_s: DEFAULT_AUTO_LOCK_S, last_activity: 0 }
    }

    /// The session's clock (online flows correct it by each provider's time).
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Whether a vault file exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Creates the vault and leaves it unlocked.
    pub fn create(&mut self, pin: Option<&str>, options: VaultOptions) -> Result<()> {
        self.install(Vault::create(&self.path, self.store.clone(), pin, options)?);
        Ok(())
    }

    /// What unlocking needs, to run without the session (see [`Unlocker`]).
    pub fn unlocker(&self) -> Unlocker {
        Unlocker { path: self.path.clone(), store: self.store.clone(), clock: self.clock.clone() }
    }

    /// Puts an unlocked vault in (an activity).
    pub fn install(&mut self, vault: Vault) {
        self.vault = Some(vault);
        self.touch();
    }

    /// Unlocks with the PIN (`None` for a PIN-less vault).
    pub fn unlock(&mut self, pin: Option<&str>) -> Result<()> {
        let v = self.unlocker().unlock(pin)?;
        self.install(v);
        Ok(())
    }

    /// Unlocks with the biometric slot.
    pub fn unlock_biometric(&mut self) -> Result<()> {
        let v = self.unlocker().unlock_biometric()?;
        self.install(v);
        Ok(())
    }

    /// Locks: the identities and the data key are dropped (zeroized).
    pub fn lock(&mut self) {
        self.vault = None;
    }

    /// Seconds of inactivity before the vault locks itself (0: never).
    pub fn set_auto_lock(&mut self, seconds: u64) {
        self.idle_limit_s = seconds;
    }

    /// Whether the vault is unlocked (applies the idle lock first; not an activity).
    pub fn is_unlocked(&mut self) -> bool {
        self.expire();
        self.vault.is_some()
    }

    /// Whether unlocking needs a PIN; costs no attempt.
    pub fn has_pin(&self) -> Result<bool> {
        match &self.vault {
            Some(v) => Ok(v.has_pin()),
            None => Ok(LockedVault::open(&self.path, self.store.clone())?.has_pin()),
        }
    }

    /// Whether biometric unlock is enabled.
    pub fn has_biometric(&self) -> Result<bool> {
        match &self.vault {
            Some(v) => Ok(v.has_biometric()),
            None => Ok(LockedVault::open(&self.path, self.store.clone())?.has_biometric()),
        }
    }

    fn touch(&mut self) {
        self.last_activity = self.clock.unix_time();
    }

    fn expire(&mut self) {
        if self.idle_limit_s > 0 && self.vault.is_some() && self.clock.unix_time().saturating_sub(self.last_activity) >= self.idle_limit_s {
            self.vault = None;
        }
    }

    /// The unlocked vault for a read: the idle lock applies, the timer is not restarted.
    pub fn peek(&mut self) -> Result<&mut Vault> {
        self.expire();
        self.vault.as_mut().ok_or(Error::VaultLocked)
    }

    /// The unlocked vault for a user action: the idle lock applies, then the timer restarts.
    pub fn act(&mut self) -> Result<&mut Vault> {
        self.expire();
        self.touch();
        self.vault.as_mut().ok_or(Error::VaultLocked)
    }

    /// All identities (a read).
    pub fn identities(&mut self) -> Result<Vec<Identity>> {
        Ok(self.peek()?.identities().to_vec())
    }

    /// The TOTP code of an identity now (a read: a code screen may call it every second). HOTP
    /// identities are refused: their next code is [`next_hotp`](Self::next_hotp).
    pub fn code(&mut self, id: &str) -> Result<ShownCode> {
        let now = self.clock.unix_time();
        self.code_at(id, now)
    }

    /// The TOTP code of an identity at `unix_time` (a read; HOTP refused).
    pub fn code_at(&mut self, id: &str, unix_time: u64) -> Result<ShownCode> {
        let i = self.peek()?.find(id)?;
        if i.kind == IdentityKind::Hotp {
            return Err(Error::HotpNeedsRequest(i.name.clone()));
        }
        let TimedCode { code, remaining_s, .. } = i.code_at(unix_time)?;
        Ok(ShownCode { code, remaining_s: Some(remaining_s) })
    }

    /// The next HOTP code: the user asked for it (an activity); the counter is advanced and saved
    /// under the vault lock before the code is returned.
    pub fn next_hotp(&mut self, id: &str) -> Result<ShownCode> {
        Ok(ShownCode { code: self.act()?.next_hotp(id)?, remaining_s: None })
    }

    /// Starts an activation from a QR URI and its password (nothing stored yet).
    pub fn begin_qr_activation(&self, uri: &str, password: &str, digits: Option<u8>) -> Result<PendingActivation> {
        PendingActivation::from_uri(uri, password, digits, &ring::rand::SystemRandom::new())
    }

    /// Starts an activation from typed serial number and activation code.
    pub fn begin_manual_activation(&self, serial: &str, activation_code: &str, digits: Option<u8>) -> Result<PendingActivation> {
        PendingActivation::from_numbers(serial, activation_code, digits, &ring::rand::SystemRandom::new())
    }

    /// Stores a previewed activation.
    pub fn commit_activation(&mut self, pending: PendingActivation, name: Option<&str>) -> Result<Identity> {
        let now = self.clock.unix_time();
        let identity = pending.into_identity(name, None, now, &ring::rand::SystemRandom::new())?;
        Ok(self.act()?.add(identity)?.clone())
    }

    /// Adds an otpauth URI.
    pub fn add_otpauth(&mut self, uri: &str, name: Option<&str>) -> Result<Identity> {
        let now = self.clock.unix_time();
        let identity = otpauth_identity(&OtpAuth::parse(uri)?, name, now, &ring::rand::SystemRandom::new())?;
        Ok(self.act()?.add(identity)?.clone())
    }

    /// Moves a token activated in the official app: from its registration code, or from codes it
    /// showed (searched on all cores).
    #[allow(clippy::too_many_arguments)]
    pub fn import_existing(
        &mut self,
        serial: &str,
        activation_code: &str,
        policy: Option<&str>,
        registration_code: Option<&str>,
        otps: &[ObservedOtp],
        digits: Option<u8>,
        name: Option<&str>,
    ) -> Result<Identity> {
        let token = MovedToken { serial, activation_code, policy, registration_code, otps, digits };
        let identity = moved_identity(&token, None, name, self.clock.unix_time(), &ring::rand::SystemRandom::new())?;
        Ok(self.act()?.add(identity)?.clone())
    }

    /// Renames an identity.
    pub fn rename(&mut self, id: &str, name: &str) -> Result<()> {
        self.act()?.rename(id, name)
    }

    /// Changes, sets or (`new_pin` `None`) removes the PIN; `current` is the PIN in force, checked
    /// like an unlock attempt. Returns whether biometric unlock was turned off by the change (the
    /// data key is rotated: enable it again with the new PIN).
    pub fn change_pin(&mut self, current: Option<&str>, new_pin: Option<&str>) -> Result<bool> {
        let now = self.clock.unix_time();
        self.act()?.change_pin(current, new_pin, None, now)
    }

    /// Turns biometric unlock on (needs the current PIN) or off (needs nothing: it strengthens).
    pub fn set_biometric(&mut self, pin: Option<&str>, enabled: bool) -> Result<()> {
        let now = self.clock.unix_time();
        let v = self.act()?;
        if enabled {
            v.enable_biometric(pin, now)
        } else {
            v.disable_biometric()
        }
    }

    /// An encrypted backup: the explicit, PIN-confirmed export (the PIN is checked like an unlock
    /// attempt, so a wrong one counts).
    pub fn export_backup(&mut self, pin: Option<&str>, password: &str, kdf: KdfParams) -> Result<Vec<u8>> {
        let now = self.clock.unix_time();
        let v = self.act()?;
        v.confirm_pin(pin, now)?;
        v.export_backup(password, kdf)
    }

    /// Imports otpauth / otpauth-migration URIs (one per line), item by item.
    pub fn import_uris(&mut self, text: &str) -> Result<ImportReport> {
        let now = self.clock.unix_time();
        let mut batches = Vec::new();
        let items = crate::import::from_uri_text(text, now, &ring::rand::SystemRandom::new(), &mut batches);
        if items.is_empty() {
            return Err(Error::MalformedUri("no otpauth or otpauth-migration URI found".into()));
        }
        let mut report = self.act()?.import(items)?;
        report.skipped.extend(crate::import::missing_parts(&batches));
        Ok(report)
    }

    /// Imports a softtoken backup, item by item.
    pub fn import_backup(&mut self, bytes: &[u8], password: &str) -> Result<ImportReport> {
        let items = crate::import::from_backup(bytes, password)?;
        self.act()?.import(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::FixedClock;
    use crate::vault::MemoryKeyStore;
    use std::sync::Mutex;

    struct TestClock(Mutex<u64>);
    impl Clock for TestClock {
        fn unix_time(&self) -> u64 {
            *self.0.lock().unwrap()
        }
    }

    #[test]
    fn auto_lock_after_idle_time() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(TestClock(Mutex::new(1_000)));
        let mut s = Session::new(dir.path().join("v"), Arc::new(MemoryKeyStore::new()), clock.clone());
        s.create(Some("1234"), VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
        s.set_auto_lock(60);
        s.add_otpauth("otpauth://totp/a?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", None).unwrap();
        *clock.0.lock().unwrap() = 1_059;
        assert!(s.is_unlocked());
        assert_eq!(s.code_at("a", 59).unwrap(), ShownCode { code: "287082".into(), remaining_s: Some(1) });
        *clock.0.lock().unwrap() = 1_200;
        assert!(!s.is_unlocked());
        assert_eq!(s.code("a").unwrap_err(), Error::VaultLocked);
        assert_eq!(s.identities().unwrap_err(), Error::VaultLocked);
        s.unlock(Some("1234")).unwrap();
        assert_eq!(s.identities().unwrap().len(), 1);
    }

    #[test]
    fn a_code_screen_refreshing_every_second_does_not_keep_the_vault_unlocked() {
        // The attack (finding 2): every code read restarted the idle timer, so a phone left on
        // its code screen never locked; for HOTP each read also advanced the counter.
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(TestClock(Mutex::new(1_000)));
        let mut s = Session::new(dir.path().join("v"), Arc::new(MemoryKeyStore::new()), clock.clone());
        s.create(None, VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
        s.set_auto_lock(60);
        s.add_otpauth("otpauth://totp/t?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", None).unwrap();
        s.add_otpauth("otpauth://hotp/h?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0", None).unwrap();
        for t in 1_001..1_060 {
            *clock.0.lock().unwrap() = t;
            s.code("t").unwrap();
            s.identities().unwrap();
            assert_eq!(s.code("h").unwrap_err(), Error::HotpNeedsRequest("h".into()), "a read never advances HOTP");
        }
        *clock.0.lock().unwrap() = 1_060;
        assert!(!s.is_unlocked(), "locked 60 s after the last user action despite a code read every second");
        s.unlock(None).unwrap();
        assert_eq!(s.next_hotp("h").unwrap().code, "755224");
        assert_eq!(s.identities().unwrap().iter().find(|i| i.name == "h").unwrap().counter, 1);
    }

    #[test]
    fn export_needs_the_pin_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Session::new(dir.path().join("v"), Arc::new(MemoryKeyStore::new()), Arc::new(FixedClock(5)));
        s.create(Some("1234"), VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
        assert!(matches!(s.export_backup(Some("9999"), "long password", KdfParams::MINIMUM), Err(Error::WrongPin { .. })));
        assert_eq!(s.export_backup(None, "long password", KdfParams::MINIMUM).unwrap_err(), Error::PinRequired);
        assert!(matches!(s.change_pin(Some("9999"), Some("4321")), Err(Error::WrongPin { .. })));
        assert!(matches!(s.set_biometric(Some("9999"), true), Err(Error::WrongPin { .. })));
        let b = s.export_backup(Some("1234"), "long password", KdfParams::MINIMUM).unwrap();
        assert!(b.starts_with(b"STBACKUP"));
    }

    #[test]
    fn activation_preview_commit_and_moving_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Session::new(dir.path().join("v"), Arc::new(MemoryKeyStore::new()), Arc::new(FixedClock(1_570_434_609)));
        s.create(None, VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
        let moved = s
            .import_existing("48244-13456", "1745-7712-6942-8698", None, None, &[ObservedOtp { code: "043700".into(), unix_time: 1_570_434_609 }], None, Some("moved"))
            .unwrap();
        assert_eq!(s.code(&moved.id).unwrap().code, "043700");
        let p = s.begin_manual_activation("48244-13456", "1745-7712-6942-8698", Some(8)).unwrap();
        let id = s.commit_activation(p, Some("new")).unwrap();
        assert_eq!(id.digits, 8);
        assert_eq!(s.identities().unwrap().len(), 2);
    }
}
