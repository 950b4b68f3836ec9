//! The cryptography other apps' exports use, each behind a cap on the work and memory a file may
//! ask for: a hostile export must not make softtoken allocate gigabytes or spin for hours. A
//! failed authentication tag is a wrong password (every encrypted format here is authenticated,
//! except Stratum's legacy CBC one, whose padding and JSON are checked instead).

use crate::error::{Error, Result};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use zeroize::Zeroizing;

/// Most PBKDF2 iterations accepted (andOTP writes 140 000–160 000, 2FAS 10 000, Stratum 64 000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
/// Most scrypt memory accepted, 128·r·N bytes (Aegis uses N = 2^15, r = 8: 32 MiB).
pub const MAX_SCRYPT_BYTES: u64 = 256 << 20;
/// Most scrypt work accepted, N·r·p (Aegis: 2^18).
pub const MAX_SCRYPT_WORK: u64 = 1 << 24;
/// Most Argon2id memory accepted, in KiB (1 GiB: libsodium's "sensitive" limit, which Ente uses).
pub const MAX_ARGON2_KIB: u32 = 1 << 20;
/// Most Argon2id work accepted, memory (KiB) × passes: 1 GiB × 4, 256 MiB × 16, 64 MiB × 64.
pub const MAX_ARGON2_WORK: u64 = 4 << 20;

/// A 256-bit key derived from a password, zeroized when dropped.
pub type Key = Zeroizing<[u8; 32]>;

/// AES-256-GCM decryption of `ciphertext || tag` with a 96-bit nonce; a bad tag is a wrong password.
pub fn aes_gcm_open(key: &[u8], nonce: &[u8], ciphertext_and_tag: &[u8], format: &'static str) -> Result<Zeroizing<Vec<u8>>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| malformed(format, "the key is not 256 bits"))?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| malformed(format, "the nonce is not 96 bits"))?;
    let mut buf = Zeroizing::new(ciphertext_and_tag.to_vec());
    let n = key.open_in_place(nonce, Aad::empty(), &mut buf).map_err(|_| Error::WrongExportPassword { format })?.len();
    buf.truncate(n);
    Ok(buf)
}

/// AES-256-GCM encryption: `ciphertext || tag`.
pub fn aes_gcm_seal(key: &[u8], nonce: &[u8; 12], plain: &[u8]) -> Result<Vec<u8>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Crypto("AES-256-GCM key"))?);
    let mut buf = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(*nonce), Aad::empty(), &mut buf).map_err(|_| Error::Crypto("AES-256-GCM seal"))?;
    Ok(buf)
}

/// AES-256-CBC with PKCS#7 padding; bad padding is a wrong password (or a damaged file).
pub fn aes_cbc_open(key: &[u8], iv: &[u8], ciphertext: &[u8], format: &'static str) -> Result<Zeroizing<Vec<u8>>> {
    use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
    let dec = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv).map_err(|_| malformed(format, "the key or IV has the wrong length"))?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let n = dec.decrypt_padded_mut::<Pkcs7>(&mut buf).map_err(|_| Error::WrongExportPassword { format })?.len();
    buf.truncate(n);
    Ok(buf)
}

/// Which HMAC a PBKDF2 runs over.
#[derive(Debug, Clone, Copy)]
pub enum Prf {
    /// PBKDF2-HMAC-SHA1 (andOTP, Stratum's legacy format).
    Sha1,
    /// PBKDF2-HMAC-SHA256 (2FAS).
    Sha256,
}

/// PBKDF2 to a 256-bit key, refusing iteration counts above [`MAX_PBKDF2_ITERATIONS`].
pub fn pbkdf2(prf: Prf, password: &str, salt: &[u8], iterations: u32) -> Result<Key> {
    let iterations =
        std::num::NonZeroU32::new(iterations).ok_or_else(|| Error::KdfTooCostly { kdf: "PBKDF2", found: "0 iterations".into(), limit: "at least 1".into() })?;
    if iterations.get() > MAX_PBKDF2_ITERATIONS {
        return Err(Error::KdfTooCostly { kdf: "PBKDF2", found: format!("{iterations} iterations"), limit: format!("{MAX_PBKDF2_ITERATIONS}") });
    }
    let alg = match prf {
        Prf::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
        Prf::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
    };
    let mut key = Zeroizing::new([0u8; 32]);
    ring::pbkdf2::derive(alg, iterations, salt, password.as_bytes(), &mut key[..]);
    Ok(key)
}

