//! The two RSA keys of a push token: the phone's (made here, 4096 bits like the official app;
//! private, kept in the vault as the identity's secret) and the server's (public, received at
//! enrollment). Signatures are PKCS#1 v1.5 with SHA-256, written as upper-case base32 with `=`
//! padding — the only form the servers accept.

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine;
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};

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
        use rsa::pkcs8::EncodePrivateKey;
        let mut rng = rand_core::OsRng;
        let key = rsa::RsaPrivateKey::new(&mut rng, bits).map_err(|e| {
            let _ = e;
            Error::Crypto("RSA key generation failed")
        })?;
        let der = key.to_pkcs8_der().map_err(|e| {
            let _ = e;
            Error::Crypto("RSA key encoding failed")
        })?;
        Self::from_pkcs8(Secret::from_slice(der.as_bytes()))
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
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
        let key = rsa::RsaPrivateKey::from_pkcs8_der(self.pkcs8.expose()).map_err(|e| push_error(format!("the phone key cannot be read ({e})")))?;
        let spki = key.to_public_key().to_public_key_der().map_err(|e| push_error(format!("the phone key cannot be encoded ({e})")))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(spki.as_bytes()))
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
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_pkcs1_der(&der).map_err(|_| push_error("the server's public key is not a PKCS#1 RSA public key"))?;
        let bits = key.n().bits();
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
