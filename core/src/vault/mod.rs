//! The PIN-protected identity vault (design: ARCHITECTURE.md, "Vault").
//!
//! Keys are nested: a random 256-bit data key encrypts the identities (AES-256-GCM); it is wrapped
//! by the PIN key (Argon2id) and the whole file — wrapped key included — is sealed by the device
//! key, whose seal is checked before anything else is parsed. So a stolen file alone cannot be
//! brute-forced (the device key never leaves the device), any altered byte is reported as
//! tampering without costing a PIN attempt, and a wrong PIN is reported as a wrong PIN.

pub mod attempts;
pub mod backup;
pub mod format;
pub mod keys;
pub mod keystore;
pub mod store;

use crate::error::{Error, Result};
use crate::identity::{check_name, Identity, IdentityKind};
use attempts::{AttemptCounter, AttemptState, DEFAULT_MAX_ATTEMPTS};
use format::{InnerHeader, OuterHeader, VERSION};
use keys::KdfParams;
use keystore::{DeviceKeyStore, KeyStoreError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

pub use keystore::MemoryKeyStore;

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
}

fn key_error(e: KeyStoreError, corrupt: Error) -> Error {
    match e {
        KeyStoreError::KeyMissing(m) => Error::KeyUnavailable(m),
        KeyStoreError::Rejected => corrupt,
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
        return Err(Error::State(format!(
            "this vault is sealed by the {:?} key store, not {:?}; softtoken never switches stores silently",
            outer.store_kind,
            store.kind()
        )));
    }
    let inner_plain = Zeroizing::new(store.open(&outer.seal_label(), sealed).map_err(|e| key_error(e, corrupt.clone()))?);
    let (inner, _, _) = format::decode_inner(&outer_bytes, &inner_plain)?;
    Ok(LockedVault { path: path.to_path_buf(), store, outer, outer_bytes, inner_plain, inner })
}

