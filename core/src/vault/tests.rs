//! Vault tests on real files in a temporary directory.

use super::*;
use crate::identity::{Identity, IdentityKind};
use crate::otp::Algorithm;
use crate::secret::Secret;

const FAST: VaultOptions = VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 };

fn store() -> Arc<MemoryKeyStore> {
    Arc::new(MemoryKeyStore::new())
}

/// A PIN-less vault holding one HOTP identity "h" (RFC 4226's secret, counter 0).
fn hotp_vault(path: &std::path::Path, ks: &Arc<MemoryKeyStore>) -> Vault {
    let mut v = Vault::create(path, ks.clone(), None, FAST).unwrap();
    let mut h = sample("h", b"12345678901234567890");
    h.kind = IdentityKind::Hotp;
    v.add(h).unwrap();
    v
}

/// A vault with PIN 1234 and biometric unlock enabled, saved and closed.
fn biometric_vault(path: &std::path::Path, ks: &Arc<MemoryKeyStore>) {
    let mut v = Vault::create(path, ks.clone(), Some("1234"), FAST).unwrap();
    v.enable_biometric(Some("1234"), 0).unwrap();
}

/// A temporary directory, the vault path in it, and a fresh key store.
fn setup() -> (tempfile::TempDir, std::path::PathBuf, Arc<MemoryKeyStore>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    (dir, path, store())
}

pub(crate) fn sample(name: &str, seed: &[u8]) -> Identity {
    Identity {
        id: crate::identity::new_id(&ring::rand::SystemRandom::new()).unwrap(),
        name: name.into(),
        provider: Some("ACME".into()),
        kind: IdentityKind::Totp,
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: 30,
        counter: 0,
        serial: None,
        policy: None,
        registration_url: None,
        created_at: 1_700_000_000,
        time_offset_s: 0,
        transaction_url: None,
        push_token: None,
        push_link: None,
        seed: Secret::from_slice(seed),
    }
}

#[test]
fn create_add_reopen() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), Some("1234"), FAST).unwrap();
    v.add(sample("mail", b"12345678901234567890")).unwrap();
    v.add(sample("mail", b"abcdefghijabcdefghij")).unwrap();
    assert_eq!(v.identities()[1].name, "mail (2)", "names stay unique");
    drop(v);
    let v = Vault::open(&path, ks.clone(), Some("1234"), 0).unwrap();
    assert_eq!(v.identities().len(), 2);
    assert_eq!(v.find("mail").unwrap().code_at(59).unwrap().code, "287082");
    assert_eq!(v.find("MAIL (2)").unwrap().name, "mail (2)");
    assert!(matches!(v.find("nope"), Err(Error::NotFound(_))));
    assert!(Vault::create(&path, ks, None, FAST).is_err(), "never overwrites");
}

#[test]
fn no_pin_vault_opens_with_the_device_key_alone() {
    let (_dir, path, ks) = setup();
    Vault::create(&path, ks.clone(), None, FAST).unwrap().add(sample("a", b"0123456789")).unwrap();
    let v = Vault::open(&path, ks.clone(), None, 0).unwrap();
    assert!(!v.has_pin());
    assert_eq!(v.identities().len(), 1);
    // Another device's key cannot open it.
    let other: Arc<MemoryKeyStore> = store();
    assert!(matches!(Vault::open(&path, other, None, 0), Err(Error::CorruptVault { .. })));
    ks.delete_key();
    assert!(matches!(Vault::open(&path, ks, None, 0), Err(Error::KeyUnavailable(_))));
}

