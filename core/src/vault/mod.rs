//! The PIN-protected identity vault (design: `docs/architecture.md`, "Vault").
//!
//! Keys are nested: a random 256-bit data key encrypts the identities (AES-256-GCM); it is wrapped
//! by the PIN key (Argon2id) and the whole file — wrapped key included — is sealed by the device
//! key, whose seal is checked before anything else is parsed. So a stolen file alone cannot be
//! brute-forced (the device key never leaves the device), any altered byte is reported as
//! tampering without costing a PIN attempt, and a wrong PIN is reported as a wrong PIN.
//!
//! Every change is a read-modify-write under the vault's cross-process lock
//! ([`store::VaultLock`]): the file is read again (another process may have saved since), the change
//! is applied, and the next generation is written. The device key store keeps the highest
//! generation written, so a copy of an older file put back is refused ([`Error::RolledBack`]).
//! What weakens protection — changing or removing the PIN, enabling biometric unlock, exporting —
//! needs the current PIN, checked like an unlock attempt (counted, delayed, locked for good).

pub(crate) mod attempts;
pub mod autobackup;
pub mod backup;
pub(crate) mod format;
mod identities;
pub mod key_store;
pub(crate) mod keys;
mod slots;
pub(crate) mod store;

use crate::error::{Error, Result};
use crate::identity::Identity;
use attempts::{AttemptCounter, DEFAULT_MAX_ATTEMPTS};
use format::{InnerHeader, OuterHeader, VERSION};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::VaultLock;
use zeroize::Zeroizing;

pub use attempts::AttemptState;
pub use autobackup::{AutoBackupKey, AutoBackupStatus};
pub use backup::ImportReport;
pub use identities::RESYNC_WINDOW;
pub use key_store::{DeviceKeyStore, KeyStoreError, MemoryKeyStore};
pub use keys::KdfParams;
pub use slots::{biometric_label, check_pin, MAX_PIN_CHARS, MIN_PIN_CHARS};
use slots::{make_slot, pin_attempt};
pub use store::{create_private, write_atomic};

/// Choices made when a vault is created.
#[derive(Debug, Clone, Copy)]
pub struct VaultOptions {
    /// Argon2id parameters for the PIN key.
    pub kdf: KdfParams,
    /// Wrong PINs before the vault locks for good.
    pub max_attempts: u32,
}

impl Default for VaultOptions {
    fn default() -> Self {
        VaultOptions { kdf: KdfParams::DEFAULT, max_attempts: DEFAULT_MAX_ATTEMPTS }
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    identities: Vec<Identity>,
    /// Added within vault format 1: absent from older files, omitted when off.
    #[serde(default)]
    auto_backup: Option<autobackup::AutoBackup>,
}

fn key_error(e: KeyStoreError, corrupt: Error) -> Error {
    match e {
        KeyStoreError::KeyMissing(m) => Error::KeyUnavailable(m),
        KeyStoreError::Rejected => corrupt,
        KeyStoreError::Cancelled => Error::AuthenticationCancelled,
        KeyStoreError::LockedOut(m) => Error::AuthenticationLockedOut(m),
        KeyStoreError::Failed(m) => Error::Platform(m),
    }
}

/// A vault file whose device seal has been checked, not yet unlocked.
pub struct LockedVault {
    path: PathBuf,
    store: Arc<dyn DeviceKeyStore>,
    outer: OuterHeader,
    outer_bytes: Vec<u8>,
    inner_plain: Zeroizing<Vec<u8>>,
    inner: InnerHeader,
}

/// An unlocked vault: identities in memory, data key held until dropped.
pub struct Vault {
    path: PathBuf,
    store: Arc<dyn DeviceKeyStore>,
    outer: OuterHeader,
    outer_bytes: Vec<u8>,
    inner: InnerHeader,
    data_key: Zeroizing<[u8; 32]>,
    identities: Vec<Identity>,
    auto_backup: Option<autobackup::AutoBackup>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("path", &self.path).field("identities", &self.identities.len()).finish_non_exhaustive()
    }
}

