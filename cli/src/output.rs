//! Printing results and errors: exactly one JSON object with `--json`, plain text otherwise.

use serde_json::Value;
use softtoken_app::ErrorKind;
use softtoken_core::Error as CoreError;
use std::io::Write;

/// How a command failed, with the process exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// Exit code ([`exit`]).
    pub code: i32,
    /// What to tell the user on stderr.
    pub message: String,
}

/// Exit codes of the CLI contract.
pub mod exit {
    /// Anything else that went wrong.
    pub const ERROR: i32 = 1;
    /// The command line is wrong (clap's usage errors, missing options).
    pub const USAGE: i32 = 2;
    /// Some items of an import were not stored.
    pub const PARTIAL_IMPORT: i32 = 3;
    /// Wrong PIN or password.
    pub const WRONG_SECRET: i32 = 4;
    /// Locked after wrong PINs.
    pub const LOCKED: i32 = 5;
    /// The vault file, or a file to import, is corrupt, truncated or was tampered with.
    pub const CORRUPT: i32 = 6;
    /// A file named on the command line does not exist.
    pub const NOT_FOUND: i32 = 7;
}

/// The `kind` of a JSON error: one word per exit code.
pub fn kind_of(code: i32) -> &'static str {
    match code {
        exit::USAGE => "usage",
        exit::PARTIAL_IMPORT => "partial_import",
        exit::WRONG_SECRET => "wrong_secret",
        exit::LOCKED => "locked",
        exit::CORRUPT => "corrupt",
        exit::NOT_FOUND => "not_found",
        _ => "error",
    }
}

/// Set once a command has printed its result on stdout: a failure after it (a partial import,
/// a scan with unreadable images) is then told on stderr only, so stdout keeps one JSON object
/// (or, for `scan`, one per image).
static PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Notes that stdout carries the command's result ([`PRINTED`]).
pub fn printed() {
    PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Reports `f` (stderr, and with `--json` the error object on stdout unless the command already
/// printed its result there) and exits with its code.
pub fn fail(json: bool, f: &Failure) -> ! {
    // Newlines stay (clap's usage lines); every other control or bidi character is escaped.
    let message = terminal_safe(f.message.trim_end());
    if json && !PRINTED.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = writeln!(std::io::stdout(), "{}", serde_json::json!({"error": {"kind": kind_of(f.code), "message": f.message}}));
    }
    let _ = writeln!(std::io::stderr(), "softtoken: error: {}", message);
    std::process::exit(f.code)
}

impl Failure {
    /// A plain error (exit 1).
    pub fn new(message: impl Into<String>) -> Self {
        Failure { code: exit::ERROR, message: message.into() }
    }
}

/// The exit code of the façade's classification.
pub fn exit_code(kind: &ErrorKind) -> i32 {
    match kind {
        ErrorKind::WrongPassword | ErrorKind::WrongPin { .. } => exit::WRONG_SECRET,
        // 0 s: the vault wants its PIN (not given, or changed elsewhere), which is not a lockout.
        ErrorKind::Locked { retry_after_s: 0 } => exit::ERROR,
        ErrorKind::Locked { .. } | ErrorKind::LockedPermanently => exit::LOCKED,
        ErrorKind::Corrupt { .. } => exit::CORRUPT,
        ErrorKind::Invalid { .. }
        | ErrorKind::KeyUnavailable { .. }
        | ErrorKind::Storage { .. }
        | ErrorKind::Policy { .. }
        | ErrorKind::Unsupported { .. }
        | ErrorKind::Cancelled
        | ErrorKind::BiometricLockedOut { .. }
        | ErrorKind::Network { .. }
        | ErrorKind::Refused { .. }
        | ErrorKind::Platform { .. } => exit::ERROR,
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        let code = exit_code(&ErrorKind::from(&e));
        // The core says what is wrong; which command helps is the CLI's to add.
        let advice = match &e {
            CoreError::CorruptVault { previous_available: true } => ": `softtoken restore-previous` brings it back",
            CoreError::NoVault(_) => " (create one with `softtoken init`)",
            CoreError::Ambiguous { .. } => " (add --otp CODE@UNIXTIME)",
            CoreError::UnsupportedFormat { .. } => ": update softtoken",
            CoreError::PolicyViolation(softtoken_core::error::PolicyRule::PinRequired { .. }) => " (set a PIN with `softtoken change-pin`)",
            CoreError::ChangedElsewhere | CoreError::ConcurrentChange => "",
            _ => "",
        };
        Failure { code, message: format!("{e}{advice}") }
    }
}

impl From<softtoken_net::Error> for Failure {
    fn from(e: softtoken_net::Error) -> Self {
        use softtoken_net::Error as OnlineError;
        let advice = match &e {
            OnlineError::Core(_) => "",
            OnlineError::ProviderClockOff { .. } | OnlineError::Refused { refusal: softtoken_core::protocol::Refusal::Stale, .. } => {
                ": check this computer's clock"
            }
            OnlineError::Unreachable(_) => " (is the address right, and SOFTTOKEN_CA_CERT set for a private CA?)",
            OnlineError::AmbiguousTransaction { .. } => " (add --identity NAME)",
            _ => "",
        };
        match e {
            OnlineError::Core(core) => core.into(),
            other => Failure { code: exit_code(&ErrorKind::from(&other)), message: format!("{other}{advice}") },
        }
    }
}

impl From<softtoken_core::vault::key_store::KeyStoreError> for Failure {
    fn from(e: softtoken_core::vault::key_store::KeyStoreError) -> Self {
        Failure { code: exit_code(&ErrorKind::from(&e)), message: format!("device key store: {e}") }
    }
}

/// Result of a command.
pub type CmdResult = Result<(), Failure>;

/// One field of outside text (a name, an issuer, a transaction's words) as a terminal shows it:
/// controls (newlines included), DEL, C1 and bidi marks as visible `\u{…}` escapes.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    softtoken_core::text::escape(text)
}

