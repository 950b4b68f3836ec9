//! Imports from other authenticators. Every input becomes a list of (label, identity or the reason
//! it cannot be used), so an import can store every good item and report every bad one, plus
//! notices for what an item carried that softtoken does not keep (notes, groups).
//!
//! One module per format, each written from the format's published description; [`detect`] looks
//! at the content (magic bytes, JSON shape), never at a file name. Reading files is the shell's
//! job; this module only looks at their bytes, and decrypts everything before a vault is touched.

pub mod aegis;
mod andotp;
mod bitwarden;
pub mod crypto;
mod ente;
mod freeotp;
mod lastpass;
mod proton;
mod steam;
mod stratum;
mod twofas;

use crate::activation::otpauth_identity;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::uri::{migration, OtpAuth};
use ring::rand::SecureRandom;
use serde_json::Value;

/// Largest input read (far above any real export; bounds hostile input).
pub const MAX_INPUT_BYTES: usize = 64 << 20;
/// Most items one input may hold.
pub const MAX_ITEMS: usize = 100_000;

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// A softtoken encrypted backup (needs its password).
    Backup,
    /// Text: otpauth://, otpauth-migration:// and steam:// URIs, one per line (Google
    /// Authenticator's export QR codes, most apps' plain text exports).
    UriText,
    /// Aegis Authenticator's JSON export, plain or encrypted.
    Aegis,
    /// 2FAS Authenticator's `.2fas` backup (schemas 1–4), plain or encrypted.
    TwoFas,
    /// Ente Auth: plain text export (otpauth lines) or encrypted JSON export.
    Ente,
    /// Bitwarden's JSON or CSV export (unencrypted).
    Bitwarden,
    /// Stratum / Authenticator Pro: plain JSON, encrypted, or the legacy encrypted format.
    Stratum,
    /// andOTP: plain JSON, encrypted, or the old encrypted format.
    AndOtp,
    /// FreeOTP+'s JSON export.
    FreeOtpPlus,
    /// Proton Authenticator's JSON export.
    Proton,
    /// LastPass Authenticator's JSON export.
    LastPass,
    /// A Steam Guard `.maFile` (Steam Desktop Authenticator).
    Steam,
}

impl Format {
    /// Every format, in the order `--format` lists them.
    pub const ALL: [Format; 12] = [
        Format::Backup,
        Format::UriText,
        Format::Aegis,
        Format::TwoFas,
        Format::Ente,
        Format::Bitwarden,
        Format::Stratum,
        Format::AndOtp,
        Format::FreeOtpPlus,
        Format::Proton,
        Format::LastPass,
        Format::Steam,
    ];

    /// The name `--format` takes: `backup`, `otpauth`, `aegis`, `2fas`, `ente`, `bitwarden`,
    /// `stratum`, `andotp`, `freeotp+`, `proton`, `lastpass`, `steam`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Backup => "backup",
            Format::UriText => "otpauth",
            Format::Aegis => "aegis",
            Format::TwoFas => "2fas",
            Format::Ente => "ente",
            Format::Bitwarden => "bitwarden",
            Format::Stratum => "stratum",
            Format::AndOtp => "andotp",
            Format::FreeOtpPlus => "freeotp+",
            Format::Proton => "proton",
            Format::LastPass => "lastpass",
            Format::Steam => "steam",
        }
    }

    /// The app, as errors and reports name it.
    pub fn app(self) -> &'static str {
        match self {
            Format::Backup => "softtoken backup",
            Format::UriText => "otpauth text",
            Format::Aegis => "Aegis",
            Format::TwoFas => "2FAS",
            Format::Ente => "Ente Auth",
            Format::Bitwarden => "Bitwarden",
            Format::Stratum => "Stratum",
            Format::AndOtp => "andOTP",
            Format::FreeOtpPlus => "FreeOTP+",
            Format::Proton => "Proton Authenticator",
            Format::LastPass => "LastPass Authenticator",
            Format::Steam => "Steam Guard",
        }
    }

    /// Parses a `--format` name (case-insensitive; `authenticator-pro`, `freeotp-plus`, `google`,
    /// `uris` and `mafile` are accepted too).
    pub fn from_name(name: &str) -> Result<Self> {
        let n = name.trim().to_ascii_lowercase();
        let alias = match n.as_str() {
            "authenticator-pro" | "authenticatorpro" => Some(Format::Stratum),
            "freeotp-plus" | "freeotpplus" | "freeotp" => Some(Format::FreeOtpPlus),
            "google" | "uris" | "uri" | "text" | "migration" => Some(Format::UriText),
            "mafile" | "steamguard" => Some(Format::Steam),
            "proton-authenticator" => Some(Format::Proton),
            "twofas" => Some(Format::TwoFas),
            _ => None,
        };
        alias.or_else(|| Format::ALL.into_iter().find(|f| f.name() == n)).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            Error::UnknownImportFormat(format!("{name:?} is not one of {}", names.join(", ")))
        })
    }
}

