//! Google Authenticator's export format: `otpauth-migration://offline?data=<base64 protobuf>`.
//!
//! The message layout is Google's `MigrationPayload` (public in many open-source readers); it is
//! declared here with prost's derive macros, so no `protoc` is needed to build. Large exports are
//! split into a batch of several QR codes (`batch_size`, `batch_index`, `batch_id`).

use super::otpauth::{OtpAuth, OtpKind};
use crate::error::{Error, Result};
use crate::otp::{self, Algorithm};
use crate::secret::Secret;
use base64::Engine;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use prost::Message;

/// Scheme and host of a migration URI.
pub const PREFIX: &str = "otpauth-migration://offline";

#[derive(Clone, PartialEq, Message)]
struct OtpParameters {
    #[prost(bytes = "vec", tag = "1")]
    secret: Vec<u8>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    issuer: String,
    /// 0 unspecified, 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5.
    #[prost(int32, tag = "4")]
    algorithm: i32,
    /// 0 unspecified, 1 six, 2 eight.
    #[prost(int32, tag = "5")]
    digits: i32,
    /// 0 unspecified, 1 HOTP, 2 TOTP.
    #[prost(int32, tag = "6")]
    otp_type: i32,
    #[prost(int64, tag = "7")]
    counter: i64,
}

#[derive(Clone, PartialEq, Message)]
struct MigrationPayload {
    #[prost(message, repeated, tag = "1")]
    otp_parameters: Vec<OtpParameters>,
    #[prost(int32, tag = "2")]
    version: i32,
    #[prost(int32, tag = "3")]
    batch_size: i32,
    #[prost(int32, tag = "4")]
    batch_index: i32,
    #[prost(int32, tag = "5")]
    batch_id: i32,
}

impl Drop for OtpParameters {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// One QR code of an export: its tokens (each parsed on its own) and its place in the batch.
#[derive(Debug)]
pub struct MigrationPart {
    /// Each token's label and the token, or why it cannot be used.
    pub items: Vec<(String, Result<OtpAuth>)>,
    /// Number of QR codes in the batch (1 when not split).
    pub batch_size: u32,
    /// This code's 0-based index.
    pub batch_index: u32,
    /// Identifies the batch.
    pub batch_id: i32,
}

fn label_of(p: &OtpParameters) -> String {
    match (p.issuer.is_empty(), p.name.is_empty()) {
        (false, false) => format!("{}: {}", p.issuer, p.name),
        (true, false) => p.name.clone(),
        (false, true) => p.issuer.clone(),
        (true, true) => "(unnamed)".into(),
    }
}

fn to_otpauth(p: &OtpParameters) -> Result<OtpAuth> {
    let algorithm = match p.algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        4 => return Err(Error::MalformedUri("MD5 tokens are not supported".into())),
        n => return Err(Error::MalformedUri(format!("unknown algorithm number {n}"))),
    };
    let digits = match p.digits {
        0 | 1 => 6,
        2 => 8,
        n => return Err(Error::MalformedUri(format!("unknown digit count number {n}"))),
    };
    let kind = match p.otp_type {
        0 | 2 => OtpKind::Totp { period: 30 },
        1 => OtpKind::Hotp { counter: u64::try_from(p.counter).map_err(|_| Error::MalformedUri("negative HOTP counter".into()))? },
        n => return Err(Error::MalformedUri(format!("unknown token type number {n}"))),
    };
    // Google puts "issuer:account" in name when the label had both.
    // Google writes "issuer:account" into the name when there is an issuer. Names and issuers are
    // kept trimmed, so a token exported and read back is the same (an issuer may hold a colon).
    let field = p.issuer.trim();
    let name = p.name.trim();
    let (issuer, account) = if field.is_empty() {
        match name.split_once(':') {
            Some((i, a)) => (Some(i.trim().to_string()).filter(|i| !i.is_empty()), a.trim().to_string()),
            None => (None, name.to_string()),
        }
    } else {
        let account = name.strip_prefix(field).map(str::trim_start).and_then(|r| r.strip_prefix(':')).unwrap_or(name);
        (Some(field.to_string()), account.trim().to_string())
    };
    let secret = Secret::from_slice(&p.secret);
    otp::check_secret(&secret)?;
    Ok(OtpAuth { kind, issuer, account: if account.is_empty() { "(unnamed)".into() } else { account }, secret, algorithm, digits })
}