#[test]
fn wrong_pins_count_then_delay_then_lock_for_good() {
    let (_dir, path, ks) = setup();
    Vault::create(&path, ks.clone(), Some("2468"), FAST).unwrap();
    let mut now = 1_000_000;
    // The count is of wrong PINs left before the permanent lock (10), not before the first delay.
    for left in (5..10).rev() {
        assert_eq!(Vault::open(&path, ks.clone(), Some("1111"), now).unwrap_err(), Error::WrongPin { attempts_left: left });
    }
    // Five wrong: a 30 s wait, even for the right PIN, and a clock set back does not help.
    assert_eq!(Vault::open(&path, ks.clone(), Some("2468"), now + 10).unwrap_err(), Error::Locked { retry_after_s: 20 });
    assert_eq!(Vault::open(&path, ks.clone(), Some("2468"), now - 500).unwrap_err(), Error::Locked { retry_after_s: 30 });
    // After the wait, the right PIN works and resets the counter.
    now += 30;
    Vault::open(&path, ks.clone(), Some("2468"), now).unwrap();
    assert_eq!(LockedVault::open(&path, ks.clone()).unwrap().attempts().unwrap().failures, 0);
    // Ten wrong in a row (waiting out each delay) locks for good.
    for n in 1..=10u32 {
        now += AttemptState::delay_s(n - 1);
        let e = Vault::open(&path, ks.clone(), Some("0000"), now).unwrap_err();
        if n < 10 {
            assert_eq!(e, Error::WrongPin { attempts_left: 10 - n }, "{n}");
            if n == 9 {
                assert_eq!(e.to_string(), "wrong PIN: 1 attempt left. One more wrong PIN locks the vault for good");
            }
        } else {
            assert_eq!(e, Error::LockedPermanently);
        }
    }
    assert_eq!(Vault::open(&path, ks, Some("2468"), u64::MAX / 2).unwrap_err(), Error::LockedPermanently);
}

#[test]
fn counter_is_persisted_before_the_kdf() {
    // An attempt whose KDF never finished (simulated: count saved, process gone) stays counted.
    let (_dir, path, ks) = setup();
    Vault::create(&path, ks.clone(), Some("2468"), FAST).unwrap();
    let locked = LockedVault::open(&path, ks.clone()).unwrap();
    let c = AttemptCounter::new(&path, &locked.outer.vault_id, ks.as_ref());
    c.count(0, 10).unwrap();
    assert_eq!(Vault::open(&path, ks.clone(), Some("0000"), 0).unwrap_err(), Error::WrongPin { attempts_left: 8 });
}

#[test]
fn every_byte_flip_and_truncation_is_tampering_not_a_wrong_pin() {
    let (dir, path, ks) = setup();
    Vault::create(&path, ks.clone(), Some("1357"), FAST).unwrap().add(sample("x", b"0123456789abcdef")).unwrap();
    let good = std::fs::read(&path).unwrap();
    let target = dir.path().join("flipped");
    for i in 0..good.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= bit;
            std::fs::write(&target, &bad).unwrap();
            let e = LockedVault::open(&target, ks.clone()).err();
            assert!(matches!(e, Some(Error::CorruptVault { .. })), "byte {i} bit {bit:#x}: {e:?}");
        }
    }
    for len in 0..good.len() {
        std::fs::write(&target, &good[..len]).unwrap();
        let e = LockedVault::open(&target, ks.clone()).err();
        assert!(matches!(e, Some(Error::CorruptVault { .. })), "truncated to {len}: {e:?}");
    }
    let locked = LockedVault::open(&path, ks.clone()).unwrap();
    assert_eq!(locked.attempts().unwrap().failures, 0, "no PIN attempt was spent");
    assert!(locked.unlock(Some("1357"), 0).is_ok());
}

#[test]
fn corrupt_current_offers_the_previous_generation() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    v.add(sample("one", b"0123456789")).unwrap();
    v.add(sample("two", b"9876543210")).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(Vault::open(&path, ks.clone(), None, 0).unwrap_err(), Error::CorruptVault { previous_available: true });
    Vault::restore_previous(&path, ks.clone(), None, 0).unwrap();
    let mut v = Vault::open(&path, ks.clone(), None, 0).unwrap();
    assert_eq!(v.identities().len(), 1, "the previous generation had one identity");
    v.add(sample("three", b"abcdefghij")).unwrap();
    assert_eq!(Vault::restore_previous(&path, ks, None, 0).unwrap_err(), Error::VaultIntact);
}

