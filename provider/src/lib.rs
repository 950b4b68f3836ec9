//! softtoken's reference provider: the issuing side of an Entrust-style soft token.
//!
//! It mints a serial number and activation code, encrypts them into a secactivate QR URI exactly
//! as the spec describes, waits for the registration code ("Complete" in a portal), derives the
//! same seed as the app and verifies codes. State lives in SQLite (WAL); seeds and activation codes
//! are sealed in it under a key-encryption key kept in a separate file ([`sealed`]). Users and
//! administrators sign in to its portal ([`accounts`], [`portal`], and the HTML in `web`).

pub mod accounts;
pub mod api;
mod keys;
pub mod mail;
pub mod online;
pub mod portal;
pub mod sealed;
#[cfg(feature = "server")]
pub mod server;
pub mod store;
pub mod transactions;
#[cfg(feature = "server")]
pub mod web;
pub mod webpush;

use softtoken_core::entrust::{self, ActivationCode, RegistrationCode, SerialNumber};
use softtoken_core::otp::{Algorithm, Totp};
use softtoken_core::{Error as CoreError, Secret};
use std::path::Path;
pub use store::Database;
use store::{params, Db, OptionalRow};
use zeroize::Zeroizing;

/// The policy put in QR payloads unless told otherwise (the one of the spec's public sample).
pub const DEFAULT_POLICY: &str = r#"{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}"#;
/// The registration address put in payloads unless told otherwise.
pub const DEFAULT_REGISTRATION_URL: &str = "provider.softtoken.invalid/activate";
/// Entrust deployments make an activation valid for 5 minutes.
pub const DEFAULT_LIFETIME_S: u64 = 300;

/// What went wrong on the issuing side.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Bad input, named by field (check digits, lengths…).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// No token has that serial number.
    #[error("unknown serial number {0}")]
    UnknownSerial(String),
    /// The activation's lifetime is over.
    #[error("activation expired")]
    Expired,
    /// The token was already completed.
    #[error("activation of {0} was already completed")]
    AlreadyCompleted(String),
    /// The token has not been completed yet (no registration code received).
    #[error("activation of {0} is not completed yet (run complete with the registration code)")]
    NotCompleted(String),
    /// Options that make no sense.
    #[error("{0}")]
    Usage(String),
    /// No transaction has that id.
    #[error("unknown transaction {0}")]
    UnknownTransaction(String),
    /// The transaction was answered before (the first answer is final).
    #[error("transaction {0} was already answered")]
    AlreadyAnswered(String),
    /// The transaction's lifetime is over.
    #[error("transaction {0} expired")]
    TransactionExpired(String),
    /// An identity request came without its MAC (the Authorization header).
    #[error("the request MAC is required in the Authorization header (Softtoken-MAC at=T, mac=M); a MAC in the URL is not read")]
    MacMissing,
    /// The answer's MAC or the confirmation code is wrong.
    #[error("the answer is not authentic (wrong MAC or confirmation code)")]
    NotAuthentic,
    /// An offline confirmation code for a transaction that was sent to the app online.
    #[error("transaction {0} was sent to the app online: it is answered in the app, not by a confirmation code")]
    NotOffline(String),
    /// The answer's time is too far from the provider's clock.
    #[error("the answer's time is more than {0} s from the provider's clock")]
    Stale(u64),
    /// The number typed does not match the one the website showed.
    #[error("wrong number: the transaction is denied")]
    WrongNumber,
    /// The app removed this identity: it gets no more transactions.
    #[error("identity {0} was removed by its app (unregistered)")]
    Unregistered(String),
    /// No activation has that link token (never issued, or already used).
    #[error("unknown or already used activation link")]
    UnknownActivation,
    /// Too many transactions are waiting for this identity.
    #[error("{0} transactions are already pending for this identity")]
    TooManyPending(u32),
    /// A sealed secret did not open with the key file's key (changed, moved, or another key).
    #[error("the sealed {what} of {serial} does not open with this key file")]
    SealBroken {
        /// "seed" or "activation_code".
        what: &'static str,
        /// Whose.
        serial: String,
    },
    /// The database's secrets are sealed by another key than the key file's.
    #[error("the state's secrets are sealed by key {database}, but {path} holds key {file}: give --kek-file the key that sealed them")]
    KekMismatch {
        /// The id the database records.
        database: String,
        /// The id of the key file's key.
        file: String,
        /// The key file.
        path: String,
    },
    /// No authenticator of this user has that number.
    #[error("no authenticator {0} of yours")]
    UnknownAuthenticator(i64),
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Only administrators may do this.
    #[error("only administrators may do this")]
    Forbidden,
    /// An e-mail could not be written or sent.
    #[error("e-mail: {0}")]
    Mail(String),
    /// The database failed.
    #[error("provider state: {0}")]
    Db(#[from] store::DbError),
}

