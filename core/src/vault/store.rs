//! Atomic file writes with the previous generation kept, and the vault's cross-process lock.
//!
//! Write a temp file in the same directory → fsync → hard-link the current file as `<path>.prev`
//! (so the current name never disappears) → rename the temp file over the current one → fsync the
//! directory. A crash at any moment leaves the old or the new contents under `path`. Temp files
//! have unpredictable names and are created exclusively (`O_EXCL`) without following a link
//! (`O_NOFOLLOW`), so another local user cannot plant a link where softtoken writes.
//!
//! [`VaultLock`] is an exclusive `flock` on `<vault>.lock`: every read-modify-write of vault
//! state (the attempt counter, identities, HOTP counters, key slots) happens while it is held.

use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `<path>` with `suffix` appended to its file name.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Where the previous generation lives.
pub fn previous_path(path: &Path) -> PathBuf {
    sibling(path, ".prev")
}

fn storage(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("{what} {}: {e}", path.display()))
}

/// Opens a new file for writing, mode 0600, refusing an existing file or a link at `path`.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    opts.open(path)
}

/// A temp-file name beside `path` that nobody can predict.
fn temp_sibling(path: &Path, what: &str) -> Result<PathBuf> {
    let r = crate::vault::keys::random::<8>()?;
    Ok(sibling(path, &format!(".{what}-{}", crate::secret::hex_encode(&r[..]))))
}

/// An exclusive cross-process lock on a vault (`<vault>.lock`), released when dropped. Not
/// re-entrant: a holder never takes it again.
pub struct VaultLock {
    _file: File,
}

impl VaultLock {
    /// Waits for the lock of the vault at `vault_path` and takes it.
    pub fn acquire(vault_path: &Path) -> Result<Self> {
        let path = sibling(vault_path, ".lock");
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = opts.open(&path).map_err(|e| storage("cannot open the lock file", &path, e))?;
        file.lock().map_err(|e| storage("cannot lock", &path, e))?;
        Ok(VaultLock { _file: file })
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| storage("cannot sync directory", dir, e))?;
    Ok(())
}

/// Replaces `path` with `bytes` atomically, keeping the old contents as `<path>.prev` when asked.
pub fn write_atomic(path: &Path, bytes: &[u8], keep_previous: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = temp_sibling(path, "tmp")?;
    let result = (|| {
        let mut f = create_private(&tmp).map_err(|e| storage("cannot create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| storage("cannot write", &tmp, e))?;
        f.sync_all().map_err(|e| storage("cannot sync", &tmp, e))?;
        drop(f);
        if keep_previous && path.exists() {
            let prev_tmp = temp_sibling(path, "prev-tmp")?;
            if fs::hard_link(path, &prev_tmp).is_err() {
                // A file system without hard links: copy into a new exclusive file instead.
                let old = fs::read(path).map_err(|e| storage("cannot keep the previous version of", path, e))?;
                let mut f = create_private(&prev_tmp).map_err(|e| storage("cannot keep the previous version of", path, e))?;
                f.write_all(&old).and_then(|()| f.sync_all()).map_err(|e| storage("cannot keep the previous version of", path, e))?;
            }
            let kept = fs::rename(&prev_tmp, previous_path(path));
            if kept.is_err() {
                let _ = fs::remove_file(&prev_tmp);
            }
            kept.map_err(|e| storage("cannot keep the previous version of", path, e))?;
        }
        fs::rename(&tmp, path).map_err(|e| storage("cannot replace", path, e))?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Removes the previous generation (after a PIN change: it holds the old key slot).
pub fn remove_previous(path: &Path) -> Result<()> {
    let prev = previous_path(path);
    match fs::remove_file(&prev) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(storage("cannot remove", &prev, e)),
    }
}

/// Reads a whole file; a missing file is `Ok(None)`.
pub fn read(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(storage("cannot read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_previous_generation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v");
        write_atomic(&p, b"one", true).unwrap();
        assert!(!previous_path(&p).exists());
        write_atomic(&p, b"two", true).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read(previous_path(&p)).unwrap(), b"one");
        write_atomic(&p, b"three", true).unwrap();
        assert_eq!(fs::read(previous_path(&p)).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "no temp files left: {leftovers:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_planted_link_at_the_temp_name_is_not_followed() {
        // The attack: a local user predicts the temp name and plants a symlink to a file of the
        // victim's; the old code (`<vault>.tmp-<pid>`, O_TRUNC, following links) overwrote it.
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        let p = dir.path().join("v");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&victim, sibling(&p, &format!(".tmp-{}", std::process::id()))).unwrap();
        write_atomic(&p, b"vault", true).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert_eq!(fs::read(&p).unwrap(), b"vault");
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&victim, &link).unwrap();
            assert!(create_private(&link).is_err(), "an existing link is refused");
            assert_eq!(fs::read(&victim).unwrap(), b"precious");
        }
    }

    #[test]
    fn the_lock_is_exclusive_across_open_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v");
        let held = VaultLock::acquire(&p).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let p2 = p.clone();
        let t = std::thread::spawn(move || {
            let _second = VaultLock::acquire(&p2).unwrap();
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "a second holder waits");
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(10)).expect("taken once released");
        t.join().unwrap();
    }

    #[test]
    fn missing_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join("nope")).unwrap().is_none());
    }
}
