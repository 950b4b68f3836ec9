//! The two RSA keys of a push token: the phone's (made here, 4096 bits like the official app;
//! private, kept in the vault as the identity's secret) and the server's (public, received at
//! enrollment). Signatures are PKCS#1 v1.5 with SHA-256, written as upper-case base32 with `=`
//! padding — the only form the servers accept.

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

/// The longest phone key kept (a 4096-bit PKCS#8 key is about 2 350 bytes).
pub const MAX_PHONE_KEY_DER: usize = 8192;
/// The size of the phone key softtoken makes.
pub const PHONE_KEY_BITS: usize = 4096;
/// The server keys accepted: 2048 to 4096 bits (privacyIDEA makes 4096).
const SERVER_KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;
/// The longest server key text read (a 4096-bit key is about 740 characters).
const MAX_SERVER_KEY_TEXT: usize = 4096;
/// The longest signature text read (4096 bits: 824 characters).
const MAX_SIGNATURE_TEXT: usize = 1024;

fn push_error(what: impl Into<String>) -> Error {
    Error::PushProtocol(what.into())
}

/// The phone's private key, PKCS#8 DER, inside a [`Secret`] (zeroized, redacted).
pub struct PhoneKey {
    pkcs8: Secret,
    pair: RsaKeyPair,
}

impl std::fmt::Debug for PhoneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneKey([redacted])")
    }
}

impl PhoneKey {
    /// Makes a new key of `bits` bits (4096 in the product; tests may use 2048).
    pub fn generate(bits: usize) -> Result<Self> {
        use rsa::traits::{PrivateKeyParts, PublicKeyParts};
        let mut rng = rand_core::OsRng;
        let key = rsa::RsaPrivateKey::new(&mut rng, bits).map_err(|_| Error::Crypto("RSA key generation failed"))?;
        // PKCS#8 written here (the rsa crate's encoders would add their DER stack to the phone
        // library); ring reads it back and checks every part.
        let (Some(dp), Some(dq), Some(qinv), [p, q]) = (key.dp(), key.dq(), key.crt_coefficient(), key.primes()) else {
            return Err(Error::Crypto("RSA key generation gave no CRT values"));
        };
        let parts: [Zeroizing<Vec<u8>>; 8] = [key.n(), key.e(), key.d(), p, q, dp, dq, &qinv].map(|v| Zeroizing::new(v.to_bytes_be()));
        Self::from_pkcs8(der::pkcs8_rsa(&parts))
    }

    /// A key kept before (the identity's secret).
    pub fn from_pkcs8(pkcs8: Secret) -> Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(pkcs8.expose()).map_err(|e| push_error(format!("the phone key cannot be read ({e})")))?;
        Ok(PhoneKey { pkcs8, pair })
    }

    /// The private key as the vault keeps it.
    pub fn pkcs8(&self) -> &Secret {
        &self.pkcs8
    }

    /// The public key as enrollment sends it: base64 (standard, padded) of the DER
    /// SubjectPublicKeyInfo, no PEM armour.
    pub fn public_key_spki_base64(&self) -> Result<String> {
        Ok(base64::engine::general_purpose::STANDARD.encode(der::spki_rsa(self.pair.public().as_ref())))
    }

    /// Signs `message`: PKCS#1 v1.5, SHA-256, base32 with padding.
    pub fn sign(&self, message: &str) -> Result<String> {
        let rng = ring::rand::SystemRandom::new();
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message.as_bytes(), &mut sig).map_err(|_| Error::Crypto("RSA signing failed"))?;
        Ok(base32::encode(base32::Alphabet::Rfc4648 { padding: true }, &sig))
    }
}

/// The server's public key (PKCS#1 `RSAPublicKey` DER).
#[derive(Clone, PartialEq, Eq)]
pub struct ServerKey {
    der: Vec<u8>,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerKey({} bytes)", self.der.len())
    }
}

