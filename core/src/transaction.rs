//! Push transactions of softtoken's open protocol (`docs/protocol.md` §1–§4): keys derived from the
//! identity's seed, the canonical encoding, authenticated answers and offline confirmation codes.
//!
//! Entrust's transaction protocol is not public, so none of this interoperates with Entrust servers.
//! Every key is derived by HKDF with its own `info` string (purpose and serial), so the answer key,
//! the confirmation key and the fetch key never coincide, with each other or with the seed.

use crate::error::{Error, Field, Result};
use crate::secret::is_lower_hex;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::{hkdf, hmac};
use zeroize::Zeroizing;

/// HKDF salt of protocol version 1; a new version changes it.
pub const SALT_V1: &str = "softtoken transaction v1";
/// Seconds an answer's time may differ from the provider's clock.
pub const MAX_ANSWER_SKEW_S: u64 = 300;

/// What a key derived from the seed is for (`docs/protocol.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// The MAC on an answer.
    Answer,
    /// The offline confirmation code.
    Confirmation,
    /// The MAC authenticating a fetch of pending transactions.
    Fetch,
}

impl KeyPurpose {
    fn label(self) -> &'static str {
        match self {
            KeyPurpose::Answer => "answer",
            KeyPurpose::Confirmation => "confirmation",
            KeyPurpose::Fetch => "fetch",
        }
    }
}

/// The 32-byte key for `purpose`: HKDF-SHA256(seed, salt v1, "softtoken/v1/<purpose>/<serial>").
pub fn derive_key(seed: &[u8], serial: &str, purpose: KeyPurpose) -> Zeroizing<[u8; 32]> {
    let info = format!("softtoken/v1/{}/{serial}", purpose.label());
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf_sha256(seed, SALT_V1.as_bytes(), info.as_bytes(), &mut key[..]).expect("32 bytes is a valid HKDF-SHA256 length");
    key
}

/// The length of an HKDF output, for ring's `expand`.
struct OkmLen(usize);

impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA256 (RFC 5869) of `ikm` with `salt` and `info` into `out`; `None` when `out` is longer
/// than HKDF allows (255 × 32 bytes).
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) -> Option<()> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info_parts = [info];
    prk.expand(&info_parts, OkmLen(out.len())).ok()?.fill(out).ok()
}

/// A transaction as the provider created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// 32 lowercase hex digits (128 random bits), chosen by the provider.
    pub id: String,
    /// The identity's serial number (dashed) or provider-issued id.
    pub serial: String,
    /// What the user is asked to approve.
    pub summary: String,
    /// Key/value details, in the provider's order.
    pub details: Vec<(String, String)>,
    /// Unix seconds, provider clock.
    pub created_at: u64,
    /// Unix seconds, provider clock.
    pub expires_at: u64,
    /// Whether the user must type the two-digit number the website shows.
    pub number_match: bool,
}

/// How the user answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Response {
    /// The sign-in proceeds and is logged.
    Confirm,
    /// Nothing happens and nothing is logged.
    Cancel,
    /// The sign-in is denied and logged for the administrator.
    Suspicious,
}

impl Response {
    /// The protocol's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Response::Confirm => "confirm",
            Response::Cancel => "cancel",
            Response::Suspicious => "suspicious",
        }
    }

    /// Parses "confirm", "cancel" or "suspicious".
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "confirm" => Ok(Response::Confirm),
            "cancel" => Ok(Response::Cancel),
            "suspicious" => Ok(Response::Suspicious),
            other => Err(Error::invalid(Field::Transaction, format!("unknown response {other:?}: expected confirm, cancel or suspicious"))),
        }
    }
}