/// True for `otpauth-migration://` text.
pub fn is_migration(text: &str) -> bool {
    text.trim_start().get(..20).is_some_and(|p| p.eq_ignore_ascii_case("otpauth-migration://"))
}

/// The most QR codes one export may be split into. Google's exports carry about 10 tokens per
/// code, so 100 codes is 1 000 tokens; a larger `batch_size` is refused, never allocated for.
pub const MAX_BATCH_SIZE: u32 = 100;

/// Parses one migration URI.
pub fn parse(uri: &str) -> Result<MigrationPart> {
    let uri = uri.trim();
    if !is_migration(uri) {
        return Err(Error::MalformedUri("not an otpauth-migration:// URI".into()));
    }
    let query = uri.split_once('?').map(|(_, q)| q).ok_or_else(|| Error::MalformedUri("no data parameter".into()))?;
    let data = query.split('&').find_map(|p| p.strip_prefix("data=")).ok_or_else(|| Error::MalformedUri("no data parameter".into()))?;
    let data = percent_decode_str(data).decode_utf8().map_err(|_| Error::MalformedUri("data is not valid percent-encoded text".into()))?;
    let data: String = data.chars().map(|c| if c == ' ' { '+' } else { c }).filter(|c| *c != '=').collect();
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&data)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&data))
        .map_err(|_| Error::MalformedUri("data is not valid base64".into()))?;
    let payload = MigrationPayload::decode(bytes.as_slice()).map_err(|e| Error::MalformedUri(format!("data is not a migration payload ({e})")))?;
    let batch_size = payload.batch_size.max(1) as u32;
    if batch_size > MAX_BATCH_SIZE {
        return Err(Error::TooLarge { what: "QR codes in a migration batch", found: batch_size.into(), limit: MAX_BATCH_SIZE.into() });
    }
    let batch_index = payload.batch_index.max(0) as u32;
    if batch_index >= batch_size {
        return Err(Error::MalformedUri(format!("QR code {} of a batch of {batch_size}", u64::from(batch_index) + 1)));
    }
    Ok(MigrationPart {
        items: payload.otp_parameters.iter().map(|p| (label_of(p), to_otpauth(p))).collect(),
        batch_size,
        batch_index,
        batch_id: payload.batch_id,
    })
}

/// Formats tokens as migration URIs, `per_code` tokens per QR code (Google uses about 10).
pub fn format(tokens: &[OtpAuth], per_code: usize, batch_id: i32) -> Vec<String> {
    let chunks: Vec<&[OtpAuth]> = tokens.chunks(per_code.max(1)).collect();
    let n = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let payload = MigrationPayload {
                otp_parameters: chunk
                    .iter()
                    .map(|t| OtpParameters {
                        secret: t.secret.expose().to_vec(),
                        // As Google writes it: "issuer:account"; without an issuer, an account with a
                        // colon gets a leading ':' so that reading it back splits nothing off.
                        name: match &t.issuer {
                            Some(i) => format!("{i}:{}", t.account),
                            None if t.account.contains(':') => format!(":{}", t.account),
                            None => t.account.clone(),
                        },
                        issuer: t.issuer.clone().unwrap_or_default(),
                        algorithm: match t.algorithm {
                            Algorithm::Sha1 => 1,
                            Algorithm::Sha256 => 2,
                            Algorithm::Sha512 => 3,
                        },
                        digits: if t.digits == 8 { 2 } else { 1 },
                        otp_type: match t.kind {
                            OtpKind::Hotp { .. } => 1,
                            OtpKind::Totp { .. } | OtpKind::Steam => 2,
                        },
                        counter: match t.kind {
                            OtpKind::Hotp { counter } => counter as i64,
                            OtpKind::Totp { .. } | OtpKind::Steam => 0,
                        },
                    })
                    .collect(),
                version: 1,
                batch_size: n as i32,
                batch_index: i as i32,
                batch_id,
            };
            let data = base64::engine::general_purpose::STANDARD.encode(payload.encode_to_vec());
            format!("{PREFIX}?data={}", utf8_percent_encode(&data, NON_ALPHANUMERIC))
        })
        .collect()
}

