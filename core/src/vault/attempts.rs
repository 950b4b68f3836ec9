//! The wrong-PIN counter: persisted before the KDF runs, sealed by the device key, rollback-aware.
//!
//! The state (generation, failures, last failure time) is written twice: to `<vault>.attempts`
//! and to the device key store's record store, both sealed. Reading takes the copy with the higher
//! generation, so restoring an old counter file (or an old record) does not reset the count. A
//! store whose records live in files the attacker controls too (the desktop key file) cannot stop
//! rolling back both at once: documented in SECURITY.md.
//!
//! Counting is a read-modify-write under the vault lock ([`VaultLock`]): load → refuse while
//! locked → write failures + 1, and the write is a compare-and-swap on the generation (it fails if
//! either copy moved since the load). So parallel guesses are each counted; none is evaluated
//! past the limit.

use super::key_store::{DeviceKeyStore, KeyStoreError};
use super::store::{self, VaultLock};
use crate::error::{Error, Result};
use std::path::PathBuf;

/// Wrong PINs allowed before delays start.
pub const FREE_ATTEMPTS: u32 = 5;
/// The first delay, doubled for every further failure.
pub const BASE_DELAY_S: u64 = 30;
/// Default number of wrong PINs after which the vault locks for good.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// The counter's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttemptState {
    /// Increases on every write.
    pub generation: u64,
    /// Consecutive wrong (or interrupted) PIN attempts.
    pub failures: u32,
    /// Unix time of the last counted attempt.
    pub last_failure_at: u64,
}

impl AttemptState {
    fn encode(&self) -> [u8; 20] {
        let mut b = [0u8; 20];
        b[..8].copy_from_slice(&self.generation.to_le_bytes());
        b[8..12].copy_from_slice(&self.failures.to_le_bytes());
        b[12..].copy_from_slice(&self.last_failure_at.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != 20 {
            return None;
        }
        Some(AttemptState {
            generation: u64::from_le_bytes(b[..8].try_into().ok()?),
            failures: u32::from_le_bytes(b[8..12].try_into().ok()?),
            last_failure_at: u64::from_le_bytes(b[12..].try_into().ok()?),
        })
    }

    /// Seconds to wait after `failures` wrong PINs (0 for the free ones).
    pub fn delay_s(failures: u32) -> u64 {
        if failures < FREE_ATTEMPTS {
            0
        } else {
            BASE_DELAY_S.saturating_mul(1u64 << (failures - FREE_ATTEMPTS).min(40))
        }
    }

    /// Refuses an attempt while locked. A clock set back before the last failure counts as no time
    /// having passed, so it never shortens the wait.
    pub fn check(&self, now: u64, max_attempts: u32) -> Result<()> {
        if self.failures >= max_attempts {
            return Err(Error::LockedPermanently);
        }
        let delay = Self::delay_s(self.failures);
        let elapsed = now.saturating_sub(self.last_failure_at);
        if elapsed < delay {
            return Err(Error::Locked { retry_after_s: delay - elapsed });
        }
        Ok(())
    }
}

/// Reads and writes one vault's counter.
pub struct AttemptCounter<'a> {
    vault: PathBuf,
    path: PathBuf,
    label: String,
    store: &'a dyn DeviceKeyStore,
}

/// A key store failure while handling records.
pub(crate) fn platform(e: KeyStoreError) -> Error {
    match e {
        KeyStoreError::KeyMissing(m) => Error::KeyUnavailable(m),
        KeyStoreError::Cancelled => Error::AuthenticationCancelled,
        KeyStoreError::LockedOut(m) => Error::AuthenticationLockedOut(m),
        other => Error::Platform(other.to_string()),
    }
}

impl<'a> AttemptCounter<'a> {
    /// The counter of the vault at `vault_path` with id `vault_id`.
    pub fn new(vault_path: &std::path::Path, vault_id: &str, store: &'a dyn DeviceKeyStore) -> Self {
        AttemptCounter {
            vault: vault_path.to_path_buf(),
            path: store::sibling(vault_path, ".attempts"),
            label: format!("softtoken/v1/attempts/{vault_id}"),
            store,
        }
    }

    fn open(&self, sealed: Option<Vec<u8>>) -> Result<Option<AttemptState>> {
        let Some(sealed) = sealed else { return Ok(None) };
        match self.store.open(&self.label, &sealed) {
            Ok(plain) => Ok(AttemptState::decode(&plain)),
            // A tampered copy is ignored; the other copy (or a lock) decides.
            Err(KeyStoreError::Rejected) => Ok(None),
            Err(e) => Err(platform(e)),
        }
    }