/// scrypt to a 256-bit key, refusing parameters above [`MAX_SCRYPT_BYTES`] / [`MAX_SCRYPT_WORK`].
pub fn scrypt(password: &str, salt: &[u8], n: u64, r: u32, p: u32) -> Result<Key> {
    let found = format!("N={n} r={r} p={p}");
    let too_costly =
        || Error::KdfTooCostly { kdf: "scrypt", found: found.clone(), limit: format!("{} MiB of memory, N·r·p ≤ 2^24", MAX_SCRYPT_BYTES >> 20) };
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return Err(Error::MalformedExport {
            format: "Aegis",
            reason: format!("scrypt parameters {found} are not valid (N a power of two, r and p at least 1)"),
        });
    }
    let bytes = 128u64.checked_mul(r as u64).and_then(|x| x.checked_mul(n)).ok_or_else(too_costly)?;
    let work = n.checked_mul(r as u64).and_then(|x| x.checked_mul(p as u64)).ok_or_else(too_costly)?;
    if bytes > MAX_SCRYPT_BYTES || work > MAX_SCRYPT_WORK {
        return Err(too_costly());
    }
    let params = ::scrypt::Params::new(n.trailing_zeros() as u8, r, p, 32).map_err(|_| too_costly())?;
    let mut key = Zeroizing::new([0u8; 32]);
    ::scrypt::scrypt(password.as_bytes(), salt, &params, &mut key[..]).map_err(|_| Error::Crypto("scrypt"))?;
    Ok(key)
}

/// Argon2id (version 0x13) to a 256-bit key, refusing parameters above [`MAX_ARGON2_KIB`] /
/// [`MAX_ARGON2_WORK`].
pub fn argon2id(password: &str, salt: &[u8], m_kib: u64, t: u64, p: u32) -> Result<Key> {
    let found = format!("{m_kib} KiB, {t} passes, {p} lanes");
    let limit = || format!("{} MiB, memory × passes ≤ {} GiB", MAX_ARGON2_KIB >> 10, MAX_ARGON2_WORK >> 20);
    if m_kib > MAX_ARGON2_KIB as u64 || m_kib.saturating_mul(t) > MAX_ARGON2_WORK || p > 16 {
        return Err(Error::KdfTooCostly { kdf: "Argon2id", found, limit: limit() });
    }
    let params = argon2::Params::new(m_kib as u32, t as u32, p, Some(32)).map_err(|_| Error::KdfTooCostly {
        kdf: "Argon2id",
        found: found.clone(),
        limit: "parameters Argon2 accepts".into(),
    })?;
    let mut key = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password.as_bytes(), salt, &mut key[..])
        .map_err(|_| Error::MalformedExport { format: "Argon2id", reason: "the salt is too short".into() })?;
    Ok(key)
}

/// libsodium's `crypto_secretstream_xchacha20poly1305` reading one message (the whole of an Ente
/// export): HChaCha20 subkey from the 24-byte header, ChaCha20-IETF with counter 1 and the
/// header's last 8 bytes, Poly1305 over the tag block and the ciphertext. The final tag byte must
/// be "message" or "final".
pub fn secretstream_open(key: &[u8; 32], header: &[u8], sealed: &[u8], format: &'static str) -> Result<Zeroizing<Vec<u8>>> {
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    use poly1305::universal_hash::KeyInit;
    const TAG_MESSAGE: u8 = 0;
    const TAG_FINAL: u8 = 3;
    if header.len() != 24 {
        return Err(malformed(format, "the stream header is not 24 bytes"));
    }
    // One tag byte before the message, a 16-byte MAC after it.
    if sealed.len() < 17 {
        return Err(malformed(format, "the encrypted data is shorter than its authentication tag"));
    }
    let mut subkey = Zeroizing::new([0u8; 32]);
    subkey.copy_from_slice(&chacha20::hchacha::<chacha20::cipher::consts::U10>(key.into(), header[..16].into()));
    let mut nonce = [0u8; 12];
    nonce[0] = 1;
    nonce[4..].copy_from_slice(&header[16..]);
    let mut cipher = chacha20::ChaCha20::new((&*subkey).into(), &nonce.into());
    let mut block = Zeroizing::new([0u8; 64]);
    cipher.apply_keystream(&mut block[..]);
    let mac_key = poly1305::Key::clone_from_slice(&block[..32]);
    // Block 1 encrypts the tag byte; the MAC covers the block with the encrypted byte in place.
    block.fill(0);
    block[0] = sealed[0];
    cipher.apply_keystream(&mut block[..]);
    let tag = block[0];
    block[0] = sealed[0];
    let (ciphertext, mac) = sealed[1..].split_at(sealed.len() - 17);
    let mut authenticated = Zeroizing::new(Vec::with_capacity(64 + ciphertext.len() + 32));
    authenticated.extend_from_slice(&block[..]);
    authenticated.extend_from_slice(ciphertext);
    // libsodium pads with (0x10 - 64 + mlen) & 0xf zero bytes, i.e. mlen mod 16 (not to a block).
    let padded = authenticated.len() + ciphertext.len() % 16;
    authenticated.resize(padded, 0);
    authenticated.extend_from_slice(&0u64.to_le_bytes());
    authenticated.extend_from_slice(&(64 + ciphertext.len() as u64).to_le_bytes());
    let expected = poly1305::Poly1305::new(&mac_key).compute_unpadded(&authenticated);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), mac)) {
        return Err(Error::WrongExportPassword { format });
    }
    if tag != TAG_MESSAGE && tag != TAG_FINAL {
        return Err(malformed(format, "the stream continues past its first message"));
    }
    let mut plain = Zeroizing::new(ciphertext.to_vec());
    cipher.apply_keystream(&mut plain);
    Ok(plain)
}

