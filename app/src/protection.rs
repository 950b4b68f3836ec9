//! What changes the vault's protection: the PIN, biometric unlock, restoring the previous
//! generation. Whatever weakens protection needs the current PIN, checked like an unlock attempt
//! (counted, delayed, locked for good) by the vault itself.

use crate::{Activity, Authenticator};
use softtoken_core::vault::{KdfParams, Vault};
use softtoken_core::Result;

impl Authenticator {
    /// Changes, sets or (`new_pin` `None`) removes the PIN; `current` is the PIN in force. Returns
    /// whether biometric unlock was turned off by the change (the data key is rotated: enable it
    /// again with the new PIN). `kdf` sets new Argon2id parameters (`None`: keep them).
    pub fn change_pin(&self, current: Option<&str>, new_pin: Option<&str>, kdf: Option<KdfParams>) -> Result<bool> {
        let now = self.now();
        self.with(Activity::Action, |v| v.change_pin(current, new_pin, kdf, now))
    }

    /// Turns biometric unlock on (needs the current PIN) or off (needs nothing: it strengthens).
    pub fn set_biometric(&self, pin: Option<&str>, enabled: bool) -> Result<()> {
        let now = self.now();
        self.with(Activity::Action, |v| if enabled { v.enable_biometric(pin, now) } else { v.disable_biometric() })
    }

    /// Confirms the current PIN for an export (a wrong one counts like a failed unlock).
    pub(crate) fn confirmed<T>(&self, pin: Option<&str>, f: impl FnOnce(&mut Vault) -> Result<T>) -> Result<T> {
        let now = self.now();
        self.with(Activity::Action, |v| {
            v.confirm_pin(pin, now)?;
            f(v)
        })
    }

    /// Whether [`restore_previous`](Self::restore_previous) will need a PIN (costs no attempt).
    pub fn previous_needs_pin(&self) -> Result<bool> {
        Vault::previous_needs_pin(&self.path, self.store.clone())
    }

    /// Replaces a damaged vault file by its previous generation (refused while the current file is
    /// intact), with the PIN of the generation restored; leaves it unlocked.
    pub fn restore_previous(&self, pin: Option<&str>) -> Result<()> {
        let epoch = self.epoch();
        let vault = Vault::restore_previous(&self.path, self.store.clone(), pin, self.now())?;
        self.install(crate::Unlocked { vault, epoch })
    }
}
