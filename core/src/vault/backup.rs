//! Encrypted backups: a password-protected, versioned file any device can import.
//!
//! ```text
//! magic "STBACKUP" | u16 version | u32 m_kib | u32 t | u32 p | 16-byte salt
//! | 16-byte key check = HMAC-SHA256(key, "softtoken/v1/backup-check")[..16]
//! | AES-256-GCM(key = Argon2id(NFC(password), salt), JSON identities,
//!               aad = "softtoken/v1/backup" ‖ everything before)
//! ```
//!
//! The key check tells a wrong password (check fails) from a damaged file (check passes, the AEAD
//! fails); it reveals nothing an attacker could not learn by trying the AEAD.

use super::format::Reader;
use super::keys::{self, KdfParams};
use super::{Payload, Vault};
use crate::error::{Error, Result};
use crate::identity::{new_id, Identity};
use ring::hmac;
use subtle::ConstantTimeEq;

/// Magic bytes of a backup file.
pub const MAGIC: &[u8; 8] = b"STBACKUP";
/// The newest backup format version.
pub const VERSION: u16 = 1;
const AAD: &[u8] = b"softtoken/v1/backup";
const CHECK_INFO: &[u8] = b"softtoken/v1/backup-check";

/// Fewest characters of a backup password.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Backup passwords have at least 8 characters.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::BackupPasswordTooShort { min: MIN_PASSWORD_CHARS });
    }
    Ok(())
}

fn key_check(key: &[u8; 32]) -> [u8; 16] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), CHECK_INFO);
    tag.as_ref()[..16].try_into().expect("16")
}

/// Encrypts identities under `password`.
pub fn encrypt(identities: &[Identity], password: &str, kdf: KdfParams) -> Result<Vec<u8>> {
    check_password(password)?;
    let (salt, key) = derive_key(password, kdf)?;
    encrypt_with_key(identities, kdf, &salt, &key)
}

/// A fresh salt and the backup key Argon2id(NFC(password), salt) derives.
pub(crate) fn derive_key(password: &str, kdf: KdfParams) -> Result<([u8; 16], zeroize::Zeroizing<[u8; 32]>)> {
    let kdf = kdf.check_affordable()?;
    let salt = keys::random::<16>()?;
    let key = keys::derive_pin_key(password, &salt[..], kdf)?;
    Ok((*salt, key))
}

/// Encrypts identities under a key derived with [`derive_key`] (automatic backups keep it).
pub(crate) fn encrypt_with_key(identities: &[Identity], kdf: KdfParams, salt: &[u8], key: &[u8; 32]) -> Result<Vec<u8>> {
    if salt.len() != 16 {
        return Err(Error::Crypto("backup salt length"));
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    for v in [kdf.m_kib, kdf.t, kdf.p] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(salt);
    out.extend_from_slice(&key_check(key));
    let mut aad = AAD.to_vec();
    aad.extend_from_slice(&out);
    let json = super::encode_payload(identities, None)?;
    out.extend_from_slice(&keys::seal(key, &aad, &json)?);
    Ok(out)
}

/// Decrypts a backup. Errors: wrong password, corrupt file, unsupported version, Argon2
/// parameters above what this device affords (checked before the KDF allocates anything). Each
/// identity is checked where it enters a vault ([`Vault::import`] runs `Identity::validate`,
/// as every way in does), so one bad item is reported by name and the others still come in.
pub fn decrypt(bytes: &[u8], password: &str) -> Result<Vec<Identity>> {
    let corrupt = || Error::CorruptBackup;
    let mut r = Reader::new(bytes);
    if r.take(8).map_err(|_| Error::NotABackup)? != MAGIC {
        return Err(Error::NotABackup);
    }
    let version = r.u16().map_err(|_| corrupt())?;
    if version != VERSION {
        return Err(Error::UnsupportedFormat { what: "backup", version, supported: VERSION });
    }
    let kdf = KdfParams { m_kib: r.u32().map_err(|_| corrupt())?, t: r.u32().map_err(|_| corrupt())?, p: r.u32().map_err(|_| corrupt())? };
    let kdf = kdf.check_affordable()?;
    let salt = r.take(16).map_err(|_| corrupt())?;
    let check = r.take(16).map_err(|_| corrupt())?;
    let header_len = r.position();
    let sealed = r.rest();
    let key = keys::derive_pin_key(password, salt, kdf)?;
    if !bool::from(key_check(&key).ct_eq(check)) {
        return Err(Error::WrongBackupPassword);
    }
    let mut aad = AAD.to_vec();
    aad.extend_from_slice(&bytes[..header_len]);
    let plain = keys::open(&key, &aad, sealed).ok_or_else(corrupt)?;
    let payload: Payload = serde_json::from_slice(&plain).map_err(|_| corrupt())?;
    Ok(payload.identities)
}

/// What an import did, item by item.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Names as stored.
    pub imported: Vec<String>,
    /// Items not stored, with why.
    pub skipped: Vec<(String, String)>,
    /// What stored items carried that softtoken does not keep (name, what): notes, groups.
    pub notices: Vec<(String, String)>,
}

