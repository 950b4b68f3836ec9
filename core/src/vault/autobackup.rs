//! Automatic backups: after every change, an encrypted softtoken backup of the new state is
//! written into a directory the user chose, and only the newest N are kept (Aegis and Ente do the
//! same). The backup key is derived once from a password the user gives when turning it on, and
//! kept inside the encrypted vault payload, so later backups need no prompt; each file opens with
//! that password like any backup. The vault records when the last good backup was written and
//! the last failure, so a UI can warn "changes not backed up".

use super::backup;
use super::keys::KdfParams;
use super::store;
use super::Vault;
use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Backups kept when the user does not say.
pub const DEFAULT_KEEP: u32 = 5;
/// Most backups kept.
pub const MAX_KEEP: u32 = 1000;
const PREFIX: &str = "softtoken-backup-";
const SUFFIX: &str = ".stbackup";

/// The settings stored in the encrypted payload (never in clear: the key opens the backups).
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct AutoBackup {
    dir: String,
    keep: u32,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: Secret,
    key: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_backup_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
}

/// What a UI shows about automatic backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoBackupStatus {
    /// The directory backups go to.
    pub dir: PathBuf,
    /// How many are kept.
    pub keep: u32,
    /// Unix time of the last backup written.
    pub last_backup_at: Option<u64>,
    /// Why the last backup failed, when it did: the latest changes are not backed up.
    pub last_error: Option<String>,
}

impl AutoBackup {
    fn status(&self) -> AutoBackupStatus {
        AutoBackupStatus { dir: PathBuf::from(&self.dir), keep: self.keep, last_backup_at: self.last_backup_at, last_error: self.last_error.clone() }
    }
}

/// `YYYYMMDD-HHMMSS` (UTC) of a Unix time, for file names that sort by age.
fn stamp(unix: u64) -> String {
    let (year, month, day, h, m, sec) = crate::clock::civil_utc(unix);
    format!("{year:04}{month:02}{day:02}-{h:02}{m:02}{sec:02}")
}

/// Writes one backup of `vault` into the directory and removes the oldest beyond `keep`.
fn write_one(cfg: &AutoBackup, vault: &Vault, now: u64) -> Result<()> {
    let dir = Path::new(&cfg.dir);
    let kdf = KdfParams { m_kib: cfg.m_kib, t: cfg.t, p: cfg.p };
    let key: [u8; 32] = cfg.key.expose().try_into().map_err(|_| Error::CorruptVault { previous_available: false })?;
    let bytes = backup::encrypt_with_key(&vault.identities, kdf, cfg.salt.expose(), &zeroize::Zeroizing::new(key))?;
    // Softtoken's own files in the directory (other files there are never touched).
    let mut ours: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::Storage(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        .collect();
    // `softtoken-backup-YYYYMMDD-HHMMSS-NNNN.stbackup`: names sort by age, NNNN (above any NNNN of
    // the same second already there, pruned ones included) orders one second's backups.
    let base = format!("{PREFIX}{}-", stamp(now));
    let last = ours.iter().filter_map(|n| n.strip_prefix(&base)?.strip_suffix(SUFFIX)?.parse::<u32>().ok()).max().unwrap_or(0);
    let name = format!("{base}{:04}{SUFFIX}", last + 1);
    store::write_atomic(&dir.join(&name), &bytes, false)?;
    ours.push(name);
    ours.sort();
    let excess = ours.len().saturating_sub(cfg.keep as usize);
    for old in ours[..excess].iter().map(|n| dir.join(n)) {
        std::fs::remove_file(&old).map_err(|e| Error::Storage(format!("cannot remove the old backup {}: {e}", old.display())))?;
    }
    Ok(())
}

/// The key automatic backups are encrypted with, derived from the user's backup password
/// (Argon2id, so derive it before taking any lock).
pub struct AutoBackupKey {
    kdf: KdfParams,
    salt: [u8; 16],
    key: zeroize::Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for AutoBackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AutoBackupKey([redacted])")
    }
}

impl AutoBackupKey {
    /// Derives the key from `password` (at least 8 characters) with Argon2id `kdf`.
    pub fn derive(password: &str, kdf: KdfParams) -> Result<Self> {
        backup::check_password(password)?;
        let (salt, key) = backup::derive_key(password, kdf)?;
        Ok(AutoBackupKey { kdf, salt, key })
    }
}

