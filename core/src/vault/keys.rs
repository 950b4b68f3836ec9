//! Vault keys: the random data key, the PIN key (Argon2id), and wrapping one under the other.
//!
//! KDF and AEAD inputs carry versioned domain-separation strings (`softtoken/v1/…`), so a later
//! format can change a construction without any chance of confusing the two.

use crate::error::{Error, Result};
use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::SystemRandom;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

/// Associated data of the PIN slot (data key wrapped by the PIN key).
pub const PIN_SLOT_AAD: &[u8] = b"softtoken/v1/pin-slot";
/// Associated data prefix of the identities payload.
pub const PAYLOAD_AAD: &[u8] = b"softtoken/v1/payload";

/// Argon2id parameters, stored in the vault header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 4 lanes.
    pub const DEFAULT: KdfParams = KdfParams { m_kib: 64 * 1024, t: 3, p: 4 };
    /// The weakest accepted (OWASP's floor): 19 MiB, 2 passes, 1 lane.
    pub const MINIMUM: KdfParams = KdfParams { m_kib: 19 * 1024, t: 2, p: 1 };

    /// The costliest parameters a file from elsewhere (an imported backup or export) may ask
    /// for: what a phone affords in a few seconds. A hostile file asking for more is refused
    /// before any memory is allocated.
    pub const AFFORDABLE: KdfParams = KdfParams { m_kib: 256 * 1024, t: 10, p: 8 };

    fn refuse(self, reason: &'static str) -> Error {
        Error::KdfParameters { m_kib: self.m_kib, t: self.t, p: self.p, reason }
    }

    /// Refuses parameters that are too weak or would exhaust memory/time (19 MiB..1 GiB,
    /// t 2..16, p 1..16): for vaults this device made.
    pub fn check(self) -> Result<Self> {
        if self.m_kib < Self::MINIMUM.m_kib || self.t < Self::MINIMUM.t || self.p < Self::MINIMUM.p {
            return Err(self.refuse("below the minimum (19 MiB, t=2, p=1)"));
        }
        if self.m_kib > 1024 * 1024 || self.t > 16 || self.p > 16 {
            return Err(self.refuse("above the maximum (1 GiB, t=16, p=16)"));
        }
        Ok(self)
    }

    /// [`check`](Self::check), and refuses more than [`AFFORDABLE`](Self::AFFORDABLE): for
    /// files from elsewhere.
    pub fn check_affordable(self) -> Result<Self> {
        let a = Self::AFFORDABLE;
        if self.m_kib > a.m_kib || self.t > a.t || self.p > a.p {
            return Err(self.refuse("above what this device affords (256 MiB, t=10, p=8)"));
        }
        self.check()
    }
}

/// Fills a buffer from the OS CSPRNG.
pub fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut b = Zeroizing::new([0u8; N]);
    crate::secret::fill_random(&SystemRandom::new(), &mut b[..])?;
    Ok(b)
}

/// Normalises a PIN or password to NFC, so the same characters typed on any keyboard give one key.
pub fn normalize_secret(text: &str) -> Zeroizing<String> {
    Zeroizing::new(text.nfc().collect())
}

/// Argon2id(NFC(pin), salt) → 32-byte key.
pub fn derive_pin_key(pin: &str, salt: &[u8], params: KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = params.check()?;
    let p = Params::new(params.m_kib, params.t, params.p, Some(32)).map_err(|_| params.refuse("not accepted by Argon2"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    let pin = normalize_secret(pin);
    Argon2::new(Argon2Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(pin.as_bytes(), salt, &mut out[..])
        .map_err(|_| Error::Crypto("Argon2id failed"))?;
    Ok(out)
}

/// AES-256-GCM seal with a fresh random nonce: `nonce ‖ ciphertext ‖ tag`.
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let sealed = seal_here(key, aad, plaintext);
    // ring's AES key schedule (its first round keys are the key) stays in the dead frame.
    crate::secret::scrub_stack();
    sealed
}

#[inline(never)]
fn seal_here(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Crypto("bad AES key"))?);
    let nonce = random::<12>()?;
    let mut out = Vec::with_capacity(12 + plaintext.len() + 16);
    out.extend_from_slice(&nonce[..]);
    out.extend_from_slice(plaintext);
    let tag =
        k.seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), &mut out[12..]).map_err(|_| Error::Crypto("encryption failed"))?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens [`seal`]'s output; `None` when the key is wrong or a byte changed.
pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let opened = open_here(key, aad, sealed);
    crate::secret::scrub_stack();
    opened
}

#[inline(never)]
fn open_here(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < 28 {
        return None;
    }
    let k = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(&sealed[..12]).ok()?;
    let mut buf = Zeroizing::new(sealed[12..].to_vec());
    let n = k.open_in_place(nonce, Aad::from(aad), &mut buf[..]).ok()?.len();
    buf.truncate(n);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9106_style_vector_from_the_reference_cli() {
        // `printf %s 1234 | argon2 somesaltsomesalt -id -t 3 -m 16 -p 4 -l 32 -r` (Debian argon2 CLI).
        let k = derive_pin_key("1234", b"somesaltsomesalt", KdfParams::DEFAULT).unwrap();
        assert_eq!(crate::secret::hex_encode(&k[..]), "2fe21e635df360a22773f40b7d322b8d7b94e21b1536257b1741df7d62ca2166");
    }

    #[test]
    fn params_bounds() {
        assert!(KdfParams::DEFAULT.check().is_ok());
        assert!(KdfParams::MINIMUM.check().is_ok());
        assert!(KdfParams { m_kib: 19 * 1024 - 1, t: 2, p: 1 }.check().is_err());
        assert!(KdfParams { m_kib: 19 * 1024, t: 1, p: 1 }.check().is_err());
        assert!(KdfParams { m_kib: 1024 * 1024 + 1, t: 2, p: 1 }.check().is_err());
        assert!(KdfParams { m_kib: u32::MAX, t: u32::MAX, p: 0 }.check().is_err());
    }

    #[test]
    fn nfc_normalisation() {
        let composed = "caf\u{e9}";
        let decomposed = "cafe\u{301}";
        let a = derive_pin_key(composed, &[1; 16], KdfParams::MINIMUM).unwrap();
        let b = derive_pin_key(decomposed, &[1; 16], KdfParams::MINIMUM).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn seal_open() {
        let key = [7u8; 32];
        let s = seal(&key, b"aad", b"data key").unwrap();
        assert_eq!(&open(&key, b"aad", &s).unwrap()[..], b"data key");
        assert!(open(&key, b"other", &s).is_none());
        assert!(open(&[8u8; 32], b"aad", &s).is_none());
        assert!(open(&key, b"aad", &s[..20]).is_none());
    }
}
