//! The hot loop of token recovery: seed derivation and TOTP for one device random, specialised.
//!
//! Recovery derives up to 131 072 seeds, so each must cost only what SHA-256 needs: 2 compressions
//! for the PBKDF2 key, 2 per PBKDF2 iteration, 2 for the TOTP key and 2 per time step tried —
//! 26 in all for one code. ring's HMAC does not let us keep the padded message blocks and the
//! key states between candidates, so this module builds HMAC-SHA256 from `sha2::compress256`
//! (which uses the CPU's SHA extensions when present). Equality with the general
//! [`derive_seed`](super::seed::derive_seed) and [`Totp`](crate::otp::Totp) is tested below.

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

const IV: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

type Block = [u8; 64];

fn compress(state: &mut [u32; 8], block: &Block) {
    sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
}

/// A padded final block for a message of `len` bytes that follows one 64-byte key block.
fn padded_block(message: &[u8]) -> Block {
    let mut b = [0u8; 64];
    b[..message.len()].copy_from_slice(message);
    b[message.len()] = 0x80;
    b[56..].copy_from_slice(&(((64 + message.len()) * 8) as u64).to_be_bytes());
    b
}

/// Writes a digest's words into the first 32 bytes of a block.
fn put_words(block: &mut Block, words: &[u32; 8]) {
    for (chunk, w) in block[..32].chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
}

/// HMAC-SHA256 with the key's inner and outer states computed once.
struct HmacState {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacState {
    /// Key setup for a key of at most 64 bytes (longer keys are hashed first, per RFC 2104).
    fn new(key: &[u8]) -> Self {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut pad = [0u8; 64];
        let mut state = |x: u8| {
            for (p, b) in pad.iter_mut().zip(&k) {
                *p = b ^ x;
            }
            let mut s = IV;
            compress(&mut s, &pad);
            s
        };
        let (inner, outer) = (state(0x36), state(0x5c));
        k.zeroize();
        pad.zeroize();
        HmacState { inner, outer }
    }

    /// HMAC of a one-block message already padded by [`padded_block`]; `scratch` is a padded
    /// 32-byte block whose first 32 bytes are overwritten.
    fn mac(&self, message_block: &Block, scratch: &mut Block) -> [u32; 8] {
        let mut s = self.inner;
        compress(&mut s, message_block);
        put_words(scratch, &s);
        let mut o = self.outer;
        compress(&mut o, scratch);
        o
    }
}

/// Per-thread precomputed blocks for one search.
pub(crate) struct Searcher {
    /// activation(7) ‖ device random(2) ‖ policy — bytes 7..9 change per candidate.
    password: Vec<u8>,
    /// salt ‖ INT(1), padded: PBKDF2's first block.
    u1_block: Block,
    /// A padded block for a 32-byte message (PBKDF2 U2.., HMAC outer hashes).
    block32: Block,
    /// Each target's counter blocks and expected value.
    targets: Vec<(Vec<Block>, u32)>,
    modulus: u32,
}

impl Searcher {
    /// Prepares a search over `password_template` (random bytes at 7..9).
    pub(crate) fn new(password_template: &[u8], salt: &[u8], targets: &[(std::ops::RangeInclusive<u64>, u32)], digits: u8) -> Self {
        let mut u1 = salt.to_vec();
        u1.extend_from_slice(&1u32.to_be_bytes());
        Searcher {
            password: password_template.to_vec(),
            u1_block: padded_block(&u1),
            block32: padded_block(&[0u8; 32]),
            targets: targets.iter().map(|(steps, value)| (steps.clone().map(|s| padded_block(&s.to_be_bytes())).collect(), *value)).collect(),
            modulus: 10u32.pow(digits as u32),
        }
    }