/// [`Error::MalformedExport`] for `format`.
pub fn malformed(format: &'static str, reason: impl Into<String>) -> Error {
    Error::MalformedExport { format, reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_kdf_parameters_are_refused_before_any_work() {
        // The attack: an export asking for 64 GiB of scrypt memory, 2^31 PBKDF2 iterations or
        // 16 GiB of Argon2 memory. Each returns at once, with the parameters named.
        assert!(matches!(scrypt("pw", b"salt", 1 << 26, 8, 1), Err(Error::KdfTooCostly { kdf: "scrypt", .. })));
        assert!(matches!(scrypt("pw", b"salt", 1 << 15, 8, 1 << 12), Err(Error::KdfTooCostly { .. })));
        assert!(matches!(scrypt("pw", b"salt", u64::MAX / 2 + 1, u32::MAX, u32::MAX), Err(Error::KdfTooCostly { .. })));
        assert!(matches!(scrypt("pw", b"salt", 1000, 8, 1), Err(Error::MalformedExport { .. })));
        assert!(matches!(pbkdf2(Prf::Sha1, "pw", b"salt", 1 << 31), Err(Error::KdfTooCostly { kdf: "PBKDF2", .. })));
        assert!(matches!(pbkdf2(Prf::Sha1, "pw", b"salt", 0), Err(Error::KdfTooCostly { .. })));
        let e = argon2id("pw", b"saltsaltsaltsalt", 16 << 20, 4, 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the Argon2id parameters of this file (16777216 KiB, 4 passes, 1 lanes) are above what softtoken accepts (1024 MiB, memory × passes ≤ 4 GiB)"
        );
        assert!(matches!(argon2id("pw", b"saltsaltsaltsalt", 64 << 10, 1 << 40, 1), Err(Error::KdfTooCostly { .. })));
    }

    #[test]
    fn gcm_wrong_key_is_a_wrong_password() {
        let sealed = aes_gcm_seal(&[1; 32], &[2; 12], b"tokens").unwrap();
        assert_eq!(&aes_gcm_open(&[1; 32], &[2; 12], &sealed, "X").unwrap()[..], b"tokens");
        assert_eq!(aes_gcm_open(&[9; 32], &[2; 12], &sealed, "X").unwrap_err(), Error::WrongExportPassword { format: "X" });
        assert!(matches!(aes_gcm_open(&[1; 32], &[2; 16], &sealed, "X"), Err(Error::MalformedExport { .. })));
    }

    #[test]
    fn secretstream_refuses_short_and_altered_data() {
        assert!(matches!(secretstream_open(&[0; 32], &[0; 24], &[0; 16], "Ente"), Err(Error::MalformedExport { .. })));
        assert!(matches!(secretstream_open(&[0; 32], &[0; 23], &[0; 40], "Ente"), Err(Error::MalformedExport { .. })));
        assert_eq!(secretstream_open(&[0; 32], &[0; 24], &[0; 40], "Ente").unwrap_err(), Error::WrongExportPassword { format: "Ente" });
    }
}