/// What reading an input produced.
#[derive(Debug)]
pub struct Parsed {
    /// The format it was read as.
    pub format: Format,
    /// Each item's label and identity, or why it cannot be stored.
    pub items: Vec<(String, Result<Identity>)>,
    /// What items carried that softtoken does not keep (label, what), e.g. a note or a group.
    pub notices: Vec<(String, String)>,
}

/// What a format reader needs and fills: the password (if given), time and randomness for new
/// identities, and the items, notices and migration batches found.
pub(crate) struct Cx<'a> {
    format: Format,
    password: Option<&'a str>,
    now: u64,
    rng: &'a dyn SecureRandom,
    items: Vec<(String, Result<Identity>)>,
    notices: Vec<(String, String)>,
    batches: &'a mut Vec<BatchSeen>,
    /// The input's JSON when detection already parsed it (so it is parsed once).
    json: Option<Value>,
}

impl Cx<'_> {
    /// The input's JSON document, if it is one (the one detection parsed, else parsed now).
    fn document(&mut self, bytes: &[u8]) -> Option<Value> {
        self.json.take().or_else(|| json_of(bytes))
    }

    /// The input's JSON document, or [`Error::MalformedExport`] saying why it is not JSON.
    fn document_or_err(&mut self, bytes: &[u8]) -> Result<Value> {
        match self.json.take() {
            Some(v) => Ok(v),
            None => serde_json::from_slice(bytes).map_err(|e| self.malformed(format!("not JSON: {e}"))),
        }
    }

    /// The export password, or [`Error::ExportPasswordNeeded`].
    fn password(&self) -> Result<&str> {
        self.password.ok_or(Error::ExportPasswordNeeded { format: self.format.app() })
    }

    /// [`Error::MalformedExport`] for this format.
    fn malformed(&self, reason: impl Into<String>) -> Error {
        crypto::malformed(self.format.app(), reason)
    }

    /// Adds one token (or why it cannot be read) under `label`.
    fn token(&mut self, label: String, token: Result<OtpAuth>) -> Result<()> {
        if self.items.len() >= MAX_ITEMS {
            return Err(Error::TooLarge { what: "items in one import", found: self.items.len() as u64 + 1, limit: MAX_ITEMS as u64 });
        }
        let item = token.and_then(|t| otpauth_identity(&t, None, self.now, self.rng));
        self.items.push((label, item));
        Ok(())
    }

    /// Adds an item that could not be read at all.
    fn skip(&mut self, label: String, reason: Error) -> Result<()> {
        self.token(label, Err(reason))
    }

    /// Records what `label` carried that is not kept.
    fn notice(&mut self, label: &str, what: impl Into<String>) {
        if self.notices.len() < MAX_ITEMS {
            self.notices.push((label.to_string(), what.into()));
        }
    }

    /// Records a non-empty note of `label` as not kept.
    fn note(&mut self, label: &str, note: Option<&str>) {
        if let Some(n) = note.map(str::trim).filter(|n| !n.is_empty()) {
            let chars = n.chars().count();
            self.notice(label, format!("its note ({chars} characters) is not kept: softtoken identities have no notes"));
        }
    }
}

