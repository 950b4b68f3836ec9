//! One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) over HMAC-SHA1/256/512.
//!
//! Built on RustCrypto's `hmac` rather than `totp-rs`: softtoken needs HOTP, 80-bit secrets (which
//! `totp-rs`'s checked constructor refuses) and never-panicking digit handling; the whole algorithm
//! is a dozen lines over HMAC. RustCrypto rather than ring for this HMAC because ring's SHA-1 is
//! portable code while `sha1`/`sha2` use the CPU's SHA extensions (2–3× faster per code), and the
//! keyed state is computed once per generator and cloned per code.

use crate::clock::Clock;
#[cfg(test)]
use crate::clock::FixedClock;
use crate::error::{Error, Field, Result};
use crate::secret::Secret;
use hmac::{Hmac, Mac};

/// Shortest and longest code softtoken produces.
pub const DIGITS_RANGE: std::ops::RangeInclusive<u8> = 6..=8;
/// Longest accepted TOTP period (one day).
pub const MAX_PERIOD: u32 = 86_400;
/// Longest accepted secret, in bytes (far above any real token; bounds hostile input).
pub const MAX_SECRET_LEN: usize = 1024;
/// The characters of a Steam Guard code (no vowels, no look-alikes).
pub const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";
/// Characters in a Steam Guard code.
pub const STEAM_DIGITS: u8 = 5;
/// Seconds per Steam Guard code.
pub const STEAM_PERIOD: u32 = 30;

/// The HMAC hash an OTP is computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// HMAC-SHA1, the otpauth default.
    #[default]
    Sha1,
    /// HMAC-SHA256, Entrust soft tokens.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl Algorithm {
    /// Name as written in otpauth URIs and JSON: `SHA1`, `SHA256`, `SHA512`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Parses a name case-insensitively (`sha256`, `SHA-256`, `HmacSHA256` all work).
    pub fn parse(text: &str) -> Result<Self> {
        let norm: String = text.chars().filter(|c| *c != '-' && *c != '_').collect::<String>().to_ascii_uppercase();
        match norm.strip_prefix("HMAC").unwrap_or(&norm) {
            "SHA1" => Ok(Algorithm::Sha1),
            "SHA256" => Ok(Algorithm::Sha256),
            "SHA512" => Ok(Algorithm::Sha512),
            _ => Err(Error::invalid(Field::Algorithm, format!("unsupported algorithm {text:?} (use SHA1, SHA256 or SHA512)"))),
        }
    }
}

/// An HMAC keyed once with an OTP secret; cloned per code.
#[derive(Clone)]
pub(crate) enum OtpKey {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl OtpKey {
    /// Keys an HMAC (any key length is valid for HMAC).
    pub(crate) fn new(algorithm: Algorithm, secret: &[u8]) -> Self {
        const ANY_LENGTH: &str = "HMAC takes keys of any length";
        match algorithm {
            Algorithm::Sha1 => OtpKey::Sha1(Hmac::new_from_slice(secret).expect(ANY_LENGTH)),
            Algorithm::Sha256 => OtpKey::Sha256(Hmac::new_from_slice(secret).expect(ANY_LENGTH)),
            Algorithm::Sha512 => OtpKey::Sha512(Hmac::new_from_slice(secret).expect(ANY_LENGTH)),
        }
    }

    /// The HMAC of `message` under this key (20, 32 or 64 bytes).
    pub(crate) fn mac(&self, message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + Clone>(m: &M, message: &[u8]) -> Vec<u8> {
            let mut m = m.clone();
            m.update(message);
            m.finalize().into_bytes().to_vec()
        }
        match self {
            OtpKey::Sha1(m) => run(m, message),
            OtpKey::Sha256(m) => run(m, message),
            OtpKey::Sha512(m) => run(m, message),
        }
    }

    /// HOTP value for `counter`: HMAC, then RFC 4226 dynamic truncation to `digits` digits.
    pub(crate) fn value(&self, counter: u64, digits: u8) -> u32 {
        truncate(&self.mac(&counter.to_be_bytes()), digits)
    }