#[test]
fn the_old_pin_does_not_come_back_through_restore_previous() {
    // The attack (issue #13, finding 4): init with PIN 1111, change it, then restore-previous
    // (which asked no PIN and worked on a healthy vault) and 1111 opened the vault again.
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), Some("1111"), FAST).unwrap();
    v.add(sample("a", b"0123456789")).unwrap();
    v.change_pin(Some("1111"), Some("2222"), None, 0).unwrap();
    drop(v);
    assert!(matches!(Vault::open(&path, ks.clone(), Some("1111"), 0), Err(Error::WrongPin { .. })));
    assert_eq!(Vault::restore_previous(&path, ks.clone(), Some("1111"), 0).unwrap_err(), Error::VaultIntact);
    // Even with the current file damaged, no generation sealed under the old PIN is left.
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(Vault::restore_previous(&path, ks.clone(), Some("1111"), 100).unwrap_err(), Error::NoPreviousVersion);
    assert!(!store::previous_path(&path).exists());
}

#[test]
fn an_old_copy_planted_as_prev_is_not_restored_with_its_old_pin() {
    // The attack (issue 28, finding 2): copy the vault while the PIN is 1111; the user then uses
    // an HOTP code, removes a token and changes the PIN to 2222; the attacker damages one byte of
    // the vault, puts the old copy as `.prev` and restores it with 1111. The old PIN, the removed
    // token and the used HOTP code came back. Now only the very file the newest generation
    // replaced may come back, and nothing is changed by a refused restore.
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), Some("1111"), FAST).unwrap();
    let mut h = sample("h", b"12345678901234567890");
    h.kind = IdentityKind::Hotp;
    v.add(h).unwrap();
    v.add(sample("gone", b"0123456789")).unwrap();
    let old_copy = std::fs::read(&path).unwrap();
    v.next_hotp("h").unwrap();
    v.remove("gone").unwrap();
    v.change_pin(Some("1111"), Some("2222"), None, 0).unwrap();
    v.add(sample("later", b"9876543210")).unwrap();
    drop(v);
    let plant_and_damage = || {
        std::fs::write(store::previous_path(&path), &old_copy).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 3] ^= 0x40;
        bytes
    };
    let damaged = plant_and_damage();
    std::fs::write(&path, &damaged).unwrap();
    assert_eq!(Vault::open(&path, ks.clone(), Some("2222"), 0).unwrap_err(), Error::CorruptVault { previous_available: false }, "no restore is offered");
    assert!(matches!(Vault::restore_previous(&path, ks.clone(), Some("1111"), 0), Err(Error::RolledBack { .. })));
    assert!(matches!(Vault::previous_needs_pin(&path, ks.clone()), Err(Error::RolledBack { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), damaged, "a refused restore changes nothing");
    assert_eq!(std::fs::read(store::previous_path(&path)).unwrap(), old_copy);
    // A PIN-less period's copy cannot remove the PIN either.
    let (_dir2, path2, ks2) = setup();
    let mut v = Vault::create(&path2, ks2.clone(), None, FAST).unwrap();
    v.add(sample("a", b"0123456789")).unwrap();
    let pinless = std::fs::read(&path2).unwrap();
    v.change_pin(None, Some("2222"), None, 0).unwrap();
    v.add(sample("b", b"9876543210")).unwrap();
    drop(v);
    std::fs::write(store::previous_path(&path2), &pinless).unwrap();
    let mut bytes = std::fs::read(&path2).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x40;
    std::fs::write(&path2, &bytes).unwrap();
    assert!(matches!(Vault::restore_previous(&path2, ks2.clone(), None, 0), Err(Error::RolledBack { .. })));
    // The real previous generation (one step back, same PIN) still comes back.
    let (_dir3, path3, ks3) = setup();
    let mut v = Vault::create(&path3, ks3.clone(), Some("2222"), FAST).unwrap();
    v.add(sample("a", b"0123456789")).unwrap();
    v.add(sample("b", b"9876543210")).unwrap();
    drop(v);
    let mut bytes = std::fs::read(&path3).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x40;
    std::fs::write(&path3, &bytes).unwrap();
    let restored = Vault::restore_previous(&path3, ks3.clone(), Some("2222"), 0).unwrap();
    assert_eq!(restored.identities().len(), 1);
}

#[test]
fn an_older_copy_of_the_vault_put_back_is_refused() {
    // The attack: keep a copy of the file, let the user remove a token (or advance an HOTP
    // counter, or change the PIN), then put the copy back.
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    v.add(sample("a", b"0123456789")).unwrap();
    let copy = std::fs::read(&path).unwrap();
    v.remove("a").unwrap();
    std::fs::write(&path, &copy).unwrap();
    assert!(matches!(Vault::open(&path, ks.clone(), None, 0), Err(Error::RolledBack { found: 2, newest: 3 })));
    assert!(matches!(v.add(sample("b", b"9876543210")), Err(Error::RolledBack { .. })), "a running session refuses it too");
}

#[test]
fn pin_change_biometrics_and_export_need_the_current_pin() {
    // The attack (finding 1): with an unlocked vault only, set a new PIN (or remove it, or turn
    // on biometrics) and then "confirm" the export with it.
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), Some("1234"), FAST).unwrap();
    v.add(sample("a", b"0123456789")).unwrap();
    assert!(matches!(v.change_pin(Some("0000"), Some("5555"), None, 0), Err(Error::WrongPin { attempts_left: 9 })));
    assert_eq!(v.change_pin(None, None, None, 0).unwrap_err(), Error::PinRequired);
    assert!(matches!(v.enable_biometric(Some("0000"), 0), Err(Error::WrongPin { attempts_left: 8 })));
    assert!(matches!(v.confirm_pin(Some("0000"), 0), Err(Error::WrongPin { attempts_left: 7 })));
    assert!(!v.has_biometric());
    drop(v);
    let v = Vault::open(&path, ks.clone(), Some("1234"), 0).unwrap();
    assert!(v.has_pin());
    // Confirmations count like unlocks: five wrong ones start the delay for the right PIN too.
    for _ in 0..5 {
        let _ = v.confirm_pin(Some("0000"), 10);
    }
    assert!(matches!(v.confirm_pin(Some("1234"), 11), Err(Error::Locked { .. })));
}

