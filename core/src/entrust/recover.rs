//! Moving an existing token (spec §5): find the device random from codes the official app showed.
//!
//! The search tries all 65 536 device randoms — with the policy string and, when one is given,
//! without it too — derives each candidate seed and keeps those whose TOTP matches every observed
//! code within ±1 time step. Each candidate costs only hashing (see [`super::search`]): no
//! allocation, precomputed blocks; the range is split over all cores.

use super::codes::{ActivationCode, SerialNumber};
use super::search::Searcher;
use super::seed::{derive_seed, kdf_password, SEED_ITERATIONS};
use crate::error::{Error, Field, Result};
use crate::otp;
use crate::secret::Secret;
use std::ops::{Range, RangeInclusive};
use zeroize::Zeroize;

/// Entrust soft tokens change code every 30 s.
pub const PERIOD: u64 = 30;
/// Time steps either side of an observed code's time that still count as a match.
pub const WINDOW_STEPS: u64 = 1;

/// A code the official app showed, and when (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedOtp {
    /// The code's digits as shown (6 or 8).
    pub code: String,
    /// When it was shown.
    pub unix_time: u64,
}

impl ObservedOtp {
    /// Parses `CODE@UNIXTIME`.
    pub fn parse(text: &str) -> Result<Self> {
        let (code, time) = text.split_once('@').ok_or_else(|| Error::invalid(Field::Otp, format!("{text:?} is not CODE@UNIXTIME")))?;
        let unix_time = time.trim().parse().map_err(|_| Error::invalid(Field::Otp, format!("time {time:?} is not a Unix time in seconds")))?;
        Ok(ObservedOtp { code: code.trim().to_string(), unix_time })
    }
}

/// The outcome of a successful search.
#[derive(Debug, Clone)]
pub struct Recovered {
    /// The device random (low 16 bits of the registration code).
    pub device_random: u16,
    /// Whether the policy string entered the seed.
    pub policy_used: bool,
    /// The token's seed.
    pub seed: Secret,
    /// Digits of the observed codes.
    pub digits: u8,
}