/// The key store kind recorded in a vault file's clear header (to pick the store before opening).
pub fn recorded_store_kind(path: &Path) -> Result<String> {
    let file = store::read(path)?.ok_or_else(|| Error::Storage(format!("no vault at {} (create one with `softtoken init`)", path.display())))?;
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

/// True when the previous generation exists and passes the device seal.
fn previous_is_intact(path: &Path, store: &Arc<dyn DeviceKeyStore>) -> bool {
    matches!(store::read(&store::previous_path(path)), Ok(Some(bytes)) if open_file(path, &bytes, store.clone()).is_ok())
}

impl LockedVault {
    /// Opens `path`: reads it, checks the clear header and the device seal. Costs no PIN attempt.
    pub fn open(path: &Path, store: Arc<dyn DeviceKeyStore>) -> Result<Self> {
        let file = store::read(path)?.ok_or_else(|| Error::Storage(format!("no vault at {} (create one with `softtoken init`)", path.display())))?;
        open_file(path, &file, store.clone()).map_err(|e| match e {
            Error::CorruptVault { .. } => Error::CorruptVault { previous_available: previous_is_intact(path, &store) },
            other => other,
        })
    }

    /// Whether unlocking needs a PIN.
    pub fn has_pin(&self) -> bool {
        self.inner.kdf.is_some()
    }

    /// The key store kind recorded in the header.
    pub fn store_kind(&self) -> &str {
        &self.outer.store_kind
    }

    /// The wrong-PIN counter's current state.
    pub fn attempts(&self) -> Result<AttemptState> {
        AttemptCounter::new(&self.path, &self.outer.vault_id, self.store.as_ref()).load()
    }

    /// Unlocks with the PIN (ignored for a vault without PIN). The attempt is counted before the
    /// KDF runs and forgiven only on success, so an interrupted attempt counts as failed.
    pub fn unlock(self, pin: Option<&str>, now: u64) -> Result<Vault> {
        let data_key: Zeroizing<[u8; 32]> = match self.inner.kdf {
            None => Zeroizing::new(self.inner.key_slot.as_slice().try_into().map_err(|_| Error::CorruptVault { previous_available: false })?),
            Some(params) => {
                let pin = pin.ok_or_else(|| Error::State("this vault needs its PIN".into()))?;
                let counter = AttemptCounter::new(&self.path, &self.outer.vault_id, self.store.as_ref());
                let state = counter.load()?;
                state.check(now, self.inner.max_attempts)?;
                let counted = counter.save(AttemptState { failures: state.failures + 1, last_failure_at: now.max(state.last_failure_at), ..state })?;
                let pin_key = keys::derive_pin_key(pin, &self.inner.salt, params)?;
                match keys::open(&pin_key, &self.slot_aad(), &self.inner.key_slot) {
                    Some(k) if k.len() == 32 => {
                        counter.save(AttemptState { failures: 0, ..counted })?;
                        Zeroizing::new(k[..].try_into().expect("32"))
                    }
                    _ if counted.failures >= self.inner.max_attempts => return Err(Error::LockedPermanently),
                    _ => return Err(Error::WrongPin { attempts_left: counted.attempts_left() }),
                }
            }
        };
        self.finish(data_key)
    }

    /// Decrypts the identities with the data key.
    fn finish(self, data_key: Zeroizing<[u8; 32]>) -> Result<Vault> {
        let (_, aad, payload) = format::decode_inner(&self.outer_bytes, &self.inner_plain)?;
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
        })
    }

    fn slot_aad(&self) -> Vec<u8> {
        slot_aad(&self.outer.vault_id)
    }

    /// Whether biometric unlock is enabled.
    pub fn has_biometric(&self) -> bool {
        !self.inner.bio_slot.is_empty()
    }

    /// Unlocks with the biometric slot: the platform opens it with its user-authentication-bound
    /// key (prompting for a fingerprint or face), so no PIN is typed and no attempt is counted.
    pub fn unlock_biometric(self) -> Result<Vault> {
        if !self.has_biometric() {
            return Err(Error::State("biometric unlock is not enabled for this vault".into()));
        }
        let label = biometric_label(&self.outer.vault_id);
        let key = Zeroizing::new(self.store.open(&label, &self.inner.bio_slot).map_err(|e| key_error(e, Error::CorruptVault { previous_available: false }))?);
        let data_key: Zeroizing<[u8; 32]> = Zeroizing::new(key[..].try_into().map_err(|_| Error::CorruptVault { previous_available: false })?);
        self.finish(data_key)
    }
}

/// The device-key label of the biometric slot; a platform store maps it to its
/// user-authentication-bound key.
pub fn biometric_label(vault_id: &str) -> String {
    format!("softtoken/v1/biometric/{vault_id}")
}

fn slot_aad(vault_id: &str) -> Vec<u8> {
    let mut aad = keys::PIN_SLOT_AAD.to_vec();
    aad.extend_from_slice(vault_id.as_bytes());
    aad
}

/// Builds the key slot for `pin` (or the bare data key without one).
fn make_slot(data_key: &[u8; 32], pin: Option<&str>, kdf: KdfParams, vault_id: &str) -> Result<(Option<KdfParams>, [u8; 16], Vec<u8>)> {
    let salt = *keys::random::<16>()?;
    match pin {
        None => Ok((None, salt, data_key.to_vec())),
        Some(pin) => {
            check_pin(pin)?;
            let pin_key = keys::derive_pin_key(pin, &salt, kdf)?;
            Ok((Some(kdf), salt, keys::seal(&pin_key, &slot_aad(vault_id), data_key)?))
        }
    }
}

/// A PIN has at least 4 characters (IDaaS resets give 4 digits) and at most 128.
pub fn check_pin(pin: &str) -> Result<()> {
    let n = pin.chars().count();
    if n < 4 {
        return Err(Error::State("the PIN must have at least 4 characters".into()));
    }
    if n > 128 {
        return Err(Error::State("the PIN must have at most 128 characters".into()));
    }
    Ok(())
}

