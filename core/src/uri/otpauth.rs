//! `otpauth://TYPE/LABEL?secret=…&issuer=…&algorithm=…&digits=…&period=…&counter=…`
//! (the Google Authenticator key URI format).
//!
//! Parsing is lenient where real-world generators differ (secret case and padding, spaces in the
//! secret, a percent-encoded label colon, `+` for space in query values) and strict where a wrong
//! guess would produce wrong codes (unknown algorithm, digits, period, a missing HOTP counter).

use crate::error::{Error, Field, Result};
use crate::otp::{self, Algorithm, Hotp, Totp};
use crate::secret::Secret;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

/// Characters left as they are in labels and values: RFC 3986 unreserved.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Counter-based or time-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpKind {
    /// Time-based, with its period in seconds.
    Totp {
        /// Seconds per code.
        period: u32,
    },
    /// Counter-based, with the next counter value.
    Hotp {
        /// The counter the next code is computed with.
        counter: u64,
    },
    /// Steam Guard: five characters of Steam's alphabet, HMAC-SHA1, 30 s.
    Steam,
}

/// A parsed `otpauth://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpAuth {
    /// TOTP or HOTP with their parameter.
    pub kind: OtpKind,
    /// The service, from the `issuer` parameter or else the label prefix.
    pub issuer: Option<String>,
    /// The account name.
    pub account: String,
    /// The shared secret.
    pub secret: Secret,
    /// HMAC hash.
    pub algorithm: Algorithm,
    /// Code length.
    pub digits: u8,
}

/// Decodes base32 as people paste it: any case, padding optional, spaces and dashes ignored.
pub fn decode_base32(text: &str) -> Result<Secret> {
    decode_base32_with(text, false).map(|(s, _)| s)
}

/// [`decode_base32`], and with `lenient` a text whose length no encoder writes (1, 3 or 6
/// characters past a multiple of 8) is read as Ente and Proton Authenticator read it: the last
/// character, which cannot complete a byte, is dropped. The flag says whether that happened.
pub fn decode_base32_with(text: &str, lenient: bool) -> Result<(Secret, bool)> {
    let mut clean: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().trim_end_matches('=').to_ascii_uppercase());
    if clean.is_empty() {
        return Err(Error::invalid(Field::Secret, "is empty"));
    }
    if let Some(c) = clean.chars().find(|c| !matches!(c, 'A'..='Z' | '2'..='7')) {
        return Err(Error::invalid(Field::Secret, format!("is not valid base32: {c:?} is not in A-Z, 2-7")));
    }
    let odd = matches!(clean.len() % 8, 1 | 3 | 6);
    if odd && !lenient {
        return Err(Error::invalid(Field::Secret, format!("is not valid base32: {} characters cannot end a base32 text", clean.len())));
    }
    if odd {
        clean.pop();
    }
    let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &clean).ok_or_else(|| Error::invalid(Field::Secret, "is not valid base32"))?;
    let secret = Secret::new(bytes);
    otp::check_secret(&secret)?;
    Ok((secret, odd))
}

/// Base32 without padding, the form otpauth URIs use.
pub fn encode_base32(secret: &Secret) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, secret.expose())
}

fn decode_component(text: &str, plus_is_space: bool, what: &str) -> Result<String> {
    let text = if plus_is_space { text.replace('+', " ") } else { text.to_string() };
    percent_decode_str(&text).decode_utf8().map(|s| s.into_owned()).map_err(|_| Error::MalformedUri(format!("{what} is not valid percent-encoded UTF-8")))
}

