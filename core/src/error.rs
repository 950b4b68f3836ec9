//! The core's rich error: every message names what is wrong and where.
//!
//! Shells map these to their own small public errors at one boundary (the CLI to exit codes, the FFI
//! crate to a flat enum a UI can act on).

use std::fmt;

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The input a validation error is about, named as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Entrust serial number (10 digits).
    SerialNumber,
    /// Entrust activation code (16 digits).
    ActivationCode,
    /// Entrust registration code (10 digits).
    RegistrationCode,
    /// The password that comes with an activation QR code.
    ActivationPassword,
    /// A one-time password typed by the user.
    Otp,
    /// An OTP secret (seed).
    Secret,
    /// The OTP hash algorithm.
    Algorithm,
    /// Number of OTP digits.
    Digits,
    /// TOTP period in seconds.
    Period,
    /// HOTP counter.
    Counter,
    /// An `otpauth://` label.
    Label,
    /// A policy document.
    Policy,
    /// A push transaction (id, number to match, response).
    Transaction,
    /// An identity's clock offset from its provider.
    ClockOffset,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::SerialNumber => "serial number",
            Field::Transaction => "transaction",
            Field::ClockOffset => "clock offset",
            Field::ActivationCode => "activation code",
            Field::RegistrationCode => "registration code",
            Field::ActivationPassword => "activation password",
            Field::Otp => "OTP",
            Field::Secret => "secret",
            Field::Algorithm => "algorithm",
            Field::Digits => "digits",
            Field::Period => "period",
            Field::Counter => "counter",
            Field::Label => "label",
            Field::Policy => "policy",
        })
    }
}

/// A rule of an organisation's policy that forbids what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyRule {
    /// `pinRequired`: the identity needs an app PIN (so the vault cannot be without one).
    PinRequired {
        /// The identity whose policy it is.
        identity: String,
    },
    /// `allowFaceRecognition: false`: the identity forbids biometric unlock.
    BiometricForbidden {
        /// The identity whose policy it is.
        identity: String,
    },
}