impl Vault {
    /// Creates a new vault at `path` (refuses to overwrite one) and returns it unlocked.
    pub fn create(path: &Path, store: Arc<dyn DeviceKeyStore>, pin: Option<&str>, options: VaultOptions) -> Result<Vault> {
        if path.exists() {
            return Err(Error::Storage(format!("{} already exists; softtoken will not overwrite a vault", path.display())));
        }
        let kdf = options.kdf.check()?;
        let vault_id = crate::secret::hex_encode(&keys::random::<8>()?[..]);
        let outer = OuterHeader { version: VERSION, store_kind: store.kind(), vault_id };
        let data_key = keys::random::<32>()?;
        let (kdf, salt, key_slot) = make_slot(&data_key, pin, kdf, &outer.vault_id)?;
        let inner = InnerHeader { kdf, salt, max_attempts: options.max_attempts.max(FREE_ATTEMPTS_FLOOR), key_slot, bio_slot: Vec::new() };
        let vault = Vault { path: path.to_path_buf(), store, outer_bytes: outer.encode(), outer, inner, data_key, identities: Vec::new() };
        vault.save()?;
        Ok(vault)
    }

    /// Opens and unlocks in one step.
    pub fn open(path: &Path, store: Arc<dyn DeviceKeyStore>, pin: Option<&str>, now: u64) -> Result<Vault> {
        LockedVault::open(path, store)?.unlock(pin, now)
    }

    /// Replaces a corrupt vault file by its intact previous generation.
    pub fn restore_previous(path: &Path, store: Arc<dyn DeviceKeyStore>) -> Result<()> {
        let prev = store::previous_path(path);
        let bytes = store::read(&prev)?.ok_or_else(|| Error::Storage(format!("no previous version at {}", prev.display())))?;
        open_file(path, &bytes, store)?;
        store::write_atomic(path, &bytes, false)
    }

