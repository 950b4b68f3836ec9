//! privacyIDEA push cryptography timed for bench/run.py: making the phone's 4096-bit RSA key
//! (mean of N keys) and checking a challenge's server signature (the whole check: base32 decode
//! and RSA-4096 PKCS#1 v1.5 SHA-256 verification), as JSON.
//! Usage: push_bench [KEYS]

use softtoken_core::privacyidea::keys::PHONE_KEY_BITS;
use softtoken_core::privacyidea::{PhoneKey, ServerKey};
use std::time::Instant;

fn main() {
    let keys: u32 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(5);
    let started = Instant::now();
    let mut last = None;
    for _ in 0..keys {
        last = Some(PhoneKey::generate(PHONE_KEY_BITS).expect("key generation"));
    }
    let keygen_ms = started.elapsed().as_secs_f64() * 1000.0 / f64::from(keys);
    let key = last.expect("at least one key");
    // The key's public half as a server would hold it, and one challenge text signed with it.
    let spki = base64_decode(&key.public_key_spki_base64().expect("public key"));
    let pkcs1 = &spki[spki.len() - pkcs1_len(&spki)..];
    let server = ServerKey::from_der(pkcs1.to_vec()).expect("server key");
    let text = "ET3SETS37HUTTX5LJFQAALTFRI2DSTVJ|https://pi.example.org/ttype/push|PIPU0000A0F8|Login from 192.0.2.7?|privacyIDEA|1";
    let signature = key.sign(text).expect("sign");
    let rounds = 2000;
    let started = Instant::now();
    for _ in 0..rounds {
        assert!(server.verifies(text, &signature));
    }
    let verify_per_s = f64::from(rounds) / started.elapsed().as_secs_f64();
    println!("{{\"keys\": {keys}, \"keygen_ms\": {keygen_ms:.1}, \"verify_per_s\": {verify_per_s:.0}}}");
}

/// The length of the PKCS#1 key at the end of an SPKI (the BIT STRING's content after its 0x00).
fn pkcs1_len(spki: &[u8]) -> usize {
    // SPKI = SEQUENCE { AlgorithmIdentifier (15 bytes for rsaEncryption), BIT STRING { 0x00, PKCS#1 } }
    let header = if spki[1] == 0x82 { 4 } else { 3 };
    let bit_string = header + 15;
    let content = if spki[bit_string + 1] == 0x82 { bit_string + 4 } else { bit_string + 3 };
    spki.len() - content - 1
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).expect("base64")
}