#[test]
fn pin_change_rotates_the_data_key_and_drops_the_biometric_slot() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), Some("1234"), FAST).unwrap();
    v.enable_biometric(Some("1234"), 0).unwrap();
    let old_key = v.data_key.clone();
    assert!(v.change_pin(Some("1234"), Some("5678"), None, 0).unwrap(), "biometric unlock turned off");
    assert_ne!(&old_key[..], &v.data_key[..]);
    assert!(!v.has_biometric());
    drop(v);
    assert!(Vault::open(&path, ks, Some("5678"), 0).is_ok());
}

#[test]
fn biometric_unlock_respects_the_wrong_pin_delay_and_the_permanent_lock() {
    let (_dir, path, ks) = setup();
    biometric_vault(&path, &ks);
    for _ in 0..5 {
        let _ = Vault::open(&path, ks.clone(), Some("0000"), 100);
    }
    assert!(matches!(LockedVault::open(&path, ks.clone()).unwrap().unlock_biometric(110), Err(Error::Locked { .. })));
    assert!(LockedVault::open(&path, ks.clone()).unwrap().unlock_biometric(200).is_ok());
}

#[test]
fn concurrent_wrong_pins_are_all_counted() {
    // The attack (finding 3): many wrong PINs at once; the old load → check → save had no lock,
    // so 12 parallel guesses on a fresh vault evaluated more than the 5 free ones.
    let (_dir, path, ks) = setup();
    Vault::create(&path, ks.clone(), Some("2468"), FAST).unwrap();
    let results: Vec<Error> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let (path, ks) = (path.clone(), ks.clone());
                scope.spawn(move || Vault::open(&path, ks, Some(&format!("{:04}", 1000 + i)), 5_000).unwrap_err())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let evaluated = results.iter().filter(|e| matches!(e, Error::WrongPin { .. })).count();
    assert_eq!(evaluated, 5, "{results:?}");
    assert!(results.iter().all(|e| matches!(e, Error::WrongPin { .. } | Error::Locked { .. })), "{results:?}");
    assert_eq!(LockedVault::open(&path, ks).unwrap().attempts().unwrap().failures, 5);
}