/// Text for the terminal: every control and bidi character escaped except the newlines and tabs
/// the CLI itself lays out with. The backstop behind [`shown`]: whatever outside text reaches
/// the terminal cannot move the cursor or reorder a line.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| softtoken_core::text::is_hazard(c) && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.split('\n')
            .map(|line| line.split('\t').map(|p| softtoken_core::text::escape(p).into_owned()).collect::<Vec<_>>().join("\t"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Prints the JSON object (with `--json`) or the text. A closed stdout (`| head`) is not an error.
/// JSON escapes control characters itself; the text goes through [`terminal_safe`].
pub fn emit(json: bool, value: &Value, text: &str) -> CmdResult {
    printed();
    let mut out = std::io::stdout().lock();
    let written = if json { writeln!(out, "{value}") } else { write!(out, "{}", terminal_safe(text)) };
    match written.and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::new(format!("cannot write output: {e}"))),
    }
}

/// A warning on stderr (never on stdout, so JSON stays one object).
pub fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "softtoken: warning: {}", softtoken_core::text::escape(message));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_export_password_is_a_wrong_secret_like_every_other_password() {
        // Issue 31: it was exit 1 here, exit 4 when an import read it, and WrongPassword in the FFI.
        let wrong = CoreError::WrongExportPassword { format: "Aegis" };
        assert_eq!(ErrorKind::from(&wrong), ErrorKind::WrongPassword);
        assert_eq!(Failure::from(wrong).code, exit::WRONG_SECRET);
        assert_eq!(Failure::from(CoreError::WrongBackupPassword).code, exit::WRONG_SECRET);
        assert_eq!(Failure::from(CoreError::Locked { retry_after_s: 30 }).code, exit::LOCKED);
        assert_eq!(Failure::from(CoreError::VaultLocked).code, exit::ERROR);
        assert_eq!(Failure::from(CoreError::CorruptBackup).code, exit::CORRUPT);
    }
}
