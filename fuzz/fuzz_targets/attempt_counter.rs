//! The wrong-PIN counter file and device record of a real vault, with any content: raw bytes, or
//! any plaintext inside a valid device seal (so the decoder and the delay arithmetic are reached).
//! Never a panic; a counter that cannot be read is ignored or refused with a typed error, never
//! taken as "no failures" when the other copy says otherwise; a wrong PIN is never accepted.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use softtoken_core::vault::{DeviceKeyStore, KdfParams, LockedVault, MemoryKeyStore, Vault, VaultOptions};
use softtoken_core::Error;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

#[derive(Arbitrary, Debug)]
struct Input {
    /// Seal the file's bytes with the device key (else written raw).
    seal_file: bool,
    file: Vec<u8>,
    /// A device record (sealed), or none.
    record: Option<Vec<u8>>,
    now: u64,
    /// Try a wrong PIN when its low six bits are all set (the KDF is slow: about 1 input in 64).
    try_pin: u8,
}

struct Setup {
    path: PathBuf,
    store: Arc<MemoryKeyStore>,
    label: String,
}

static SETUP: OnceLock<Setup> = OnceLock::new();

fuzz_target!(|input: Input| {
    let s = SETUP.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("softtoken-fuzz-attempts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v.stv");
        let store = Arc::new(MemoryKeyStore::new());
        Vault::create(&path, store.clone(), Some("2580"), VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
        let id = LockedVault::open(&path, store.clone()).unwrap().vault_id().to_string();
        Setup { path, store, label: format!("softtoken/v1/attempts/{id}") }
    });
    let file = if input.seal_file { s.store.seal(&s.label, &input.file).unwrap() } else { input.file.clone() };
    let mut counter_path = s.path.clone().into_os_string();
    counter_path.push(".attempts");
    std::fs::write(&counter_path, &file).unwrap();
    // Always overwritten, so no state leaks from one input to the next.
    let record = input.record.as_ref().map(|r| s.store.seal(&s.label, r).unwrap()).unwrap_or_default();
    s.store.store(&s.label, &record).unwrap();
    let locked = LockedVault::open(&s.path, s.store.clone()).unwrap();
    match locked.attempts() {
        Ok(state) => {
            let _ = softtoken_core::vault::AttemptState::delay_s(state.failures);
            let _ = state.check(0, 10);
        }
        // A counter the device seal rejects is ignored; one that opens but is not a counter reads
        // as none; nothing else can fail here (the store works).
        Err(e) => panic!("reading the counter failed: {e:?}"),
    }
    if input.try_pin % 64 == 63 {
        let locked = LockedVault::open(&s.path, s.store.clone()).unwrap();
        match locked.unlock(Some("1111"), input.now) {
            Ok(_) => panic!("a wrong PIN unlocked the vault"),
            Err(Error::WrongPin { .. } | Error::Locked { .. } | Error::LockedPermanently | Error::ConcurrentChange) => {}
            Err(e) => panic!("unexpected error for a wrong PIN: {e:?}"),
        }
    }
});