impl From<rusqlite::Error> for ProviderError {
    fn from(e: rusqlite::Error) -> Self {
        ProviderError::Db(e.into())
    }
}

impl From<postgres::Error> for ProviderError {
    fn from(e: postgres::Error) -> Self {
        ProviderError::Db(e.into())
    }
}

/// Text for HTML (portal pages, e-mails): control and bidi characters neutralised, then `&<>"'`
/// escaped.
pub fn web_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in softtoken_core::text::neutralise(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A Unix time as people read it in the portal and e-mails (`Thu, 03 Dec 2026 07:45:00 GMT`).
pub fn web_time(unix: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix))
}

/// Result with [`ProviderError`].
pub type Result<T> = std::result::Result<T, ProviderError>;

/// How to issue a token.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    /// 6 or 8.
    pub digits: u8,
    /// Policy string, verbatim, or none.
    pub policy: Option<String>,
    /// Activation password length (4..=16 digits).
    pub password_length: usize,
    /// Seconds the activation stays valid.
    pub lifetime_s: u64,
    /// `regurl` of the payload.
    pub registration_url: Option<String>,
    /// Also make an online activation link to this provider base URL (`docs/protocol.md` §6).
    pub online_base_url: Option<String>,
}

impl Default for IssueOptions {
    fn default() -> Self {
        IssueOptions {
            digits: 6,
            policy: Some(DEFAULT_POLICY.into()),
            password_length: 8,
            lifetime_s: DEFAULT_LIFETIME_S,
            registration_url: Some(DEFAULT_REGISTRATION_URL.into()),
            online_base_url: None,
        }
    }
}

/// A freshly issued activation: what the portal shows the user. Its secrets (password,
/// activation code, the link's token) are zeroized when dropped and redacted in Debug.
#[derive(Clone)]
pub struct Issued {
    /// Serial number, dashed.
    pub serial: String,
    /// Activation code, dashed.
    pub activation_code: String,
    /// The QR password.
    pub password: String,
    /// The secactivate URI (the QR code's text).
    pub uri: String,
    /// Unix time the activation expires.
    pub expires_at: u64,
    /// The online activation link (`softtoken://activate?…`) when issued with a base URL.
    pub link: Option<String>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("serial", &self.serial)
            .field("activation_code", &"[redacted]")
            .field("password", &"[redacted]")
            .field("uri", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("link", &self.link.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl Drop for Issued {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.activation_code.zeroize();
        self.password.zeroize();
        if let Some(link) = &mut self.link {
            link.zeroize();
        }
    }
}

/// A verification result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Whether the code matched within the window.
    pub valid: bool,
    /// Steps between the code's time step and the server's (positive: the device is ahead).
    pub drift_steps: Option<i64>,
}

/// The provider over its state database (SQLite or PostgreSQL).
pub struct Provider {
    pub(crate) db: Db,
    pub(crate) rng: ring::rand::SystemRandom,
    pub(crate) kek: sealed::Kek,
    /// A random seed sealed like a real one: requests naming an unknown serial unseal it and check
    /// their MAC against it, so they take as long as requests naming a known one.
    pub(crate) decoy_seed: Vec<u8>,
}

pub(crate) fn random_digits(rng: &ring::rand::SystemRandom, n: usize) -> Result<Vec<u8>> {
    (0..n).map(|_| random_in(rng, 0..=9)).collect()
}

/// Creates the state file 0600 before SQLite opens it (it holds the seeds), and refuses one that
/// group or others can read.
/// Whether SQLite refused for a lock another connection holds ("database is locked").
fn is_busy(e: &ProviderError) -> bool {
    matches!(e, ProviderError::Db(store::DbError::Sqlite(rusqlite::Error::SqliteFailure(f, _))) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// Runs `step` again when SQLite refuses it as busy. The busy timeout waits out another writer,
/// but in a few WAL cases SQLite refuses at once (another connection recovering the log after a
/// crash, or closing the last connection): `step` must have written nothing when it is refused.
pub(crate) fn retry_busy<T>(mut step: impl FnMut() -> Result<T>) -> Result<T> {
    for pause_ms in [5, 25, 100, 400, 1600] {
        match step() {
            Err(e) if is_busy(&e) => std::thread::sleep(std::time::Duration::from_millis(pause_ms)),
            done => return done,
        }
    }
    step()
}

/// Begins a write transaction: writers queue here, never mid-transaction (see [`store`]).
pub(crate) fn begin_write(db: &Db) -> Result<store::Tx<'_>> {
    retry_busy(|| Ok(db.begin_write()?))
}

fn create_private_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let io = |e: std::io::Error| ProviderError::Usage(format!("state file {}: {e}", path.display()));
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(ProviderError::Usage(format!(
                        "state file {} can be read by other users (mode {:o}); it holds the seeds: chmod 600 it",
                        path.display(),
                        mode & 0o777
                    )));
                }
            }
            Err(e) => return Err(io(e)),
        }
    }
    Ok(())
}