/// Reads and device-opens a vault file (current or previous generation).
fn open_file(path: &Path, file: &[u8], store: Arc<dyn DeviceKeyStore>) -> Result<LockedVault> {
    let corrupt = Error::CorruptVault { previous_available: false };
    let (outer, outer_bytes, sealed) = format::decode_outer(file)?;
    if outer.store_kind != store.kind() {
        return Err(Error::WrongKeyStore { recorded: outer.store_kind, given: store.kind() });
    }
    let inner_plain = Zeroizing::new(store.open(&outer.seal_label(), sealed).map_err(|e| key_error(e, corrupt.clone()))?);
    let (inner, _, _) = format::decode_inner(&outer_bytes, outer.version, &inner_plain)?;
    Ok(LockedVault { path: path.to_path_buf(), store, outer, outer_bytes, inner_plain, inner })
}

/// The device key store's record of the highest generation written for a vault, and of which file
/// may come back as its previous generation: the SHA-256 of the file that generation replaced
/// (the `.prev` kept beside it), or nothing when no previous file may come back (after a PIN
/// change the preceding file holds the old PIN's slot). Without that binding any old copy planted
/// as `.prev` could be restored, with its old PIN, removed tokens and used HOTP codes.
struct GenerationRecord<'a> {
    label: String,
    store: &'a dyn DeviceKeyStore,
}

/// The SHA-256 of a whole vault file, as the generation record binds it.
fn file_digest(file: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(file).into()
}

/// What the record says of the previous generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Previous {
    /// A record written before the binding existed: only generation `newest - 1` may come back.
    Unbound,
    /// No previous file may come back.
    None,
    /// Only the file with this SHA-256 may come back.
    File([u8; 32]),
}

impl<'a> GenerationRecord<'a> {
    fn new(vault_id: &str, store: &'a dyn DeviceKeyStore) -> Self {
        GenerationRecord { label: format!("softtoken/v1/generation/{vault_id}"), store }
    }

    /// The highest generation written (0 when none was recorded: a new or version-1 vault) and
    /// what may come back as the previous one.
    fn load_full(&self) -> Result<(u64, Previous)> {
        let Some(sealed) = self.store.load(&self.label).map_err(attempts::platform)? else {
            return Ok((0, Previous::Unbound));
        };
        let corrupt = Error::CorruptVault { previous_available: false };
        match self.store.open(&self.label, &sealed) {
            Ok(plain) => {
                let generation = plain.get(..8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).ok_or(corrupt.clone())?;
                let previous = match &plain[8..] {
                    [] => Previous::Unbound,
                    [0] => Previous::None,
                    digest => Previous::File(digest.try_into().map_err(|_| corrupt)?),
                };
                Ok((generation, previous))
            }
            // A record that is not this key's: as good as none; the file's own seal still holds.
            Err(KeyStoreError::Rejected) => Ok((0, Previous::Unbound)),
            Err(e) => Err(attempts::platform(e)),
        }
    }

    /// The highest generation written.
    fn load(&self) -> Result<u64> {
        self.load_full().map(|(generation, _)| generation)
    }

    /// Refuses a file older than the newest written.
    fn check(&self, found: u64) -> Result<()> {
        let newest = self.load()?;
        if found < newest {
            return Err(Error::RolledBack { found, newest });
        }
        Ok(())
    }

    /// Refuses a file offered as the previous generation unless it is the very file the newest
    /// generation replaced.
    fn check_previous(&self, file: &[u8], found: u64) -> Result<()> {
        let (newest, previous) = self.load_full()?;
        let bound = match previous {
            Previous::File(digest) => file_digest(file) == digest,
            Previous::None => false,
            // No record at all (a store that cannot hold one) or one from before the binding.
            Previous::Unbound => newest == 0 || found.checked_add(1) == Some(newest),
        };
        if bound {
            Ok(())
        } else {
            Err(Error::RolledBack { found, newest })
        }
    }

