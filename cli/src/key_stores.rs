//! Desktop device key stores. Both hold a *software* key (no secure hardware on a desktop): the OS
//! keychain (Secret Service, macOS Keychain, Windows Credential Manager) via `keyring`, or a 0600
//! key file where no keychain answers (CI, containers, SSH sessions). The vault header records
//! which one sealed it and softtoken never switches silently.
//!
//! A file-backed store cannot stop an attacker who can write the key directory from rolling back
//! the wrong-PIN counter; the phone stores (Android Keystore, iOS Keychain) can.

use softtoken_core::vault::key_store::{software_open, software_seal, DeviceKeyStore, KeyStoreError};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Kind recorded for [`FileKeyStore`].
pub const FILE_KIND: &str = "file";
/// Kind recorded for [`KeyringKeyStore`].
pub const KEYRING_KIND: &str = "keyring";
/// How long a keychain call may take before it counts as failed (a locked keychain may prompt).
pub const KEYRING_TIMEOUT: Duration = Duration::from_secs(10);
const SERVICE: &str = "softtoken";

fn random_key() -> Result<Zeroizing<[u8; 32]>, KeyStoreError> {
    let mut k = Zeroizing::new([0u8; 32]);
    softtoken_core::secret::fill_random(&ring::rand::SystemRandom::new(), &mut k[..]).map_err(|e| KeyStoreError::Failed(e.to_string()))?;
    Ok(k)
}

/// A store whose device key is 32 bytes held in software: sealing is the same AES-256-GCM for
/// every such store; only where the key and the records live differs.
pub trait DesktopKey: Send + Sync {
    /// The recorded kind.
    fn kind(&self) -> &'static str;
    /// The device key.
    fn key(&self) -> Result<Zeroizing<[u8; 32]>, KeyStoreError>;
    /// Reads a record.
    fn load_record(&self, name: &str) -> Result<Option<Vec<u8>>, KeyStoreError>;
    /// Writes a record.
    fn store_record(&self, name: &str, bytes: &[u8]) -> Result<(), KeyStoreError>;
}

/// A [`DeviceKeyStore`] over any software-held key.
pub struct SoftwareStore<K>(pub K);

impl<K: DesktopKey> DeviceKeyStore for SoftwareStore<K> {
    fn kind(&self) -> String {
        self.0.kind().into()
    }
    fn seal(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        software_seal(&*self.0.key()?, label, plaintext)
    }
    fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, KeyStoreError> {
        software_open(&*self.0.key()?, label, sealed)
    }
    fn load(&self, label: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
        self.0.load_record(&record_name(label))
    }
    fn store(&self, label: &str, bytes: &[u8]) -> Result<(), KeyStoreError> {
        self.0.store_record(&record_name(label), bytes)
    }
}

fn record_name(label: &str) -> String {
    softtoken_core::secret::hex_encode(ring::digest::digest(&ring::digest::SHA256, label.as_bytes()).as_ref())
}

/// A 0600 key file `device.key` plus records in `records/`, in one directory.
pub struct FileKeyStore {
    dir: PathBuf,
}

impl FileKeyStore {
    /// Uses the key in `dir`, creating it first when `create` is set.
    pub fn new(dir: &Path, create: bool) -> Result<Self, KeyStoreError> {
        let s = FileKeyStore { dir: dir.to_path_buf() };
        if create && !s.key_path().exists() {
            create_private_dir(dir)?;
            let key = random_key()?;
            write_private(&s.key_path(), &key[..])?;
        }
        Ok(s)
    }

    fn key_path(&self) -> PathBuf {
        self.dir.join("device.key")
    }
}

impl DesktopKey for FileKeyStore {
    fn kind(&self) -> &'static str {
        FILE_KIND
    }

    fn key(&self) -> Result<Zeroizing<[u8; 32]>, KeyStoreError> {
        refuse_shared(&self.key_path())?;
        let bytes = Zeroizing::new(std::fs::read(self.key_path()).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => KeyStoreError::KeyMissing(format!("no key file at {}", self.key_path().display())),
            _ => KeyStoreError::Failed(format!("cannot read {}: {e}", self.key_path().display())),
        })?);
        let key: [u8; 32] = bytes[..].try_into().map_err(|_| KeyStoreError::KeyMissing(format!("{} is not a softtoken key", self.key_path().display())))?;
        Ok(Zeroizing::new(key))
    }

    fn load_record(&self, name: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
        match std::fs::read(self.dir.join("records").join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(KeyStoreError::Failed(e.to_string())),
        }
    }

    fn store_record(&self, name: &str, bytes: &[u8]) -> Result<(), KeyStoreError> {
        let dir = self.dir.join("records");
        create_private_dir(&dir)?;
        write_private(&dir.join(name), bytes)
    }
}

/// Creates a directory (and its parents) that only its owner can enter (0700).
fn create_private_dir(dir: &Path) -> Result<(), KeyStoreError> {
    let fail = |e: std::io::Error| KeyStoreError::Failed(format!("cannot create {}: {e}", dir.display()));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir).map_err(fail)?;
        // An existing directory keeps its mode under create(); make it private too.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    }
    #[cfg(not(unix))]
    builder.create(dir).map_err(fail)?;
    Ok(())
}