/// A number drawn uniformly from `range` (rejection sampling: no value is likelier than another).
pub(crate) fn random_in(rng: &ring::rand::SystemRandom, range: std::ops::RangeInclusive<u8>) -> Result<u8> {
    use ring::rand::SecureRandom;
    let (lo, span) = (*range.start(), u16::from(*range.end() - *range.start()) + 1);
    let limit = 256 - 256 % span; // the largest multiple of span that fits a byte
    let mut buf = [0u8; 1];
    loop {
        rng.fill(&mut buf).map_err(|_| ProviderError::Usage("system random generator failed".into()))?;
        if u16::from(buf[0]) < limit {
            return Ok(lo + (u16::from(buf[0]) % span) as u8);
        }
    }
}

/// `bytes` random bytes as lowercase hex (transaction ids, link tokens: 16 bytes, 128 bits).
pub(crate) fn random_hex(rng: &ring::rand::SystemRandom, bytes: usize) -> Result<String> {
    let mut b = vec![0u8; bytes];
    ring::rand::SecureRandom::fill(rng, &mut b).map_err(|_| ProviderError::Usage("system random generator failed".into()))?;
    Ok(softtoken_core::secret::hex_encode(&b))
}

impl Provider {
    /// Opens (creating if needed) the state database at `path`, in WAL mode, with its secrets
    /// sealed by the key in `<path>.kek` (created if neither exists yet).
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_kek(path, &sealed::default_kek_path(path))
    }

    /// Opens the state database at `path` with the key-encryption key in `kek_path`. A database
    /// written before secrets were sealed has them sealed now, in one transaction.
    pub fn open_with_kek(path: &Path, kek_path: &Path) -> Result<Self> {
        create_private_file(path)?;
        let db = retry_busy(|| Self::connect(path))?;
        Self::settle(db, kek_path)
    }

    /// Opens the state `database` (a SQLite file or a PostgreSQL server) with the key-encryption
    /// key in `kek_path`. On PostgreSQL the schema is made under the write lock, so servers
    /// starting together do not race.
    pub fn open_database(database: &Database, kek_path: &Path) -> Result<Self> {
        match database {
            Database::Sqlite(path) => Self::open_with_kek(path, kek_path),
            Database::Postgres(url) => {
                let db = Db::connect_postgres(url)?;
                let tx = db.begin_write()?;
                Self::create_schema(&tx)?;
                tx.commit()?;
                Self::settle(db, kek_path)
            }
        }
    }

    fn settle(db: Db, kek_path: &Path) -> Result<Self> {
        let kek = keys::settle(&db, kek_path)?;
        keys::seal_legacy(&db, &kek)?;
        keys::hash_legacy_link_tokens(&db)?;
        let rng = ring::rand::SystemRandom::new();
        let mut decoy = zeroize::Zeroizing::new([0u8; 32]);
        ring::rand::SecureRandom::fill(&rng, &mut decoy[..]).map_err(|_| ProviderError::Usage("system random generator failed".into()))?;
        let decoy_seed = kek.seal(sealed::Sealed::Seed, transactions::DECOY_SERIAL, &decoy[..])?;
        Ok(Provider { db, rng, kek, decoy_seed })
    }

    /// A connection to the state database with its schema made or brought up to date.
    fn connect(path: &Path) -> Result<Db> {
        let db = rusqlite::Connection::open(path)?;
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            db.pragma_update(None, "journal_mode", "WAL")?;
        }
        db.pragma_update(None, "synchronous", "FULL")?;
        online::add_missing_columns(&db)?;
        let db = Db::Sqlite(db);
        Self::create_schema(&db)?;
        Ok(db)
    }

    /// Makes the tables that do not exist yet (the same schema on SQLite and PostgreSQL).
    fn create_schema(db: &Db) -> Result<()> {
        db.execute_schema(
            "CREATE TABLE IF NOT EXISTS tokens (
                serial TEXT PRIMARY KEY,
                activation_code BLOB NOT NULL,
                policy TEXT,
                digits INTEGER NOT NULL,
                period INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                registration_code TEXT,
                seed BLOB,
                completed_at INTEGER,
                activation_token TEXT,
                push_token TEXT,
                unregistered_at INTEGER
            );
            CREATE UNIQUE INDEX IF NOT EXISTS tokens_by_activation_token ON tokens(activation_token);
            CREATE TABLE IF NOT EXISTS transactions (
                id TEXT PRIMARY KEY,
                serial TEXT NOT NULL REFERENCES tokens(serial),
                summary TEXT NOT NULL,
                details TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                number INTEGER,
                state TEXT NOT NULL,
                wrong_codes INTEGER NOT NULL DEFAULT 0,
                offline INTEGER NOT NULL DEFAULT 0,
                seq INTEGER
            );
            CREATE INDEX IF NOT EXISTS transactions_by_seq ON transactions(seq);
            CREATE INDEX IF NOT EXISTS transactions_by_serial ON transactions(serial, state);
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                transaction_id TEXT NOT NULL,
                serial TEXT NOT NULL,
                response TEXT NOT NULL,
                at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        db.execute_schema(accounts::SCHEMA)?;
        db.execute_schema(portal::SCHEMA)?;
        db.execute_schema(webpush::SCHEMA)?;
        Ok(())
    }

    /// Mints a serial, an activation code and a password; returns the QR URI.
    pub fn issue(&self, opts: &IssueOptions, now: u64) -> Result<Issued> {
        if opts.digits != 6 && opts.digits != 8 {
            return Err(ProviderError::Usage("Entrust tokens have 6 or 8 digits".into()));
        }
        if !(4..=16).contains(&opts.password_length) {
            return Err(ProviderError::Usage("--password-length must be 4 to 16 digits".into()));
        }
        if let Some(p) = &opts.policy {
            entrust::Policy::parse(Some(p))?;
        }
        let serial = SerialNumber::from_prefix(random_digits(&self.rng, 9)?.try_into().expect("9"));
        let ac = ActivationCode::from_prefix(random_digits(&self.rng, 15)?.try_into().expect("15"));
        let password: Zeroizing<String> = Zeroizing::new(random_digits(&self.rng, opts.password_length)?.iter().map(|d| (b'0' + d) as char).collect());
        let mut payload = serde_json::Map::new();
        payload.insert("sn".into(), serial.to_string().into());
        payload.insert("ac".into(), ac.dashed().into());
        if let Some(p) = &opts.policy {
            payload.insert("policy".into(), p.clone().into());
        }
        if let Some(u) = &opts.registration_url {
            payload.insert("regurl".into(), u.clone().into());
        }
        if opts.digits != entrust::DEFAULT_DIGITS {
            payload.insert("digits".into(), opts.digits.into());
        }
        let json = Zeroizing::new(serde_json::Value::Object(payload).to_string());
        let mut salt = [0u8; 8];
        ring::rand::SecureRandom::fill(&self.rng, &mut salt).map_err(|_| ProviderError::Usage("system random generator failed".into()))?;
        let uri = entrust::encrypt_uri(entrust::secactivate::DEFAULT_SCHEME, &json, &password, salt)?;
        let expires_at = now.saturating_add(opts.lifetime_s);
        let link = opts.online_base_url.as_deref().map(|base| self.new_link(base)).transpose()?;
        self.db.execute(
            "INSERT INTO tokens (serial, activation_code, policy, digits, period, created_at, expires_at, activation_token) VALUES (?1, ?2, ?3, ?4, 30, ?5, ?6, ?7)",
            params![
                serial.to_string(),
                self.kek.seal(sealed::Sealed::ActivationCode, &serial.to_string(), ac.dashed().as_bytes())?,
                opts.policy,
                opts.digits,
                now as i64,
                expires_at as i64,
                link.as_ref().map(|l| sha256_hex(&l.token))
            ],
        )?;
        Ok(Issued { serial: serial.to_string(), activation_code: ac.dashed(), password: password.to_string(), uri, expires_at, link: link.map(|l| l.format()) })
    }

    /// Completes an activation with the registration code the user typed into the portal.
    pub fn complete(&self, serial: &str, registration_code: &str, now: u64) -> Result<()> {
        let serial = SerialNumber::parse(serial)?;
        let rc = RegistrationCode::parse(registration_code)?;
        let row: Option<(Vec<u8>, Option<String>, i64, Option<i64>)> = self
            .db
            .query_row("SELECT activation_code, policy, expires_at, completed_at FROM tokens WHERE serial = ?1", params![serial.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let (ac, policy, expires_at, completed_at) = row.ok_or_else(|| ProviderError::UnknownSerial(serial.to_string()))?;
        if completed_at.is_some() {
            return Err(ProviderError::AlreadyCompleted(serial.to_string()));
        }
        if now >= expires_at as u64 {
            return Err(ProviderError::Expired);
        }
        let ac = self.activation_code_of(&serial.to_string(), &ac)?;
        let seed = entrust::seed_from_registration(&serial, &ac, &rc, policy.as_deref());
        let changed = self.db.execute(
            "UPDATE tokens SET registration_code = ?1, seed = ?2, completed_at = ?3 WHERE serial = ?4 AND completed_at IS NULL",
            params![rc.to_string(), self.kek.seal(sealed::Sealed::Seed, &serial.to_string(), seed.expose())?, now as i64, serial.to_string()],
        )?;
        if changed == 0 {
            // Another request completed it between the check and this update.
            return Err(ProviderError::AlreadyCompleted(serial.to_string()));
        }
        Ok(())
    }

    /// An activation code as stored (sealed).
    pub(crate) fn activation_code_of(&self, serial: &str, sealed_code: &[u8]) -> Result<ActivationCode> {
        let plain = self.kek.open(sealed::Sealed::ActivationCode, serial, sealed_code)?;
        let text = std::str::from_utf8(&plain).map_err(|_| ProviderError::SealBroken { what: "activation_code", serial: serial.to_string() })?;
        Ok(ActivationCode::parse(text)?)
    }

    /// The key that seals this state's secrets.
    pub fn kek(&self) -> &sealed::Kek {
        &self.kek
    }

    /// Checks a code at `at` within ±`window` steps and reports the drift.
    pub fn verify(&self, serial: &str, otp: &str, at: u64, window: u32) -> Result<Verification> {
        let serial = SerialNumber::parse(serial)?;
        let row: Option<(Option<Vec<u8>>, i64, i64, Option<i64>)> = self
            .db
            .query_row("SELECT seed, digits, period, unregistered_at FROM tokens WHERE serial = ?1", params![serial.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let (seed, digits, period, unregistered_at) = row.ok_or_else(|| ProviderError::UnknownSerial(serial.to_string()))?;
        // A token deleted in the portal or removed from its app (a lost phone's) never verifies.
        if unregistered_at.is_some() {
            return Err(ProviderError::Unregistered(serial.to_string()));
        }
        let seed = seed.ok_or_else(|| ProviderError::NotCompleted(serial.to_string()))?;
        let seed = self.kek.open(sealed::Sealed::Seed, &serial.to_string(), &seed)?;
        let totp = Totp::new(Secret::from_slice(&seed), Algorithm::Sha256, digits as u8, period as u32)?;
        let drift = totp.verify(otp, at, window)?;
        Ok(Verification { valid: drift.is_some(), drift_steps: drift })
    }
}

/// The SHA-256 of `text` in lower-case hex: how bearer secrets that the provider only compares
/// (session ids, activation link tokens) are stored, so a copy of the database holds none.
pub(crate) fn sha256_hex(text: &str) -> String {
    softtoken_core::secret::hex_encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

/// The provider a unit test works on: a SQLite file in `dir`, or a new database on the
/// PostgreSQL server `SOFTTOKEN_TEST_POSTGRES` names (`tests/postgres/start.sh` starts one).
#[cfg(test)]
pub(crate) fn test_provider(dir: &Path) -> Provider {
    let kek = dir.join("state.kek");
    let Some(server) = std::env::var("SOFTTOKEN_TEST_POSTGRES").ok().filter(|s| !s.is_empty()) else {
        return Provider::open_database(&Database::Sqlite(dir.join("state.db")), &kek).unwrap();
    };
    let name = format!("u_{}", random_hex(&ring::rand::SystemRandom::new(), 8).unwrap());
    postgres::Client::connect(&server, postgres::NoTls).unwrap().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
    Provider::open_database(&Database::Postgres(url), &kek).unwrap()
}

#[cfg(test)]
mod tests {
    #[test]
    fn match_numbers_are_uniform_over_10_to_99() {
        // The old draw ((d % 9 + 1) * 10 + d2) made 10–19 twice as likely as any other decade.
        let rng = ring::rand::SystemRandom::new();
        let mut counts = [0u32; 9];
        let n = 90_000;
        for _ in 0..n {
            let x = random_in(&rng, 10..=99).unwrap();
            assert!((10..=99).contains(&x));
            counts[(x / 10 - 1) as usize] += 1;
        }
        for (decade, c) in counts.iter().enumerate() {
            // Each decade expects 10 000 (σ ≈ 94); 10 400 is > 4σ, while 2× would be 20 000.
            assert!((9_600..=10_400).contains(c), "decade {}: {c} of {n}", decade + 1);
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_state_file_holding_seeds_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        Provider::open(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(Provider::open(&path), Err(ProviderError::Usage(m)) if m.contains("other users")));
    }

    use super::*;
    use softtoken_core::activation::PendingActivation;

    #[test]
    fn issue_decrypt_complete_verify() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let issued = p.issue(&IssueOptions { digits: 8, ..Default::default() }, 1_000).unwrap();
        assert_eq!(issued.password.len(), 8);
        let payload = entrust::decrypt_uri(&issued.uri, &issued.password).unwrap();
        assert_eq!(payload.serial.to_string(), issued.serial);
        assert_eq!(payload.digits, Some(8));
        assert_eq!(payload.policy.as_deref(), Some(DEFAULT_POLICY));
        let rng = ring::rand::SystemRandom::new();
        let pending = PendingActivation::from_uri(&issued.uri, &issued.password, None, &rng).unwrap();
        let rc = pending.registration_code.to_string();
        let id = pending.into_identity(None, None, 1_000, &rng).unwrap();
        assert!(matches!(p.verify(&issued.serial, "12345678", 1_000, 1), Err(ProviderError::NotCompleted(_))));
        p.complete(&issued.serial, &rc, 1_100).unwrap();
        assert!(matches!(p.complete(&issued.serial, &rc, 1_100), Err(ProviderError::AlreadyCompleted(_))));
        let code = id.code_at(2_000_000).unwrap().code;
        assert_eq!(p.verify(&issued.serial, &code, 2_000_000, 1).unwrap(), Verification { valid: true, drift_steps: Some(0) });
        assert_eq!(p.verify(&issued.serial, &code, 2_000_030, 1).unwrap(), Verification { valid: true, drift_steps: Some(-1) });
        assert!(!p.verify(&issued.serial, &code, 2_000_300, 1).unwrap().valid);
    }

    #[test]
    fn debug_output_of_an_issued_activation_shows_no_secret() {
        // An `Issued` once derived Debug, so a `{:?}` in a log line printed the QR password and the activation code.
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let issued = p.issue(&IssueOptions::default(), 1_000).unwrap();
        let shown = format!("{issued:?}");
        assert!(shown.contains(&issued.serial), "{shown}");
        for secret in [&issued.password, &issued.activation_code, &issued.uri] {
            assert!(!shown.contains(secret.as_str()), "{shown}");
        }
        assert!(!shown.contains(&issued.activation_code.replace('-', "")), "{shown}");
    }

    #[test]
    fn expiry_and_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::test_provider(dir.path());
        let issued = p.issue(&IssueOptions { lifetime_s: 60, policy: None, ..Default::default() }, 1_000).unwrap();
        assert!(matches!(p.complete(&issued.serial, "12211-49352", 1_060), Err(ProviderError::Expired)));
        assert_eq!(p.complete(&issued.serial, "12211-49353", 1_000).unwrap_err().to_string(), "registration code: check digit does not match");
        assert!(matches!(p.complete("48244-13456", "12211-49352", 1_000), Err(ProviderError::UnknownSerial(_))));
        assert!(p.issue(&IssueOptions { digits: 7, ..Default::default() }, 0).is_err());
        assert!(p.issue(&IssueOptions { policy: Some("not json".into()), ..Default::default() }, 0).is_err());
    }
}
