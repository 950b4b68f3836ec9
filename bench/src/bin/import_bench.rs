//! Benchmark driver: an encrypted Aegis export of 1 000 tokens (scrypt N = 2^15, r = 8, p = 1, as
//! Aegis writes) imported into a fresh vault on disk, against the scrypt derivation alone; best of
//! 5 each. Prints `{"tokens","kdf_ms","import_ms"}`. Used by bench/run.py.

use softtoken_core::activation::otpauth_identity;
use softtoken_core::identity::Identity;
use softtoken_core::import::{self, aegis, crypto};
use softtoken_core::otp::Algorithm;
use softtoken_core::uri::{OtpAuth, OtpKind};
use softtoken_core::vault::{KdfParams, MemoryKeyStore, Vault, VaultOptions};
use softtoken_core::Secret;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let rng = ring::rand::SystemRandom::new();
    let identities: Vec<Identity> = (0..1000u32)
        .map(|i| {
            let secret = Secret::new((0..20).map(|k| (i as u8).wrapping_mul(13).wrapping_add(k)).chain(i.to_be_bytes()).collect());
            let (issuer, account) = (Some(format!("Service {}", i % 40)), format!("user{i}@example.com"));
            let token = match i % 3 {
                0 => OtpAuth { kind: OtpKind::Totp { period: 30 }, issuer, account, secret, algorithm: Algorithm::Sha256, digits: 6 + (i % 3) as u8 },
                1 => OtpAuth { kind: OtpKind::Hotp { counter: i as u64 }, issuer, account, secret, algorithm: Algorithm::Sha512, digits: 8 },
                _ => OtpAuth::steam(issuer, account, secret),
            };
            otpauth_identity(&token, None, 1_700_000_000, &rng).expect("identity")
        })
        .collect();
    let password = "correct horse battery";
    let file = aegis::export(&identities, Some(password), &rng).expect("export");
    let best = |f: &mut dyn FnMut()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .fold(f64::MAX, f64::min)
    };
    let kdf_ms = best(&mut || {
        crypto::scrypt(password, &[7; 32], aegis::SCRYPT_N, 8, 1).expect("scrypt");
    });
    let dir = std::env::temp_dir().join(format!("softtoken-import-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut n = 0;
    let import_ms = {
        let mut runs = Vec::new();
        for _ in 0..5 {
            n += 1;
            let mut v = Vault::create(
                &dir.join(format!("v{n}.stv")),
                Arc::new(MemoryKeyStore::new()),
                None,
                VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 },
            )
            .expect("create");
            let t = Instant::now();
            let parsed = import::read(file.as_bytes(), None, Some(password), 1_700_000_000, &rng, &mut Vec::new()).expect("read");
            let report = v.import(parsed.items).expect("import");
            runs.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(report.imported.len(), 1000, "{:?}", report.skipped.first());
        }
        runs.into_iter().fold(f64::MAX, f64::min)
    };
    println!("{{\"tokens\":1000,\"kdf_ms\":{kdf_ms:.1},\"import_ms\":{import_ms:.1}}}");
    let _ = std::fs::remove_dir_all(&dir);
}