impl fmt::Display for PolicyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyRule::PinRequired { identity } => write!(f, "{identity:?} requires an app PIN by its organisation's policy"),
            PolicyRule::BiometricForbidden { identity } => write!(f, "{identity:?} does not allow biometric unlock by its organisation's policy"),
        }
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A value the user typed or pasted is malformed; `reason` says how.
    #[error("{field}: {reason}")]
    Invalid {
        /// Which input.
        field: Field,
        /// What is wrong, e.g. "check digit does not match".
        reason: String,
    },
    /// The activation QR code's MAC does not match: the password is wrong (or the URI was altered).
    #[error("wrong activation password (or the activation URI was altered)")]
    WrongPassword,
    /// The backup password does not open the backup.
    #[error("wrong backup password")]
    WrongBackupPassword,
    /// A URI that cannot be parsed.
    #[error("malformed URI: {0}")]
    MalformedUri(String),
    /// The decrypted activation payload is not what Entrust sends.
    #[error("malformed activation payload: {0}")]
    MalformedPayload(String),
    /// An activation URI of a format version softtoken does not know.
    #[error("unsupported activation URI version {0:?} (softtoken reads v=1)")]
    UnsupportedVersion(String),
    /// Token recovery found no device random that reproduces the codes.
    #[error("no device random reproduces these codes: check the serial number, activation code, policy, the codes and their times")]
    NoMatch,
    /// The PIN is wrong; `attempts_left` counts the wrong PINs still allowed before the vault
    /// locks for good (delays between attempts start after the fifth wrong one).
    #[error("{}", wrong_pin_message(*attempts_left))]
    WrongPin {
        /// Wrong PINs still allowed before the permanent lock.
        attempts_left: u32,
    },
    /// Too many wrong PINs: wait before the next attempt.
    #[error("locked: try again in {retry_after_s} s")]
    Locked {
        /// Seconds until the next attempt is allowed.
        retry_after_s: u64,
    },
    /// The vault is locked (never unlocked, locked by the user, or idle too long).
    #[error("the vault is locked: unlock it with the PIN")]
    VaultLocked,
    /// The maximum of wrong PINs was reached: restore a backup or activate again.
    #[error("locked for good after too many wrong PINs: restore a backup or activate the tokens again")]
    LockedPermanently,
    /// The vault file (or its previous generation) failed its integrity check.
    #[error("vault file is corrupt or was tampered with{}", if *.previous_available { " (the previous version is intact and can be restored)" } else { "" })]
    CorruptVault {
        /// True when the previous generation opens cleanly.
        previous_available: bool,
    },
    /// A vault or backup of a format version this build does not know.
    #[error("unsupported {what} format version {version} (this softtoken reads up to {supported})")]
    UnsupportedFormat {
        /// "vault" or "backup".
        what: &'static str,
        /// The version found.
        version: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The device key that seals the vault is missing (another device, or the key was invalidated).
    #[error("the device key for this vault is missing ({0}): the vault was made on another device or its key was reset; restore it from a backup")]
    KeyUnavailable(String),
    /// The user dismissed the platform's authentication prompt: ask again or use the PIN.
    #[error("authentication was cancelled")]
    AuthenticationCancelled,
    /// The platform's authentication is locked out after too many failed tries: use the PIN.
    #[error("biometric unlock is locked out after too many tries ({0}): use the PIN")]
    AuthenticationLockedOut(String),
    /// The platform key store failed.
    #[error("device key store failed: {0}")]
    Platform(String),
    /// Reading or writing files failed.
    #[error("storage: {0}")]
    Storage(String),
    /// An organisation's policy forbids what was asked.
    #[error("policy: {0}")]
    PolicyViolation(PolicyRule),
    /// The vault needs its PIN and none was given.
    #[error("this vault needs its PIN")]
    PinRequired,
    /// A new PIN of the wrong length.
    #[error("the PIN must have {min} to {max} characters")]
    PinLength {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// Biometric unlock was asked for but is not enabled.
    #[error("biometric unlock is not enabled for this vault")]
    BiometricNotEnabled,
    /// The vault file is sealed by another key store than the one given.
    #[error("this vault is sealed by the {recorded:?} key store, not {given:?}; softtoken never switches stores silently")]
    WrongKeyStore {
        /// The kind recorded in the vault header.
        recorded: String,
        /// The kind of the store given.
        given: String,
    },
    /// An older copy of the vault file was put back: its generation is below the newest written.
    #[error("this vault file is an older copy (generation {found}, the newest written is {newest}): it was rolled back and is refused")]
    RolledBack {
        /// The file's generation.
        found: u64,
        /// The newest generation the device key store recorded.
        newest: u64,
    },
    /// Another process changed the vault in a way this unlock cannot follow (e.g. a new PIN).
    #[error("the vault was changed elsewhere (its PIN or key changed): unlock it again")]
    ChangedElsewhere,
    /// A counter changed between reading and writing it (a writer not holding the vault lock).
    #[error("the wrong-PIN counter changed while it was being updated; try again")]
    ConcurrentChange,
    /// No vault file exists at this path.
    #[error("no vault at {}", .0.display())]
    NoVault(std::path::PathBuf),
    /// A vault file already exists where one would be created.
    #[error("{} already exists; softtoken will not overwrite a vault", .0.display())]
    VaultExists(std::path::PathBuf),
    /// Restoring the previous generation was asked for, but the current file is intact.
    #[error("the vault file is intact: the previous version is restored only when the current one is damaged")]
    VaultIntact,
    /// Restoring was asked for, but no previous generation is kept.
    #[error("no previous version of the vault is kept")]
    NoPreviousVersion,
    /// The token is already in the vault.
    #[error("this token is already in the vault as {existing:?}")]
    Duplicate {
        /// The name it has there.
        existing: String,
    },
    /// Another identity already has that name.
    #[error("another identity is already named {0:?}")]
    NameTaken(String),
    /// Several identities match what was typed: the choices are listed.
    #[error("{key:?} matches {}: {}; type more of the name, or the id", plural(choices.len(), "identity", "identities"), choices.join(", "))]
    AmbiguousName {
        /// What was typed.
        key: String,
        /// The matching identities, each `name (provider) [id]`.
        choices: Vec<String>,
    },
    /// An HOTP operation on a token that is not HOTP.
    #[error("{0:?} is not an HOTP token")]
    NotHotp(String),
    /// A TOTP-only operation (reading a code without advancing anything) on an HOTP token.
    #[error("{0:?} is an HOTP token: its next code is an explicit request that advances the counter")]
    HotpNeedsRequest(String),
    /// A code was asked of a push token, which has none.
    #[error("{0:?} is a push token: it answers sign-in requests and shows no codes")]
    NoCodes(String),
    /// The HOTP counter reached its end.
    #[error("HOTP counter exhausted")]
    CounterExhausted,
    /// The two codes given to resynchronise do not follow each other within the window.
    #[error("these two codes do not follow each other within {window} counters")]
    ResyncFailed {
        /// Counters searched.
        window: u64,
    },
    /// Argon2id parameters outside what softtoken accepts (too weak, or too costly for this
    /// device: a hostile file asking for gigabytes).
    #[error("Argon2id parameters m={m_kib} KiB t={t} p={p} are {reason}")]
    KdfParameters {
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
        /// "below the minimum", "above what this device affords", …
        reason: &'static str,
    },
    /// A count or size read from input is above what softtoken accepts.
    #[error("{what}: {found} is more than the {limit} accepted")]
    TooLarge {
        /// What was counted.
        what: &'static str,
        /// The value read.
        found: u64,
        /// The most accepted.
        limit: u64,
    },
    /// The password does not open this export of another app (nothing was imported).
    #[error("wrong password for this {format} export")]
    WrongExportPassword {
        /// The app whose export it is, e.g. "Aegis".
        format: &'static str,
    },
    /// The export is encrypted and its password is needed to read it.
    #[error("this {format} export is encrypted: its password is needed")]
    ExportPasswordNeeded {
        /// The app whose export it is.
        format: &'static str,
    },
    /// A file that claims (or was forced) to be an export of an app but does not follow its format.
    #[error("not a readable {format} export: {reason}")]
    MalformedExport {
        /// The app whose format it was read as.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An export softtoken recognises but cannot read, e.g. one encrypted with an account key.
    #[error("this {format} export cannot be imported: {reason}")]
    UnsupportedExport {
        /// The app whose export it is.
        format: &'static str,
        /// Why, and what to do instead.
        reason: String,
    },
    /// No import format recognises the input.
    #[error("not a format softtoken imports ({0})")]
    UnknownImportFormat(String),
    /// A password-based key derivation in an input asks for more work or memory than softtoken
    /// spends (a hostile or damaged file): refused rather than obeyed.
    #[error("the {kdf} parameters of this file ({found}) are above what softtoken accepts ({limit})")]
    KdfTooCostly {
        /// "scrypt", "PBKDF2", "Argon2id".
        kdf: &'static str,
        /// The parameters found.
        found: String,
        /// The most accepted.
        limit: String,
    },
    /// A backup file that fails its integrity check.
    #[error("backup file is corrupt or was tampered with")]
    CorruptBackup,
    /// A file that is not a softtoken backup.
    #[error("not a softtoken backup file")]
    NotABackup,
    /// A backup password that is too short.
    #[error("a backup password needs at least {min} characters")]
    BackupPasswordTooShort {
        /// Fewest characters.
        min: usize,
    },
    /// A cryptographic primitive failed (never expected with valid keys).
    #[error("cryptography failed: {0}")]
    Crypto(&'static str),
    /// Encoding data failed (never expected; reported rather than panicking).
    #[error("cannot encode: {0}")]
    Encoding(String),
    /// A push server (privacyIDEA, eduMFA) sent what its protocol does not allow, or a push
    /// link or challenge is malformed: the message says what.
    #[error("push: {0}")]
    PushProtocol(String),
    /// A push challenge whose server signature does not verify: shown to nobody, answered never.
    #[error("a sign-in request from {serial} is not signed by its server's key: it was refused (altered on the way, or not from the server)")]
    ForgedChallenge {
        /// The token it claimed to be for.
        serial: String,
    },
    /// No identity has that name or id.
    #[error("no identity named {0:?}")]
    NotFound(String),
    /// Token recovery found several device randoms; more codes are needed.
    #[error("{candidates} device randoms match these codes: a code from a later time step is needed")]
    Ambiguous {
        /// How many candidates survived.
        candidates: usize,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: Field, reason: impl Into<String>) -> Self {
        Error::Invalid { field, reason: reason.into() }
    }
}

/// `1 item`, `2 items`: a count with its noun in the right number.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a wrong PIN tells the user: how far the permanent lock is, the last attempt explicitly.
pub fn wrong_pin_message(attempts_left: u32) -> String {
    match attempts_left {
        0 => "wrong PIN".into(),
        1 => "wrong PIN: 1 attempt left. One more wrong PIN locks the vault for good".into(),
        n => format!("wrong PIN: {n} attempts left before the vault locks for good"),
    }
}