/// "issuer: account", or whichever of them is not empty, or "(unnamed)".
pub(crate) fn label(issuer: &str, account: &str) -> String {
    match (issuer.trim(), account.trim()) {
        ("", "") => "(unnamed)".into(),
        ("", a) => a.to_string(),
        (i, "") => i.to_string(),
        (i, a) => format!("{i}: {a}"),
    }
}

/// The JSON an input holds, if it is JSON (a UTF-8 byte order mark before it is allowed).
fn json_of(bytes: &[u8]) -> Option<Value> {
    let bytes = strip_bom(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    serde_json::from_slice(bytes).ok()
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(bytes)
}

/// Which format a JSON document's shape is.
fn json_format(v: &Value) -> Option<Format> {
    let has = |k: &str| v.get(k).is_some();
    if let Some(a) = v.as_array() {
        // andOTP: an array of entries with a secret and a type (an empty array is andOTP too).
        return a.iter().all(|e| e.get("secret").is_some() && e.get("type").is_some()).then_some(Format::AndOtp);
    }
    if has("header") && has("db") {
        Some(Format::Aegis)
    } else if has("schemaVersion") && (has("services") || has("servicesEncrypted")) {
        Some(Format::TwoFas)
    } else if has("kdfParams") && has("encryptedData") {
        Some(Format::Ente)
    } else if has("items") && (has("encrypted") || has("folders") || has("collections")) || has("passwordProtected") {
        Some(Format::Bitwarden)
    } else if has("Authenticators") {
        Some(Format::Stratum)
    } else if has("tokens")
        && (has("tokenOrder")
            || v["tokens"].as_array().is_some_and(|t| t.iter().all(|e| e.get("issuerExt").is_some() || e.get("secret").is_some_and(Value::is_array))))
    {
        Some(Format::FreeOtpPlus)
    } else if has("entries") && has("version") || (has("salt") && has("content") && has("version")) {
        Some(Format::Proton)
    } else if has("accounts") && has("version") {
        Some(Format::LastPass)
    } else if has("shared_secret") || steam::is_accounts_file(v) {
        Some(Format::Steam)
    } else {
        None
    }
}

/// Recognises an input by its content; `None` when no format matches.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    sniff(bytes).0
}

/// [`detect`], with the JSON document it parsed on the way (for the reader to use).
fn sniff(bytes: &[u8]) -> (Option<Format>, Option<Value>) {
    if bytes.starts_with(crate::vault::backup::MAGIC) {
        return (Some(Format::Backup), None);
    }
    if bytes.starts_with(stratum::HEADER) || bytes.starts_with(stratum::HEADER_LEGACY) {
        return (Some(Format::Stratum), None);
    }
    if let Some(v) = json_of(bytes) {
        return (json_format(&v), Some(v));
    }
    (detect_text(bytes), None)
}

/// The formats of inputs that are not JSON: CSV, URI text, andOTP's encrypted binary.
fn detect_text(bytes: &[u8]) -> Option<Format> {
    let Ok(text) = std::str::from_utf8(strip_bom(bytes)) else {
        // Binary without a magic: andOTP's encrypted exports have none.
        return andotp::looks_encrypted(bytes).then_some(Format::AndOtp);
    };
    if bitwarden::is_csv(text) {
        return Some(Format::Bitwarden);
    }
    let uri = text.lines().map(str::trim).any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("otpauth://") || l.starts_with("otpauth-migration://") || l.starts_with("steam://")
    });
    // Ente's plain export is otpauth text with its own `codeDisplay` parameter.
    let ente = text.lines().any(|l| l.trim_start().get(..10).is_some_and(|p| p.eq_ignore_ascii_case("otpauth://")) && l.contains("codeDisplay="));
    uri.then_some(if ente { Format::Ente } else { Format::UriText })
}

