//! Secret bytes: zeroized when dropped, `[redacted]` when debugged.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes of stack [`scrub_stack`] overwrites: deeper than any frame of the HMAC, AES and KDF code
/// it runs after.
const SCRUB_BYTES: usize = 16 * 1024;

/// Fills `buf` from `rng` (the system generator, or a test's). Its failure is the platform's
/// (`Error::Platform`), whatever the bytes were for: never reported as bad input.
pub fn fill_random(rng: &dyn ring::rand::SecureRandom, buf: &mut [u8]) -> crate::Result<()> {
    rng.fill(buf).map_err(|_| crate::Error::Platform("the system random generator failed".into()))
}

/// Overwrites the stack below the caller's frame with zeros. Call it after code that handled key
/// material in frames of its own (libraries copy keys into stack buffers, e.g. HMAC's padded key
/// block, and leave them there when they return): the dead frames lie below the caller's.
#[inline(never)]
pub fn scrub_stack() {
    let mut area = [0u8; SCRUB_BYTES];
    // Volatile writes: the compiler cannot drop them as stores to memory nobody reads.
    area.zeroize();
    std::hint::black_box(&area);
}

/// Key material (OTP seeds, derived keys). Zeroized on drop; never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps bytes; the caller's copy should be zeroized by the caller if it was sensitive.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// Copies a slice into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Secret(bytes.to_vec())
    }

    /// The raw bytes; keep the borrow short.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Lowercase hex of the bytes (for the commands that print a seed by design).
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }

    /// RFC 4648 base32 with padding (the form otpauth users paste).
    pub fn to_base32(&self) -> String {
        base32::encode(base32::Alphabet::Rfc4648 { padding: true }, &self.0)
    }
}

/// Serialised as a byte array, only ever inside an encrypted vault or backup.
impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<u8>::deserialize(d).map(Secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Whether `s` is exactly `digits` lowercase hex digits (transaction ids, link tokens).
pub fn is_lower_hex(s: &str, digits: usize) -> bool {
    s.len() == digits && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lowercase hex encoding.
pub fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Decodes hex (either case, even length, no separators); `None` when malformed.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    t.chunks(2).map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from_slice(b"super secret seed");
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret([redacted])");
        assert!(!shown.contains("super"));
    }

    #[test]
    fn hex_round_trip() {
        let bytes = [0u8, 1, 0x7f, 0x80, 0xff];
        assert_eq!(hex_encode(&bytes), "00017f80ff");
        assert_eq!(hex_decode("00017F80ff").unwrap(), bytes);
        assert!(hex_decode("abc").is_none());
        assert!(hex_decode("zz").is_none());
    }
}