    /// The current state: the newer of the file and the device record.
    pub fn load(&self) -> Result<AttemptState> {
        let file = self.open(store::read(&self.path)?)?;
        let record = self.open(self.store.load(&self.label).map_err(platform)?)?;
        Ok(match (file, record) {
            (Some(f), Some(r)) => {
                if f.generation >= r.generation {
                    f
                } else {
                    r
                }
            }
            (Some(s), None) | (None, Some(s)) => s,
            (None, None) => AttemptState::default(),
        })
    }

    /// Writes `state` with the next generation to both places, if the stored generation is
    /// still `state.generation` (compare-and-swap); returns what was written. Callers hold the lock.
    fn save(&self, mut state: AttemptState) -> Result<AttemptState> {
        if self.load()?.generation != state.generation {
            return Err(Error::ConcurrentChange);
        }
        state.generation += 1;
        let sealed = self.store.seal(&self.label, &state.encode()).map_err(platform)?;
        store::write_atomic(&self.path, &sealed, false)?;
        self.store.store(&self.label, &sealed).map_err(platform)?;
        Ok(state)
    }

    /// Counts one attempt before the KDF runs: under the vault lock, refuses while delays or the
    /// permanent lock apply, else records one more failure. The result is what was written.
    pub fn count(&self, now: u64, max_attempts: u32) -> Result<AttemptState> {
        let _lock = VaultLock::acquire(&self.vault)?;
        let state = self.load()?;
        state.check(now, max_attempts)?;
        self.save(AttemptState { failures: state.failures.saturating_add(1), last_failure_at: now.max(state.last_failure_at), ..state })
    }

    /// Forgives a counted attempt that proved right, with every failure counted before it;
    /// failures counted by others since (guesses still running) stay counted.
    pub fn forgive(&self, counted: &AttemptState) -> Result<()> {
        let _lock = VaultLock::acquire(&self.vault)?;
        let now = self.load()?;
        self.save(AttemptState { failures: now.failures.saturating_sub(counted.failures), ..now }).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, super::super::key_store::MemoryKeyStore) {
        let dir = tempfile::tempdir().unwrap();
        let vault = dir.path().join("v");
        (dir, vault, super::super::key_store::MemoryKeyStore::new())
    }

    #[test]
    fn delays_double_after_five() {
        assert_eq!(AttemptState::delay_s(4), 0);
        assert_eq!(AttemptState::delay_s(5), 30);
        assert_eq!(AttemptState::delay_s(6), 60);
        assert_eq!(AttemptState::delay_s(9), 480);
        assert!(AttemptState::delay_s(u32::MAX) > 0);
    }

    #[test]
    fn check_locks_and_clock_going_back_does_not_help() {
        let s = AttemptState { generation: 1, failures: 6, last_failure_at: 1000 };
        assert_eq!(s.check(1010, 10), Err(Error::Locked { retry_after_s: 50 }));
        assert_eq!(s.check(500, 10), Err(Error::Locked { retry_after_s: 60 }), "clock set back");
        assert_eq!(s.check(1060, 10), Ok(()));
        let dead = AttemptState { failures: 10, ..s };
        assert_eq!(dead.check(u64::MAX, 10), Err(Error::LockedPermanently));
    }

    #[test]
    fn rollback_of_the_file_is_detected() {
        let (_dir, vault, ks) = setup();
        let c = AttemptCounter::new(&vault, "0123456789abcdef", &ks);
        c.count(100, 10).unwrap();
        let old_file = std::fs::read(store::sibling(&vault, ".attempts")).unwrap();
        for _ in 0..3 {
            c.count(100, 10).unwrap();
        }
        std::fs::write(store::sibling(&vault, ".attempts"), &old_file).unwrap();
        assert_eq!(c.load().unwrap().failures, 4);
        std::fs::remove_file(store::sibling(&vault, ".attempts")).unwrap();
        assert_eq!(c.load().unwrap().failures, 4, "deleting the file does not reset the counter");
    }

    #[test]
    fn success_forgives_only_what_came_before_it() {
        let (_dir, vault, ks) = setup();
        let c = AttemptCounter::new(&vault, "0123456789abcdef", &ks);
        c.count(100, 10).unwrap();
        let right = c.count(100, 10).unwrap();
        c.count(100, 10).unwrap(); // a guess counted while the right PIN's KDF ran
        c.forgive(&right).unwrap();
        assert_eq!(c.load().unwrap().failures, 1);
    }

    #[test]
    fn a_write_behind_the_counters_back_is_refused() {
        let (_dir, vault, ks) = setup();
        let c = AttemptCounter::new(&vault, "0123456789abcdef", &ks);
        let seen = c.load().unwrap();
        c.count(100, 10).unwrap();
        assert_eq!(c.save(AttemptState { failures: 0, ..seen }), Err(Error::ConcurrentChange));
        assert_eq!(c.load().unwrap().failures, 1);
    }
}