/// Reads an input as `format` (or the detected one). `password` is needed only by encrypted
/// inputs: without it they return [`Error::ExportPasswordNeeded`], so a caller asks for the
/// password only when it is needed and reads again.
pub fn read(bytes: &[u8], format: Option<Format>, password: Option<&str>, now: u64, rng: &dyn SecureRandom, batches: &mut Vec<BatchSeen>) -> Result<Parsed> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(Error::TooLarge { what: "bytes in an import file", found: bytes.len() as u64, limit: MAX_INPUT_BYTES as u64 });
    }
    let (format, json) = match format {
        Some(f) => (f, None),
        None => match sniff(bytes) {
            (Some(f), json) => (f, json),
            (None, _) => {
                // A JSON document cut short (a truncated download, a half-copied file) is damage,
                // not an unknown format: say which.
                let text = strip_bom(bytes);
                if matches!(text.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'[')) {
                    if let Err(e) = serde_json::from_slice::<Value>(text) {
                        if e.is_eof() || e.is_syntax() {
                            return Err(Error::MalformedExport {
                                format: "export",
                                reason: format!("the file is not complete JSON ({e}): it is truncated or damaged"),
                            });
                        }
                    }
                }
                return Err(Error::UnknownImportFormat(
                    "no otpauth URI, no known export (Aegis, 2FAS, Ente, Bitwarden, Stratum, andOTP, FreeOTP+, Proton, LastPass, Steam) and no softtoken backup"
                        .into(),
                ));
            }
        },
    };
    let mut cx = Cx { format, password, now, rng, items: Vec::new(), notices: Vec::new(), batches, json };
    let bytes = strip_bom(bytes);
    match format {
        Format::Backup => {
            let password = cx.password()?;
            for i in crate::vault::backup::decrypt(bytes, password)? {
                cx.items.push((i.name.clone(), Ok(i)));
            }
        }
        Format::UriText => {
            let text = text_of(&cx, bytes)?;
            let found = from_uri_text_into(text, &mut cx)?;
            if found == 0 {
                return Err(cx.malformed("no otpauth, otpauth-migration or steam URI found"));
            }
        }
        Format::Ente => ente::read(bytes, &mut cx)?,
        Format::Aegis => {
            let v = cx.document_or_err(bytes)?;
            aegis::read(&v, &mut cx)?
        }
        Format::TwoFas => {
            let v = cx.document_or_err(bytes)?;
            twofas::read(&v, &mut cx)?
        }
        Format::Bitwarden => bitwarden::read(bytes, &mut cx)?,
        Format::Stratum => stratum::read(bytes, &mut cx)?,
        Format::AndOtp => andotp::read(bytes, &mut cx)?,
        Format::FreeOtpPlus => {
            let v = cx.document_or_err(bytes)?;
            freeotp::read(&v, &mut cx)?
        }
        Format::Proton => {
            let v = cx.document_or_err(bytes)?;
            proton::read(&v, &mut cx)?
        }
        Format::LastPass => {
            let v = cx.document_or_err(bytes)?;
            lastpass::read(&v, &mut cx)?
        }
        Format::Steam => {
            let v = cx.document_or_err(bytes)?;
            steam::read(&v, &mut cx)?
        }
    }
    Ok(Parsed { format, items: cx.items, notices: cx.notices })
}

fn text_of<'b>(cx: &Cx, bytes: &'b [u8]) -> Result<&'b str> {
    std::str::from_utf8(bytes).map_err(|_| cx.malformed("not UTF-8 text"))
}

/// A string field of a JSON object ("" when absent or not a string).
pub(crate) fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A whole-number field of a JSON object, if present (numbers written as strings accepted).
pub(crate) fn num_of(v: &Value, key: &str) -> Option<u64> {
    match v.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The array under `key`, or a malformed-export error naming it.
pub(crate) fn array_of<'v>(cx: &Cx, v: &'v Value, key: &str) -> Result<&'v Vec<Value>> {
    v.get(key).and_then(Value::as_array).ok_or_else(|| cx.malformed(format!("no {key} list")))
}

/// What kind of token an app's entry is, once its own type word is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Time-based.
    Totp,
    /// Counter-based.
    Hotp,
    /// Steam Guard (algorithm, digits and period fixed).
    Steam,
}

/// The fields every app's entry has, as read (absent ones take the otpauth defaults).
pub(crate) struct Entry<'a> {
    pub kind: Kind,
    pub issuer: &'a str,
    pub account: &'a str,
    pub algorithm: Option<&'a str>,
    pub digits: Option<u64>,
    pub period: Option<u64>,
    pub counter: Option<u64>,
}