    fn store(&self, generation: u64, previous: Previous) -> Result<()> {
        let mut record = generation.to_le_bytes().to_vec();
        match previous {
            Previous::Unbound => {}
            Previous::None => record.push(0),
            Previous::File(digest) => record.extend_from_slice(&digest),
        }
        let sealed = self.store.seal(&self.label, &record).map_err(attempts::platform)?;
        self.store.store(&self.label, &sealed).map_err(attempts::platform)
    }
}

/// The key store kind recorded in a vault file's clear header (to pick the store before opening).
pub fn recorded_store_kind(path: &Path) -> Result<String> {
    let file = store::read(path)?.ok_or_else(|| Error::NoVault(path.to_path_buf()))?;
    match format::decode_outer(&file) {
        Ok((outer, _, _)) => Ok(outer.store_kind),
        Err(Error::CorruptVault { .. }) => {
            // The current file's header is damaged: the previous generation still names the store.
            let prev = store::read(&store::previous_path(path))?.ok_or(Error::CorruptVault { previous_available: false })?;
            format::decode_outer(&prev).map(|(o, _, _)| o.store_kind).map_err(|_| Error::CorruptVault { previous_available: false })
        }
        Err(e) => Err(e),
    }
}

/// The previous generation, when it exists, passes the device seal and is the very file the
/// newest generation replaced (never an older copy put in its place).
fn open_previous(path: &Path, store: &Arc<dyn DeviceKeyStore>) -> Result<LockedVault> {
    let bytes = store::read(&store::previous_path(path))?.ok_or(Error::NoPreviousVersion)?;
    let locked = open_file(path, &bytes, store.clone())?;
    GenerationRecord::new(&locked.outer.vault_id, store.as_ref()).check_previous(&bytes, locked.inner.generation)?;
    Ok(locked)
}

/// True when the previous generation may be restored.
fn previous_is_intact(path: &Path, store: &Arc<dyn DeviceKeyStore>) -> bool {
    open_previous(path, store).is_ok()
}

impl LockedVault {
    /// Opens `path`: reads it, checks the clear header, the device seal and that it is not an
    /// older generation than the newest written. Costs no PIN attempt.
    pub fn open(path: &Path, store: Arc<dyn DeviceKeyStore>) -> Result<Self> {
        let mut file = store::read(path)?.ok_or_else(|| Error::NoVault(path.to_path_buf()))?;
        // Read without the vault lock: another process may save generation n+1 (file, then
        // record) between this read of the file and the read of the record. That looks like a
        // rollback but the file has changed meanwhile; a real rollback reads the same file again.
        for _ in 0..8 {
            let locked = open_file(path, &file, store.clone()).map_err(|e| match e {
                Error::CorruptVault { .. } => Error::CorruptVault { previous_available: previous_is_intact(path, &store) },
                other => other,
            })?;
            match GenerationRecord::new(&locked.outer.vault_id, store.as_ref()).check(locked.inner.generation) {
                Err(Error::RolledBack { .. }) => match store::read(path)? {
                    Some(again) if again != file => file = again,
                    _ => return Err(GenerationRecord::new(&locked.outer.vault_id, store.as_ref()).check(locked.inner.generation).unwrap_err()),
                },
                checked => return checked.map(|()| locked),
            }
        }
        Err(Error::ConcurrentChange)
    }

    /// Whether unlocking needs a PIN.
    pub fn has_pin(&self) -> bool {
        self.inner.kdf.is_some()
    }

    /// The key store kind recorded in the header.
    pub fn store_kind(&self) -> &str {
        &self.outer.store_kind
    }

    /// The vault's id (the clear header's; it names the vault's device records).
    pub fn vault_id(&self) -> &str {
        &self.outer.vault_id
    }

    /// The wrong-PIN counter's current state.
    pub fn attempts(&self) -> Result<AttemptState> {
        AttemptCounter::new(&self.path, &self.outer.vault_id, self.store.as_ref()).load()
    }

