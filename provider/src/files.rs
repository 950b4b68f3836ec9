//! Files that hold secrets — the state file, key files, the VAPID key, mailed activations: made
//! 0600 and new (never through a symbolic link or over another file) by the core's
//! `create_private` and `write_atomic`, the same the vault uses, and refused when group or others
//! can read them.

use crate::{ProviderError, Result};
use softtoken_core::vault::create_private;
use std::io::Write;
use std::path::Path;

fn io(what: &str, path: &Path, e: std::io::Error) -> ProviderError {
    ProviderError::Invalid(format!("{what} {}: {e}", path.display()))
}

/// Writes `bytes` to a new file at `path` (0600, synced). `what` names the file in errors.
pub(crate) fn create_new(what: &str, path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = create_private(path).map_err(|e| io(what, path, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| io(what, path, e))
}

/// Creates an empty file at `path` (0600) unless one exists; an existing one must not be
/// readable by group or others.
pub(crate) fn ensure(what: &str, path: &Path) -> Result<()> {
    match create_private(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => check_mode(what, path),
        Err(e) => Err(io(what, path, e)),
    }
}

/// Refuses a file that group or others can read.
pub(crate) fn check_mode(what: &str, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| io(what, path, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(ProviderError::Invalid(format!(
                "{what} {} can be read by other users (mode {:o}): it holds secrets, chmod 600 it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}

/// Reads a private file whole, after [`check_mode`].
pub(crate) fn read(what: &str, path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    check_mode(what, path)?;
    std::fs::read(path).map(zeroize::Zeroizing::new).map_err(|e| io(what, path, e))
}

/// Writes `bytes` as `path` through a new 0600 temporary file beside it (an unpredictable name),
/// synced, then renamed: the vault's own atomic write.
#[cfg(feature = "server")]
pub(crate) fn replace(what: &str, path: &Path, bytes: &[u8]) -> Result<()> {
    softtoken_core::vault::write_atomic(path, bytes, false).map_err(|e| ProviderError::Invalid(format!("{what}: {e}")))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn private_files_are_0600_new_and_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        create_new("key file", &path, b"k").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(create_new("key file", &path, b"k").is_err(), "never over another file");
        let target = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&target, dir.path().join("link")).unwrap();
        assert!(ensure("state file", &dir.path().join("link")).is_err(), "never through a link");
        assert!(!target.exists());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = read("key file", &path).unwrap_err().to_string();
        assert!(refused.contains("other users") && refused.contains("644"), "{refused}");
    }
}
