//! The numbers a user sees: serial number, activation code, registration code (spec §1).
//!
//! Each ends in a Luhn check digit. Parsing accepts dashes and spaces between groups and names the
//! group that is wrong when a group has the wrong length or a stray character, because users type
//! these off letters and screens.

use crate::error::{Error, Field, Result};
use ring::rand::SecureRandom;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Luhn check digit (0..=9) for a sequence of decimal digit values.
pub fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = d as u32;
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// True when the last digit is the Luhn check digit of the others.
pub fn luhn_valid(digits: &[u8]) -> bool {
    match digits.split_last() {
        Some((last, rest)) => luhn_check_digit(rest) == *last,
        None => false,
    }
}

/// Reads digit values from user text shaped as `groups` (e.g. `[4,4,4,4]`), separators optional.
fn read_digits(field: Field, text: &str, groups: &[usize]) -> Result<Vec<u8>> {
    let total: usize = groups.iter().sum();
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::invalid(field, "is empty"));
    }
    let parts: Vec<&str> = text.split(|c: char| c == '-' || c.is_whitespace()).filter(|p| !p.is_empty()).collect();
    let grouped = parts.len() > 1;
    for (gi, part) in parts.iter().enumerate() {
        if let Some((pos, bad)) = part.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            let where_ = if grouped { format!("group {}", gi + 1) } else { format!("position {}", pos + 1) };
            return Err(Error::invalid(field, format!("{where_} contains {bad:?}, only digits are allowed")));
        }
    }
    if grouped && parts.len() == groups.len() {
        for (gi, (part, want)) in parts.iter().zip(groups).enumerate() {
            if part.len() != *want {
                return Err(Error::invalid(field, format!("group {} has {}, expected {want}", gi + 1, crate::error::plural(part.len(), "digit", "digits"))));
            }
        }
    }
    let digits: Vec<u8> = parts.concat().bytes().map(|b| b - b'0').collect();
    if digits.len() != total {
        let shape = groups.iter().map(|g| "N".repeat(*g)).collect::<Vec<_>>().join("-");
        return Err(Error::invalid(field, format!("has {}, expected {total} ({shape})", crate::error::plural(digits.len(), "digit", "digits"))));
    }
    if !luhn_valid(&digits) {
        return Err(Error::invalid(field, "check digit does not match"));
    }
    Ok(digits)
}

/// Formats digit values in dashed groups.
fn format_groups(digits: &[u8], groups: &[usize], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut at = 0;
    for (i, g) in groups.iter().enumerate() {
        if i > 0 {
            f.write_str("-")?;
        }
        for d in &digits[at..at + g] {
            write!(f, "{d}")?;
        }
        at += g;
    }
    Ok(())
}

/// Big-endian integer from decimal digit values.
fn to_number(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |n, &d| n * 10 + d as u64)
}

const SERIAL_GROUPS: [usize; 2] = [5, 5];
const ACTIVATION_GROUPS: [usize; 4] = [4, 4, 4, 4];
const REGISTRATION_GROUPS: [usize; 2] = [5, 5];

/// A token's serial number: 10 digits shown `NNNNN-NNNNN`, the last a Luhn check digit.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SerialNumber([u8; 10]);

impl SerialNumber {
    /// Parses typed text and checks the check digit.
    pub fn parse(text: &str) -> Result<Self> {
        let d = read_digits(Field::SerialNumber, text, &SERIAL_GROUPS)?;
        Ok(SerialNumber(d.try_into().expect("length checked")))
    }

    /// Parses a serial from a QR payload: a failed check digit is returned as `false`, not an error
    /// (spec §1: warn, don't block — the check rule is only confirmed by one vector).
    pub fn parse_lenient(text: &str) -> Result<(Self, bool)> {
        match Self::parse(text) {
            Ok(s) => Ok((s, true)),
            Err(Error::Invalid { reason, .. }) if reason == "check digit does not match" => {
                let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
                Ok((SerialNumber(digits.try_into().expect("length checked before the Luhn test")), false))
            }
            Err(e) => Err(e),
        }
    }

    /// Builds a serial from its first 9 digits, appending the check digit.
    pub fn from_prefix(prefix: [u8; 9]) -> Self {
        let mut d = [0u8; 10];
        d[..9].copy_from_slice(&prefix);
        d[9] = luhn_check_digit(&prefix);
        SerialNumber(d)
    }

    /// The 10 ASCII digits, the PBKDF2 salt of seed derivation.
    pub fn ascii(&self) -> [u8; 10] {
        self.0.map(|d| d + b'0')
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_groups(&self.0, &SERIAL_GROUPS, f)
    }
}

impl fmt::Debug for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SerialNumber({self})")
    }
}

/// An activation code: 16 digits shown `NNNN-NNNN-NNNN-NNNN`; secret until activation is done.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct ActivationCode([u8; 16]);