    /// Steam Guard code for time step `counter`: the truncated 31-bit value written in base 26
    /// over [`STEAM_ALPHABET`], least significant character first.
    pub(crate) fn steam(&self, counter: u64) -> String {
        let mut v = truncate_31(&self.mac(&counter.to_be_bytes()));
        (0..STEAM_DIGITS)
            .map(|_| {
                let c = STEAM_ALPHABET[(v % 26) as usize] as char;
                v /= 26;
                c
            })
            .collect()
    }
}

/// Checks a digit count.
pub fn check_digits(digits: u8) -> Result<u8> {
    if DIGITS_RANGE.contains(&digits) {
        Ok(digits)
    } else {
        Err(Error::invalid(Field::Digits, format!("{digits} is not supported (use 6, 7 or 8)")))
    }
}

/// Checks a TOTP period.
pub fn check_period(period: u32) -> Result<u32> {
    if (1..=MAX_PERIOD).contains(&period) {
        Ok(period)
    } else {
        Err(Error::invalid(Field::Period, format!("{period} s is not supported (use 1 to {MAX_PERIOD} seconds)")))
    }
}

/// Checks an OTP secret's length.
pub fn check_secret(secret: &Secret) -> Result<()> {
    if secret.is_empty() {
        return Err(Error::invalid(Field::Secret, "is empty"));
    }
    if secret.len() > MAX_SECRET_LEN {
        return Err(Error::invalid(Field::Secret, format!("is longer than {MAX_SECRET_LEN} bytes")));
    }
    Ok(())
}

/// RFC 4226 §5.3 dynamic truncation to a 31-bit value.
fn truncate_31(mac: &[u8]) -> u32 {
    let offset = (mac[mac.len() - 1] & 0x0f) as usize;
    u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]])
}

/// RFC 4226 §5.3 dynamic truncation to `digits` decimal digits.
pub(crate) fn truncate(mac: &[u8], digits: u8) -> u32 {
    truncate_31(mac) % 10u32.pow(digits as u32)
}

/// Formats a code value with leading zeros.
pub fn format_code(value: u32, digits: u8) -> String {
    format!("{value:0width$}", width = digits as usize)
}

/// Parses a typed code: `digits` ASCII digits, spaces allowed between groups.
pub fn parse_code(text: &str, digits: u8) -> Result<u32> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !compact.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(Field::Otp, format!("{text:?} is not all digits")));
    }
    if compact.len() != digits as usize {
        return Err(Error::invalid(Field::Otp, format!("has {}, expected {digits}", crate::error::plural(compact.len(), "digit", "digits"))));
    }
    compact.parse().map_err(|_| Error::invalid(Field::Otp, "is not a number"))
}

/// A counter-based generator (RFC 4226).
#[derive(Debug, Clone)]
pub struct Hotp {
    secret: Secret,
    algorithm: Algorithm,
    digits: u8,
}

impl Hotp {
    /// Validates the secret and digit count.
    pub fn new(secret: Secret, algorithm: Algorithm, digits: u8) -> Result<Self> {
        check_secret(&secret)?;
        Ok(Hotp { secret, algorithm, digits: check_digits(digits)? })
    }

    /// The code for `counter`.
    pub fn code(&self, counter: u64) -> String {
        format_code(OtpKey::new(self.algorithm, self.secret.expose()).value(counter, self.digits), self.digits)
    }

    /// Finds the counter in `from..from+look_ahead` that produced `code`.
    pub fn find_counter(&self, code: &str, from: u64, look_ahead: u64) -> Result<Option<u64>> {
        let want = parse_code(code, self.digits)?;
        let key = OtpKey::new(self.algorithm, self.secret.expose());
        Ok((from..from.saturating_add(look_ahead)).find(|c| key.value(*c, self.digits) == want))
    }
}

/// A code as shown to the user, with how long it stays valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedCode {
    /// The digits, zero-padded.
    pub code: String,
    /// Seconds until the next code (1..=period).
    pub remaining_s: u32,
    /// The TOTP time step the code belongs to.
    pub step: u64,
}

/// A time-based generator (RFC 6238) with T0 = 0 and a signed clock offset.
#[derive(Debug, Clone)]
pub struct Totp {
    secret: Secret,
    algorithm: Algorithm,
    digits: u8,
    period: u32,
    offset_s: i64,
    steam: bool,
}

impl Totp {
    /// Validates the secret, digits and period.
    pub fn new(secret: Secret, algorithm: Algorithm, digits: u8, period: u32) -> Result<Self> {
        check_secret(&secret)?;
        Ok(Totp { secret, algorithm, digits: check_digits(digits)?, period: check_period(period)?, offset_s: 0, steam: false })
    }

    /// A Steam Guard generator: HMAC-SHA1, 30 s, five characters of [`STEAM_ALPHABET`].
    pub fn steam(secret: Secret) -> Result<Self> {
        check_secret(&secret)?;
        Ok(Totp { secret, algorithm: Algorithm::Sha1, digits: STEAM_DIGITS, period: STEAM_PERIOD, offset_s: 0, steam: true })
    }

    /// Adds a clock offset in seconds (positive when this device's clock is behind the server's).
    pub fn with_offset(mut self, offset_s: i64) -> Self {
        self.offset_s = offset_s;
        self
    }

    /// Digits per code.
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// Period in seconds.
    pub fn period(&self) -> u32 {
        self.period
    }

    /// Unix time as corrected by the offset, never below 0.
    fn corrected(&self, unix_time: u64) -> u64 {
        unix_time.saturating_add_signed(self.offset_s)
    }

