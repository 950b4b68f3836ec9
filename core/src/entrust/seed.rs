//! Seed derivation (spec §2): PBKDF2-HMAC-SHA256 over activation code, device random and policy.

use super::codes::{ActivationCode, RegistrationCode, SerialNumber};
use crate::secret::Secret;
use std::num::NonZeroU32;
use zeroize::Zeroizing;

/// PBKDF2 iterations of the seed derivation.
pub const SEED_ITERATIONS: u32 = 8;
/// Seed length in bytes.
pub const SEED_LEN: usize = 16;

/// The PBKDF2 password: activation bytes ‖ device random ‖ policy (verbatim, when present).
pub(crate) fn kdf_password(activation: &ActivationCode, device_random: u16, policy: Option<&str>) -> Zeroizing<Vec<u8>> {
    let mut pw = Zeroizing::new(Vec::with_capacity(9 + policy.map_or(0, str::len)));
    pw.extend_from_slice(&activation.key_bytes());
    pw.extend_from_slice(&device_random.to_be_bytes());
    if let Some(p) = policy {
        pw.extend_from_slice(p.as_bytes());
    }
    pw
}

/// Derives the OTP seed from the numbers of an activation.
///
/// `policy` is the payload's policy string exactly as received (QR / online activation) or `None`
/// for manual activation.
pub fn derive_seed(serial: &SerialNumber, activation: &ActivationCode, device_random: u16, policy: Option<&str>) -> Secret {
    let pw = kdf_password(activation, device_random, policy);
    let mut out = [0u8; SEED_LEN];
    super::pbkdf2_sha256(&pw, &serial.ascii(), NonZeroU32::new(SEED_ITERATIONS).expect("non-zero"), &mut out);
    let seed = Secret::from_slice(&out);
    zeroize::Zeroize::zeroize(&mut out);
    seed
}

/// Derives the seed from a registration code (its low 16 bits are the device random).
pub fn seed_from_registration(serial: &SerialNumber, activation: &ActivationCode, registration: &RegistrationCode, policy: Option<&str>) -> Secret {
    derive_seed(serial, activation, registration.device_random(), policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::hex_encode;

    #[test]
    fn spec_seeds_with_and_without_policy() {
        let v: serde_json::Value = serde_json::from_str(include_str!("../../../fixtures/vectors/entrust.json")).unwrap();
        let a = &v["activation"];
        let serial = SerialNumber::parse(a["serial"].as_str().unwrap()).unwrap();
        let ac = ActivationCode::parse(a["activation_code"].as_str().unwrap()).unwrap();
        let rc = RegistrationCode::parse(a["registration_code"].as_str().unwrap()).unwrap();
        let pw = kdf_password(&ac, rc.device_random(), None);
        assert_eq!(hex_encode(&pw), a["seed_kdf_password_no_policy_hex"].as_str().unwrap());
        let plain = seed_from_registration(&serial, &ac, &rc, None);
        assert_eq!(plain.to_hex(), a["seed_without_policy_hex"].as_str().unwrap());
        assert_eq!(plain.to_base32(), a["seed_without_policy_base32"].as_str().unwrap());
        let policy = v["secactivate"]["policy"].as_str().unwrap();
        let with = seed_from_registration(&serial, &ac, &rc, Some(policy));
        assert_eq!(with.to_hex(), a["seed_with_policy_hex"].as_str().unwrap());
    }

    #[test]
    fn policy_bytes_matter_exactly() {
        let serial = SerialNumber::parse("48244-13456").unwrap();
        let ac = ActivationCode::parse("1745-7712-6942-8698").unwrap();
        let a = derive_seed(&serial, &ac, 0x5377, Some(r#"{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}"#));
        let b = derive_seed(&serial, &ac, 0x5377, Some(r#"{"allowUnsecured": "false","trustedExecution":"NOT_ALLOWED"}"#));
        assert_ne!(a, b, "re-serialised JSON would give another seed");
    }
}
