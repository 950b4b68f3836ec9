//! Benchmark driver: opens (after the KDF: a PIN-less vault) and saves a 1 000-identity vault on
//! disk, best of 7 each, and prints `{"identities","open_ms","save_ms"}`. Used by bench/run.py.

use softtoken_core::identity::{Identity, IdentityKind};
use softtoken_core::otp::Algorithm;
use softtoken_core::vault::KdfParams;
use softtoken_core::vault::{MemoryKeyStore, Vault, VaultOptions};
use softtoken_core::Secret;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let dir = std::env::temp_dir().join(format!("softtoken-vault-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("vault.stv");
    let store = Arc::new(MemoryKeyStore::new());
    let mut v = Vault::create(&path, store.clone(), None, VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).expect("create");
    let items = (0..1000u32)
        .map(|i| {
            let id = Identity {
                id: format!("{i:016x}"),
                name: format!("account {i}"),
                provider: Some(format!("provider-{}.example.com", i % 17)),
                kind: IdentityKind::Entrust,
                algorithm: Algorithm::Sha256,
                digits: 6,
                period: 30,
                counter: 0,
                serial: Some(format!("{:05}-{:05}", i, i * 7 % 100_000)),
                policy: Some(r#"{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}"#.into()),
                registration_url: Some("myid.example.com/igst".into()),
                created_at: 1_700_000_000 + i as u64,
                time_offset_s: 0,
                transaction_url: None,
                push_token: None,
                push_link: None,
                seed: Secret::new((0..16).map(|k| (i as u8).wrapping_mul(31).wrapping_add(k)).chain(i.to_be_bytes()).collect()),
            };
            (id.name.clone(), Ok(id))
        })
        .collect();
    let report = v.import(items).expect("import");
    assert_eq!(report.imported.len(), 1000);
    let best = |f: &mut dyn FnMut()| {
        (0..7)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .fold(f64::MAX, f64::min)
    };
    let open_ms = best(&mut || {
        let v = Vault::open(&path, store.clone(), None, 0).expect("open");
        assert_eq!(v.identities().len(), 1000);
    });
    // A save is one read-modify-write under the vault lock (re-read, change, write).
    let first = v.identities()[0].id.clone();
    let mut offset = 0;
    let save_ms = best(&mut || {
        offset += 1;
        v.set_time_offset(&first, offset).expect("save")
    });
    println!("{{\"identities\":1000,\"open_ms\":{open_ms:.2},\"save_ms\":{save_ms:.2}}}");
    let _ = std::fs::remove_dir_all(&dir);
}