/// An answer to a transaction, before it is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// What the user chose.
    pub response: Response,
    /// Unix seconds, the app's clock corrected by the provider's offset.
    pub answered_at: u64,
    /// The number the user typed (10–99) when the transaction asks for one, else 0.
    pub number: u8,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl Transaction {
    /// Checks the id's shape and the times.
    pub fn validate(&self) -> Result<()> {
        if !is_lower_hex(&self.id, 32) {
            return Err(Error::invalid(Field::Transaction, "id must be 32 lowercase hex digits"));
        }
        if self.expires_at <= self.created_at {
            return Err(Error::invalid(Field::Transaction, "expires before it was created"));
        }
        Ok(())
    }

    /// The canonical encoding (`docs/protocol.md` §2).
    pub fn canonical(&self) -> Vec<u8> {
        let mut out = b"softtoken-tx-v1".to_vec();
        put_str(&mut out, &self.id);
        put_str(&mut out, &self.serial);
        put_str(&mut out, &self.summary);
        out.extend_from_slice(&(self.details.len() as u32).to_be_bytes());
        for (k, v) in &self.details {
            put_str(&mut out, k);
            put_str(&mut out, v);
        }
        out.extend_from_slice(&self.created_at.to_be_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.push(u8::from(self.number_match));
        out
    }

    /// The bytes an answer's MAC covers (`docs/protocol.md` §3).
    pub fn answer_bytes(&self, answer: &Answer) -> Vec<u8> {
        let mut out = self.canonical();
        put_str(&mut out, answer.response.as_str());
        out.extend_from_slice(&answer.answered_at.to_be_bytes());
        out.push(answer.number);
        out
    }

    /// Checks the number against the transaction's number-matching setting.
    pub fn check_number(&self, number: u8) -> Result<()> {
        match (self.number_match, number) {
            (true, 10..=99) | (false, 0) => Ok(()),
            (true, _) => Err(Error::invalid(Field::Transaction, "type the two-digit number the website shows")),
            (false, _) => Err(Error::invalid(Field::Transaction, "this transaction asks for no number")),
        }
    }
}

/// Only Confirm carries the number the website shows; Cancel and Suspicious carry 0, because the
/// user who did not start a sign-in never sees its number and must still be able to report it.
pub fn check_answer_number(tx: &Transaction, response: Response, number: u8) -> Result<()> {
    match response {
        Response::Confirm => tx.check_number(number),
        Response::Cancel | Response::Suspicious if number == 0 => Ok(()),
        Response::Cancel | Response::Suspicious => Err(Error::invalid(Field::Transaction, "only Confirm carries the number the website shows")),
    }
}

/// The scheme of the `Authorization` header that carries an identity request's time and MAC
/// (`Authorization: Softtoken-MAC at=T, mac=M`); MACs never travel in URLs.
pub const AUTH_SCHEME: &str = "Softtoken-MAC";

/// Reads `at` and `mac` from an `Authorization` header value of [`AUTH_SCHEME`].
pub fn parse_authorization(value: &str) -> Option<(u64, &str)> {
    let rest = value.trim().strip_prefix(AUTH_SCHEME)?.trim_start();
    let mut at = None;
    let mut mac = None;
    for part in rest.split(',') {
        match part.trim().split_once('=')? {
            ("at", v) => at = Some(v.parse().ok()?),
            ("mac", v) => mac = Some(v),
            _ => return None,
        }
    }
    Some((at?, mac?))
}

/// The base64url MAC of an answer, made with the identity's seed.
pub fn answer_mac(seed: &[u8], tx: &Transaction, answer: &Answer) -> Result<String> {
    tx.validate()?;
    check_answer_number(tx, answer.response, answer.number)?;
    let key = derive_key(seed, &tx.serial, KeyPurpose::Answer);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key[..]), &tx.answer_bytes(answer));
    Ok(URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Whether `mac` authenticates `answer` to `tx` (constant-time comparison).
pub fn verify_answer_mac(seed: &[u8], tx: &Transaction, answer: &Answer, mac: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(mac) else { return false };
    let key = derive_key(seed, &tx.serial, KeyPurpose::Answer);
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &key[..]), &tx.answer_bytes(answer), &tag).is_ok()
}