    /// Encrypts and writes the vault atomically (previous generation kept).
    pub fn save(&self) -> Result<()> {
        let inner_header = format::encode_inner(&self.outer_bytes, &self.inner);
        let mut aad = keys::PAYLOAD_AAD.to_vec();
        aad.extend_from_slice(&inner_header);
        let mut json = Zeroizing::new(Vec::with_capacity(256 * self.identities.len() + 64));
        serde_json::to_writer(&mut *json, &Payload { identities: self.identities.clone() }).map_err(|e| Error::State(format!("cannot serialise: {e}")))?;
        let payload = keys::seal(&self.data_key, &aad, &json)?;
        let mut inner = Zeroizing::new(inner_header);
        inner.extend_from_slice(&payload);
        let sealed = self.store.seal(&self.outer.seal_label(), &inner).map_err(|e| key_error(e, Error::Platform("seal rejected".into())))?;
        let mut file = self.outer_bytes.clone();
        file.extend_from_slice(&sealed);
        store::write_atomic(&self.path, &file, true)
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

    /// All identities, in the order added.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// Finds an identity by id, then by exact name, then by a unique case-insensitive name.
    pub fn find(&self, name_or_id: &str) -> Result<&Identity> {
        let i = self.index_of(name_or_id)?;
        Ok(&self.identities[i])
    }

    fn index_of(&self, key: &str) -> Result<usize> {
        if let Some(i) = self.identities.iter().position(|x| x.id == key) {
            return Ok(i);
        }
        if let Some(i) = self.identities.iter().position(|x| x.name == key) {
            return Ok(i);
        }
        let matches: Vec<usize> = (0..self.identities.len()).filter(|i| self.identities[*i].name.eq_ignore_ascii_case(key)).collect();
        match matches.as_slice() {
            [i] => Ok(*i),
            [] => Err(Error::NotFound(key.to_string())),
            _ => Err(Error::State(format!("several identities are named {key:?}: use the id"))),
        }
    }

    /// A name not used yet: `base`, else `base (2)`, `base (3)`, …
    pub fn unique_name(&self, base: &str) -> String {
        let taken = |n: &str| self.identities.iter().any(|x| x.name == n);
        if !taken(base) {
            return base.to_string();
        }
        (2..).map(|k| format!("{base} ({k})")).find(|n| !taken(n)).expect("unbounded")
    }

    /// The identity already holding the same secret and kind, if any.
    pub fn duplicate_of(&self, identity: &Identity) -> Option<&Identity> {
        self.identities.iter().find(|x| x.seed == identity.seed && x.kind == identity.kind && x.algorithm == identity.algorithm)
    }

    /// Adds an identity and saves. Refuses one whose policy needs a PIN in a PIN-less vault, and
    /// one already present.
    pub fn add(&mut self, mut identity: Identity) -> Result<&Identity> {
        identity.validate()?;
        if identity.requires_pin() && !self.has_pin() {
            return Err(Error::PolicyViolation(format!(
                "{:?} requires an app PIN by its organisation's policy; set a PIN first (softtoken change-pin)",
                identity.name
            )));
        }
        if let Some(d) = self.duplicate_of(&identity) {
            return Err(Error::State(format!("this token is already in the vault as {:?}", d.name)));
        }
        if identity.forbids_biometric() && self.has_biometric() {
            return Err(Error::PolicyViolation(format!(
                "{:?} does not allow biometric unlock by its organisation's policy; turn biometric unlock off first",
                identity.name
            )));
        }
        identity.name = self.unique_name(identity.name.trim());
        self.identities.push(identity);
        if let Err(e) = self.save() {
            self.identities.pop();
            return Err(e);
        }
        Ok(self.identities.last().expect("just pushed"))
    }

    /// Renames an identity and saves.
    pub fn rename(&mut self, name_or_id: &str, new_name: &str) -> Result<()> {
        check_name(new_name)?;
        let i = self.index_of(name_or_id)?;
        if self.identities.iter().enumerate().any(|(j, x)| j != i && x.name == new_name.trim()) {
            return Err(Error::State(format!("another identity is already named {new_name:?}")));
        }
        let old = std::mem::replace(&mut self.identities[i].name, new_name.trim().to_string());
        self.save().inspect_err(|_| self.identities[i].name = old)
    }

    /// Removes an identity (its seed is zeroized when dropped) and saves.
    pub fn remove(&mut self, name_or_id: &str) -> Result<Identity> {
        let i = self.index_of(name_or_id)?;
        let removed = self.identities.remove(i);
        if let Err(e) = self.save() {
            self.identities.insert(i, removed);
            return Err(e);
        }
        Ok(removed)
    }

    /// Sets one field of an identity and saves; a failed save puts the old value back.
    fn set_and_save<T>(&mut self, name_or_id: &str, field: fn(&mut Identity) -> &mut T, value: T) -> Result<()> {
        let i = self.index_of(name_or_id)?;
        let old = std::mem::replace(field(&mut self.identities[i]), value);
        self.save().inspect_err(|_| *field(&mut self.identities[i]) = old)
    }

    /// Records the push token registered at the identity's provider and saves.
    pub fn set_push_token(&mut self, name_or_id: &str, token: Option<String>) -> Result<()> {
        self.set_and_save(name_or_id, |i| &mut i.push_token, token)
    }

    /// Sets an identity's clock offset (seconds added to this device's time) and saves.
    pub fn set_time_offset(&mut self, name_or_id: &str, offset_s: i64) -> Result<()> {
        self.set_and_save(name_or_id, |i| &mut i.time_offset_s, offset_s)
    }

    /// The next HOTP code: the counter is advanced and saved *before* the code is returned, so a
    /// code is never shown twice even if the app dies right after.
    pub fn next_hotp(&mut self, name_or_id: &str) -> Result<String> {
        let i = self.index_of(name_or_id)?;
        if self.identities[i].kind != IdentityKind::Hotp {
            return Err(Error::State(format!("{:?} is not an HOTP token", self.identities[i].name)));
        }
        let counter = self.identities[i].counter;
        self.identities[i].counter = counter.checked_add(1).ok_or_else(|| Error::State("HOTP counter exhausted".into()))?;
        if let Err(e) = self.save() {
            self.identities[i].counter = counter;
            return Err(e);
        }
        self.identities[i].hotp_code(counter)
    }

    /// Resynchronises an HOTP counter from two consecutive codes (searching 1 000 counters ahead).
    pub fn resync_hotp(&mut self, name_or_id: &str, first: &str, second: &str) -> Result<u64> {
        let i = self.index_of(name_or_id)?;
        let id = &self.identities[i];
        let hotp = crate::otp::Hotp::new(id.seed.clone(), id.algorithm, id.digits)?;
        let mut from = id.counter;
        let end = id.counter.saturating_add(1000);
        let found = loop {
            match hotp.find_counter(first, from, end - from)? {
                Some(c) if hotp.code(c + 1) == second.trim() => break c,
                Some(c) => from = c + 1,
                None => return Err(Error::State("these two codes do not follow each other within 1000 counters".into())),
            }
        };
        let old = self.identities[i].counter;
        self.identities[i].counter = found + 2;
        self.save().inspect_err(|_| self.identities[i].counter = old)?;
        Ok(found + 2)
    }

    /// Sets, changes or (with `None`) removes the PIN, and saves. The data key stays the same.
    pub fn change_pin(&mut self, new_pin: Option<&str>, kdf: Option<KdfParams>) -> Result<()> {
        if new_pin.is_none() {
            if let Some(x) = self.identities.iter().find(|x| x.requires_pin()) {
                return Err(Error::PolicyViolation(format!("{:?} requires an app PIN by its organisation's policy", x.name)));
            }
        }
        let params = kdf.or(self.inner.kdf).unwrap_or(KdfParams::DEFAULT);
        let (kdf, salt, slot) = make_slot(&self.data_key, new_pin, params, &self.outer.vault_id)?;
        let new = InnerHeader { kdf, salt, key_slot: slot, ..self.inner.clone() };
        let old = std::mem::replace(&mut self.inner, new);
        self.save().inspect_err(|_| self.inner = old)
    }

    /// Enables (or disables) biometric unlock: the data key is also sealed under the platform's
    /// user-authentication-bound key. Refused while an identity's policy forbids biometrics.
    pub fn set_biometric(&mut self, enabled: bool) -> Result<()> {
        let slot = if enabled {
            if let Some(x) = self.identities.iter().find(|x| x.forbids_biometric()) {
                return Err(Error::PolicyViolation(format!("{:?} does not allow biometric unlock by its organisation's policy", x.name)));
            }
            let label = biometric_label(&self.outer.vault_id);
            self.store.seal(&label, &self.data_key[..]).map_err(|e| key_error(e, Error::Platform("seal rejected".into())))?
        } else {
            Vec::new()
        };
        let old = std::mem::replace(&mut self.inner.bio_slot, slot);
        self.save().inspect_err(|_| self.inner.bio_slot = old)
    }

    /// Whether biometric unlock is enabled.
    pub fn has_biometric(&self) -> bool {
        !self.inner.bio_slot.is_empty()
    }

    /// The encoded plaintext identities, for encrypted backups (never written anywhere in clear).
    pub fn export_payload(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut json = Zeroizing::new(Vec::new());
        serde_json::to_writer(&mut *json, &Payload { identities: self.identities.clone() }).map_err(|e| Error::State(format!("cannot serialise: {e}")))?;
        Ok(json)
    }
}

/// Vaults lock for good after no fewer wrong PINs than the free ones.
const FREE_ATTEMPTS_FLOOR: u32 = attempts::FREE_ATTEMPTS;

#[cfg(test)]
mod tests;