impl Entry<'_> {
    /// The token: names trimmed (an empty account takes the issuer), SHA1, 6 digits and 30 s
    /// unless the entry says otherwise, each checked.
    pub(crate) fn token(&self, secret: crate::secret::Secret) -> Result<OtpAuth> {
        let issuer = Some(self.issuer.trim().to_string()).filter(|i| !i.is_empty());
        let account = match self.account.trim() {
            "" => issuer.clone().unwrap_or_else(|| "(unnamed)".into()),
            a => a.to_string(),
        };
        let kind = match self.kind {
            Kind::Steam => return Ok(OtpAuth::steam(issuer, account, secret)),
            Kind::Totp => crate::uri::OtpKind::Totp { period: crate::otp::check_period(self.period.unwrap_or(30).min(u32::MAX as u64) as u32)? },
            Kind::Hotp => crate::uri::OtpKind::Hotp { counter: self.counter.unwrap_or(0) },
        };
        let algorithm = crate::otp::Algorithm::parse(self.algorithm.filter(|a| !a.is_empty()).unwrap_or("SHA1"))?;
        let digits = crate::otp::check_digits(self.digits.unwrap_or(6).min(255) as u8)?;
        Ok(OtpAuth { kind, issuer, account, secret, algorithm, digits })
    }
}

/// Parses a token URI of any kind an app writes: `otpauth://`, `steam://`.
pub(crate) fn parse_token_uri(text: &str) -> Result<OtpAuth> {
    if text.trim().get(..8).is_some_and(|p| p.eq_ignore_ascii_case("steam://")) {
        OtpAuth::parse_steam_uri(text)
    } else {
        OtpAuth::parse(text)
    }
}

/// What an import says of a secret read leniently ([`OtpAuth::parse_lenient`]).
const LENIENT_SECRET: &str =
    "its secret's base32 length is one no encoder writes: read as Ente and Proton Authenticator read it (the last character, which cannot complete a byte, dropped); check that its codes match";

/// A migration batch seen during an import: which parts arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSeen {
    /// Google's batch id.
    pub batch_id: i32,
    /// Parts in the batch.
    pub size: u32,
    /// Indices that arrived.
    pub indices: Vec<u32>,
}

/// Items from a text of URIs (blank lines and `#` comments skipped), with migration batches seen.
pub fn from_uri_text(text: &str, now: u64, rng: &dyn SecureRandom, batches: &mut Vec<BatchSeen>) -> Vec<(String, Result<Identity>)> {
    let mut cx = Cx { format: Format::UriText, password: None, now, rng, items: Vec::new(), notices: Vec::new(), batches, json: None };
    if let Err(e) = from_uri_text_into(text, &mut cx) {
        cx.items.push(("(the rest of the text)".into(), Err(e)));
    }
    cx.items
}

/// Adds the URIs of a text to `cx`; returns how many lines held one. Ente's extra parameter
/// `codeDisplay` (a JSON object with `note`, `tags`, `trashed`) is read: a trashed token is
/// skipped with that reason, notes and tags become notices.
fn from_uri_text_into(text: &str, cx: &mut Cx) -> Result<usize> {
    let mut found = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        found += 1;
        if migration::is_migration(line) {
            match migration::parse(line) {
                Ok(part) => {
                    match cx.batches.iter_mut().find(|b| b.batch_id == part.batch_id && b.size == part.batch_size) {
                        Some(b) => b.indices.push(part.batch_index),
                        None => cx.batches.push(BatchSeen { batch_id: part.batch_id, size: part.batch_size, indices: vec![part.batch_index] }),
                    }
                    for (label, t) in part.items {
                        cx.token(label, t)?;
                    }
                }
                Err(e) => cx.skip(format!("line {}", n + 1), e)?,
            }
            continue;
        }
        // Leniently, as the apps that wrote these texts read them, and said in the report.
        let (parsed, lenient) = if line.get(..10).is_some_and(|p| p.eq_ignore_ascii_case("otpauth://")) {
            match OtpAuth::parse_lenient(line) {
                Ok((t, lenient)) => (Ok(t), lenient),
                Err(e) => (Err(e), false),
            }
        } else {
            (parse_token_uri(line), false)
        };
        let label = parsed.as_ref().map(display).unwrap_or_else(|_| format!("line {}", n + 1));
        if lenient {
            cx.notice(&label, LENIENT_SECRET);
        }
        if parsed.is_ok() {
            if let Some(display) = ente::code_display(line) {
                if display.trashed {
                    cx.skip(label, Error::UnsupportedExport { format: "Ente Auth", reason: "the token is in Ente's trash".into() })?;
                    continue;
                }
                cx.note(&label, Some(&display.note));
                if !display.tags.is_empty() {
                    cx.notice(&label, format!("its tags ({}) are not kept: softtoken has no tags", display.tags.join(", ")));
                }
            }
        }
        cx.token(label, parsed)?;
    }
    Ok(found)
}

