//! The device key store: a key held by the platform (Android Keystore, iOS Keychain / Secure
//! Enclave, a desktop keychain or key file) that seals the vault. Implementations live outside the
//! core (shells, CLI); [`MemoryKeyStore`] is the test double and behaves like a real store.

use std::collections::HashMap;
use std::sync::Mutex;

/// How a device key store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyStoreError {
    /// The key does not exist (another device, or the key was invalidated / reset).
    #[error("key missing: {0}")]
    KeyMissing(String),
    /// `open` refused the data: it was not sealed by this key or was altered.
    #[error("sealed data rejected")]
    Rejected,
    /// The user dismissed the platform's authentication prompt (Face ID, fingerprint): nothing is
    /// wrong with the data; ask again or fall back to the PIN.
    #[error("authentication was cancelled")]
    Cancelled,
    /// The platform's authentication is locked out after too many failed tries (fingerprint,
    /// Face ID): nothing is wrong with the data; use the PIN, or the device's passcode to lift it.
    #[error("biometric authentication is locked out: {0}")]
    LockedOut(String),
    /// The platform failed (I/O, IPC, …).
    #[error("{0}")]
    Failed(String),
}

/// A non-exportable key held by the platform, plus a small record store.
pub trait DeviceKeyStore: Send + Sync {
    /// A short stable name recorded in the vault header (`file`, `keyring`, `android-keystore`, …).
    fn kind(&self) -> String;
    /// Encrypts and authenticates `plaintext` under the key for `label`.
    fn seal(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyStoreError>;
    /// Reverses [`seal`](Self::seal); fails with `Rejected` on any altered byte.
    fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyStoreError>;
    /// Reads a small record (e.g. the attempt counter's generation); `None` when absent.
    fn load(&self, label: &str) -> Result<Option<Vec<u8>>, KeyStoreError>;
    /// Writes a small record durably.
    fn store(&self, label: &str, bytes: &[u8]) -> Result<(), KeyStoreError>;
}

/// AES-256-GCM sealing with a random nonce and the label as associated data: the format every
/// software-held store (file, keyring, memory) uses, `nonce ‖ ciphertext ‖ tag` — the vault's own
/// [`keys::seal`](super::keys::seal) with the label as the associated data.
pub fn software_seal(key: &[u8; 32], label: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
    super::keys::seal(key, label.as_bytes(), plaintext).map_err(|e| KeyStoreError::Failed(e.to_string()))
}

/// Opens what [`software_seal`] produced; `Rejected` for a wrong key, label or any altered byte.
pub fn software_open(key: &[u8; 32], label: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
    super::keys::open(key, label.as_bytes(), sealed).map(|plain| plain.to_vec()).ok_or(KeyStoreError::Rejected)
}

/// A random 256-bit key held in memory (zeroized on drop) with [`software_seal`] / [`software_open`].
pub struct SoftwareKeyBytes(zeroize::Zeroizing<[u8; 32]>);

impl SoftwareKeyBytes {
    /// A fresh key from the OS CSPRNG.
    pub fn random() -> crate::Result<Self> {
        Ok(SoftwareKeyBytes(super::keys::random::<32>()?))
    }
    /// Seals for `label`.
    pub fn seal(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        software_seal(&self.0, label, plaintext)
    }
    /// Opens for `label`.
    pub fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        software_open(&self.0, label, sealed)
    }
}

/// In-memory store for tests: a random key that cannot be read out, records in a map, and switches
/// to make it fail like a platform store does (key deleted, platform error).
pub struct MemoryKeyStore {
    key: Mutex<Option<SoftwareKeyBytes>>,
    records: Mutex<HashMap<String, Vec<u8>>>,
    failing: Mutex<Option<String>>,
    biometric_refusal: Mutex<Option<KeyStoreError>>,
}

impl Default for MemoryKeyStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryKeyStore {
    /// A store with a fresh random key.
    pub fn new() -> Self {
        let key = SoftwareKeyBytes::random().expect("system random");
        MemoryKeyStore { key: Mutex::new(Some(key)), records: Mutex::new(HashMap::new()), failing: Mutex::new(None), biometric_refusal: Mutex::new(None) }
    }

    /// Deletes the key, as a factory reset or a new phone would.
    pub fn delete_key(&self) {
        *self.key.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Makes every call fail with `Failed(message)` (or work again with `None`).
    pub fn fail_with(&self, message: Option<&str>) {
        *self.failing.lock().unwrap_or_else(|e| e.into_inner()) = message.map(str::to_string);
    }

    /// Makes opening with the biometric key fail as the platform's prompt does when the user
    /// dismisses it (`Cancelled`) or after too many tries (`LockedOut`); `None` works again.
    pub fn refuse_biometric(&self, refusal: Option<KeyStoreError>) {
        *self.biometric_refusal.lock().unwrap_or_else(|e| e.into_inner()) = refusal;
    }

    fn check(&self) -> Result<(), KeyStoreError> {
        match &*self.failing.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(m) => Err(KeyStoreError::Failed(m.clone())),
            None => Ok(()),
        }
    }

    fn with_key<T>(&self, f: impl FnOnce(&SoftwareKeyBytes) -> Result<T, KeyStoreError>) -> Result<T, KeyStoreError> {
        self.check()?;
        match &*self.key.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(k) => f(k),
            None => Err(KeyStoreError::KeyMissing("memory key deleted".into())),
        }
    }
}

impl DeviceKeyStore for MemoryKeyStore {
    fn kind(&self) -> String {
        "memory".into()
    }
    fn seal(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        self.with_key(|k| k.seal(label, plaintext))
    }
    fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        if label.starts_with("softtoken/v1/biometric/") {
            if let Some(refusal) = self.biometric_refusal.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                return Err(refusal);
            }
        }
        self.with_key(|k| k.open(label, sealed))
    }
    fn load(&self, label: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
        self.check()?;
        Ok(self.records.lock().unwrap_or_else(|e| e.into_inner()).get(label).cloned())
    }
    fn store(&self, label: &str, bytes: &[u8]) -> Result<(), KeyStoreError> {
        self.check()?;
        self.records.lock().unwrap_or_else(|e| e.into_inner()).insert(label.to_string(), bytes.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_behaves_like_a_real_one() {
        let s = MemoryKeyStore::new();
        let sealed = s.seal("a", b"hello").unwrap();
        assert_eq!(s.open("a", &sealed).unwrap(), b"hello");
        assert_eq!(s.open("b", &sealed).unwrap_err(), KeyStoreError::Rejected, "label is bound");
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        assert_eq!(s.open("a", &bad).unwrap_err(), KeyStoreError::Rejected);
        assert_eq!(s.open("a", &sealed[..10]).unwrap_err(), KeyStoreError::Rejected);
        let other = MemoryKeyStore::new();
        assert_eq!(other.open("a", &sealed).unwrap_err(), KeyStoreError::Rejected, "another device's key");
        s.fail_with(Some("keystore busy"));
        assert_eq!(s.seal("a", b"x").unwrap_err(), KeyStoreError::Failed("keystore busy".into()));
        s.fail_with(None);
        s.delete_key();
        assert!(matches!(s.open("a", &sealed).unwrap_err(), KeyStoreError::KeyMissing(_)));
    }
}