impl ActivationCode {
    /// Parses typed text and checks the check digit.
    pub fn parse(text: &str) -> Result<Self> {
        let mut d = read_digits(Field::ActivationCode, text, &ACTIVATION_GROUPS)?;
        let mut out = [0u8; 16];
        out.copy_from_slice(&d);
        d.zeroize();
        Ok(ActivationCode(out))
    }

    /// Builds a code from its first 15 digits, appending the check digit.
    pub fn from_prefix(prefix: [u8; 15]) -> Self {
        let mut d = [0u8; 16];
        d[..15].copy_from_slice(&prefix);
        d[15] = luhn_check_digit(&prefix);
        ActivationCode(d)
    }

    /// The 15-digit number without the check digit as 7 big-endian bytes (enters the seed).
    pub fn key_bytes(&self) -> [u8; 7] {
        let n = to_number(&self.0[..15]);
        let b = n.to_be_bytes();
        b[1..].try_into().expect("7 bytes")
    }

    /// Dashed form, as printed in letters and payloads.
    pub fn dashed(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_groups(&self.0, &ACTIVATION_GROUPS, f)
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationCode([redacted])")
    }
}

/// Largest value of the upper part (the 14 bits above the device random) that keeps every
/// registration code within 9 digits: 15257 × 65536 + 65535 = 999 948 287 < 10^9.
pub const MAX_REGISTRATION_UPPER: u16 = 15257;

/// A registration code: 10 digits shown `NNNNN-NNNNN`, typed back into the company's portal.
///
/// The 9-digit number (check digit dropped) as a 4-byte big-endian value carries the device random
/// in its low 16 bits. What the 14 bits above mean is not public (spec §1); softtoken fills them
/// with random bits so its codes look like the vendor's (the public vector has 0x0747 there) rather
/// than a telltale run of leading zeros. A real server that checks those bits may reject our codes;
/// the reference provider accepts any code with a correct check digit.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct RegistrationCode([u8; 10]);

impl RegistrationCode {
    /// Parses typed text and checks the check digit.
    pub fn parse(text: &str) -> Result<Self> {
        let d = read_digits(Field::RegistrationCode, text, &REGISTRATION_GROUPS)?;
        Ok(RegistrationCode(d.try_into().expect("length checked")))
    }

    /// Builds the code for `upper` (≤ [`MAX_REGISTRATION_UPPER`]) and a device random.
    pub fn from_parts(upper: u16, device_random: u16) -> Result<Self> {
        if upper > MAX_REGISTRATION_UPPER {
            return Err(Error::invalid(Field::RegistrationCode, format!("upper part {upper} does not fit in 9 digits")));
        }
        let n = (upper as u32) << 16 | device_random as u32;
        let mut d = [0u8; 10];
        let mut x = n;
        for slot in d[..9].iter_mut().rev() {
            *slot = (x % 10) as u8;
            x /= 10;
        }
        d[9] = luhn_check_digit(&d[..9]);
        Ok(RegistrationCode(d))
    }

    /// A fresh code: device random and upper part from the OS CSPRNG.
    pub fn generate(rng: &dyn SecureRandom) -> Result<Self> {
        let mut b = [0u8; 4];
        crate::secret::fill_random(rng, &mut b)?;
        let upper = ((u16::from_be_bytes([b[0], b[1]]) as u32 * (MAX_REGISTRATION_UPPER as u32 + 1)) >> 16) as u16;
        let random = u16::from_be_bytes([b[2], b[3]]);
        b.zeroize();
        Self::from_parts(upper, random)
    }

    /// The 9-digit number as 4 big-endian bytes.
    pub fn bytes(&self) -> [u8; 4] {
        (to_number(&self.0[..9]) as u32).to_be_bytes()
    }

    /// The low 16 bits: the device random that enters the seed.
    pub fn device_random(&self) -> u16 {
        let b = self.bytes();
        u16::from_be_bytes([b[2], b[3]])
    }
}

impl fmt::Display for RegistrationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_groups(&self.0, &REGISTRATION_GROUPS, f)
    }
}