impl ServerKey {
    /// Reads the key as enrollment returns it: base64 of PKCS#1 DER with a newline every 64
    /// characters (whitespace anywhere is ignored; PEM armour is tolerated).
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_SERVER_KEY_TEXT {
            return Err(push_error(format!("the server's public key is longer than {MAX_SERVER_KEY_TEXT} characters")));
        }
        let body: String = text.lines().filter(|l| !l.trim_start().starts_with("-----")).flat_map(|l| l.chars()).filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| push_error("the server's public key is not base64 (PKCS#1 RSAPublicKey expected)"))?;
        Self::from_der(der)
    }

    /// Reads PKCS#1 `RSAPublicKey` DER and checks its size.
    pub fn from_der(der: Vec<u8>) -> Result<Self> {
        let bits = der::pkcs1_public_bits(&der).ok_or_else(|| push_error("the server's public key is not a PKCS#1 RSA public key"))?;
        if !SERVER_KEY_BITS.contains(&bits) {
            return Err(push_error(format!("the server's public key has {bits} bits (2048 to 4096 accepted)")));
        }
        Ok(ServerKey { der })
    }

    /// The key as the vault keeps it (base64 of the DER, one line).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// True when `signature` (base32, padded or not, any case) is this key's signature of `message`.
    pub fn verifies(&self, message: &str, signature: &str) -> bool {
        if signature.len() > MAX_SIGNATURE_TEXT {
            return false;
        }
        let clean = signature.trim().trim_end_matches('=').to_ascii_uppercase();
        let Some(sig) = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &clean) else { return false };
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.der).verify(message.as_bytes(), &sig).is_ok()
    }
}

/// The few DER structures of RSA keys, written and read by hand.
mod der {
    use super::Zeroizing;
    use crate::secret::Secret;

    /// `rsaEncryption` with its NULL parameters.
    const RSA_ALGORITHM: [u8; 15] = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

    fn push_len(out: &mut Vec<u8>, len: usize) {
        match len {
            0..=0x7f => out.push(len as u8),
            0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
            _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
        }
    }

    fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
        out.push(tag);
        push_len(out, content.len());
        out.extend_from_slice(content);
    }

    /// An unsigned big-endian number as a DER INTEGER's content.
    fn integer(out: &mut Vec<u8>, unsigned: &[u8]) {
        let trimmed = match unsigned.iter().position(|b| *b != 0) {
            Some(i) => &unsigned[i..],
            None => &[0u8][..],
        };
        let mut content = Zeroizing::new(Vec::with_capacity(trimmed.len() + 1));
        if trimmed[0] & 0x80 != 0 {
            content.push(0);
        }
        content.extend_from_slice(trimmed);
        tlv(out, 0x02, &content);
    }

    /// PKCS#8 of an RSA key from n, e, d, p, q, dp, dq, qinv.
    pub(super) fn pkcs8_rsa(parts: &[Zeroizing<Vec<u8>>; 8]) -> Secret {
        let mut key = Zeroizing::new(vec![0x02, 0x01, 0x00]);
        for part in parts {
            integer(&mut key, part);
        }
        let mut rsa_private_key = Zeroizing::new(Vec::new());
        tlv(&mut rsa_private_key, 0x30, &key);
        let mut body = Zeroizing::new(vec![0x02, 0x01, 0x00]);
        body.extend_from_slice(&RSA_ALGORITHM);
        tlv(&mut body, 0x04, &rsa_private_key);
        let mut out = Vec::new();
        tlv(&mut out, 0x30, &body);
        Secret::new(out)
    }

    /// SubjectPublicKeyInfo around a PKCS#1 `RSAPublicKey`.
    pub(super) fn spki_rsa(pkcs1: &[u8]) -> Vec<u8> {
        let mut bits = vec![0u8];
        bits.extend_from_slice(pkcs1);
        let mut body = RSA_ALGORITHM.to_vec();
        tlv(&mut body, 0x03, &bits);
        let mut out = Vec::new();
        tlv(&mut out, 0x30, &body);
        out
    }

    /// One TLV: its tag, content and what follows (definite lengths up to 4 bytes).
    fn read(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = data.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            (rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize), &rest[n..])
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }

    /// The modulus size of a PKCS#1 `RSAPublicKey` (SEQUENCE { INTEGER n, INTEGER e }, nothing
    /// after), with a positive modulus and an odd exponent of at least 3; None otherwise.
    pub(super) fn pkcs1_public_bits(der: &[u8]) -> Option<usize> {
        let (0x30, body, []) = read(der)? else { return None };
        let (0x02, n, rest) = read(body)? else { return None };
        let (0x02, e, []) = read(rest)? else { return None };
        let n = match n {
            [0, rest @ ..] if rest.first().is_some_and(|b| b & 0x80 != 0) => rest,
            [first, ..] if first & 0x80 == 0 && *first != 0 => n,
            _ => return None,
        };
        let odd = e.last().is_some_and(|b| b & 1 == 1);
        let big_enough = e.iter().skip_while(|b| **b == 0).count() > 1 || e.last().is_some_and(|b| *b >= 3);
        if e.first().is_some_and(|b| b & 0x80 != 0) || !odd || !big_enough {
            return None;
        }
        Some(n.len() * 8 - n[0].leading_zeros() as usize)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 2048-bit key made once per test run (4096 takes seconds).
    pub(crate) fn test_key() -> &'static PhoneKey {
        static KEY: std::sync::OnceLock<PhoneKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| PhoneKey::generate(2048).unwrap())
    }

    /// The public half of `key` as a server would send it (PKCS#1, base64 with newlines).
    pub(crate) fn as_server_key_text(key: &PhoneKey) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(key.pair.public().as_ref());
        b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn a_signature_verifies_with_the_public_half_and_only_for_its_message() {
        let key = test_key();
        let server = ServerKey::parse(&as_server_key_text(key)).unwrap();
        let sig = key.sign("PIPU0001|2026-12-06T07:00:00Z").unwrap();
        assert_eq!(sig.len(), 416, "2048 bits: 256 bytes, padded base32");
        assert!(sig.ends_with("======"), "padded: the server refuses unpadded signatures");
        assert!(server.verifies("PIPU0001|2026-12-06T07:00:00Z", &sig));
        assert!(!server.verifies("PIPU0001|2026-12-06T07:00:01Z", &sig));
        assert!(!server.verifies("PIPU0001|2026-12-06T07:00:00Z", &sig.replacen('A', "B", 1)));
        assert!(!server.verifies("PIPU0001|2026-12-06T07:00:00Z", "not base32!"));
    }

    #[test]
    fn the_public_key_is_sent_as_spki_and_the_private_one_never_shows() {
        let key = test_key();
        let spki = base64::engine::general_purpose::STANDARD.decode(key.public_key_spki_base64().unwrap()).unwrap();
        // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { PKCS#1 } }
        let oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        assert!(spki.windows(oid.len()).any(|w| w == oid));
        assert!(spki.ends_with(key.pair.public().as_ref()));
        // The hand-written DER reads back with an independent decoder (the rsa crate's), both halves.
        use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
        let public = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs8_der(key.pkcs8().expose()).unwrap();
        assert_eq!(private.to_public_key(), public);
        assert_eq!(der::pkcs1_public_bits(key.pair.public().as_ref()), Some(2048));
        assert_eq!(format!("{key:?}"), "PhoneKey([redacted])");
        let again = PhoneKey::from_pkcs8(key.pkcs8().clone()).unwrap();
        assert!(ServerKey::parse(&as_server_key_text(key)).unwrap().verifies("x", &again.sign("x").unwrap()));
    }

    #[test]
    fn server_keys_that_do_not_parse_are_refused_by_name() {
        let e = |t: &str| ServerKey::parse(t).unwrap_err().to_string();
        assert!(e("not base64 ***").contains("not base64"), "{}", e("not base64 ***"));
        assert!(e("AAAA").contains("not a PKCS#1 RSA public key"));
        // SPKI is not what the server sends: it is refused rather than guessed.
        let spki = test_key().public_key_spki_base64().unwrap();
        assert!(e(&spki).contains("not a PKCS#1"));
        assert!(e(&"A".repeat(5000)).contains("longer than"));
        // PEM armour around PKCS#1 is read.
        let pem = format!("-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n", as_server_key_text(test_key()));
        assert!(ServerKey::parse(&pem).is_ok());
    }
}