#[test]
fn concurrent_changes_lose_nothing_and_hotp_never_repeats() {
    // Two unlocked handles on one file (two processes): the old code saved its own in-memory
    // copy, so one add was lost and both showed the same HOTP code.
    let (_dir, path, ks) = setup();
    let mut a = hotp_vault(&path, &ks);
    let mut b = Vault::open(&path, ks.clone(), None, 0).unwrap();
    a.add(sample("from a", b"aaaaaaaaaa")).unwrap();
    b.add(sample("from b", b"bbbbbbbbbb")).unwrap();
    assert_eq!(Vault::open(&path, ks.clone(), None, 0).unwrap().identities().len(), 3);
    let codes: Vec<String> = std::thread::scope(|scope| {
        let ta = scope.spawn(|| (0..10).map(|_| a.next_hotp("h").unwrap()).collect::<Vec<_>>());
        let tb = scope.spawn(|| (0..10).map(|_| b.next_hotp("h").unwrap()).collect::<Vec<_>>());
        ta.join().unwrap().into_iter().chain(tb.join().unwrap()).collect()
    });
    let unique: std::collections::BTreeSet<&String> = codes.iter().collect();
    assert_eq!(unique.len(), 20, "{codes:?}");
    assert_eq!(Vault::open(&path, ks, None, 0).unwrap().find("h").unwrap().counter, 20);
}

#[test]
fn unsupported_version_is_its_own_error() {
    let (_dir, path, ks) = setup();
    Vault::create(&path, ks.clone(), None, FAST).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (outer, bytes_outer, sealed) = format::decode_outer(&bytes).unwrap();
    let newer = OuterHeader { version: 3, ..outer };
    let mut file = newer.encode();
    file.extend_from_slice(sealed);
    assert_ne!(bytes_outer, file[..bytes_outer.len()].to_vec());
    std::fs::write(&path, file).unwrap();
    assert_eq!(LockedVault::open(&path, ks).err().unwrap(), Error::UnsupportedFormat { what: "vault", version: 3, supported: 2 });
}

#[test]
fn policy_requiring_a_pin() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    let mut id = sample("bank", b"0123456789");
    id.policy = Some(r#"{"pinRequired":"true"}"#.into());
    assert!(matches!(v.add(id.clone()), Err(Error::PolicyViolation(_))));
    assert!(v.identities().is_empty(), "nothing stored");
    v.change_pin(None, Some("9999"), None, 0).unwrap();
    v.add(id).unwrap();
    assert!(matches!(v.change_pin(Some("9999"), None, None, 0), Err(Error::PolicyViolation(_))));
    drop(v);
    let mut v = Vault::open(&path, ks.clone(), Some("9999"), 0).unwrap();
    v.change_pin(Some("9999"), Some("1111"), None, 0).unwrap();
    drop(v);
    assert!(matches!(Vault::open(&path, ks.clone(), Some("9999"), 0), Err(Error::WrongPin { .. })));
    assert!(Vault::open(&path, ks, Some("1111"), 0).is_ok());
}

