//! Random values from the system generator. A generator failure is a server fault
//! ([`ProviderError::Fault`]), never reported as bad input.

use crate::{ProviderError, Result};
use ring::rand::{SecureRandom, SystemRandom};

/// Fills `buf` with random bytes.
pub(crate) fn fill(rng: &SystemRandom, buf: &mut [u8]) -> Result<()> {
    rng.fill(buf).map_err(|_| ProviderError::random())
}

/// A number drawn uniformly from `range` (rejection sampling: no value is likelier than another).
pub(crate) fn uniform(rng: &SystemRandom, range: std::ops::RangeInclusive<u8>) -> Result<u8> {
    let (lo, span) = (*range.start(), u16::from(*range.end() - *range.start()) + 1);
    let limit = 256 - 256 % span; // the largest multiple of span that fits a byte
    let mut buf = [0u8; 1];
    loop {
        fill(rng, &mut buf)?;
        if u16::from(buf[0]) < limit {
            return Ok(lo + (u16::from(buf[0]) % span) as u8);
        }
    }
}

/// `n` random decimal digits (0–9 each).
pub(crate) fn digits(rng: &SystemRandom, n: usize) -> Result<Vec<u8>> {
    (0..n).map(|_| uniform(rng, 0..=9)).collect()
}

/// `bytes` random bytes as lowercase hex (transaction ids, link tokens: 16 bytes, 128 bits).
pub(crate) fn hex(rng: &SystemRandom, bytes: usize) -> Result<String> {
    let mut b = vec![0u8; bytes];
    fill(rng, &mut b)?;
    Ok(softtoken_core::secret::hex_encode(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_numbers_are_uniform_over_10_to_99() {
        // The old draw ((d % 9 + 1) * 10 + d2) made 10–19 twice as likely as any other decade.
        let rng = SystemRandom::new();
        let mut counts = [0u32; 9];
        let n = 90_000;
        for _ in 0..n {
            let x = uniform(&rng, 10..=99).unwrap();
            assert!((10..=99).contains(&x));
            counts[(x / 10 - 1) as usize] += 1;
        }
        for (decade, c) in counts.iter().enumerate() {
            // Each decade expects 10 000 (σ ≈ 94); 10 400 is > 4σ, while 2× would be 20 000.
            assert!((9_600..=10_400).contains(c), "decade {}: {c} of {n}", decade + 1);
        }
    }
}