    /// Unlocks with the PIN (ignored for a vault without PIN). The attempt is counted before the
    /// KDF runs and forgiven only on success, so an interrupted attempt counts as failed.
    pub fn unlock(self, pin: Option<&str>, now: u64) -> Result<Vault> {
        let data_key = pin_attempt(&self.path, &self.outer.vault_id, self.store.as_ref(), &self.inner, pin, now)?;
        self.finish(data_key)
    }

    /// Decrypts the identities with the data key.
    fn finish(self, data_key: Zeroizing<[u8; 32]>) -> Result<Vault> {
        let (_, aad, payload) = format::decode_inner(&self.outer_bytes, self.outer.version, &self.inner_plain)?;
        let mut full_aad = keys::PAYLOAD_AAD.to_vec();
        full_aad.extend_from_slice(aad);
        let plain = keys::open(&data_key, &full_aad, payload).ok_or(Error::CorruptVault { previous_available: false })?;
        let payload: Payload = serde_json::from_slice(&plain).map_err(|_| Error::CorruptVault { previous_available: false })?;
        Ok(Vault {
            path: self.path,
            store: self.store,
            outer: self.outer,
            outer_bytes: self.outer_bytes,
            inner: self.inner,
            data_key,
            identities: payload.identities,
            auto_backup: payload.auto_backup,
        })
    }

    /// Whether biometric unlock is enabled.
    pub fn has_biometric(&self) -> bool {
        !self.inner.bio_slot.is_empty()
    }

    /// Unlocks with the biometric slot: the platform opens it with its user-authentication-bound
    /// key (prompting for a fingerprint or face), so no PIN is typed. Refused while wrong PINs have
    /// the vault waiting or locked for good: biometrics never bypass the PIN's limits.
    pub fn unlock_biometric(self, now: u64) -> Result<Vault> {
        if !self.has_biometric() {
            return Err(Error::BiometricNotEnabled);
        }
        self.attempts()?.check(now, self.inner.max_attempts)?;
        let label = biometric_label(&self.outer.vault_id);
        let key = Zeroizing::new(self.store.open(&label, &self.inner.bio_slot).map_err(|e| key_error(e, Error::CorruptVault { previous_available: false }))?);
        let data_key: Zeroizing<[u8; 32]> = Zeroizing::new(key[..].try_into().map_err(|_| Error::CorruptVault { previous_available: false })?);
        self.finish(data_key)
    }
}

/// What a change of the vault may alter; restored as a whole when the change or its save fails.
#[derive(Clone)]
struct Contents {
    inner: InnerHeader,
    data_key: Zeroizing<[u8; 32]>,
    identities: Vec<Identity>,
    auto_backup: Option<autobackup::AutoBackup>,
}

impl Vault {
    /// Creates a new vault at `path` (refuses to overwrite one) and returns it unlocked.
    pub fn create(path: &Path, store: Arc<dyn DeviceKeyStore>, pin: Option<&str>, options: VaultOptions) -> Result<Vault> {
        let kdf = options.kdf.check()?;
        let _lock = VaultLock::acquire(path)?;
        if path.exists() {
            return Err(Error::VaultExists(path.to_path_buf()));
        }
        let vault_id = crate::secret::hex_encode(&keys::random::<8>()?[..]);
        let outer = OuterHeader { version: VERSION, store_kind: store.kind(), vault_id };
        let data_key = keys::random::<32>()?;
        let (kdf, salt, key_slot) = make_slot(&data_key, pin, kdf, &outer.vault_id)?;
        let inner = InnerHeader { kdf, salt, max_attempts: options.max_attempts.max(FREE_ATTEMPTS_FLOOR), key_slot, bio_slot: Vec::new(), generation: 0 };
        let mut vault =
            Vault { path: path.to_path_buf(), store, outer_bytes: outer.encode(), outer, inner, data_key, identities: Vec::new(), auto_backup: None };
        vault.write()?;
        Ok(vault)
    }