#[test]
fn file_never_holds_seed_pin_or_activation_code() {
    let (_dir, path, ks) = setup();
    let seed = b"\x9a\x8e\xab\x5e\xcc\x9f\xc4\x13\x75\x8a\x92\xac\x22\x3d\xc6\xa0";
    let mut v = Vault::create(&path, ks.clone(), Some("48213579"), FAST).unwrap();
    let mut id = sample("entrust", seed);
    id.serial = Some("48244-13456".into());
    v.add(id).unwrap();
    v.rename("entrust", "entrust 2").unwrap();
    for file in [path.clone(), store::previous_path(&path), store::sibling(&path, ".attempts")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for needle in ["9a8eab5ecc9fc413758a92ac223dc6a0", "tkhkwxwmt7cbg5mkskwcepogua", "48213579", "1745771269428698", "48244"] {
            assert!(!text.contains(needle), "{} contains {needle}", file.display());
        }
        assert!(!bytes.windows(seed.len()).any(|w| w == seed), "raw seed in {}", file.display());
    }
}

#[test]
fn long_non_ascii_pin_nfc() {
    let (_dir, path, ks) = setup();
    let pin: String = "Ünïcödé-パスワード-".repeat(5);
    Vault::create(&path, ks.clone(), Some(&pin), FAST).unwrap();
    use unicode_normalization::UnicodeNormalization;
    let decomposed: String = pin.nfd().collect();
    assert_ne!(decomposed, pin);
    assert!(Vault::open(&path, ks, Some(&decomposed), 0).is_ok());
}

#[test]
fn a_backup_cannot_bring_in_a_rogue_provider_address_or_clock_offset() {
    // The attack (issue 28, finding 9): a backup whose identity carried transaction_url
    // `http://evil.example:8080` or `http://evil\@127.0.0.1:1`, or a one-year time offset,
    // imported as an online identity. Every way in now runs `Identity::validate`.
    let (dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    let bad = |name: &str, url: Option<&str>, offset: i64| {
        let mut i = sample(name, name.as_bytes());
        i.seed = Secret::new(format!("{name}-seed-0123456789").into_bytes());
        i.transaction_url = url.map(str::to_string);
        i.time_offset_s = offset;
        i
    };
    let items = vec![
        bad("plain-http", Some("http://evil.example:8080"), 0),
        bad("user-info", Some("http://evil\\@127.0.0.1:1"), 0),
        bad("a-year-off", Some("https://bank.example"), 365 * 86_400),
        bad("good", Some("https://bank.example"), 30),
    ];
    let file = backup::encrypt(&items, "backup password 1", KdfParams::MINIMUM).unwrap();
    std::fs::write(dir.path().join("b.stb"), &file).unwrap();
    let decrypted = backup::decrypt(&file, "backup password 1").unwrap();
    let report = v.import(decrypted.into_iter().map(|i| (i.name.clone(), Ok(i))).collect()).unwrap();
    assert_eq!(report.imported, vec!["good".to_string()]);
    assert_eq!(report.skipped.len(), 3, "{:?}", report.skipped);
    // Adding one directly is refused the same way.
    assert!(v.add(bad("direct", Some("http://evil.example:8080"), 0)).is_err());
    assert!(v.add(bad("direct", None, -400 * 86_400)).is_err());
    assert_eq!(v.identities().len(), 1);
}

#[test]
fn a_thousand_identities() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    for i in 0..1000u32 {
        let mut id = sample(&format!("account {i}"), &[0u8; 0]);
        id.seed = Secret::new(format!("seed-{i:06}-padding").into_bytes());
        v.identities.push(id);
    }
    v.rename("account 0", "account zero").unwrap();
    let v = Vault::open(&path, ks, None, 0).unwrap();
    assert_eq!(v.identities().len(), 1000);
    assert_eq!(v.find("account 999").unwrap().seed.expose(), b"seed-000999-padding");
}

