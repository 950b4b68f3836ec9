//! Two-step enrollment of privacyIDEA's HOTP and TOTP tokens: the server's QR code carries only
//! its part of the key (`secret`) and `2step_salt` (bytes the phone adds), `2step_output` (key
//! bytes) and `2step_difficulty` (rounds). The phone makes its part at random, shows it to the
//! user in base32check form to type into privacyIDEA, and both sides derive the key:
//! PBKDF2-HMAC-SHA1 with the *lower-case hex text* of the server part as the password and the
//! phone's part as the salt. Neither part alone gives the key.

use crate::error::{Error, Field, Result};
use crate::secret::Secret;
use std::num::NonZeroU32;

/// The most rounds honoured (privacyIDEA's default is 10 000): a link asking for more is refused
/// rather than left to spin.
pub const MAX_DIFFICULTY: u32 = 1_000_000;
/// The most phone bytes and key bytes honoured.
pub const MAX_BYTES: usize = 64;

/// The parameters of a two-step link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoStep {
    /// Bytes of the phone's part.
    pub client_bytes: usize,
    /// Bytes of the derived key.
    pub output_bytes: usize,
    /// PBKDF2 rounds.
    pub difficulty: u32,
}

impl TwoStep {
    /// Reads `2step_salt`, `2step_output` and `2step_difficulty` from an otpauth URI; None when
    /// the URI has none of them (a one-step token).
    pub fn from_uri(uri: &str) -> Result<Option<Self>> {
        let query = uri.split('#').next().unwrap_or("").split_once('?').map(|(_, q)| q).unwrap_or("");
        let mut found: [Option<&str>; 3] = [None; 3];
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match k.to_ascii_lowercase().as_str() {
                "2step_salt" => 0,
                "2step_output" => 1,
                "2step_difficulty" => 2,
                _ => continue,
            };
            if found[slot].replace(v).is_some() {
                return Err(Error::MalformedUri(format!("parameter {k} appears twice")));
            }
        }
        if found.iter().all(Option::is_none) {
            return Ok(None);
        }
        let number = |i: usize, name: &str, default: u64, max: u64| -> Result<u64> {
            let n = match found[i] {
                None => default,
                Some(v) => v.trim().parse::<u64>().map_err(|_| Error::MalformedUri(format!("{name} {v:?} is not a whole number")))?,
            };
            if n == 0 || n > max {
                return Err(Error::MalformedUri(format!("{name}={n} is outside 1 to {max}")));
            }
            Ok(n)
        };
        // privacyIDEA's defaults when a parameter is left out: 8 phone bytes, 20 key bytes, 10 000 rounds.
        Ok(Some(TwoStep {
            client_bytes: number(0, "2step_salt", 8, MAX_BYTES as u64)? as usize,
            output_bytes: number(1, "2step_output", 20, MAX_BYTES as u64)? as usize,
            difficulty: number(2, "2step_difficulty", 10_000, u64::from(MAX_DIFFICULTY))? as u32,
        }))
    }

    /// The phone's part: random bytes.
    pub fn client_part(&self, rng: &dyn ring::rand::SecureRandom) -> Result<Secret> {
        let mut bytes = vec![0u8; self.client_bytes];
        crate::secret::fill_random(rng, &mut bytes)?;
        Ok(Secret::new(bytes))
    }

    /// The token's key from the server's part (the URI's `secret`) and the phone's.
    pub fn derive(&self, server_part: &Secret, client_part: &Secret) -> Result<Secret> {
        let password = zeroize::Zeroizing::new(server_part.to_hex());
        let mut key = vec![0u8; self.output_bytes];
        let rounds = NonZeroU32::new(self.difficulty).ok_or_else(|| Error::invalid(Field::Secret, "two-step difficulty is zero"))?;
        ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA1, rounds, client_part.expose(), password.as_bytes(), &mut key);
        Ok(Secret::new(key))
    }
}

/// The phone's part as the user types it into privacyIDEA: base32 (no padding) of the first four
/// bytes of its SHA-1 followed by the part itself, so a typing mistake is caught there.
pub fn base32check(client_part: &Secret) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, client_part.expose());
    let mut bytes = zeroize::Zeroizing::new(digest.as_ref()[..4].to_vec());
    bytes.extend_from_slice(client_part.expose());
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vector_checked_against_the_servers_own_functions() {
        let server = Secret::new(crate::secret::hex_decode("9ead9021691f0d350a311976068f3eb9632363aa").unwrap());
        let client = Secret::from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let t = TwoStep { client_bytes: 8, output_bytes: 20, difficulty: 10_000 };
        assert_eq!(t.derive(&server, &client).unwrap().to_hex(), "5e4e1c43e960e3bf329c51b38d6d9bda1214a80c");
        assert_eq!(base32check(&client), "3VLYHPABAIBQIBIGA4EA");
    }

    #[test]
    fn parameters_are_read_and_bounded() {
        let u = "otpauth://hotp/OATH1?secret=AAAA&counter=1&2step_salt=8&2step_output=20&2step_difficulty=10000";
        assert_eq!(TwoStep::from_uri(u).unwrap(), Some(TwoStep { client_bytes: 8, output_bytes: 20, difficulty: 10_000 }));
        assert_eq!(TwoStep::from_uri("otpauth://hotp/OATH1?secret=AAAA&counter=1").unwrap(), None);
        assert!(TwoStep::from_uri(&u.replace("10000", "2000000000")).unwrap_err().to_string().contains("outside 1 to 1000000"));
        assert!(TwoStep::from_uri(&u.replace("2step_salt=8", "2step_salt=0")).is_err());
        assert!(TwoStep::from_uri(&u.replace("2step_output=20", "2step_output=x")).is_err());
        assert!(TwoStep::from_uri(&format!("{u}&2step_salt=9")).unwrap_err().to_string().contains("twice"));
        let rng = ring::rand::SystemRandom::new();
        assert_eq!(TwoStep::from_uri(u).unwrap().unwrap().client_part(&rng).unwrap().len(), 8);
    }
}