impl OtpAuth {
    /// Parses an `otpauth://` URI.
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_with(text, false).map(|(u, _)| u)
    }

    /// Parses an `otpauth://` URI whose secret may have a base32 length no encoder writes
    /// ([`decode_base32_with`]); the flag says whether it had. For imports, which report it.
    pub fn parse_lenient(text: &str) -> Result<(Self, bool)> {
        Self::parse_with(text, true)
    }

    fn parse_with(text: &str, lenient: bool) -> Result<(Self, bool)> {
        let text = text.trim();
        let rest = match text.get(..10) {
            Some(p) if p.eq_ignore_ascii_case("otpauth://") => &text[10..],
            _ => return Err(Error::MalformedUri("not an otpauth:// URI".into())),
        };
        let rest = rest.split('#').next().unwrap_or("");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (kind, raw_label) = path.split_once('/').unwrap_or((path, ""));
        let kind = kind.to_ascii_lowercase();
        if kind != "totp" && kind != "hotp" && kind != "steam" {
            return Err(Error::MalformedUri(format!("unknown OTP type {kind:?} (expected totp, hotp or steam)")));
        }
        // A literal ':' separates issuer and account; else a percent-encoded one does.
        let (prefix, account) = match raw_label.split_once(':') {
            Some((p, a)) => (Some(decode_component(p, false, "label")?), decode_component(a, false, "label")?),
            None => {
                let label = decode_component(raw_label, false, "label")?;
                match label.split_once(':') {
                    Some((p, a)) => (Some(p.to_string()), a.to_string()),
                    None => (None, label),
                }
            }
        };
        let account = account.trim().to_string();
        if account.is_empty() {
            return Err(Error::invalid(Field::Label, "has no account name"));
        }

        let mut secret = None;
        let mut issuer = None;
        let mut algorithm = None;
        let mut digits = None;
        let mut period = None;
        let mut counter = None;
        let mut encoder = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = k.to_ascii_lowercase();
            let slot = match key.as_str() {
                "secret" => &mut secret,
                "issuer" => &mut issuer,
                "algorithm" => &mut algorithm,
                "digits" => &mut digits,
                "period" => &mut period,
                "counter" => &mut counter,
                "encoder" => &mut encoder,
                _ => continue, // image, color, … are not ours to judge
            };
            if slot.is_some() {
                return Err(Error::MalformedUri(format!("parameter {key} appears twice")));
            }
            *slot = Some(Zeroizing::new(decode_component(v, true, &key)?));
        }

        let (secret, lenient_secret) = decode_base32_with(&secret.ok_or_else(|| Error::invalid(Field::Secret, "is missing (secret=…)"))?, lenient)?;
        let algorithm = match algorithm {
            Some(a) => Algorithm::parse(&a)?,
            None => Algorithm::Sha1,
        };
        let number =
            |v: &str, field: Field| -> Result<u64> { v.trim().parse::<u64>().map_err(|_| Error::invalid(field, format!("{v:?} is not a whole number"))) };
        // Steam tokens: `otpauth://steam/…` (Aegis, Ente) or `encoder=steam` on a totp URI; their
        // digits, period and algorithm are fixed whatever the URI says.
        let steam = kind == "steam" || encoder.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("steam"));
        if steam {
            let issuer =
                issuer.map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).or_else(|| prefix.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
            return Ok((OtpAuth::steam(issuer, account, secret), lenient_secret));
        }
        let digits = match digits {
            Some(d) => otp::check_digits(u8::try_from(number(&d, Field::Digits)?).unwrap_or(u8::MAX))?,
            None => 6,
        };
        let kind = if kind == "totp" {
            let period = match period {
                Some(p) => otp::check_period(u32::try_from(number(&p, Field::Period)?).unwrap_or(u32::MAX))?,
                None => 30,
            };
            OtpKind::Totp { period }
        } else {
            let counter = counter.ok_or_else(|| Error::invalid(Field::Counter, "is missing (required for hotp)"))?;
            OtpKind::Hotp { counter: number(&counter, Field::Counter)? }
        };
        let issuer = issuer.map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).or_else(|| prefix.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
        Ok((OtpAuth { kind, issuer, account, secret, algorithm, digits }, lenient_secret))
    }

    /// A Steam Guard token (its algorithm and length are fixed).
    pub fn steam(issuer: Option<String>, account: String, secret: Secret) -> Self {
        OtpAuth { kind: OtpKind::Steam, issuer, account, secret, algorithm: Algorithm::Sha1, digits: otp::STEAM_DIGITS }
    }

    /// Parses `steam://SECRET` (base32), the form Bitwarden and Proton write.
    pub fn parse_steam_uri(text: &str) -> Result<Self> {
        let text = text.trim();
        match text.get(..8) {
            Some(p) if p.eq_ignore_ascii_case("steam://") => Ok(OtpAuth::steam(Some("Steam".into()), "Steam".into(), decode_base32(&text[8..])?)),
            _ => Err(Error::MalformedUri("not a steam:// URI".into())),
        }
    }

    /// Formats the URI (issuer in both label and parameter, as Google recommends).
    pub fn to_uri(&self) -> String {
        let enc = |s: &str| utf8_percent_encode(s, COMPONENT).to_string();
        let (kind, tail) = match self.kind {
            OtpKind::Totp { period } => ("totp", format!("&period={period}")),
            OtpKind::Hotp { counter } => ("hotp", format!("&counter={counter}")),
            OtpKind::Steam => ("totp", "&period=30&encoder=steam".to_string()),
        };
        let label = match &self.issuer {
            Some(i) => format!("{}:{}", enc(i), enc(&self.account)),
            // A leading ':' keeps a colon in an issuer-less account from reading as a separator.
            None if self.account.contains(':') => format!(":{}", enc(&self.account)),
            None => enc(&self.account),
        };
        let issuer = self.issuer.as_deref().map(|i| format!("&issuer={}", enc(i))).unwrap_or_default();
        format!("otpauth://{kind}/{label}?secret={}{issuer}&algorithm={}&digits={}{tail}", encode_base32(&self.secret), self.algorithm.name(), self.digits)
    }

    /// A TOTP generator (errors for HOTP URIs).
    pub fn totp(&self) -> Result<Totp> {
        match self.kind {
            OtpKind::Totp { period } => Totp::new(self.secret.clone(), self.algorithm, self.digits, period),
            OtpKind::Steam => Totp::steam(self.secret.clone()),
            OtpKind::Hotp { .. } => Err(Error::MalformedUri("this is an hotp URI, not totp".into())),
        }
    }

    /// An HOTP generator (errors for TOTP URIs).
    pub fn hotp(&self) -> Result<Hotp> {
        match self.kind {
            OtpKind::Hotp { .. } => Hotp::new(self.secret.clone(), self.algorithm, self.digits),
            OtpKind::Totp { .. } | OtpKind::Steam => Err(Error::MalformedUri("this is a totp URI, not hotp".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn google_example() {
        let u = OtpAuth::parse("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example").unwrap();
        assert_eq!(u.issuer.as_deref(), Some("Example"));
        assert_eq!(u.account, "alice@google.com");
        assert_eq!(u.secret.expose(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(u.kind, OtpKind::Totp { period: 30 });
        assert_eq!((u.algorithm, u.digits), (Algorithm::Sha1, 6));
    }

    #[test]
    fn lenient_forms() {
        let u =
            OtpAuth::parse("OTPAUTH://TOTP/ACME%20Co%3A%20john.doe%40email.com?secret=jbsw y3dp ehpk 3pxp====&algorithm=sha256&digits=8&period=60").unwrap();
        assert_eq!(u.issuer.as_deref(), Some("ACME Co"));
        assert_eq!(u.account, "john.doe@email.com");
        assert_eq!((u.algorithm, u.digits, u.kind), (Algorithm::Sha256, 8, OtpKind::Totp { period: 60 }));
        let q = OtpAuth::parse("otpauth://totp/bob?secret=JBSWY3DPEHPK3PXP&issuer=My+Bank").unwrap();
        assert_eq!(q.issuer.as_deref(), Some("My Bank"));
        // The issuer parameter wins over the label prefix.
        let w = OtpAuth::parse("otpauth://totp/Old:bob?secret=JBSWY3DPEHPK3PXP&issuer=New").unwrap();
        assert_eq!(w.issuer.as_deref(), Some("New"));
    }

    #[test]
    fn hotp_needs_counter() {
        let u = OtpAuth::parse("otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=8").unwrap();
        assert_eq!(u.kind, OtpKind::Hotp { counter: 8 });
        assert_eq!(u.hotp().unwrap().code(8), "399871");
        let e = OtpAuth::parse("otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap_err();
        assert_eq!(e.to_string(), "counter: is missing (required for hotp)");
    }

    #[test]
    fn every_malformed_part_has_its_error() {
        let e = |u: &str| OtpAuth::parse(u).unwrap_err().to_string();
        assert_eq!(e("http://totp/x?secret=AAAA"), "malformed URI: not an otpauth:// URI");
        assert_eq!(e("otpauth://motp/x?secret=AAAAAAAA"), "malformed URI: unknown OTP type \"motp\" (expected totp, hotp or steam)");
        assert_eq!(e("otpauth://totp/?secret=AAAAAAAA"), "label: has no account name");
        assert_eq!(e("otpauth://totp/x"), "secret: is missing (secret=…)");
        assert_eq!(e("otpauth://totp/x?secret="), "secret: is empty");
        assert_eq!(e("otpauth://totp/x?secret=ABC1"), "secret: is not valid base32: '1' is not in A-Z, 2-7");
        assert_eq!(e("otpauth://totp/x?secret=A"), "secret: is not valid base32: 1 characters cannot end a base32 text");
        assert_eq!(e("otpauth://totp/x?secret=AAAAAAAA&algorithm=MD5"), "algorithm: unsupported algorithm \"MD5\" (use SHA1, SHA256 or SHA512)");
        assert_eq!(e("otpauth://totp/x?secret=AAAAAAAA&digits=ten"), "digits: \"ten\" is not a whole number");
        assert_eq!(e("otpauth://totp/x?secret=AAAAAAAA&digits=10"), "digits: 10 is not supported (use 6, 7 or 8)");
        assert_eq!(e("otpauth://totp/x?secret=AAAAAAAA&period=0"), "period: 0 s is not supported (use 1 to 86400 seconds)");
        assert_eq!(e("otpauth://totp/x?secret=AAAAAAAA&secret=BBBBBBBB"), "malformed URI: parameter secret appears twice");
        assert_eq!(e("otpauth://totp/%FF?secret=AAAAAAAA"), "malformed URI: label is not valid percent-encoded UTF-8");
    }

    #[test]
    fn format_then_parse() {
        let u = OtpAuth {
            kind: OtpKind::Totp { period: 30 },
            issuer: Some("Entrust: Bank & Co".into()),
            account: "48244-13456 é".into(),
            secret: Secret::from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            algorithm: Algorithm::Sha256,
            digits: 8,
        };
        let uri = u.to_uri();
        assert!(uri.starts_with("otpauth://totp/Entrust%3A%20Bank%20%26%20Co:48244-13456%20%C3%A9?secret=AEBAGBAFAYDQQCIK&issuer="), "{uri}");
        assert_eq!(OtpAuth::parse(&uri).unwrap(), u);
    }

    fn arb_text() -> impl Strategy<Value = String> {
        "[^\\s][^\\x00-\\x1f]{0,20}[^\\s]|[^\\s]"
    }

    proptest! {
        #[test]
        fn round_trip(
            issuer in proptest::option::of(arb_text()),
            account in arb_text(),
            secret in proptest::collection::vec(proptest::num::u8::ANY, 1..64),
            alg in 0usize..3, digits in 6u8..=8, period in 1u32..=86400, counter: u64, hotp: bool,
        ) {
            let u = OtpAuth {
                kind: if hotp { OtpKind::Hotp { counter } } else { OtpKind::Totp { period } },
                issuer, account, secret: Secret::new(secret),
                algorithm: [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512][alg],
                digits,
            };
            prop_assert_eq!(OtpAuth::parse(&u.to_uri()).unwrap(), u);
        }

        #[test]
        fn parser_never_panics(text in "otpauth://\\PC{0,120}") {
            let _ = OtpAuth::parse(&text);
        }

        #[test]
        fn base32_never_panics(text in "\\PC{0,64}") {
            let _ = decode_base32(&text);
        }
    }
}
