//! softtoken-app: the one façade over softtoken. An [`Authenticator`] owns one vault, its idle
//! lock, the clock and the transport to providers, and offers every operation an authenticator
//! app has: create and unlock, codes, activations, imports and exports, PIN and biometrics, and
//! the online side (activation by link, push transactions, push tokens). The CLI and the FFI call
//! it and add only their own I/O (terminal, files, platform types).
//!
//! **Activity** (what restarts the idle timer) is defined here, once ([`Activity`]): a user action
//! — unlocking, creating, adding or activating, importing, renaming, removing, asking for the next
//! HOTP code, changing the PIN, turning biometrics on or off, exporting, the online actions.
//! Reading is not activity: listing identities, showing TOTP codes (a code screen refreshes every
//! second), `is_unlocked`, fetching pending transactions. So a phone left on its code screen still
//! locks itself. HOTP codes are never computed by a read: [`Authenticator::code`] refuses them and
//! [`Authenticator::next_hotp`] is the explicit request that advances the counter.
//!
//! **Threading.** Every method takes `&self`; the type is `Send + Sync`. Two locks, never held
//! across Argon2 by the unlock paths or across network I/O by the online flows: the *state* lock
//! (is the vault unlocked, the idle timer) is held only for moments, so `lock()` and
//! `is_unlocked()` answer at once whatever else runs; the *vault* lock serialises operations on the
//! unlocked vault. Unlocking and creating run Argon2 with no lock held and install the result.
//! The vault file itself is guarded across processes by the vault's own lock (`core::vault`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod activation;
mod error;
mod identities;
mod links;
mod online;
mod protection;
mod transfer;

pub use activation::MovedToken;
pub use error::ErrorKind;
pub use links::{preview_link, LinkPreview};
pub use online::{Activated, Fetched, PendingTransaction, PushRegistration, PushTokenReport, Removed};
pub use softtoken_core::protocol::{Refusal, TransactionState};
pub use softtoken_core::transaction::Response;
pub use softtoken_core::Error;
pub use softtoken_net::Activity;
pub use softtoken_net::Error as OnlineError;
pub use softtoken_net::{HttpRequest, HttpResponse, Method, TransactionTransport};
pub use transfer::{FilePreview, ImportBatch, ImportPreview, MigrationExport};

use softtoken_core::clock::Clock;
use softtoken_core::vault::{DeviceKeyStore, LockedVault, Vault, VaultOptions};
use softtoken_core::Result;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Default idle time before the vault locks itself.
pub const DEFAULT_AUTO_LOCK_S: u64 = 300;

/// A code as the apps show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownCode {
    /// The digits.
    pub code: String,
    /// Seconds until it changes (`None` for HOTP).
    pub remaining_s: Option<u32>,
}

/// What `info` shows of a vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultInfo {
    /// The vault file.
    pub path: PathBuf,
    /// Its format version.
    pub format_version: u16,
    /// Whether unlocking needs a PIN.
    pub has_pin: bool,
    /// Whether biometric unlock is enabled.
    pub has_biometric: bool,
    /// How many identities it holds.
    pub identities: usize,
    /// The key store sealing it (`keyring`, `file`, `android-keystore`, …).
    pub key_store: String,
}

/// A vault unlocked (or created) but not yet in use: [`Authenticator::install`] puts it in use;
/// dropped instead, its keys are zeroized and the authenticator stays locked.
pub struct Unlocked {
    vault: Vault,
    /// The lock count when the unlock began: a `lock()` since wins.
    epoch: u64,
}

/// The unlocked vault, shared by the operations running on it.
type Shared = Arc<Mutex<Vault>>;

struct State {
    vault: Option<Shared>,
    idle_limit_s: u64,
    last_activity: u64,
    /// A push token that arrived while the vault was locked: registered after the next unlock.
    kept_push_token: Option<String>,
    /// How many times `lock()` was called: an unlock that began before the last lock is dropped.
    epoch: u64,
}

