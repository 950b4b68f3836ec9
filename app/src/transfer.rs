//! Moving tokens in and out. An [`ImportBatch`] collects items from any number of inputs before
//! the vault is touched; [`Authenticator::import`] stores every good item in one save and reports
//! every item that was not stored. Exports are the explicit, PIN-confirmed way secrets leave.

use crate::{Activity, Authenticator};
use softtoken_core::identity::Identity;
use softtoken_core::import::{self, BatchSeen, Format};
use softtoken_core::uri::{migration, OtpAuth};
use softtoken_core::vault::{AutoBackupKey, AutoBackupStatus, ImportReport, KdfParams};
use softtoken_core::{Error, Result};
use zeroize::Zeroizing;

/// Items read from import inputs (files, pasted text, scanned QR codes), not stored yet.
#[derive(Default)]
pub struct ImportBatch {
    items: Vec<(String, Result<Identity>)>,
    batches: Vec<BatchSeen>,
    unreadable: Vec<(String, String)>,
    notices: Vec<(String, String)>,
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

    /// Adds the items of a file's bytes in any format softtoken imports (detected from the
    /// content unless `format` is given). An encrypted file without `password` returns
    /// [`Error::ExportPasswordNeeded`] and adds nothing: ask for the password and add it again.
    /// Nothing is added when reading fails, so a wrong password leaves the batch as it was.
    pub fn add_bytes(&mut self, bytes: &[u8], format: Option<Format>, password: Option<&str>, now: u64) -> Result<(Format, usize)> {
        let mut batches = self.batches.clone();
        let parsed = import::read(bytes, format, password, now, &ring::rand::SystemRandom::new(), &mut batches)?;
        self.batches = batches;
        let n = parsed.items.len();
        self.items.extend(parsed.items);
        self.notices.extend(parsed.notices);
        Ok((parsed.format, n))
    }

    /// What would be stored and what not, before the vault is touched (duplicates of what the
    /// vault holds are found at import).
    pub fn preview(&self) -> ImportPreview<'_> {
        let mut preview = ImportPreview { tokens: Vec::new(), skipped: Vec::new(), notices: &self.notices };
        for (label, item) in &self.items {
            match item {
                Ok(identity) => preview.tokens.push(identity),
                Err(e) => preview.skipped.push((label.clone(), e.to_string())),
            }
        }
        preview.skipped.extend(self.unreadable.iter().cloned().chain(import::missing_parts(&self.batches)));
        preview
    }

    /// What items carried that softtoken does not keep (label, what).
    pub fn notices(&self) -> &[(String, String)] {
        &self.notices
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

/// What an [`ImportBatch`] would store.
#[derive(Debug)]
pub struct ImportPreview<'a> {
    /// Identities that will be stored.
    pub tokens: Vec<&'a Identity>,
    /// Items that cannot be stored (label, why).
    pub skipped: Vec<(String, String)>,
    /// What the tokens carry that softtoken does not keep (label, what).
    pub notices: &'a [(String, String)],
}

/// What a file holds, read and decrypted before anything is stored ([`Authenticator::preview_import`]).
#[derive(Debug)]
pub struct FilePreview {
    /// The format it was read as.
    pub format: Format,
    /// Identities that will be stored (duplicates of the vault's are found at import).
    pub tokens: Vec<Identity>,
    /// Items that cannot be stored (label, why).
    pub skipped: Vec<(String, String)>,
    /// What the tokens carry that softtoken does not keep (label, what).
    pub notices: Vec<(String, String)>,
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
        report.notices = batch.notices;
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
        self.import_file(bytes, Some(Format::Backup), Some(password))
    }

    /// Imports a file of any format softtoken reads, item by item: everything is read and
    /// decrypted before the vault is touched, then every good item is stored in one save.
    pub fn import_file(&self, bytes: &[u8], format: Option<Format>, password: Option<&str>) -> Result<ImportReport> {
        let mut batch = ImportBatch::new();
        batch.add_bytes(bytes, format, password, self.now())?;
        self.import(batch)
    }

    /// Reads a file of any format softtoken imports and says what it holds, without touching the
    /// vault (it need not be unlocked): what `import_file` would then store.
    pub fn preview_import(&self, bytes: &[u8], format: Option<Format>, password: Option<&str>) -> Result<FilePreview> {
        let mut batch = ImportBatch::new();
        let (format, _) = batch.add_bytes(bytes, format, password, self.now())?;
        let p = batch.preview();
        Ok(FilePreview { format, tokens: p.tokens.into_iter().cloned().collect(), skipped: p.skipped, notices: p.notices.to_vec() })
    }

    /// Every identity as an Aegis export (plain, or encrypted with `password`), readable by Aegis
    /// (PIN-confirmed).
    pub fn export_aegis(&self, pin: Option<&str>, password: Option<&str>) -> Result<Zeroizing<String>> {
        self.confirmed(pin, |v| import::aegis::export(v.identities(), password, &ring::rand::SystemRandom::new()))
    }

    /// An encrypted backup's bytes: the explicit, PIN-confirmed export.
    pub fn export_backup(&self, pin: Option<&str>, password: &str, kdf: KdfParams) -> Result<Vec<u8>> {
        self.confirmed(pin, |v| v.export_backup(password, kdf))
    }

    /// Every identity as an otpauth URI, one per line (secrets in clear: PIN-confirmed).
    pub fn export_otpauth(&self, pin: Option<&str>) -> Result<(Zeroizing<String>, usize)> {
        self.confirmed(pin, |v| {
            let mut text = Zeroizing::new(String::new());
            // Push tokens have no otpauth form (the encrypted backup carries them).
            let with_codes: Vec<_> = v.identities().iter().filter(|i| i.has_codes()).collect();
            for i in &with_codes {
                text.push_str(&i.to_otpauth().to_uri());
                text.push('\n');
            }
            Ok((text, with_codes.len()))
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
                if !i.has_codes() {
                    skipped.push((i.name.clone(), "a push token is bound to its server and has no codes (the encrypted backup carries it)".to_string()));
                    continue;
                }
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

    /// Turns automatic backups on (PIN-confirmed: every backup holds every secret): after every
    /// change an encrypted backup (password `password`) goes into `dir`, the newest `keep` kept.
    /// The password's key is derived before the vault is locked for the change.
    pub fn set_auto_backup(&self, pin: Option<&str>, dir: &std::path::Path, keep: u32, password: &str) -> Result<AutoBackupStatus> {
        let key = AutoBackupKey::derive(password, KdfParams::DEFAULT)?;
        self.confirmed(pin, |v| v.set_auto_backup(dir, keep, &key))
    }

    /// Turns automatic backups off (the files written stay).
    pub fn disable_auto_backup(&self) -> Result<()> {
        self.with(Activity::Action, |v| v.disable_auto_backup())
    }

    /// Automatic backups' settings and state (none when off): a UI warns "changes not backed up"
    /// when `last_error` is set.
    pub fn auto_backup(&self) -> Result<Option<AutoBackupStatus>> {
        self.with(Activity::Read, |v| Ok(v.auto_backup()))
    }
}
