//! Which key seals a state database's secrets, legacy databases sealed on open, and rotation.

use crate::database::{params, Db, OptionalRow};
use crate::sealed::{with_suffix, Kek, Sealed};
use crate::{Provider, ProviderError, Result};
use std::path::{Path, PathBuf};

/// The `meta` row naming how secrets are stored.
const FORMAT: &str = "secrets";
/// Sealed under the KEK recorded as `kek_id`.
const SEALED_V1: &str = "sealed-v1";

fn meta(db: &Db, name: &str) -> Result<Option<String>> {
    db.query_row("SELECT value FROM meta WHERE name = ?1", params![name], |r| r.get(0)).optional()
}

fn set_meta(db: &Db, name: &str, value: &str) -> Result<()> {
    db.execute("INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = excluded.value", params![name, value])?;
    Ok(())
}

/// Where a rotation puts the new key until the database uses it.
fn pending_path(kek: &Path) -> PathBuf {
    with_suffix(kek, ".new")
}

/// Where a rotation keeps the key it replaced (for backups of the database made before it).
fn retired_path(kek: &Path, id: &str) -> PathBuf {
    with_suffix(kek, &format!(".retired-{id}"))
}

/// The key for this database: the key file's, created when the database records none yet; a
/// rotation interrupted after its commit is finished here.
pub(crate) fn settle(db: &Db, kek_path: &Path) -> Result<Kek> {
    let Some(recorded) = meta(db, "kek_id")? else { return Kek::load_or_create(kek_path) };
    let pending = pending_path(kek_path);
    if pending.exists() && Kek::load(&pending)?.id() == recorded {
        // The database already uses the new key: finish the renames.
        if let Ok(old) = Kek::load(kek_path) {
            std::fs::rename(kek_path, retired_path(kek_path, old.id())).map_err(|e| ProviderError::Fault(format!("finishing a key rotation: {e}")))?;
        }
        std::fs::rename(&pending, kek_path).map_err(|e| ProviderError::Fault(format!("finishing a key rotation: {e}")))?;
    }
    if !kek_path.exists() {
        return Err(ProviderError::Invalid(format!(
            "the state's secrets are sealed by key {recorded}, and its key file {} is missing: give --kek-file the key that sealed them",
            kek_path.display()
        )));
    }
    let kek = Kek::load(kek_path)?;
    if kek.id() != recorded {
        return Err(ProviderError::KekMismatch { database: recorded, file: kek.id().to_string(), path: kek_path.display().to_string() });
    }
    Ok(kek)
}

/// Seals the seeds and activation codes of a database written before they were sealed (and
/// records the key of a new one), in one transaction.
pub(crate) fn seal_legacy(db: &Db, kek: &Kek) -> Result<()> {
    if meta(db, FORMAT)?.as_deref() == Some(SEALED_V1) {
        return Ok(());
    }
    let tx = crate::database::begin_write(db)?;
    if meta(&tx, FORMAT)?.as_deref() != Some(SEALED_V1) {
        let rows: Vec<(String, String, Option<Vec<u8>>)> =
            tx.query_map("SELECT serial, activation_code, seed FROM tokens", params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        for (serial, code, seed) in rows {
            let code = kek.seal(Sealed::ActivationCode, &serial, code.as_bytes())?;
            let seed = seed.map(|s| kek.seal(Sealed::Seed, &serial, &zeroize::Zeroizing::new(s))).transpose()?;
            tx.execute("UPDATE tokens SET activation_code = ?1, seed = ?2 WHERE serial = ?3", params![code, seed, serial])?;
        }
        set_meta(&tx, FORMAT, SEALED_V1)?;
        set_meta(&tx, "kek_id", kek.id())?;
    }
    tx.commit()?;
    // The plaintext pages are gone from the database file only once SQLite reuses them.
    if let Some(db) = db.sqlite() {
        db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
    }
    Ok(())
}

/// Where the database records that its activation link tokens are stored hashed.
const LINK_TOKENS: &str = "link_tokens";
const HASHED: &str = "sha256";

/// Replaces the activation link tokens that older databases stored in clear (32 hex digits) by
/// their SHA-256, once: a copy of the database then yields no token that activates through the
/// live server.
pub(crate) fn hash_legacy_link_tokens(db: &Db) -> Result<()> {
    if meta(db, LINK_TOKENS)?.as_deref() == Some(HASHED) {
        return Ok(());
    }
    let tx = crate::database::begin_write(db)?;
    if meta(&tx, LINK_TOKENS)?.as_deref() != Some(HASHED) {
        let rows: Vec<(String, String)> =
            tx.query_map("SELECT serial, activation_token FROM tokens WHERE activation_token IS NOT NULL", params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for (serial, token) in rows.into_iter().filter(|(_, t)| t.len() == 32) {
            tx.execute("UPDATE tokens SET activation_token = ?1 WHERE serial = ?2", params![crate::sealed::sha256_hex(&token), serial])?;
        }
        set_meta(&tx, LINK_TOKENS, HASHED)?;
    }
    Ok(tx.commit()?)
}

/// What [`Provider::rotate_kek`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// Secrets re-wrapped (seeds and activation codes).
    pub rewrapped: usize,
    /// The new key's id.
    pub kek_id: String,
    /// Where the replaced key was kept.
    pub retired: PathBuf,
}

impl Provider {
    /// Re-wraps every seed and activation code under a new random key: the new key is written to
    /// `<kek>.new`, the secrets are re-wrapped and the new id recorded in one transaction, then the
    /// old key file is kept as `<kek>.retired-ID` (backups made before need it) and the new one
    /// takes its name. Other `serve` processes must be restarted.
    pub fn rotate_kek(&mut self) -> Result<Rotated> {
        let path = self.kek.path().to_path_buf();
        let pending = pending_path(&path);
        let new = Kek::create_new(&pending)?;
        let tx = crate::database::begin_write(&self.db)?;
        let rows: Vec<(String, Vec<u8>, Option<Vec<u8>>)> =
            tx.query_map("SELECT serial, activation_code, seed FROM tokens", params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let mut rewrapped = 0;
        for (serial, code, seed) in rows {
            let code = new.seal(Sealed::ActivationCode, &serial, &self.kek.open(Sealed::ActivationCode, &serial, &code)?)?;
            let seed = match seed {
                Some(s) => Some(new.seal(Sealed::Seed, &serial, &self.kek.open(Sealed::Seed, &serial, &s)?)?),
                None => None,
            };
            rewrapped += 1 + usize::from(seed.is_some());
            tx.execute("UPDATE tokens SET activation_code = ?1, seed = ?2 WHERE serial = ?3", params![code, seed, serial])?;
        }
        set_meta(&tx, "kek_id", new.id())?;
        tx.commit()?;
        let retired = retired_path(&path, self.kek.id());
        let rename = |from: &Path, to: &Path| {
            std::fs::rename(from, to).map_err(|e| ProviderError::Fault(format!("key rotation: {} → {}: {e}", from.display(), to.display())))
        };
        rename(&path, &retired)?;
        rename(&pending, &path)?;
        let decoy = self.kek.open(Sealed::Seed, super::DECOY_SERIAL, &self.decoy_seed)?;
        self.kek = Kek::load(&path)?;
        self.decoy_seed = self.kek.seal(Sealed::Seed, super::DECOY_SERIAL, &decoy)?;
        Ok(Rotated { rewrapped, kek_id: self.kek.id().to_string(), retired })
    }
}