/// Refuses a key file that group or others can read: the key would protect nothing.
fn refuse_shared(path: &Path) -> Result<(), KeyStoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyStoreError::Failed(format!(
                    "{} can be read by other users (mode {:o}); softtoken refuses it: chmod 600 it",
                    path.display(),
                    mode & 0o777
                )));
            }
        }
    }
    let _ = path;
    Ok(())
}

/// Writes a file readable only by its owner, atomically (the vault's own atomic write: an
/// unpredictable temp name, created exclusively, links not followed).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyStoreError> {
    softtoken_core::vault::write_atomic(path, bytes, false).map_err(|e| KeyStoreError::Failed(e.to_string()))
}

/// The OS keychain through `keyring`: the device key and the records are keychain entries.
pub struct KeyringKeyStore;

/// Runs a keychain call with [`KEYRING_TIMEOUT`].
fn with_timeout<T: Send + 'static>(f: impl FnOnce() -> Result<T, KeyStoreError> + Send + 'static) -> Result<T, KeyStoreError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(KEYRING_TIMEOUT).unwrap_or_else(|_| Err(KeyStoreError::Failed("the OS keychain did not answer in time".into())))
}

fn entry(user: &str) -> Result<keyring::Entry, KeyStoreError> {
    keyring::Entry::new(SERVICE, user).map_err(|e| match e {
        keyring::Error::NoDefaultStore => KeyStoreError::KeyMissing("no OS keychain is available".into()),
        other => KeyStoreError::Failed(other.to_string()),
    })
}

fn get(user: String) -> Result<Option<Vec<u8>>, KeyStoreError> {
    with_timeout(move || match entry(&user)?.get_secret() {
        Ok(s) => Ok(Some(s)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(KeyStoreError::Failed(e.to_string())),
    })
}

fn set(user: String, bytes: Vec<u8>) -> Result<(), KeyStoreError> {
    with_timeout(move || entry(&user)?.set_secret(&bytes).map_err(|e| KeyStoreError::Failed(e.to_string())))
}

impl KeyringKeyStore {
    /// True when an OS keychain answers (checked with a timeout).
    pub fn available() -> bool {
        with_timeout(|| Ok(keyring::Entry::store_status().is_ok())).unwrap_or(false)
    }

    /// Uses the keychain's device key, creating it first when `create` is set.
    pub fn new(create: bool) -> Result<Self, KeyStoreError> {
        if create && get("device-key".into())?.is_none() {
            set("device-key".into(), random_key()?.to_vec())?;
        }
        Ok(KeyringKeyStore)
    }
}

impl DesktopKey for KeyringKeyStore {
    fn kind(&self) -> &'static str {
        KEYRING_KIND
    }

    fn key(&self) -> Result<Zeroizing<[u8; 32]>, KeyStoreError> {
        let k = Zeroizing::new(get("device-key".into())?.ok_or_else(|| KeyStoreError::KeyMissing("no softtoken key in the OS keychain".into()))?);
        Ok(Zeroizing::new(k[..].try_into().map_err(|_| KeyStoreError::KeyMissing("the keychain entry is not a softtoken key".into()))?))
    }

    fn load_record(&self, name: &str) -> Result<Option<Vec<u8>>, KeyStoreError> {
        get(format!("record-{name}"))
    }

    fn store_record(&self, name: &str, bytes: &[u8]) -> Result<(), KeyStoreError> {
        set(format!("record-{name}"), bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_is_private_and_refuses_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(SoftwareStore(FileKeyStore::new(dir.path(), false).unwrap()).seal("a", b"x"), Err(KeyStoreError::KeyMissing(_))));
        let s = SoftwareStore(FileKeyStore::new(dir.path(), true).unwrap());
        let sealed = s.seal("a", b"secret").unwrap();
        assert_eq!(s.open("a", &sealed).unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(dir.path().join("device.key")).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let other = tempfile::tempdir().unwrap();
        let o = SoftwareStore(FileKeyStore::new(other.path(), true).unwrap());
        assert_eq!(o.open("a", &sealed).unwrap_err(), KeyStoreError::Rejected);
        s.store("rec", b"1").unwrap();
        assert_eq!(s.load("rec").unwrap().unwrap(), b"1");
        assert_eq!(s.load("none").unwrap(), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_directory_others_can_read_is_made_private_and_a_shared_key_refused() {
        // The attack (finding 10): the key directory was created 0755, and a key file others can
        // read was used as it was.
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let s = SoftwareStore(FileKeyStore::new(&keys, true).unwrap());
        assert_eq!(std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777, 0o700);
        s.store("rec", b"1").unwrap();
        assert_eq!(std::fs::metadata(keys.join("records")).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::set_permissions(keys.join("device.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(s.seal("a", b"x"), Err(KeyStoreError::Failed(m)) if m.contains("other users")));
    }

    #[test]
    fn keyring_without_a_keychain_reports_a_missing_key_quickly() {
        if KeyringKeyStore::available() {
            return; // a desktop session with a keychain: nothing to check here
        }
        let t = std::time::Instant::now();
        assert!(matches!(KeyringKeyStore::new(true), Err(KeyStoreError::KeyMissing(_))));
        assert!(t.elapsed() < KEYRING_TIMEOUT);
    }
}