/// The 8-digit offline confirmation code for transaction `id` of identity `serial`
/// (`docs/protocol.md` §4). Dashes and spaces in a typed id are ignored.
pub fn confirmation_code(seed: &[u8], serial: &str, id: &str) -> Result<String> {
    let id: String = id.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    let hex32 = is_lower_hex(&id, 32);
    let digits10 = id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit());
    if !hex32 && !digits10 {
        return Err(Error::invalid(Field::Transaction, "id must be 10 digits (offline) or 32 lowercase hex digits"));
    }
    let key = derive_key(seed, serial, KeyPurpose::Confirmation);
    let mut msg = b"softtoken-confirm-v1".to_vec();
    put_str(&mut msg, serial);
    put_str(&mut msg, &id);
    let h = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key[..]), &msg);
    // RFC 4226 dynamic truncation, as for OTPs (the last byte of the 32-byte MAC picks the offset).
    Ok(crate::otp::format_code(crate::otp::truncate(h.as_ref(), 8), 8))
}

/// Whether `code` is the confirmation code of transaction `id` (constant-time comparison).
pub fn verify_confirmation_code(seed: &[u8], serial: &str, id: &str, code: &str) -> bool {
    let Ok(expected) = confirmation_code(seed, serial, id) else { return false };
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    typed.len() == expected.len() && subtle::ConstantTimeEq::ct_eq(typed.as_bytes(), expected.as_bytes()).into()
}

/// Longest push token accepted (FCM tokens are about 160 characters, APNs 64 hex digits).
pub const MAX_PUSH_TOKEN: usize = 4096;

/// Checks a push token (FCM/APNs) before it is sent or stored: not empty, not too long, no
/// control characters.
pub fn check_push_token(token: &str) -> Result<()> {
    if token.trim().is_empty() || token.len() > MAX_PUSH_TOKEN || token.chars().any(char::is_control) {
        return Err(Error::invalid(Field::Transaction, "the push token is empty, too long or has control characters"));
    }
    Ok(())
}

/// A request the app authenticates with the identity's fetch key (`docs/protocol.md` §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityRequest<'a> {
    /// Listing pending transactions.
    Fetch,
    /// Forgetting the identity (the app removed it).
    Unregister,
    /// Recording the push token that wakes the app.
    PushToken(&'a str),
}

impl IdentityRequest<'_> {
    fn label(&self) -> &'static [u8] {
        match self {
            IdentityRequest::Fetch => b"softtoken-fetch-v1",
            IdentityRequest::Unregister => b"softtoken-unregister-v1",
            IdentityRequest::PushToken(_) => b"softtoken-push-token-v1",
        }
    }
}

/// The base64url MAC authenticating `request` of identity `serial` at Unix time `at`:
/// HMAC(key("fetch"), label || str(serial) || u64(at) [|| str(push token)]).
pub fn request_mac(seed: &[u8], serial: &str, request: IdentityRequest<'_>, at: u64) -> String {
    let key = derive_key(seed, serial, KeyPurpose::Fetch);
    let mut msg = request.label().to_vec();
    put_str(&mut msg, serial);
    msg.extend_from_slice(&at.to_be_bytes());
    if let IdentityRequest::PushToken(token) = request {
        put_str(&mut msg, token);
    }
    URL_SAFE_NO_PAD.encode(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key[..]), &msg).as_ref())
}

/// Whether `mac` authenticates `request` (constant-time comparison).
pub fn verify_request_mac(seed: &[u8], serial: &str, request: IdentityRequest<'_>, at: u64, mac: &str) -> bool {
    let expected = request_mac(seed, serial, request, at);
    expected.len() == mac.len() && subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), mac.as_bytes()).into()
}

