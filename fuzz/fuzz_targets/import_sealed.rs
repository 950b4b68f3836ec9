//! The plaintext inside a valid encryption (random bytes never pass an AEAD tag): an Aegis export
//! with a cheap scrypt slot and a 2FAS export, both sealed around the fuzzed database, then
//! imported with the right password. The decrypted-database parsers must hold as the plain ones do.
#![no_main]
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use softtoken_core::import::{self, crypto};
use softtoken_core::secret::hex_encode;

const PASSWORD: &str = "fuzz password";

fn aegis(db: &[u8]) -> String {
    let key = crypto::scrypt(PASSWORD, &[1; 32], 2, 1, 1).unwrap();
    let master = [7u8; 32];
    let wrapped = crypto::aes_gcm_seal(&key[..], &[2; 12], &master).unwrap();
    let sealed = crypto::aes_gcm_seal(&master, &[3; 12], db).unwrap();
    let (c, tag) = sealed.split_at(sealed.len() - 16);
    serde_json::json!({"version": 1, "header": {
        "slots": [{"type": 1, "key": hex_encode(&wrapped[..32]), "key_params": {"nonce": hex_encode(&[2; 12]), "tag": hex_encode(&wrapped[32..])}, "n": 2, "r": 1, "p": 1, "salt": hex_encode(&[1; 32])}],
        "params": {"nonce": hex_encode(&[3; 12]), "tag": hex_encode(tag)}},
        "db": base64::engine::general_purpose::STANDARD.encode(c)}).to_string()
}

fn twofas(services: &[u8]) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let key = crypto::pbkdf2(crypto::Prf::Sha256, PASSWORD, &[4; 16], 10_000).unwrap();
    let sealed = crypto::aes_gcm_seal(&key[..], &[5; 12], services).unwrap();
    serde_json::json!({"schemaVersion": 4, "services": [], "servicesEncrypted": format!("{}:{}:{}", b64(&sealed), b64(&[4; 16]), b64(&[5; 12]))}).to_string()
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, plain)) = data.split_first() else { return };
    let file = if which % 2 == 0 { aegis(plain) } else { twofas(plain) };
    let rng = ring::rand::SystemRandom::new();
    match import::read(file.as_bytes(), None, Some(PASSWORD), 0, &rng, &mut Vec::new()) {
        Ok(p) => {
            for (_, item) in p.items {
                if let Ok(i) = item {
                    i.validate().expect("valid");
                }
            }
        }
        Err(softtoken_core::Error::WrongExportPassword { .. }) => panic!("the right password is never reported wrong"),
        Err(_) => {}
    }
});