#[test]
fn hotp_counter_is_saved_before_the_code_is_shown() {
    let (_dir, path, ks) = setup();
    let mut v = hotp_vault(&path, &ks);
    assert_eq!(v.next_hotp("h").unwrap(), "755224");
    drop(v);
    let mut v = Vault::open(&path, ks.clone(), None, 0).unwrap();
    assert_eq!(v.find("h").unwrap().counter, 1);
    assert_eq!(v.next_hotp("h").unwrap(), "287082");
    // Resync from codes 7 and 8 (162583, 399871): next counter 9.
    assert_eq!(v.resync_hotp("h", "162583", "399871").unwrap(), 9);
    assert_eq!(v.next_hotp("h").unwrap(), "520489");
    assert!(v.resync_hotp("h", "000000", "111111").is_err());
}

#[test]
fn failing_key_store_is_a_platform_error() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    ks.fail_with(Some("keystore daemon died"));
    assert_eq!(v.add(sample("a", b"0123456789")).unwrap_err(), Error::Platform("keystore daemon died".into()));
    assert!(v.identities().is_empty(), "a failed save leaves memory as the file");
    assert_eq!(Vault::open(&path, ks.clone(), None, 0).unwrap_err(), Error::Platform("keystore daemon died".into()));
    ks.fail_with(None);
    assert!(Vault::open(&path, ks, None, 0).is_ok());
}

#[test]
fn biometric_slot_unlocks_without_pin_and_respects_policy() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), Some("1234"), FAST).unwrap();
    v.add(sample("a", b"0123456789")).unwrap();
    v.enable_biometric(Some("1234"), 0).unwrap();
    let mut nobio = sample("no-face", b"abcdefghij");
    nobio.policy = Some(r#"{"allowFaceRecognition":"false"}"#.into());
    assert!(matches!(v.add(nobio.clone()), Err(Error::PolicyViolation(_))));
    drop(v);
    let locked = LockedVault::open(&path, ks.clone()).unwrap();
    assert!(locked.has_biometric());
    let mut v = locked.unlock_biometric(0).unwrap();
    assert_eq!(v.identities().len(), 1);
    v.disable_biometric().unwrap();
    v.add(nobio).unwrap();
    assert!(matches!(v.enable_biometric(Some("1234"), 0), Err(Error::PolicyViolation(_))));
    drop(v);
    let locked = LockedVault::open(&path, ks).unwrap();
    assert!(matches!(locked.unlock_biometric(0), Err(Error::BiometricNotEnabled)));
}

#[test]
fn cancelling_face_id_is_not_reported_as_a_tampered_vault() {
    // The bug (issue #18): a dismissed biometric prompt came back as `Rejected`, which the core
    // reported as a corrupt or tampered vault.
    let (_dir, path, ks) = setup();
    biometric_vault(&path, &ks);
    ks.refuse_biometric(Some(KeyStoreError::Cancelled));
    assert_eq!(LockedVault::open(&path, ks.clone()).unwrap().unlock_biometric(0).unwrap_err(), Error::AuthenticationCancelled);
    ks.refuse_biometric(None);
    assert!(LockedVault::open(&path, ks).unwrap().unlock_biometric(0).is_ok());
}

#[test]
fn a_biometric_lockout_is_its_own_outcome_not_a_tampered_vault_nor_a_wrong_pin() {
    // Too many unrecognised fingers lock the sensor out (Android ERROR_LOCKOUT, LocalAuthentication
    // biometryLockout). Before, the shells could only report it as a generic platform failure.
    let (_dir, path, ks) = setup();
    biometric_vault(&path, &ks);
    ks.refuse_biometric(Some(KeyStoreError::LockedOut("too many attempts".into())));
    let err = LockedVault::open(&path, ks.clone()).unwrap().unlock_biometric(0).unwrap_err();
    assert_eq!(err, Error::AuthenticationLockedOut("too many attempts".into()));
    assert!(err.to_string().contains("use the PIN"), "{err}");
    ks.refuse_biometric(None);
    // The PIN still works, with every attempt left: a lockout counts no wrong PIN.
    assert!(LockedVault::open(&path, ks.clone()).unwrap().unlock(Some("1234"), 0).is_ok());
}