/// Each observed code as (time steps that count, expected value), and the digit count.
fn targets(otps: &[ObservedOtp]) -> Result<(Vec<(RangeInclusive<u64>, u32)>, u8)> {
    let first = otps.first().ok_or_else(|| Error::invalid(Field::Otp, "at least one code is needed"))?;
    let digits = first.code.len();
    let digits = otp::check_digits(u8::try_from(digits).unwrap_or(0))
        .map_err(|_| Error::invalid(Field::Otp, format!("{:?} has {}, expected 6 or 8", first.code, crate::error::plural(digits, "digit", "digits"))))?;
    let targets = otps
        .iter()
        .map(|o| {
            let step = o.unix_time / PERIOD;
            Ok((step.saturating_sub(WINDOW_STEPS)..=step + WINDOW_STEPS, otp::parse_code(&o.code, digits)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((targets, digits))
}

/// Searches `randoms` for one policy variant; returns every device random that matches.
fn search_range(salt: &[u8; 10], password: &[u8], randoms: Range<u32>, targets: &[(RangeInclusive<u64>, u32)], digits: u8) -> Vec<u16> {
    let mut searcher = Searcher::new(password, salt, targets, digits);
    let mut found = Vec::new();
    for r in randoms {
        let r = r as u16;
        let mut seed = searcher.seed(r, SEED_ITERATIONS);
        if searcher.matches(&seed) {
            found.push(r);
        }
        seed.zeroize();
    }
    found
}

/// Finds the device random that reproduces `otps`; reports ambiguity instead of guessing.
pub fn recover(serial: &SerialNumber, activation: &ActivationCode, policy: Option<&str>, otps: &[ObservedOtp]) -> Result<Recovered> {
    let (targets, digits) = targets(otps)?;
    let salt = serial.ascii();
    let variants: Vec<Option<&str>> = match policy {
        Some(p) => vec![Some(p), None],
        None => vec![None],
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 64) as u32;
    let chunk = 65_536u32.div_ceil(threads);
    let mut candidates: Vec<(u16, Option<&str>)> = Vec::new();
    for variant in variants {
        let password = kdf_password(activation, 0, variant);
        let found: Vec<u16> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let range = i * chunk..((i + 1) * chunk).min(65_536);
                    let (targets, password) = (&targets, &password);
                    s.spawn(move || search_range(&salt, password, range, targets, digits))
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        });
        candidates.extend(found.into_iter().map(|r| (r, variant)));
    }
    match candidates.as_slice() {
        [] => Err(Error::NoMatch),
        [(r, variant)] => Ok(Recovered { device_random: *r, policy_used: variant.is_some(), seed: derive_seed(serial, activation, *r, *variant), digits }),
        many => Err(Error::Ambiguous { candidates: many.len() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::{Algorithm, Totp};

    fn vector() -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(include_str!("../../../fixtures/vectors/entrust.json")).unwrap();
        v["recover"].clone()
    }

    fn numbers(v: &serde_json::Value) -> (SerialNumber, ActivationCode) {
        (SerialNumber::parse(v["serial"].as_str().unwrap()).unwrap(), ActivationCode::parse(v["activation_code"].as_str().unwrap()).unwrap())
    }

    fn otps(v: &serde_json::Value) -> Vec<ObservedOtp> {
        v["otps"].as_array().unwrap().iter().map(|o| ObservedOtp { code: o["code"].as_str().unwrap().into(), unix_time: o["time"].as_u64().unwrap() }).collect()
    }

    #[test]
    fn spec_vector_one_code() {
        let v = vector();
        let (serial, ac) = numbers(&v);
        let r = recover(&serial, &ac, None, &otps(&v)[..1]).unwrap();
        assert_eq!(format!("{:04x}", r.device_random), v["device_random_hex"].as_str().unwrap());
        assert!(!r.policy_used);
        assert_eq!(r.digits, 6);
    }

    #[test]
    fn spec_vector_two_codes_and_policy_variant_tried() {
        let v = vector();
        let (serial, ac) = numbers(&v);
        let policy = r#"{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}"#;
        // The codes came from the seed without policy: giving the policy must still find it.
        let r = recover(&serial, &ac, Some(policy), &otps(&v)).unwrap();
        assert_eq!(r.device_random, 0x5377);
        assert!(!r.policy_used);
    }

    #[test]
    fn finds_a_policy_seed_with_eight_digits_and_drift() {
        let serial = SerialNumber::parse("12345-67897").unwrap();
        let ac = ActivationCode::parse("1234-5678-9012-3452").unwrap();
        let policy = r#"{"pinRequired":"true"}"#;
        let seed = derive_seed(&serial, &ac, 0xbeef, Some(policy));
        let totp = Totp::new(seed, Algorithm::Sha256, 8, 30).unwrap();
        // Codes read 25 s late (one step of drift) still count.
        let o1 = ObservedOtp { code: totp.code_at(1_700_000_000).code, unix_time: 1_700_000_025 };
        let o2 = ObservedOtp { code: totp.code_at(1_700_000_300).code, unix_time: 1_700_000_300 };
        let r = recover(&serial, &ac, Some(policy), &[o1, o2]).unwrap();
        assert_eq!(r.device_random, 0xbeef);
        assert!(r.policy_used);
        assert_eq!(r.digits, 8);
    }

    #[test]
    fn no_match_and_bad_input() {
        let v = vector();
        let (serial, ac) = numbers(&v);
        let wrong = [ObservedOtp { code: "043700".into(), unix_time: 1_000_000_000 }];
        // One code at a wrong time: almost surely no match; if by chance several, it is still no guess.
        match recover(&serial, &ac, None, &wrong) {
            Err(Error::NoMatch) | Err(Error::Ambiguous { .. }) => {}
            Ok(r) => assert_ne!(r.device_random, 0x5377),
            Err(e) => panic!("unexpected {e}"),
        }
        assert!(recover(&serial, &ac, None, &[]).is_err());
        let bad = [ObservedOtp { code: "12345".into(), unix_time: 1 }];
        assert!(matches!(recover(&serial, &ac, None, &bad), Err(Error::Invalid { field: Field::Otp, .. })));
    }

    #[test]
    fn ambiguity_is_reported_not_guessed() {
        // With only a 6-digit code, ~0.07 false matches per search are expected (spec §5): across
        // many random times some search must find two or more. Find one such case and check that
        // recover refuses to guess.
        let v = vector();
        let (serial, ac) = numbers(&v);
        let seed = derive_seed(&serial, &ac, 0x5377, None);
        let totp = Totp::new(seed, Algorithm::Sha256, 6, 30).unwrap();
        let mut saw_ambiguous = false;
        for i in 0..60u64 {
            let t = 1_600_000_000 + i * 7919;
            let obs = [ObservedOtp { code: totp.code_at(t).code, unix_time: t }];
            match recover(&serial, &ac, None, &obs) {
                Ok(r) => assert_eq!(r.device_random, 0x5377),
                Err(Error::Ambiguous { candidates }) => {
                    assert!(candidates >= 2);
                    saw_ambiguous = true;
                    // A second code from a later step resolves it.
                    let t2 = t + 600;
                    let two = [obs[0].clone(), ObservedOtp { code: totp.code_at(t2).code, unix_time: t2 }];
                    assert_eq!(recover(&serial, &ac, None, &two).unwrap().device_random, 0x5377);
                    break;
                }
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(saw_ambiguous, "60 searches without one ambiguous result is very unlikely (p < 1e-4)");
    }

    #[test]
    fn observed_otp_parse() {
        assert_eq!(ObservedOtp::parse("043700@1570434609").unwrap(), ObservedOtp { code: "043700".into(), unix_time: 1570434609 });
        assert!(ObservedOtp::parse("043700").is_err());
        assert!(ObservedOtp::parse("043700@soon").is_err());
    }
}
