//! Atomic file writes with the previous generation kept: a save never leaves a half-written vault.
//!
//! Write a temp file in the same directory → fsync → hard-link the current file as `<path>.prev`
//! (so the current name never disappears) → rename the temp file over the current one → fsync the
//! directory. A crash at any moment leaves the old or the new contents under `path`.

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

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| storage("cannot sync directory", dir, e))?;
    Ok(())
}

/// Replaces `path` with `bytes` atomically, keeping the old contents as `<path>.prev`.
pub fn write_atomic(path: &Path, bytes: &[u8], keep_previous: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = sibling(path, &format!(".tmp-{}", std::process::id()));
    let result = (|| {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| storage("cannot create", &tmp, e))?;
        f.write_all(bytes).map_err(|e| storage("cannot write", &tmp, e))?;
        f.sync_all().map_err(|e| storage("cannot sync", &tmp, e))?;
        drop(f);
        if keep_previous && path.exists() {
            let prev = previous_path(path);
            let prev_tmp = sibling(path, &format!(".prev-tmp-{}", std::process::id()));
            let _ = fs::remove_file(&prev_tmp);
            if fs::hard_link(path, &prev_tmp).is_err() {
                fs::copy(path, &prev_tmp).map_err(|e| storage("cannot keep the previous version of", path, e))?;
            }
            fs::rename(&prev_tmp, &prev).map_err(|e| storage("cannot keep the previous version of", path, e))?;
        }
        fs::rename(&tmp, path).map_err(|e| storage("cannot replace", path, e))?;
        sync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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
    fn missing_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(&dir.path().join("nope")).unwrap().is_none());
    }
}