/// One vault, its lock state and idle timer, the clock, and the transport to providers.
pub struct Authenticator {
    path: PathBuf,
    store: Arc<dyn DeviceKeyStore>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    transport: Mutex<Arc<dyn TransactionTransport>>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Authenticator {
    /// An authenticator for the vault at `path` (which need not exist yet), sealed by `store`. It
    /// starts locked, with no transport (online operations say so until [`set_transport`]).
    ///
    /// [`set_transport`]: Authenticator::set_transport
    pub fn new(path: impl Into<PathBuf>, store: Arc<dyn DeviceKeyStore>, clock: Arc<dyn Clock>) -> Self {
        Authenticator {
            path: path.into(),
            store,
            clock,
            state: Mutex::new(State { vault: None, idle_limit_s: DEFAULT_AUTO_LOCK_S, last_activity: 0, kept_push_token: None, epoch: 0 }),
            transport: Mutex::new(Arc::new(softtoken_net::NoTransport)),
        }
    }

    /// The vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Now, by the authenticator's clock.
    pub fn now(&self) -> u64 {
        self.clock.unix_time()
    }

    /// Whether a vault file exists.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Creates the vault and leaves it unlocked (Argon2 runs with no lock held).
    pub fn create(&self, pin: Option<&str>, options: VaultOptions) -> Result<()> {
        let unlocked = self.creating(pin, options)?;
        self.install(unlocked)
    }

    /// Unlocks with the PIN (`None` for a PIN-less vault). Argon2 runs with no lock held, so
    /// [`lock`](Self::lock) and [`is_unlocked`](Self::is_unlocked) answer meanwhile.
    pub fn unlock(&self, pin: Option<&str>) -> Result<()> {
        let unlocked = self.unlocking(pin)?;
        self.install(unlocked)
    }

    /// Unlocks with the biometric slot (the platform prompts; refused while wrong PINs have the
    /// vault waiting).
    pub fn unlock_biometric(&self) -> Result<()> {
        let unlocked = self.unlocking_biometric()?;
        self.install(unlocked)
    }

    /// The first half of [`create`](Self::create): the new vault, not yet in use.
    pub fn creating(&self, pin: Option<&str>, options: VaultOptions) -> Result<Unlocked> {
        let epoch = self.epoch();
        Ok(Unlocked { vault: Vault::create(&self.path, self.store.clone(), pin, options)?, epoch })
    }

    /// The first half of [`unlock`](Self::unlock) — the PIN checked and counted, Argon2 run —
    /// for callers that may give up waiting (a cancelled coroutine or task): dropping the result
    /// leaves the vault locked.
    pub fn unlocking(&self, pin: Option<&str>) -> Result<Unlocked> {
        let epoch = self.epoch();
        Ok(Unlocked { vault: Vault::open(&self.path, self.store.clone(), pin, self.now())?, epoch })
    }

    /// The first half of [`unlock_biometric`](Self::unlock_biometric).
    pub fn unlocking_biometric(&self) -> Result<Unlocked> {
        let epoch = self.epoch();
        Ok(Unlocked { vault: LockedVault::open(&self.path, self.store.clone())?.unlock_biometric(self.now())?, epoch })
    }

    /// The second half: puts an unlocked vault in use (an action: the idle timer starts) — unless
    /// [`lock`](Self::lock) was called since the unlock began: a lock wins over an unlock in
    /// flight ([`Error::VaultLocked`], the keys dropped).
    pub fn install(&self, unlocked: Unlocked) -> Result<()> {
        let mut s = guard(&self.state);
        if s.epoch != unlocked.epoch {
            return Err(Error::VaultLocked);
        }
        s.vault = Some(Arc::new(Mutex::new(unlocked.vault)));
        s.last_activity = self.now();
        Ok(())
    }

    pub(crate) fn epoch(&self) -> u64 {
        guard(&self.state).epoch
    }

    /// Locks now: the identities and the data key are dropped (zeroized) once no operation holds
    /// them any more, and an unlock still running will not put its vault in use.
    pub fn lock(&self) {
        let mut s = guard(&self.state);
        s.vault = None;
        s.epoch = s.epoch.wrapping_add(1);
    }

    /// Seconds of inactivity before the vault locks itself (0: never).
    pub fn set_auto_lock(&self, seconds: u64) {
        guard(&self.state).idle_limit_s = seconds;
    }

    /// Whether the vault is unlocked (the idle lock applied first; not an activity).
    pub fn is_unlocked(&self) -> bool {
        self.shared(Activity::Read).is_ok()
    }

    /// Whether unlocking needs a PIN; costs no attempt.
    pub fn has_pin(&self) -> Result<bool> {
        match self.shared(Activity::Read) {
            Ok(v) => Ok(guard(&v).has_pin()),
            Err(_) => Ok(self.locked()?.has_pin()),
        }
    }

    /// Whether biometric unlock is enabled.
    pub fn has_biometric(&self) -> Result<bool> {
        match self.shared(Activity::Read) {
            Ok(v) => Ok(guard(&v).has_biometric()),
            Err(_) => Ok(self.locked()?.has_biometric()),
        }
    }

    /// The vault's facts (a read).
    pub fn info(&self) -> Result<VaultInfo> {
        self.with(Activity::Read, |v| {
            Ok(VaultInfo {
                path: self.path.clone(),
                format_version: v.format_version(),
                has_pin: v.has_pin(),
                has_biometric: v.has_biometric(),
                identities: v.identities().len(),
                key_store: v.store_kind().to_string(),
            })
        })
    }

    fn locked(&self) -> Result<LockedVault> {
        LockedVault::open(&self.path, self.store.clone())
    }

    /// The unlocked vault: the idle lock applies first; an action restarts the timer.
    fn shared(&self, activity: Activity) -> Result<Shared> {
        let now = self.now();
        let mut s = guard(&self.state);
        if s.idle_limit_s > 0 && now.saturating_sub(s.last_activity) >= s.idle_limit_s {
            s.vault = None;
        }
        let vault = s.vault.clone().ok_or(Error::VaultLocked)?;
        if activity == Activity::Action {
            s.last_activity = now;
        }
        Ok(vault)
    }

    /// Runs `f` on the unlocked vault (the state lock is released first; the vault lock is held
    /// for `f`, which does no network I/O).
    pub(crate) fn with<T>(&self, activity: Activity, f: impl FnOnce(&mut Vault) -> Result<T>) -> Result<T> {
        let vault = self.shared(activity)?;
        let mut v = guard(&vault);
        f(&mut v)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod memory_tests;
#[cfg(test)]
mod tests;