#[test]
fn opening_while_another_process_saves_is_not_taken_for_a_rollback() {
    // Found under load (8 parallel `softtoken add`): an open read generation n of the file, a
    // save then wrote n+1 (file, then record), and the open read record n+1: a false RolledBack.
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let saver = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 400 {
                v.add(sample(&format!("t{i}"), format!("seed-{i:08}").as_bytes())).unwrap();
                i += 1;
            }
        })
    };
    let mut opened = 0;
    while !saver.is_finished() {
        match LockedVault::open(&path, ks.clone()) {
            Ok(_) => opened += 1,
            Err(e) => {
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                panic!("open during saves: {e:?} after {opened} opens");
            }
        }
    }
    saver.join().unwrap();
    assert!(opened > 0);
}

/// A privacyIDEA push token as enrollment stores it (a 2048-bit test key).
fn push_identity() -> Identity {
    use crate::privacyidea::keys::tests::{as_server_key_text, test_key};
    use crate::privacyidea::{PushLink, Server, ServerKey};
    let server_key = ServerKey::parse(&as_server_key_text(test_key())).unwrap();
    let mut i = sample("PIPU0001", b"unused");
    i.kind = IdentityKind::Push;
    i.serial = Some("PIPU0001".into());
    i.push_link = Some(PushLink {
        server: Server::PrivacyIdea,
        serial: "PIPU0001".into(),
        url: "https://pi.example.org/ttype/push".into(),
        server_key: server_key.to_base64(),
        tls_verify: true,
    });
    i.seed = test_key().pkcs8().clone();
    i
}

#[test]
fn a_push_token_survives_reopening_and_a_backup_and_shows_no_codes() {
    let (_dir, path, ks) = setup();
    let mut v = Vault::create(&path, ks.clone(), Some("1234"), FAST).unwrap();
    v.add(push_identity()).unwrap();
    drop(v);
    let v = Vault::open(&path, ks.clone(), Some("1234"), 0).unwrap();
    let kept = v.find("PIPU0001").unwrap();
    assert_eq!(kept.push_link, push_identity().push_link);
    assert_eq!(kept.seed, push_identity().seed, "the phone key is kept whole");
    assert!(matches!(kept.code_at(0), Err(Error::NoCodes(_))));
    assert!(matches!(kept.confirmation_code("1234567890"), Err(Error::NoCodes(_))));
    let backup = v.export_backup("a long backup password", KdfParams::MINIMUM).unwrap();
    let restored = backup::decrypt(&backup, "a long backup password").unwrap();
    assert_eq!(restored.len(), 1);
    assert_eq!((restored[0].kind, &restored[0].push_link), (IdentityKind::Push, &push_identity().push_link));
    assert_eq!(restored[0].seed, push_identity().seed);
    // The same key again is the same token: refused as a duplicate.
    let mut v = v;
    assert!(matches!(v.add(push_identity()), Err(Error::Duplicate { .. })));
}

#[test]
fn a_push_token_with_a_bad_link_is_refused_from_any_source() {
    let mut no_link = push_identity();
    no_link.push_link = None;
    assert!(no_link.validate().is_err());
    let mut remote_http = push_identity();
    remote_http.push_link.as_mut().unwrap().url = "http://pi.example.org/ttype/push".into();
    assert!(remote_http.validate().unwrap_err().to_string().contains("plain http"));
    let mut bad_key = push_identity();
    bad_key.push_link.as_mut().unwrap().server_key = "AAAA".into();
    assert!(bad_key.validate().is_err());
    let mut totp_with_link = push_identity();
    totp_with_link.kind = IdentityKind::Totp;
    assert!(totp_with_link.validate().is_err(), "only a push token carries a server link");
}