/// Why a token cannot go into the migration format unchanged (7 digits, periods other than 30 s).
pub fn unsupported_reason(t: &OtpAuth) -> Option<String> {
    if t.kind == OtpKind::Steam {
        return Some("Google Authenticator's format cannot hold Steam tokens".into());
    }
    if t.digits != 6 && t.digits != 8 {
        return Some(format!("{} digits cannot be expressed in Google Authenticator's format", t.digits));
    }
    match t.kind {
        OtpKind::Totp { period } if period != 30 => Some(format!("a {period} s period cannot be expressed in Google Authenticator's format")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(account: &str, secret: &[u8], alg: Algorithm, digits: u8, kind: OtpKind) -> OtpAuth {
        OtpAuth { kind, issuer: Some("ACME".into()), account: account.into(), secret: Secret::from_slice(secret), algorithm: alg, digits }
    }

    #[test]
    fn a_name_that_starts_with_a_colon_gives_no_empty_issuer() {
        // Found by the fuzzer (fuzz/fuzz_targets/migration.rs, export → import round trip): the
        // name ":acct" read as issuer Some(""), which exported as no issuer, so the token came back
        // different from what was imported.
        let secret = b"1234567890";
        let payload = MigrationPayload {
            otp_parameters: vec![OtpParameters {
                secret: secret.to_vec(),
                name: ":acct".into(),
                issuer: String::new(),
                algorithm: 1,
                digits: 1,
                otp_type: 2,
                counter: 0,
            }],
            version: 1,
            batch_size: 1,
            batch_index: 0,
            batch_id: 7,
        };
        let data = base64::engine::general_purpose::STANDARD.encode(payload.encode_to_vec());
        let part = parse(&format!("otpauth-migration://offline?data={data}")).unwrap();
        let t = part.items[0].1.as_ref().unwrap();
        assert_eq!((t.issuer.as_deref(), t.account.as_str()), (None, "acct"));
        let back = parse(&format(std::slice::from_ref(t), 10, 1)[0]).unwrap();
        assert_eq!(back.items[0].1.as_ref().unwrap(), t);
        // Found next: an account that keeps a colon ("::x" reads as account ":x") lost it on the
        // way back; so did "b:c" under issuer "b".
        for (issuer, account) in
            [(None, ":x"), (None, "b:c"), (Some("b"), "b:c"), (Some("A"), "b:c"), (Some("\n,,le"), "alice"), (Some(":x:"), "(unnamed)"), (Some("A"), " : b ")]
        {
            // Read once (names trimmed), then exported and read again: the same token.
            let t = OtpAuth { issuer: issuer.map(str::to_string), account: account.into(), ..t.clone() };
            let once = parse(&format(std::slice::from_ref(&t), 10, 1)[0]).unwrap().items.remove(0).1.unwrap();
            let back = parse(&format(std::slice::from_ref(&once), 10, 1)[0]).unwrap();
            assert_eq!(back.items[0].1.as_ref().unwrap(), &once, "{issuer:?} {account:?}");
        }
    }

    #[test]
    fn round_trip_in_batches() {
        let tokens: Vec<OtpAuth> = (0..25u8)
            .map(|i| {
                token(
                    &format!("user{i}"),
                    &[i; 10],
                    if i % 2 == 0 { Algorithm::Sha1 } else { Algorithm::Sha256 },
                    if i % 3 == 0 { 8 } else { 6 },
                    if i == 7 { OtpKind::Hotp { counter: 42 } } else { OtpKind::Totp { period: 30 } },
                )
            })
            .collect();
        let uris = format(&tokens, 10, 77);
        assert_eq!(uris.len(), 3);
        let mut back = Vec::new();
        for (i, u) in uris.iter().enumerate() {
            let part = parse(u).unwrap();
            assert_eq!((part.batch_size, part.batch_index, part.batch_id), (3, i as u32, 77));
            back.extend(part.items.into_iter().map(|(_, t)| t.unwrap()));
        }
        assert_eq!(back, tokens);
    }

    #[test]
    fn a_known_google_export() {
        // Built by hand from the protobuf wire format: one TOTP "Example:alice" SHA1/6, secret
        // "Hello!\xde\xad\xbe\xef" (JBSWY3DPEHPK3PXP), version 1, batch 1 of 1.
        let mut msg = vec![0x0a, 0x28];
        msg.extend([0x0a, 0x0a]);
        msg.extend(b"Hello!\xde\xad\xbe\xef");
        msg.extend([0x12, 0x0d]);
        msg.extend(b"Example:alice");
        msg.extend([0x1a, 0x07]);
        msg.extend(b"Example");
        msg.extend([0x20, 0x01, 0x28, 0x01, 0x30, 0x02]);
        msg.extend([0x10, 0x01, 0x18, 0x01, 0x20, 0x00, 0x28, 0x00]);
        let uri = format!("{PREFIX}?data={}", utf8_percent_encode(&base64::engine::general_purpose::STANDARD.encode(&msg), NON_ALPHANUMERIC));
        let part = parse(&uri).unwrap();
        let t = part.items[0].1.as_ref().unwrap();
        assert_eq!(part.items[0].0, "Example: Example:alice");
        assert_eq!((t.issuer.as_deref(), t.account.as_str()), (Some("Example"), "alice"));
        assert_eq!(super::super::otpauth::encode_base32(&t.secret), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn broken_items_are_reported_alone() {
        let good = token("ok", b"0123456789", Algorithm::Sha1, 6, OtpKind::Totp { period: 30 });
        let mut uri = format(&[good.clone(), good], 10, 1).remove(0);
        // Re-encode with an MD5 item in the middle.
        let part = parse(&uri).unwrap();
        assert_eq!(part.items.len(), 2);
        let mut payload = MigrationPayload { otp_parameters: vec![], version: 1, batch_size: 1, batch_index: 0, batch_id: 1 };
        payload.otp_parameters.push(OtpParameters {
            secret: b"0123456789".to_vec(),
            name: "a".into(),
            issuer: String::new(),
            algorithm: 1,
            digits: 1,
            otp_type: 2,
            counter: 0,
        });
        payload.otp_parameters.push(OtpParameters {
            secret: b"0123456789".to_vec(),
            name: "md5".into(),
            issuer: String::new(),
            algorithm: 4,
            digits: 1,
            otp_type: 2,
            counter: 0,
        });
        payload.otp_parameters.push(OtpParameters {
            secret: vec![],
            name: "empty".into(),
            issuer: String::new(),
            algorithm: 1,
            digits: 1,
            otp_type: 2,
            counter: 0,
        });
        uri = format!("{PREFIX}?data={}", utf8_percent_encode(&base64::engine::general_purpose::STANDARD.encode(payload.encode_to_vec()), NON_ALPHANUMERIC));
        let part = parse(&uri).unwrap();
        assert!(part.items[0].1.is_ok());
        assert!(part.items[1].1.as_ref().unwrap_err().to_string().contains("MD5"));
        assert_eq!(part.items[2].1.as_ref().unwrap_err().to_string(), "secret: is empty");
        assert!(parse("otpauth-migration://offline?data=!!!").is_err());
        assert!(parse("otpauth-migration://offline").is_err());
        assert!(parse("otpauth-migration://offline?data=AAAA").is_err() || parse("otpauth-migration://offline?data=AAAA").unwrap().items.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let uri = format!("{PREFIX}?data={}", utf8_percent_encode(&base64::engine::general_purpose::STANDARD.encode(&data), NON_ALPHANUMERIC));
            let _ = parse(&uri);
        }
    }
}
