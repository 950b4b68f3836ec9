//! A vault file of any bytes, opened with a device key store: never a panic; anything that is not
//! a vault this store sealed is refused before a PIN attempt is counted.
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::vault::{LockedVault, MemoryKeyStore};
use std::sync::{Arc, OnceLock};

static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("softtoken-fuzz-vault-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let path = dir.join("v.stv");
    std::fs::write(&path, data).unwrap();
    let store = Arc::new(MemoryKeyStore::new());
    if let Ok(locked) = LockedVault::open(&path, store) {
        let _ = locked.unlock(Some("2580"), 0);
    }
});