fn display(u: &OtpAuth) -> String {
    label(u.issuer.as_deref().unwrap_or(""), &u.account)
}

/// One report item per run of missing QR codes in a batch (label, reason), e.g.
/// ("migration batch 7: QR codes 2–4 of 5", "…not given"). Bounded by the parts that arrived,
/// never by a size read from the input.
pub fn missing_parts(batches: &[BatchSeen]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for b in batches {
        let mut seen: Vec<u32> = b.indices.iter().copied().filter(|i| *i < b.size).collect();
        seen.sort_unstable();
        seen.dedup();
        let mut next = 0u32;
        for gap_end in seen.iter().copied().chain(std::iter::once(b.size)) {
            if gap_end > next {
                let codes = if gap_end - next == 1 { format!("QR code {}", next + 1) } else { format!("QR codes {}–{}", next + 1, gap_end) };
                out.push((format!("migration batch {}: {codes} of {}", b.batch_id, b.size), "not given: import every QR code of the export".to_string()));
            }
            next = gap_end.saturating_add(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn text_with_good_bad_and_migration_lines() {
        let rng = SystemRandom::new();
        let mig = migration::format(&[OtpAuth::parse("otpauth://totp/G:m?secret=JBSWY3DPEHPK3PXP").unwrap()], 10, 9);
        let text = format!("# exported\notpauth://totp/A:x?secret=GEZDGNBVGY3TQOJQ\n\notpauth://totp/B:y?secret=1111\n{}\n", mig[0]);
        let mut batches = Vec::new();
        let items = from_uri_text(&text, 0, &rng, &mut batches);
        assert_eq!(items.len(), 3);
        assert!(items[0].1.is_ok());
        assert_eq!(items[1].0, "line 4");
        assert!(items[1].1.is_err());
        assert_eq!(items[2].1.as_ref().unwrap().provider.as_deref(), Some("G"));
        assert_eq!(batches, vec![BatchSeen { batch_id: 9, size: 1, indices: vec![0] }]);
        assert!(missing_parts(&batches).is_empty());
        let reason = "not given: import every QR code of the export".to_string();
        assert_eq!(
            missing_parts(&[BatchSeen { batch_id: 3, size: 2, indices: vec![1] }]),
            vec![("migration batch 3: QR code 1 of 2".to_string(), reason.clone())]
        );
        assert_eq!(
            missing_parts(&[BatchSeen { batch_id: 4, size: 6, indices: vec![0, 4, 4] }]),
            vec![("migration batch 4: QR codes 2–4 of 6".to_string(), reason.clone()), ("migration batch 4: QR code 6 of 6".to_string(), reason)]
        );
    }

    #[test]
    fn a_74_character_qr_code_with_a_huge_batch_size_is_refused_without_allocating() {
        // The attack: a migration QR code whose batch_size is 2^31-1 made the old code allocate one
        // string per missing part (1.3 GB) and abort.
        // Protobuf: version = 1, batch_size = 2^31-1, batch_id = 1.
        let payload = [0x10, 0x01, 0x18, 0xff, 0xff, 0xff, 0xff, 0x07, 0x28, 0x01];
        let data = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, payload);
        let uri = format!("otpauth-migration://offline?data={data}");
        assert!(uri.len() < 80, "{uri}");
        assert!(matches!(migration::parse(&uri), Err(Error::TooLarge { limit: 100, .. })));
        let mut batches = Vec::new();
        let items = from_uri_text(&uri, 0, &SystemRandom::new(), &mut batches);
        assert_eq!(items.len(), 1);
        assert!(items[0].1.is_err());
        assert!(missing_parts(&batches).is_empty());
        // A size just under the cap reports the gap as one item, not one per part.
        assert_eq!(missing_parts(&[BatchSeen { batch_id: 1, size: 100, indices: vec![0] }]).len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn missing_parts_are_few_and_exact(size in 1u32..=100, indices in proptest::collection::vec(0u32..120, 0..20)) {
            let report = missing_parts(&[BatchSeen { batch_id: 1, size, indices: indices.clone() }]);
            let present: std::collections::BTreeSet<u32> = indices.iter().copied().filter(|i| *i < size).collect();
            proptest::prop_assert!(report.len() <= present.len() + 1);
            let mut missing = 0u32;
            for (label, _) in &report {
                let nums: Vec<u32> = label.rsplit_once(": QR code").unwrap().1.trim_start_matches('s').split(" of ").next().unwrap()
                    .trim().split('–').map(|n| n.parse().unwrap()).collect();
                missing += nums.last().unwrap() - nums[0] + 1;
            }
            proptest::prop_assert_eq!(missing, size - present.len() as u32);
        }
    }

    #[test]
    fn detects_formats_by_content() {
        assert_eq!(detect(b"STBACKUP\x01\x00"), Some(Format::Backup));
        assert_eq!(detect(b"  {\"version\":1,\"header\":{},\"db\":{}}"), Some(Format::Aegis));
        assert_eq!(detect(b"otpauth://totp/x?secret=AA"), Some(Format::UriText));
        assert_eq!(detect(b"\n\nsteam://ABCDEFGH\n"), Some(Format::UriText));
        assert_eq!(detect(b"{\"schemaVersion\":4,\"services\":[]}"), Some(Format::TwoFas));
        assert_eq!(detect(b"{\"version\":1,\"kdfParams\":{},\"encryptedData\":\"\",\"encryptionNonce\":\"\"}"), Some(Format::Ente));
        assert_eq!(detect(b"{\"encrypted\":false,\"items\":[]}"), Some(Format::Bitwarden));
        assert_eq!(detect(b"folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n"), Some(Format::Bitwarden));
        assert_eq!(detect(b"{\"Authenticators\":[]}"), Some(Format::Stratum));
        assert_eq!(detect(b"AUTHENTICATORPRO0123456789abcdef"), Some(Format::Stratum));
        assert_eq!(detect(b"[{\"secret\":\"AA\",\"type\":\"TOTP\"}]"), Some(Format::AndOtp));
        assert_eq!(detect(b"{\"tokenOrder\":[],\"tokens\":[]}"), Some(Format::FreeOtpPlus));
        assert_eq!(detect(b"{\"version\":1,\"entries\":[]}"), Some(Format::Proton));
        assert_eq!(detect(b"{\"version\":3,\"accounts\":[]}"), Some(Format::LastPass));
        assert_eq!(detect(b"{\"shared_secret\":\"AAAA\"}"), Some(Format::Steam));
        assert_eq!(detect(b"{\"something\":\"else\"}"), None);
        assert_eq!(detect(b"just words"), None);
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n0123456789abcdef0123456789abcdef"), None, "an image is not taken for an encrypted andOTP file");
        assert_eq!(detect(&[0x80; 40]), Some(Format::AndOtp));
        assert_eq!(Format::from_name("Authenticator-Pro").unwrap(), Format::Stratum);
        assert_eq!(Format::from_name("2FAS").unwrap(), Format::TwoFas);
        assert!(matches!(Format::from_name("keepass"), Err(Error::UnknownImportFormat(_))));
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()).unwrap(), f);
        }
    }

    #[test]
    fn a_huge_input_is_refused_before_parsing() {
        let big = vec![b' '; MAX_INPUT_BYTES + 1];
        let e = read(&big, None, None, 0, &SystemRandom::new(), &mut Vec::new()).unwrap_err();
        assert!(matches!(e, Error::TooLarge { what: "bytes in an import file", .. }));
    }
}

#[cfg(test)]
mod fixture_tests;