impl Vault {
    /// Stores every item that can be stored, in one atomic save, and reports each one. Items are
    /// reported imported only after the save succeeded; if it fails, nothing is imported.
    pub fn import(&mut self, items: Vec<(String, Result<Identity>)>) -> Result<ImportReport> {
        self.modify(|v| v.import_items(items))
    }

    fn import_items(&mut self, items: Vec<(String, Result<Identity>)>) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let rng = ring::rand::SystemRandom::new();
        for (label, item) in items {
            let mut identity = match item {
                Ok(i) => i,
                Err(e) => {
                    report.skipped.push((label, e.to_string()));
                    continue;
                }
            };
            if let Err(e) = identity.validate() {
                report.skipped.push((label, e.to_string()));
                continue;
            }
            if let Err(e) = self.admit(&identity) {
                report.skipped.push((label, e.to_string()));
                continue;
            }
            if self.identities.iter().any(|x| x.id == identity.id) {
                identity.id = new_id(&rng)?;
            }
            identity.name = self.unique_name(identity.name.trim());
            report.imported.push(identity.name.clone());
            self.identities.push(identity);
        }
        Ok(report)
    }

    /// Encrypts every identity into a backup file's bytes.
    pub fn export_backup(&self, password: &str, kdf: KdfParams) -> Result<Vec<u8>> {
        encrypt(&self.identities, password, kdf)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::super::{MemoryKeyStore, VaultOptions};
    use super::*;
    use std::sync::Arc;

    #[test]
    fn round_trip_duplicates_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Arc::new(MemoryKeyStore::new());
        let opts = VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 };
        let mut a = Vault::create(&dir.path().join("a"), ks.clone(), None, opts).unwrap();
        a.add(sample("one", b"0123456789")).unwrap();
        a.add(sample("two", b"abcdefghij")).unwrap();
        let backup = a.export_backup("correct horse", KdfParams::MINIMUM).unwrap();
        assert!(!backup.windows(10).any(|w| w == b"0123456789"));
        assert_eq!(decrypt(&backup, "wrong horse!").unwrap_err(), Error::WrongBackupPassword);
        let mut flipped = backup.clone();
        let n = flipped.len();
        flipped[n - 3] ^= 1;
        assert!(decrypt(&flipped, "correct horse").unwrap_err().to_string().contains("corrupt"));
        assert!(decrypt(&backup[..20], "correct horse").is_err());
        let mut newer = backup.clone();
        newer[8] = 2;
        assert_eq!(decrypt(&newer, "correct horse").unwrap_err(), Error::UnsupportedFormat { what: "backup", version: 2, supported: 1 });
        assert!(encrypt(&[], "short", KdfParams::MINIMUM).is_err());

        let mut b = Vault::create(&dir.path().join("b"), Arc::new(MemoryKeyStore::new()), None, opts).unwrap();
        b.add(sample("two", b"abcdefghij")).unwrap();
        let items = decrypt(&backup, "correct horse").unwrap().into_iter().map(|i| (i.name.clone(), Ok(i))).collect();
        let report = b.import(items).unwrap();
        assert_eq!(report.imported, vec!["one".to_string()]);
        assert_eq!(report.skipped, vec![("two".to_string(), "this token is already in the vault as \"two\"".to_string())]);
        assert_eq!(b.identities().len(), 2);
    }

    #[test]
    fn failed_save_imports_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Arc::new(MemoryKeyStore::new());
        let mut v = Vault::create(&dir.path().join("a"), ks.clone(), None, VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
        ks.fail_with(Some("no space"));
        let r = v.import(vec![("x".into(), Ok(sample("x", b"0123456789")))]);
        assert!(r.is_err());
        assert!(v.identities().is_empty());
    }
}
