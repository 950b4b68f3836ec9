//! Compact JWS (RFC 7515) as the push services take them: APNs' provider tokens (ES256) and
//! Google's OAuth assertions (RS256). Only signing; nothing here reads tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256};
use serde_json::Value;

/// A signing key read from the operator's credentials (never logged: Debug says which kind only).
pub(crate) enum SigningKey {
    /// ES256: a P-256 key (APNs' `.p8`).
    Es256(EcdsaKeyPair),
    /// RS256: an RSA key (a Google service account's `private_key`).
    Rs256(RsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SigningKey::Es256(_) => "SigningKey::Es256([redacted])",
            SigningKey::Rs256(_) => "SigningKey::Rs256([redacted])",
        })
    }
}

/// The DER inside a PEM block with `label` (`PRIVATE KEY` for PKCS#8).
pub(crate) fn pem_der(text: &str, label: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text.split_once(&begin)?.1.split_once(&end)?.0;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok().map(zeroize::Zeroizing::new)
}

impl SigningKey {
    /// An ES256 key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as Apple hands out `.p8` files.
    pub(crate) fn es256_from_pem(pem: &str) -> Option<SigningKey> {
        let der = pem_der(pem, "PRIVATE KEY")?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new()).ok().map(SigningKey::Es256)
    }

    /// An RS256 key from a PKCS#8 PEM, as in a service account's `private_key`.
    pub(crate) fn rs256_from_pem(pem: &str) -> Option<SigningKey> {
        let der = pem_der(pem, "PRIVATE KEY")?;
        RsaKeyPair::from_pkcs8(&der).ok().map(SigningKey::Rs256)
    }

    fn alg(&self) -> &'static str {
        match self {
            SigningKey::Es256(_) => "ES256",
            SigningKey::Rs256(_) => "RS256",
        }
    }

    /// `header.claims.signature`: the header gets `alg` added; ES256 signatures are the fixed
    /// `r ‖ s` form JWS requires, not DER.
    pub(crate) fn sign(&self, mut header: Value, claims: &Value) -> Result<String, String> {
        header["alg"] = Value::from(self.alg());
        let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let rng = SystemRandom::new();
        let signature = match self {
            SigningKey::Es256(key) => key.sign(&rng, input.as_bytes()).map_err(|_| "signing failed".to_string())?.as_ref().to_vec(),
            SigningKey::Rs256(key) => {
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut out).map_err(|_| "signing failed".to_string())?;
                out
            }
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
