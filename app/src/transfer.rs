//! Moving tokens in and out. An [`ImportBatch`] collects items from any number of inputs before
//! the vault is touched; [`Authenticator::import`] stores every good item in one save and reports
//! every item that was not stored. Exports are the explicit, PIN-confirmed way secrets leave.

use crate::{Activity, Authenticator};
use softtoken_core::identity::Identity;
use softtoken_core::import::{self, BatchSeen};
use softtoken_core::uri::{migration, OtpAuth};
use softtoken_core::vault::{ImportReport, KdfParams};
use softtoken_core::{Error, Result};
use zeroize::Zeroizing;

/// Items read from import inputs (files, pasted text, scanned QR codes), not stored yet.
#[derive(Default)]
pub struct ImportBatch {
    items: Vec<(String, Result<Identity>)>,
    batches: Vec<BatchSeen>,
    unreadable: Vec<(String, String)>,
}

impl ImportBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the otpauth / otpauth-migration URIs of a text (one per line); returns how many items
    /// it held.
    pub fn add_uri_text(&mut self, text: &str, now: u64) -> usize {
        let found = import::from_uri_text(text, now, &ring::rand::SystemRandom::new(), &mut self.batches);
        let n = found.len();
        self.items.extend(found);
        n
    }

    /// Adds the items of a file's bytes (softtoken backup, Aegis export, text of URIs);
    /// `password` is asked only for a backup.
    pub fn add_bytes(&mut self, bytes: &[u8], password: &mut dyn FnMut() -> Result<String>, now: u64) -> Result<usize> {
        let found = import::from_bytes(bytes, password, now, &ring::rand::SystemRandom::new(), &mut self.batches)?;
        let n = found.len();
        self.items.extend(found);
        Ok(n)
    }

    /// Records an input that could not be read at all (it is reported with the items).
    pub fn add_unreadable(&mut self, name: impl Into<String>, reason: impl Into<String>) {
        self.unreadable.push((name.into(), reason.into()));
    }

    /// Whether nothing at all was found (no item, nothing unreadable).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.unreadable.is_empty() && self.batches.is_empty()
    }
}

/// Google Authenticator migration QR codes' contents, and the tokens its format cannot express.
#[derive(Debug)]
pub struct MigrationExport {
    /// One `otpauth-migration://` URI per QR code (they hold secrets).
    pub uris: Vec<Zeroizing<String>>,
    /// How many tokens the URIs hold.
    pub exported: usize,
    /// Tokens left out (name, why).
    pub skipped: Vec<(String, String)>,
}

impl Authenticator {
    /// Stores every good item of the batch in one atomic save (an action) and reports each item:
    /// stored, or why not (unreadable inputs and missing migration QR codes included).
    pub fn import(&self, batch: ImportBatch) -> Result<ImportReport> {
        let mut report = self.with(Activity::Action, |v| v.import(batch.items))?;
        let mut skipped = batch.unreadable;
        skipped.extend(import::missing_parts(&batch.batches));
        skipped.append(&mut report.skipped);
        report.skipped = skipped;
        Ok(report)
    }

    /// Imports otpauth / otpauth-migration URIs (one per line), item by item.
    pub fn import_uris(&self, text: &str) -> Result<ImportReport> {
        let mut batch = ImportBatch::new();
        if batch.add_uri_text(text, self.now()) == 0 {
            return Err(Error::MalformedUri("no otpauth or otpauth-migration URI found".into()));
        }
        self.import(batch)
    }

    /// Imports a softtoken backup, item by item.
    pub fn import_backup(&self, bytes: &[u8], password: &str) -> Result<ImportReport> {
        let mut batch = ImportBatch::new();
        batch.items = import::from_backup(bytes, password)?;
        self.import(batch)
    }

    /// An encrypted backup's bytes: the explicit, PIN-confirmed export.
    pub fn export_backup(&self, pin: Option<&str>, password: &str, kdf: KdfParams) -> Result<Vec<u8>> {
        self.confirmed(pin, |v| v.export_backup(password, kdf))
    }

    /// Every identity as an otpauth URI, one per line (secrets in clear: PIN-confirmed).
    pub fn export_otpauth(&self, pin: Option<&str>) -> Result<(Zeroizing<String>, usize)> {
        self.confirmed(pin, |v| {
            let mut text = Zeroizing::new(String::new());
            for i in v.identities() {
                text.push_str(&i.to_otpauth().to_uri());
                text.push('\n');
            }
            Ok((text, v.identities().len()))
        })
    }

    /// Every identity Google Authenticator can hold, as migration URIs of at most `per_code`
    /// tokens each (secrets in clear: PIN-confirmed).
    pub fn export_migration(&self, pin: Option<&str>, per_code: usize) -> Result<MigrationExport> {
        let batch_id = (self.now() % 1_000_000) as i32;
        self.confirmed(pin, |v| {
            let mut tokens: Vec<OtpAuth> = Vec::new();
            let mut skipped = Vec::new();
            for i in v.identities() {
                let t = i.to_otpauth();
                match migration::unsupported_reason(&t) {
                    Some(r) => skipped.push((i.name.clone(), r)),
                    None => tokens.push(t),
                }
            }
            let uris = migration::format(&tokens, per_code, batch_id).into_iter().map(Zeroizing::new).collect();
            Ok(MigrationExport { uris, exported: tokens.len(), skipped })
        })
    }
}