    /// PBKDF2-HMAC-SHA256(password with `random`, salt, `iterations`), first 16 bytes.
    pub(crate) fn seed(&mut self, random: u16, iterations: u32) -> [u8; 16] {
        self.password[7..9].copy_from_slice(&random.to_be_bytes());
        let key = HmacState::new(&self.password);
        let mut scratch = self.block32;
        let mut u = key.mac(&self.u1_block, &mut scratch);
        let mut t = u;
        let mut block = self.block32;
        for _ in 1..iterations {
            put_words(&mut block, &u);
            u = key.mac(&block, &mut scratch);
            for (a, b) in t.iter_mut().zip(&u) {
                *a ^= b;
            }
        }
        let mut seed = [0u8; 16];
        for (chunk, w) in seed.chunks_exact_mut(4).zip(&t) {
            chunk.copy_from_slice(&w.to_be_bytes());
        }
        t.zeroize();
        u.zeroize();
        block.zeroize();
        scratch.zeroize();
        seed
    }

    /// True when `seed` reproduces every target within its steps.
    pub(crate) fn matches(&self, seed: &[u8; 16]) -> bool {
        let key = HmacState::new(seed);
        let mut scratch = self.block32;
        self.targets.iter().all(|(blocks, want)| {
            blocks.iter().any(|b| {
                let mac = key.mac(b, &mut scratch);
                truncate_words(&mac) % self.modulus == *want
            })
        })
    }
}

impl Drop for Searcher {
    fn drop(&mut self) {
        self.password.zeroize();
    }
}

/// RFC 4226 dynamic truncation on a digest held as words.
fn truncate_words(mac: &[u32; 8]) -> u32 {
    let offset = (mac[7] & 0x0f) as usize;
    let word = offset / 4;
    let shift = (offset % 4) * 8;
    let hi = mac[word] as u64;
    let lo = if word < 7 { mac[word + 1] as u64 } else { 0 };
    (((hi << 32 | lo) << shift >> 32) as u32) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entrust::{derive_seed, ActivationCode, SerialNumber};
    use crate::otp::{Algorithm, Totp};
    use crate::Secret;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn equals_the_general_derivation(random: u16, policy in proptest::option::of("[ -~]{0,120}"), t in 0u64..4_000_000_000, eight: bool) {
            let serial = SerialNumber::parse("48244-13456").unwrap();
            let ac = ActivationCode::parse("1745-7712-6942-8698").unwrap();
            let template = crate::entrust::seed::kdf_password(&ac, 0, policy.as_deref());
            let digits = if eight { 8 } else { 6 };
            let expected = derive_seed(&serial, &ac, random, policy.as_deref());
            let totp = Totp::new(expected.clone(), Algorithm::Sha256, digits, 30).unwrap();
            let value: u32 = totp.code_at(t).code.parse().unwrap();
            let step = t / 30;
            let mut s = Searcher::new(&template, &serial.ascii(), &[(step..=step, value)], digits);
            let seed = s.seed(random, 8);
            prop_assert_eq!(Secret::from_slice(&seed), expected);
            prop_assert!(s.matches(&seed));
            let mut other = Searcher::new(&template, &serial.ascii(), &[(step + 1..=step + 1, value)], digits);
            // Another step matches only by a 1-in-10^digits chance; compare with the general code.
            let other_value: u32 = totp.code_at(t + 30).code.parse().unwrap();
            let other_seed = other.seed(random, 8);
            prop_assert_eq!(other.matches(&other_seed), other_value == value);
        }
    }

    #[test]
    fn truncation_at_every_offset() {
        for offset in 0..16u32 {
            let mut bytes = [0u8; 32];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(37).wrapping_add(11);
            }
            bytes[31] = (bytes[31] & 0xf0) | offset as u8;
            let words: [u32; 8] = std::array::from_fn(|i| u32::from_be_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap()));
            let o = offset as usize;
            let expected = u32::from_be_bytes([bytes[o] & 0x7f, bytes[o + 1], bytes[o + 2], bytes[o + 3]]);
            assert_eq!(truncate_words(&words), expected, "offset {offset}");
        }
    }
}