    /// The code shown at `unix_time`.
    pub fn code_at(&self, unix_time: u64) -> TimedCode {
        let t = self.corrected(unix_time);
        let period = self.period as u64;
        let step = t / period;
        let key = OtpKey::new(self.algorithm, self.secret.expose());
        TimedCode {
            code: if self.steam { key.steam(step) } else { format_code(key.value(step, self.digits), self.digits) },
            remaining_s: (period - t % period) as u32,
            step,
        }
    }

    /// The code values (format with [`format_code`]) of `count` consecutive steps starting with the
    /// one shown at `unix_time`, keyed once (what `oathtool -w` prints; also a "next codes" view).
    pub fn values_from(&self, unix_time: u64, count: u64) -> impl Iterator<Item = u32> + '_ {
        let first = self.corrected(unix_time) / self.period as u64;
        let key = OtpKey::new(self.algorithm, self.secret.expose());
        (first..first.saturating_add(count)).map(move |s| key.value(s, self.digits))
    }

    /// The code shown now by `clock`.
    pub fn code_now(&self, clock: &dyn Clock) -> TimedCode {
        self.code_at(clock.unix_time())
    }

    /// Checks `code` against the steps within `window` of `unix_time`; returns the drift in steps
    /// of the match nearest to zero.
    pub fn verify(&self, code: &str, unix_time: u64, window: u32) -> Result<Option<i64>> {
        let want = parse_code(code, self.digits)?;
        let key = OtpKey::new(self.algorithm, self.secret.expose());
        let step = (self.corrected(unix_time) / self.period as u64) as i64;
        let w = window as i64;
        // Nearest first: 0, -1, +1, -2, +2, ...
        let order = (0..=w).flat_map(|d| if d == 0 { vec![0] } else { vec![-d, d] });
        for drift in order {
            let s = step + drift;
            if s >= 0 && key.value(s as u64, self.digits) == want {
                return Ok(Some(drift));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors(name: &str) -> Value {
        let text = match name {
            "rfc4226" => include_str!("../../fixtures/vectors/rfc4226.json"),
            "rfc6238" => include_str!("../../fixtures/vectors/rfc6238.json"),
            "entrust" => include_str!("../../fixtures/vectors/entrust.json"),
            _ => unreachable!(),
        };
        serde_json::from_str(text).unwrap()
    }

    fn secret_of(v: &Value) -> Secret {
        Secret::new(v.as_str().unwrap().as_bytes().to_vec())
    }

    #[test]
    fn rfc4226_appendix_d() {
        let v = vectors("rfc4226");
        let hotp = Hotp::new(secret_of(&v["secret_ascii"]), Algorithm::Sha1, 6).unwrap();
        let cases = v["codes"].as_array().unwrap();
        assert_eq!(cases.len(), 10);
        for case in cases {
            let counter = case["counter"].as_u64().unwrap();
            assert_eq!(hotp.code(counter), case["code"].as_str().unwrap(), "counter {counter}");
        }
        // The intermediate truncated values (Appendix D's "Truncated" column), 10 digits wide.
        let key = Hmac::<sha1::Sha1>::new_from_slice(v["secret_ascii"].as_str().unwrap().as_bytes()).unwrap();
        for case in cases {
            let mut m = key.clone();
            m.update(&case["counter"].as_u64().unwrap().to_be_bytes());
            assert_eq!(crate::secret::hex_encode(&m.finalize().into_bytes()), case["hmac_hex"].as_str().unwrap());
        }
    }

    #[test]
    fn rfc6238_appendix_b_with_the_right_seed_per_algorithm() {
        let v = vectors("rfc6238");
        let cases = v["codes"].as_array().unwrap();
        assert_eq!(cases.len(), 18);
        for case in cases {
            let alg = Algorithm::parse(case["algorithm"].as_str().unwrap()).unwrap();
            let seed = v["seeds"][alg.name()].as_str().unwrap();
            let totp = Totp::new(Secret::from_slice(seed.as_bytes()), alg, 8, 30).unwrap();
            let t = case["time"].as_u64().unwrap();
            assert_eq!(totp.code_at(t).code, case["code"].as_str().unwrap(), "{} at {t}", alg.name());
        }
    }

    #[test]
    fn twenty_byte_seed_with_sha256_is_the_classic_bug() {
        let v = vectors("rfc6238");
        let bug = &v["negative"]["sha256_with_20_byte_seed"];
        let totp = Totp::new(Secret::from_slice(bug["seed_ascii"].as_str().unwrap().as_bytes()), Algorithm::Sha256, 8, 30).unwrap();
        let code = totp.code_at(bug["time"].as_u64().unwrap()).code;
        assert_eq!(code, bug["code"].as_str().unwrap());
        assert_ne!(code, bug["correct_code"].as_str().unwrap());
    }

    #[test]
    fn entrust_totp_table() {
        let v = vectors("entrust");
        let rows = v["totp_sha256"].as_array().unwrap();
        assert_eq!(rows.len(), 24);
        for row in rows {
            let seed = crate::secret::hex_decode(row["seed_hex"].as_str().unwrap()).unwrap();
            let digits = row["digits"].as_u64().unwrap() as u8;
            let totp = Totp::new(Secret::new(seed), Algorithm::Sha256, digits, 30).unwrap();
            assert_eq!(totp.code_at(row["time"].as_u64().unwrap()).code, row["code"].as_str().unwrap());
        }
    }

    #[test]
    fn eighty_bit_secret_accepted_empty_rejected() {
        assert!(Totp::new(Secret::new(vec![7; 10]), Algorithm::Sha1, 6, 30).is_ok());
        let err = Totp::new(Secret::new(vec![]), Algorithm::Sha1, 6, 30).unwrap_err();
        assert_eq!(err.to_string(), "secret: is empty");
    }

    #[test]
    fn digits_and_period_are_checked() {
        let s = || Secret::new(vec![1; 20]);
        assert!(Totp::new(s(), Algorithm::Sha1, 5, 30).is_err());
        assert!(Totp::new(s(), Algorithm::Sha1, 9, 30).is_err());
        assert!(Totp::new(s(), Algorithm::Sha1, 10, 30).is_err());
        assert!(Totp::new(s(), Algorithm::Sha1, 7, 30).is_ok());
        assert!(Totp::new(s(), Algorithm::Sha1, 6, 0).is_err());
        assert!(Totp::new(s(), Algorithm::Sha1, 6, 60).is_ok());
    }

    #[test]
    fn remaining_seconds_and_offset() {
        let totp = Totp::new(Secret::new(vec![1; 20]), Algorithm::Sha1, 6, 30).unwrap();
        assert_eq!(totp.code_at(60).remaining_s, 30);
        assert_eq!(totp.code_at(89).remaining_s, 1);
        assert_eq!(totp.code_now(&FixedClock(61)).remaining_s, 29);
        let ahead = totp.clone().with_offset(30);
        assert_eq!(ahead.code_at(60).code, totp.code_at(90).code);
        let behind = totp.clone().with_offset(-100);
        assert_eq!(behind.code_at(10).step, 0, "offset never drives time below zero");
    }

    #[test]
    fn codes_from_matches_code_at() {
        let totp = Totp::new(Secret::new(vec![9; 20]), Algorithm::Sha512, 8, 30).unwrap();
        let codes: Vec<String> = totp.values_from(1_000, 5).map(|v| format_code(v, 8)).collect();
        let expected: Vec<String> = (0..5).map(|i| totp.code_at(1_000 + 30 * i).code).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn verify_reports_drift() {
        let totp = Totp::new(Secret::new(vec![3; 16]), Algorithm::Sha256, 6, 30).unwrap();
        let later = totp.code_at(1_000_000 + 60).code;
        assert_eq!(totp.verify(&later, 1_000_000, 2).unwrap(), Some(2));
        assert_eq!(totp.verify(&later, 1_000_000, 1).unwrap(), None);
        assert!(totp.verify("12345", 1_000_000, 1).is_err());
    }

    #[test]
    fn steam_guard_codes() {
        // Expected codes from an independent implementation (Python's hmac, the alphabet and the
        // base-26 loop as Steam clients describe them), for the RFC 6238 SHA-1 seed.
        let steam = Totp::steam(Secret::from_slice(b"12345678901234567890")).unwrap();
        for (t, code) in [(59, "PV9M4"), (1_111_111_109, "PY4YB"), (1_234_567_890, "VHHQY"), (2_000_000_000, "9N776")] {
            assert_eq!(steam.code_at(t).code, code, "t = {t}");
        }
        assert_eq!((steam.digits(), steam.period()), (5, 30));
        assert!(Totp::steam(Secret::new(vec![])).is_err());
    }

    #[test]
    fn hotp_find_counter() {
        let hotp = Hotp::new(Secret::from_slice(b"12345678901234567890"), Algorithm::Sha1, 6).unwrap();
        assert_eq!(hotp.find_counter("399871", 0, 20).unwrap(), Some(8));
        assert_eq!(hotp.find_counter("399871", 9, 20).unwrap(), None);
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(Algorithm::parse("sha-256").unwrap(), Algorithm::Sha256);
        assert_eq!(Algorithm::parse("HmacSHA512").unwrap(), Algorithm::Sha512);
        assert_eq!(Algorithm::parse("md5").unwrap_err().to_string(), "algorithm: unsupported algorithm \"md5\" (use SHA1, SHA256 or SHA512)");
    }
}
