//! Vault tests on real files in a temporary directory.

use super::*;
use crate::identity::{Identity, IdentityKind};
use crate::otp::Algorithm;
use crate::secret::Secret;

const FAST: VaultOptions = VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 };

fn store() -> Arc<MemoryKeyStore> {
    Arc::new(MemoryKeyStore::new())
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
        seed: Secret::from_slice(seed),
    }
}

#[test]
fn create_add_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    Vault::create(&path, ks.clone(), Some("2468"), FAST).unwrap();
    let mut now = 1_000_000;
    for left in (0..5).rev() {
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
            assert!(matches!(e, Error::WrongPin { .. }), "{n}: {e}");
        } else {
            assert_eq!(e, Error::LockedPermanently);
        }
    }
    assert_eq!(Vault::open(&path, ks, Some("2468"), u64::MAX / 2).unwrap_err(), Error::LockedPermanently);
}

#[test]
fn counter_is_persisted_before_the_kdf() {
    // An attempt whose KDF never finished (simulated: count saved, process gone) stays counted.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    Vault::create(&path, ks.clone(), Some("2468"), FAST).unwrap();
    let locked = LockedVault::open(&path, ks.clone()).unwrap();
    let c = AttemptCounter::new(&path, &locked.outer.vault_id, ks.as_ref());
    let s = c.load().unwrap();
    c.save(AttemptState { failures: s.failures + 1, ..s }).unwrap();
    assert_eq!(Vault::open(&path, ks.clone(), Some("0000"), 0).unwrap_err(), Error::WrongPin { attempts_left: 3 });
}

#[test]
fn every_byte_flip_and_truncation_is_tampering_not_a_wrong_pin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    v.add(sample("one", b"0123456789")).unwrap();
    v.add(sample("two", b"9876543210")).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(Vault::open(&path, ks.clone(), None, 0).unwrap_err(), Error::CorruptVault { previous_available: true });
    Vault::restore_previous(&path, ks.clone()).unwrap();
    let v = Vault::open(&path, ks, None, 0).unwrap();
    assert_eq!(v.identities().len(), 1, "the previous generation had one identity");
}

#[test]
fn unsupported_version_is_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    Vault::create(&path, ks.clone(), None, FAST).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (outer, bytes_outer, sealed) = format::decode_outer(&bytes).unwrap();
    let newer = OuterHeader { version: 2, ..outer };
    let mut file = newer.encode();
    file.extend_from_slice(sealed);
    assert_ne!(bytes_outer, file[..bytes_outer.len()].to_vec());
    std::fs::write(&path, file).unwrap();
    assert_eq!(
        LockedVault::open(&path, ks).err().unwrap(),
        Error::UnsupportedFormat { what: "vault", version: 2, supported: 1 }
    );
}

#[test]
fn policy_requiring_a_pin() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    let mut id = sample("bank", b"0123456789");
    id.policy = Some(r#"{"pinRequired":"true"}"#.into());
    assert!(matches!(v.add(id.clone()), Err(Error::PolicyViolation(_))));
    assert!(v.identities().is_empty(), "nothing stored");
    v.change_pin(Some("9999"), None).unwrap();
    v.add(id).unwrap();
    assert!(matches!(v.change_pin(None, None), Err(Error::PolicyViolation(_))));
    drop(v);
    let mut v = Vault::open(&path, ks.clone(), Some("9999"), 0).unwrap();
    v.change_pin(Some("1111"), None).unwrap();
    drop(v);
    assert!(matches!(Vault::open(&path, ks.clone(), Some("9999"), 0), Err(Error::WrongPin { .. })));
    assert!(Vault::open(&path, ks, Some("1111"), 0).is_ok());
}

#[test]
fn file_never_holds_seed_pin_or_activation_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    let seed = b"\x9a\x8e\xab\x5e\xcc\x9f\xc4\x13\x75\x8a\x92\xac\x22\x3d\xc6\xa0";
    let mut v = Vault::create(&path, ks.clone(), Some("48213579"), FAST).unwrap();
    let mut id = sample("entrust", seed);
    id.serial = Some("48244-13456".into());
    v.add(id).unwrap();
    v.save().unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    let pin: String = "Ünïcödé-パスワード-".repeat(5);
    Vault::create(&path, ks.clone(), Some(&pin), FAST).unwrap();
    use unicode_normalization::UnicodeNormalization;
    let decomposed: String = pin.nfd().collect();
    assert_ne!(decomposed, pin);
    assert!(Vault::open(&path, ks, Some(&decomposed), 0).is_ok());
}

#[test]
fn a_thousand_identities() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    for i in 0..1000u32 {
        let mut id = sample(&format!("account {i}"), &[0u8; 0]);
        id.seed = Secret::new(format!("seed-{i:06}-padding").into_bytes());
        v.identities.push(id);
    }
    v.save().unwrap();
    let v = Vault::open(&path, ks, None, 0).unwrap();
    assert_eq!(v.identities().len(), 1000);
    assert_eq!(v.find("account 999").unwrap().seed.expose(), b"seed-000999-padding");
}

#[test]
fn hotp_counter_is_saved_before_the_code_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    let mut v = Vault::create(&path, ks.clone(), None, FAST).unwrap();
    let mut id = sample("h", b"12345678901234567890");
    id.kind = IdentityKind::Hotp;
    v.add(id).unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault");
    let ks = store();
    let mut v = Vault::create(&path, ks.clone(), Some("1234"), FAST).unwrap();
    v.add(sample("a", b"0123456789")).unwrap();
    v.set_biometric(true).unwrap();
    let mut nobio = sample("no-face", b"abcdefghij");
    nobio.policy = Some(r#"{"allowFaceRecognition":"false"}"#.into());
    assert!(matches!(v.add(nobio.clone()), Err(Error::PolicyViolation(_))));
    drop(v);
    let locked = LockedVault::open(&path, ks.clone()).unwrap();
    assert!(locked.has_biometric());
    let mut v = locked.unlock_biometric().unwrap();
    assert_eq!(v.identities().len(), 1);
    v.set_biometric(false).unwrap();
    v.add(nobio).unwrap();
    assert!(matches!(v.set_biometric(true), Err(Error::PolicyViolation(_))));
    drop(v);
    let locked = LockedVault::open(&path, ks).unwrap();
    assert!(matches!(locked.unlock_biometric(), Err(Error::State(_))));
}
