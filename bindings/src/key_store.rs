//! The app's key store, seen from Rust: the foreign `DeviceKeyStore` trait (Android Keystore,
//! iOS Keychain), its errors, and `SoftwareKey` for test doubles.

use softtoken_core::vault::key_store as core_ks;
use std::sync::Arc;

/// How a foreign key store failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyStoreError {
    /// The key does not exist (new device, key invalidated).
    #[error("key missing: {detail}")]
    KeyMissing {
        /// Details.
        detail: String,
    },
    /// The sealed bytes were not made by this key or were altered.
    #[error("sealed data rejected")]
    Rejected,
    /// The user dismissed the authentication prompt (biometric keys): never `Rejected`.
    #[error("authentication was cancelled")]
    Cancelled,
    /// Biometric authentication is locked out after too many failed tries (Android's
    /// `ERROR_LOCKOUT`/`ERROR_LOCKOUT_PERMANENT`, LocalAuthentication's `biometryLockout`).
    #[error("locked out: {detail}")]
    LockedOut {
        /// Details.
        detail: String,
    },
    /// Anything else (I/O, an unexpected exception).
    #[error("{detail}")]
    Failed {
        /// Details.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyStoreError::Failed { detail: format!("unexpected error in the key store: {}", e.reason) }
    }
}

/// The platform's non-exportable key (Android Keystore, iOS Keychain / Secure Enclave), implemented
/// by the app. Labels starting with `softtoken/v1/biometric/` must use a user-authentication-bound key.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// A short stable name recorded in the vault header (e.g. `android-keystore`).
    fn kind(&self) -> Result<String, KeyStoreError>;
    /// Encrypts and authenticates `plaintext` under the key for `label`.
    fn seal(&self, label: String, plaintext: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
    /// Reverses `seal`; `Rejected` for altered bytes. (The core calls this `open`; across the FFI it
    /// is `unseal` because UniFFI 0.32 escapes the Swift keyword `open` inside the C header.)
    fn unseal(&self, label: String, sealed: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
    /// Reads a small record; `None` when absent.
    fn load(&self, label: String) -> Result<Option<Vec<u8>>, KeyStoreError>;
    /// Writes a small record durably.
    fn store(&self, label: String, bytes: Vec<u8>) -> Result<(), KeyStoreError>;
}

/// The foreign store seen as the core's trait.
pub(crate) struct ForeignStore(pub(crate) Arc<dyn DeviceKeyStore>);

fn to_core(e: KeyStoreError) -> core_ks::KeyStoreError {
    match e {
        KeyStoreError::KeyMissing { detail } => core_ks::KeyStoreError::KeyMissing(detail),
        KeyStoreError::Rejected => core_ks::KeyStoreError::Rejected,
        KeyStoreError::Cancelled => core_ks::KeyStoreError::Cancelled,
        KeyStoreError::LockedOut { detail } => core_ks::KeyStoreError::LockedOut(detail),
        KeyStoreError::Failed { detail } => core_ks::KeyStoreError::Failed(detail),
    }
}

impl core_ks::DeviceKeyStore for ForeignStore {
    fn kind(&self) -> String {
        self.0.kind().unwrap_or_else(|e| format!("unavailable ({e})"))
    }
    fn seal(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, core_ks::KeyStoreError> {
        self.0.seal(label.into(), plaintext.to_vec()).map_err(to_core)
    }
    fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, core_ks::KeyStoreError> {
        self.0.unseal(label.into(), sealed.to_vec()).map_err(to_core)
    }
    fn load(&self, label: &str) -> Result<Option<Vec<u8>>, core_ks::KeyStoreError> {
        self.0.load(label.into()).map_err(to_core)
    }
    fn store(&self, label: &str, bytes: &[u8]) -> Result<(), core_ks::KeyStoreError> {
        self.0.store(label.into(), bytes.to_vec()).map_err(to_core)
    }
}

#[cfg(feature = "test-support")]
pub use software::SoftwareKey;

#[cfg(feature = "test-support")]
mod software {
    use super::*;

    /// A software-held key for test doubles and platforms without a key store: AES-256-GCM with the
    /// label as associated data (the core's software sealing). The key is random and never leaves Rust.
    #[derive(uniffi::Object)]
    pub struct SoftwareKey {
        key: softtoken_core::vault::key_store::SoftwareKeyBytes,
    }

    #[uniffi::export]
    impl SoftwareKey {
        /// A fresh random key.
        #[uniffi::constructor]
        pub fn new() -> Result<Arc<Self>, KeyStoreError> {
            let key = softtoken_core::vault::key_store::SoftwareKeyBytes::random().map_err(|e| KeyStoreError::Failed { detail: e.to_string() })?;
            Ok(Arc::new(SoftwareKey { key }))
        }

        /// Seals `plaintext` for `label`.
        pub fn seal(&self, label: String, plaintext: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
            self.key.seal(&label, &plaintext).map_err(from_core)
        }

        /// Opens what `seal` made; `Rejected` for altered bytes.
        pub fn unseal(&self, label: String, sealed: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
            self.key.open(&label, &sealed).map_err(from_core)
        }
    }

    fn from_core(e: core_ks::KeyStoreError) -> KeyStoreError {
        match e {
            core_ks::KeyStoreError::KeyMissing(detail) => KeyStoreError::KeyMissing { detail },
            core_ks::KeyStoreError::Rejected => KeyStoreError::Rejected,
            core_ks::KeyStoreError::Cancelled => KeyStoreError::Cancelled,
            core_ks::KeyStoreError::LockedOut(detail) => KeyStoreError::LockedOut { detail },
            core_ks::KeyStoreError::Failed(detail) => KeyStoreError::Failed { detail },
        }
    }
}