impl Vault {
    /// Turns automatic backups on: into `dir` (which must exist), keeping the newest `keep`,
    /// each encrypted under `key`. The first backup is written at once. The caller confirms
    /// this with the PIN: it exports every secret.
    pub fn set_auto_backup(&mut self, dir: &Path, keep: u32, key: &AutoBackupKey) -> Result<AutoBackupStatus> {
        if !(1..=MAX_KEEP).contains(&keep) {
            return Err(Error::TooLarge { what: "backups to keep (1 or more)", found: keep as u64, limit: MAX_KEEP as u64 });
        }
        let dir = std::fs::canonicalize(dir).map_err(|e| Error::Storage(format!("backup directory {}: {e}", dir.display())))?;
        if !dir.is_dir() {
            return Err(Error::Storage(format!("{} is not a directory", dir.display())));
        }
        let dir = dir.to_str().ok_or_else(|| Error::Storage("the backup directory's path is not UTF-8".into()))?.to_string();
        let cfg = AutoBackup {
            dir,
            keep,
            m_kib: key.kdf.m_kib,
            t: key.kdf.t,
            p: key.kdf.p,
            salt: Secret::from_slice(&key.salt),
            key: Secret::from_slice(&key.key[..]),
            last_backup_at: None,
            last_error: None,
        };
        self.modify(move |v| {
            v.auto_backup = Some(cfg);
            Ok(())
        })?;
        let status = self.auto_backup().expect("just set");
        match &status.last_error {
            Some(e) => Err(Error::Storage(format!("the first automatic backup failed: {e}"))),
            None => Ok(status),
        }
    }

    /// Turns automatic backups off (the files written stay).
    pub fn disable_auto_backup(&mut self) -> Result<()> {
        self.modify(|v| {
            v.auto_backup = None;
            Ok(())
        })
    }

    /// The automatic backup settings and state, when on.
    pub fn auto_backup(&self) -> Option<AutoBackupStatus> {
        self.auto_backup.as_ref().map(AutoBackup::status)
    }

    /// Called by every change before it is saved: writes the backup of the new state and records
    /// the outcome (a failed backup never fails the change; it is reported by [`auto_backup`](Self::auto_backup)).
    pub(super) fn back_up_change(&mut self) {
        let Some(cfg) = self.auto_backup.clone() else { return };
        let now = crate::clock::Clock::unix_time(&crate::clock::SystemClock);
        let outcome = write_one(&cfg, self, now);
        if let Some(cfg) = self.auto_backup.as_mut() {
            match outcome {
                Ok(()) => (cfg.last_backup_at, cfg.last_error) = (Some(now), None),
                Err(e) => cfg.last_error = Some(e.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::super::{MemoryKeyStore, VaultOptions};
    use super::*;
    use std::sync::Arc;

    fn backups(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.starts_with(PREFIX)).collect();
        v.sort();
        v
    }

    #[test]
    fn dates_in_file_names() {
        assert_eq!(stamp(0), "19700101-000000");
        assert_eq!(stamp(951_782_400), "20000229-000000");
        assert_eq!(stamp(1_764_683_999), "20251202-135959");
    }

    #[test]
    fn every_change_is_backed_up_and_only_the_newest_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("backups");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("unrelated.txt"), b"kept").unwrap();
        let store = Arc::new(MemoryKeyStore::new());
        let path = dir.path().join("v.stv");
        let mut v = Vault::create(&path, store.clone(), Some("2580"), VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
        assert!(v.auto_backup().is_none());
        assert!(matches!(AutoBackupKey::derive("short", KdfParams::MINIMUM), Err(Error::BackupPasswordTooShort { .. })));
        let key = AutoBackupKey::derive("backup password", KdfParams::MINIMUM).unwrap();
        assert_eq!(format!("{key:?}"), "AutoBackupKey([redacted])");
        assert!(matches!(v.set_auto_backup(&dir.path().join("missing"), 2, &key), Err(Error::Storage(_))));
        assert!(matches!(v.set_auto_backup(&out, 0, &key), Err(Error::TooLarge { .. })));
        let status = v.set_auto_backup(&out, 2, &key).unwrap();
        assert!(status.last_backup_at.is_some() && status.last_error.is_none());
        assert_eq!(backups(&out).len(), 1);
        for i in 0..3 {
            v.add(sample(&format!("token {i}"), &[i as u8 + 1; 20])).unwrap();
        }
        let files = backups(&out);
        assert_eq!(files.len(), 2, "{files:?}");
        assert!(out.join("unrelated.txt").exists(), "only softtoken's own files are pruned");
        // The newest holds every identity and opens with the password (and only with it).
        let newest = std::fs::read(out.join(files.last().unwrap())).unwrap();
        assert_eq!(backup::decrypt(&newest, "backup password").unwrap().len(), 3);
        assert_eq!(backup::decrypt(&newest, "wrong password").unwrap_err(), Error::WrongBackupPassword);
        // The setting survives a reopen (it lives in the encrypted payload), and a failure is
        // recorded without failing the change.
        drop(v);
        let mut v = Vault::open(&path, store.clone(), Some("2580"), 0).unwrap();
        assert_eq!(v.auto_backup().unwrap().keep, 2);
        std::fs::remove_dir_all(&out).unwrap();
        v.add(sample("token 9", &[99; 20])).unwrap();
        let failed = v.auto_backup().unwrap();
        assert!(failed.last_error.is_some(), "{failed:?}");
        v.disable_auto_backup().unwrap();
        assert!(v.auto_backup().is_none());
    }
}