/// The base64url MAC authenticating a fetch of pending transactions at `at` (`docs/protocol.md` §5).
pub fn fetch_mac(seed: &[u8], serial: &str, at: u64) -> String {
    request_mac(seed, serial, IdentityRequest::Fetch, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn vectors() -> Value {
        serde_json::from_str(include_str!("../../fixtures/vectors/transactions.json")).unwrap()
    }

    fn tx_of(v: &Value) -> Transaction {
        Transaction {
            id: v["id"].as_str().unwrap().into(),
            serial: v["serial"].as_str().unwrap().into(),
            summary: v["summary"].as_str().unwrap().into(),
            details: v["details"].as_array().unwrap().iter().map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into())).collect(),
            created_at: v["created_at"].as_u64().unwrap(),
            expires_at: v["expires_at"].as_u64().unwrap(),
            number_match: v["number_match"].as_bool().unwrap(),
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// Every value of the vectors computed independently (Python standard library).
    #[test]
    fn matches_the_independent_vectors() {
        let v = vectors();
        let mut checked = 0;
        for case in v["cases"].as_array().unwrap() {
            let seed: Vec<u8> = (0..case["seed_hex"].as_str().unwrap().len() / 2)
                .map(|i| u8::from_str_radix(&case["seed_hex"].as_str().unwrap()[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            let tx = tx_of(&case["transaction"]);
            assert_eq!(hex(&tx.canonical()), case["canonical_hex"].as_str().unwrap());
            for (purpose, name) in [(KeyPurpose::Answer, "answer"), (KeyPurpose::Confirmation, "confirmation"), (KeyPurpose::Fetch, "fetch")] {
                assert_eq!(hex(&derive_key(&seed, &tx.serial, purpose)[..]), case["keys_hex"][name].as_str().unwrap(), "{name}");
            }
            assert_eq!(confirmation_code(&seed, &tx.serial, &tx.id).unwrap(), case["confirmation_code"].as_str().unwrap());
            let offline = case["offline_id"].as_str().unwrap();
            let code = case["offline_confirmation_code"].as_str().unwrap();
            assert_eq!(confirmation_code(&seed, &tx.serial, offline).unwrap(), code);
            assert!(verify_confirmation_code(&seed, &tx.serial, "31415-92653", code));
            assert!(!verify_confirmation_code(&seed, &tx.serial, "31415-92654", code));
            let at = case["fetch_at"].as_u64().unwrap();
            assert_eq!(fetch_mac(&seed, &tx.serial, at), case["fetch_mac"].as_str().unwrap());
            assert_eq!(request_mac(&seed, &tx.serial, IdentityRequest::Unregister, at), case["unregister_mac"].as_str().unwrap());
            let token = case["push_token"].as_str().unwrap();
            let mac = request_mac(&seed, &tx.serial, IdentityRequest::PushToken(token), at);
            assert_eq!(mac, case["push_token_mac"].as_str().unwrap());
            assert!(verify_request_mac(&seed, &tx.serial, IdentityRequest::PushToken(token), at, &mac));
            assert!(!verify_request_mac(&seed, &tx.serial, IdentityRequest::PushToken("other"), at, &mac));
            assert!(!verify_request_mac(&seed, &tx.serial, IdentityRequest::Unregister, at, &mac));
            for a in case["answers"].as_array().unwrap() {
                let answer = Answer {
                    response: Response::parse(a["response"].as_str().unwrap()).unwrap(),
                    answered_at: a["answered_at"].as_u64().unwrap(),
                    number: a["number"].as_u64().unwrap() as u8,
                };
                let mac = answer_mac(&seed, &tx, &answer).unwrap();
                assert_eq!(mac, a["mac"].as_str().unwrap());
                assert!(verify_answer_mac(&seed, &tx, &answer, &mac));
                checked += 1;
            }
        }
        assert!(checked >= 4);
    }

    fn sample() -> (Vec<u8>, Transaction, Answer) {
        let tx = Transaction {
            id: "0123456789abcdef0123456789abcdef".into(),
            serial: "48244-13456".into(),
            summary: "Sign in to Example Bank".into(),
            details: vec![("IP".into(), "192.0.2.7".into()), ("Browser".into(), "Firefox".into())],
            created_at: 1_800_000_000,
            expires_at: 1_800_000_120,
            number_match: false,
        };
        (vec![7u8; 16], tx, Answer { response: Response::Confirm, answered_at: 1_800_000_030, number: 0 })
    }

    #[test]
    fn any_changed_field_breaks_the_mac() {
        let (seed, tx, answer) = sample();
        let mac = answer_mac(&seed, &tx, &answer).unwrap();
        let mut changed = Vec::new();
        let mut t = tx.clone();
        t.summary.push('!');
        changed.push((t, answer));
        let mut t = tx.clone();
        t.details.swap(0, 1);
        changed.push((t, answer));
        let mut t = tx.clone();
        t.expires_at += 1;
        changed.push((t, answer));
        let mut t = tx.clone();
        t.id.replace_range(0..1, "f");
        changed.push((t, answer));
        changed.push((tx.clone(), Answer { response: Response::Suspicious, ..answer }));
        changed.push((tx.clone(), Answer { answered_at: answer.answered_at + 1, ..answer }));
        for (t, a) in changed {
            assert!(!verify_answer_mac(&seed, &t, &a, &mac), "{t:?} {a:?}");
        }
        assert!(!verify_answer_mac(&[8u8; 16], &tx, &answer, &mac), "another seed");
        assert!(!verify_answer_mac(&seed, &tx, &answer, "not base64!"));
        assert!(verify_answer_mac(&seed, &tx, &answer, &mac));
    }

    #[test]
    fn length_prefixes_keep_fields_apart() {
        let (_, tx, _) = sample();
        let mut a = tx.clone();
        a.summary = "ab".into();
        a.details = vec![("c".into(), "d".into())];
        let mut b = tx;
        b.summary = "a".into();
        b.details = vec![("bc".into(), "d".into())];
        assert_ne!(a.canonical(), b.canonical());
    }

    #[test]
    fn keys_are_separated_by_purpose_and_serial() {
        let seed = [1u8; 16];
        let a = derive_key(&seed, "48244-13456", KeyPurpose::Answer);
        assert_ne!(*a, *derive_key(&seed, "48244-13456", KeyPurpose::Confirmation));
        assert_ne!(*a, *derive_key(&seed, "48244-13456", KeyPurpose::Fetch));
        assert_ne!(*a, *derive_key(&seed, "48244-13457", KeyPurpose::Answer));
    }

    #[test]
    fn number_matching_and_bad_transactions_are_refused() {
        let (seed, mut tx, answer) = sample();
        tx.number_match = true;
        assert!(matches!(answer_mac(&seed, &tx, &answer), Err(Error::Invalid { field: Field::Transaction, .. })));
        assert!(answer_mac(&seed, &tx, &Answer { number: 42, ..answer }).is_ok());
        assert!(answer_mac(&seed, &tx, &Answer { number: 100, ..answer }).is_err());
        // Cancel needs no number.
        assert!(answer_mac(&seed, &tx, &Answer { response: Response::Cancel, ..answer }).is_ok());
        tx.number_match = false;
        assert!(answer_mac(&seed, &tx, &Answer { number: 42, ..answer }).is_err());
        tx.id = "XYZ".into();
        assert!(answer_mac(&seed, &tx, &answer).is_err());
        assert!(confirmation_code(&seed, &tx.serial, "12345").is_err());
        assert!(!verify_confirmation_code(&seed, &tx.serial, "12345", "00000000"));
        assert!(Response::parse("approve").is_err());
    }

    #[test]
    fn confirmation_codes_have_eight_digits_and_differ_per_transaction() {
        let (seed, tx, _) = sample();
        let c = confirmation_code(&seed, &tx.serial, &tx.id).unwrap();
        assert_eq!(c.len(), 8);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(confirmation_code(&seed, &tx.serial, "ffffffffffffffffffffffffffffffff").unwrap(), c);
        assert_ne!(confirmation_code(&seed, "48244-13457", &tx.id).unwrap(), c);
    }
}