    /// Opens and unlocks in one step.
    pub fn open(path: &Path, store: Arc<dyn DeviceKeyStore>, pin: Option<&str>, now: u64) -> Result<Vault> {
        LockedVault::open(path, store)?.unlock(pin, now)
    }

    /// Replaces a damaged vault file by its previous generation: only when the current file fails
    /// its integrity check (or is missing), only the very file the newest generation replaced
    /// (the key store records its digest: an older copy planted as `.prev` is refused as a
    /// rollback, and nothing changes), never the file from before a PIN change, and only with
    /// the PIN of the generation restored (counted like an unlock). The restored contents are
    /// written as a new generation, so the rollback check keeps refusing every older copy.
    pub fn restore_previous(path: &Path, store: Arc<dyn DeviceKeyStore>, pin: Option<&str>, now: u64) -> Result<Vault> {
        let prev = store::previous_path(path);
        {
            let _lock = VaultLock::acquire(path)?;
            if let Some(current) = store::read(path)? {
                match open_file(path, &current, store.clone()) {
                    Ok(_) => return Err(Error::VaultIntact),
                    Err(Error::CorruptVault { .. }) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        if !prev.exists() {
            return Err(Error::NoPreviousVersion);
        }
        let locked = open_previous(path, &store)?;
        let data_key = pin_attempt(path, &locked.outer.vault_id, store.as_ref(), &locked.inner, pin, now)?;
        let mut vault = locked.finish(data_key)?;
        let _lock = VaultLock::acquire(path)?;
        vault.inner.generation = vault.inner.generation.max(GenerationRecord::new(&vault.outer.vault_id, store.as_ref()).load()?);
        vault.write()?;
        Ok(vault)
    }

    /// Whether restoring the previous generation will need a PIN (costs no attempt).
    pub fn previous_needs_pin(path: &Path, store: Arc<dyn DeviceKeyStore>) -> Result<bool> {
        Ok(open_previous(path, &store)?.has_pin())
    }

    /// Writes the data key's bytes straight from where the vault holds them (no copy in this
    /// process): for the test that searches memory for it after lock. Not in release builds.
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn write_data_key_for_test(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(&self.data_key[..])
    }

    /// Encrypts and writes the next generation atomically (the previous one kept as `.prev`) and
    /// records it in the key store, bound to the file it replaced. Callers hold the vault lock.
    fn write(&mut self) -> Result<()> {
        self.write_next(true)
    }

    /// [`write`](Self::write); with `previous_restorable` false the record lets no previous
    /// file come back (a PIN change: the file it replaces holds the old PIN's slot).
    fn write_next(&mut self, previous_restorable: bool) -> Result<()> {
        let previous = match store::read(&self.path)? {
            Some(old) if previous_restorable => Previous::File(file_digest(&old)),
            _ => Previous::None,
        };
        let generation = self.inner.generation.checked_add(1).ok_or(Error::CorruptVault { previous_available: false })?;
        let outer = OuterHeader { version: VERSION, ..self.outer.clone() };
        let outer_bytes = outer.encode();
        let inner = InnerHeader { generation, ..self.inner.clone() };
        let inner_header = format::encode_inner(&outer_bytes, &inner);
        let mut aad = keys::PAYLOAD_AAD.to_vec();
        aad.extend_from_slice(&inner_header);
        let json = encode_payload(&self.identities, self.auto_backup.as_ref())?;
        let payload = keys::seal(&self.data_key, &aad, &json)?;
        let mut plain = Zeroizing::new(inner_header);
        plain.extend_from_slice(&payload);
        let sealed = self.store.seal(&outer.seal_label(), &plain).map_err(|e| key_error(e, Error::Platform("seal rejected".into())))?;
        let mut file = outer_bytes.clone();
        file.extend_from_slice(&sealed);
        store::write_atomic(&self.path, &file, true)?;
        (self.outer, self.outer_bytes, self.inner) = (outer, outer_bytes, inner);
        GenerationRecord::new(&self.outer.vault_id, self.store.as_ref()).store(generation, previous)
    }

    /// Takes what another process saved since this vault was opened (a long-lived reader, such
    /// as the desktop agent, before it answers): under the vault lock, the file is read again. A
    /// PIN changed elsewhere makes this unlock stale: [`Error::ChangedElsewhere`].
    pub fn reload(&mut self) -> Result<()> {
        let _lock = VaultLock::acquire(&self.path)?;
        self.refresh()
    }

    /// Reads the file again (another process may have saved since) and takes its contents when
    /// its generation differs. Callers hold the vault lock.
    fn refresh(&mut self) -> Result<()> {
        let file = store::read(&self.path)?.ok_or_else(|| Error::NoVault(self.path.clone()))?;
        let locked = open_file(&self.path, &file, self.store.clone())?;
        if locked.outer.vault_id != self.outer.vault_id {
            return Err(Error::ChangedElsewhere);
        }
        GenerationRecord::new(&locked.outer.vault_id, self.store.as_ref()).check(locked.inner.generation)?;
        if locked.inner.generation == self.inner.generation {
            return Ok(());
        }
        // Saved by another process since: its identities, under the same data key unless the PIN
        // was changed there (then this unlock is stale).
        let fresh = locked.finish(self.data_key.clone()).map_err(|_| Error::ChangedElsewhere)?;
        *self = fresh;
        Ok(())
    }

    /// Runs one read-modify-write: under the vault lock, the file is read again, `change` applied
    /// and the next generation saved. A failed change or save leaves memory as the file.
    fn modify<T>(&mut self, change: impl FnOnce(&mut Vault) -> Result<T>) -> Result<T> {
        self.modify_with(true, change)
    }

    /// [`modify`](Self::modify); `previous_restorable` as in [`write_next`](Self::write_next).
    fn modify_with<T>(&mut self, previous_restorable: bool, change: impl FnOnce(&mut Vault) -> Result<T>) -> Result<T> {
        let _lock = VaultLock::acquire(&self.path)?;
        self.refresh()?;
        let before =
            Contents { inner: self.inner.clone(), data_key: self.data_key.clone(), identities: self.identities.clone(), auto_backup: self.auto_backup.clone() };
        let result = change(self).and_then(|value| {
            self.back_up_change();
            self.write_next(previous_restorable).map(|()| value)
        });
        if result.is_err() {
            (self.inner, self.data_key, self.identities, self.auto_backup) = (before.inner, before.data_key, before.identities, before.auto_backup);
        }
        result
    }

    /// Where the vault lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format version of the file.
    pub fn format_version(&self) -> u16 {
        self.outer.version
    }

    /// Whether the vault has a PIN.
    pub fn has_pin(&self) -> bool {
        self.inner.kdf.is_some()
    }

    /// The key store kind recorded in the header.
    pub fn store_kind(&self) -> &str {
        &self.outer.store_kind
    }
}

/// The identities as the payload's JSON (zeroized when dropped; never written anywhere in clear).
fn encode_payload(identities: &[Identity], auto_backup: Option<&autobackup::AutoBackup>) -> Result<Zeroizing<Vec<u8>>> {
    #[derive(Serialize)]
    struct PayloadRef<'a> {
        identities: &'a [Identity],
        #[serde(skip_serializing_if = "Option::is_none")]
        auto_backup: Option<&'a autobackup::AutoBackup>,
    }
    let mut json = Zeroizing::new(Vec::with_capacity(256 * identities.len() + 64));
    serde_json::to_writer(&mut *json, &PayloadRef { identities, auto_backup }).map_err(|e| Error::Encoding(e.to_string()))?;
    Ok(json)
}

/// Vaults lock for good after no fewer wrong PINs than the free ones.
const FREE_ATTEMPTS_FLOOR: u32 = attempts::FREE_ATTEMPTS;

#[cfg(test)]
mod tests;