impl fmt::Debug for RegistrationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistrationCode([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::hex_encode;
    use proptest::prelude::*;

    fn vectors() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../fixtures/vectors/entrust.json")).unwrap()
    }

    #[test]
    fn spec_numbers_parse_and_convert() {
        let v = &vectors()["activation"];
        let serial = SerialNumber::parse(v["serial"].as_str().unwrap()).unwrap();
        assert_eq!(&serial.ascii(), v["seed_kdf_salt_ascii"].as_str().unwrap().as_bytes());
        let ac = ActivationCode::parse(v["activation_code"].as_str().unwrap()).unwrap();
        assert_eq!(hex_encode(&ac.key_bytes()), v["activation_bytes_hex"].as_str().unwrap());
        let rc = RegistrationCode::parse(v["registration_code"].as_str().unwrap()).unwrap();
        assert_eq!(hex_encode(&rc.bytes()), v["registration_bytes_hex"].as_str().unwrap());
        assert_eq!(format!("{:04x}", rc.device_random()), v["device_random_hex"].as_str().unwrap());
        assert_eq!(rc.to_string(), "12211-49352");
        assert_eq!(ac.to_string(), "1745-7712-6942-8698");
    }

    #[test]
    fn separators_are_optional() {
        assert_eq!(ActivationCode::parse("1745771269428698").unwrap().to_string(), "1745-7712-6942-8698");
        assert_eq!(ActivationCode::parse(" 1745 7712 6942 8698 ").unwrap().to_string(), "1745-7712-6942-8698");
        assert_eq!(SerialNumber::parse("4824413456").unwrap().to_string(), "48244-13456");
    }

    #[test]
    fn errors_name_field_and_problem() {
        let e = |r: Result<ActivationCode>| r.unwrap_err().to_string();
        assert_eq!(e(ActivationCode::parse("1745-7712-6942-8699")), "activation code: check digit does not match");
        assert_eq!(e(ActivationCode::parse("1745-772-6942-8698")), "activation code: group 2 has 3 digits, expected 4");
        assert_eq!(e(ActivationCode::parse("1745-7712-69x2-8698")), "activation code: group 3 contains 'x', only digits are allowed");
        assert_eq!(e(ActivationCode::parse("174577126942869")), "activation code: has 15 digits, expected 16 (NNNN-NNNN-NNNN-NNNN)");
        assert_eq!(e(ActivationCode::parse("")), "activation code: is empty");
        assert_eq!(SerialNumber::parse("48244-13457").unwrap_err().to_string(), "serial number: check digit does not match");
        assert_eq!(RegistrationCode::parse("12211-4935").unwrap_err().to_string(), "registration code: group 2 has 4 digits, expected 5");
        assert_eq!(RegistrationCode::parse("1-2").unwrap_err().to_string(), "registration code: group 1 has 1 digit, expected 5", "one digit, singular");
    }

    #[test]
    fn lenient_serial_reports_bad_check_digit() {
        let (s, ok) = SerialNumber::parse_lenient("48244-13457").unwrap();
        assert!(!ok);
        assert_eq!(s.to_string(), "48244-13457");
        assert!(SerialNumber::parse_lenient("48244-1345").is_err());
    }

    #[test]
    fn generated_registration_codes_are_valid_and_random() {
        let rng = ring::rand::SystemRandom::new();
        let codes: Vec<RegistrationCode> = (0..200).map(|_| RegistrationCode::generate(&rng).unwrap()).collect();
        for c in &codes {
            let again = RegistrationCode::parse(&c.to_string()).unwrap();
            assert_eq!(&again, c);
            assert!(u32::from_be_bytes(c.bytes()) < 1_000_000_000);
        }
        let distinct: std::collections::HashSet<u16> = codes.iter().map(|c| c.device_random()).collect();
        assert!(distinct.len() > 150, "device randoms repeat too often: {}", distinct.len());
    }

    #[test]
    fn upper_part_bound() {
        assert!(RegistrationCode::from_parts(MAX_REGISTRATION_UPPER, 0xffff).is_ok());
        assert!(RegistrationCode::from_parts(MAX_REGISTRATION_UPPER + 1, 0).is_err());
    }

    #[test]
    fn debug_redacts_codes() {
        let ac = ActivationCode::parse("1745-7712-6942-8698").unwrap();
        assert_eq!(format!("{ac:?}"), "ActivationCode([redacted])");
    }

    proptest! {
        #[test]
        fn luhn_round_trip(prefix in proptest::array::uniform15(0u8..10)) {
            let ac = ActivationCode::from_prefix(prefix);
            let parsed = ActivationCode::parse(&ac.to_string()).unwrap();
            prop_assert_eq!(&parsed, &ac);
            // Any single-digit change is caught by the check digit.
            let text: Vec<u8> = ac.to_string().into_bytes();
            for i in (0..text.len()).filter(|i| text[*i] != b'-') {
                let mut t = text.clone();
                t[i] = b'0' + (t[i] - b'0' + 1) % 10;
                prop_assert!(ActivationCode::parse(std::str::from_utf8(&t).unwrap()).is_err());
            }
        }

        #[test]
        fn serial_round_trip(prefix in proptest::array::uniform9(0u8..10)) {
            let s = SerialNumber::from_prefix(prefix);
            prop_assert_eq!(SerialNumber::parse(&s.to_string()).unwrap(), s);
        }

        #[test]
        fn registration_round_trip(upper in 0u16..=MAX_REGISTRATION_UPPER, random: u16) {
            let rc = RegistrationCode::from_parts(upper, random).unwrap();
            let parsed = RegistrationCode::parse(&rc.to_string()).unwrap();
            prop_assert_eq!(parsed.device_random(), random);
        }

        #[test]
        fn parsers_never_panic(text in "\\PC{0,40}") {
            let _ = SerialNumber::parse(&text);
            let _ = SerialNumber::parse_lenient(&text);
            let _ = ActivationCode::parse(&text);
            let _ = RegistrationCode::parse(&text);
        }
    }
}
