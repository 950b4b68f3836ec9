//! Where secrets typed by the user come from: an option, an environment variable, or a hidden
//! prompt on a terminal — never echoed, never logged.

use crate::output::Failure;
use std::io::IsTerminal;
use zeroize::Zeroizing;

/// Environment variable holding the activation password (keeps it out of `ps`).
pub const ACTIVATION_PASSWORD_ENV: &str = "SOFTTOKEN_ACTIVATION_PASSWORD";

/// The activation password: `--password`, else the environment, else a hidden prompt.
pub fn activation_password(given: Option<&str>) -> Result<Zeroizing<String>, Failure> {
    if let Some(p) = given {
        return Ok(Zeroizing::new(p.to_string()));
    }
    if let Ok(p) = std::env::var(ACTIVATION_PASSWORD_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        return rpassword::prompt_password("Activation password (shown with the QR code): ")
            .map(Zeroizing::new)
            .map_err(|e| Failure::new(format!("cannot read the password: {e}")));
    }
    Err(Failure::new(format!("this activation URI needs its password: give --password P or set {ACTIVATION_PASSWORD_ENV}")))
}

/// Environment variable holding the vault PIN.
pub const PIN_ENV: &str = "SOFTTOKEN_PIN";
/// Environment variable holding a new PIN (init, change-pin).
pub const NEW_PIN_ENV: &str = "SOFTTOKEN_NEW_PIN";
/// Environment variable holding a backup password.
pub const BACKUP_PASSWORD_ENV: &str = "SOFTTOKEN_BACKUP_PASSWORD";
/// Environment variable holding the password of an encrypted export being imported.
pub const IMPORT_PASSWORD_ENV: &str = "SOFTTOKEN_IMPORT_PASSWORD";

/// True when a person can be asked: stdin and stderr are terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks a visible question on the terminal (not a secret) and returns the trimmed answer.
pub fn ask(question: &str) -> Result<String, Failure> {
    use std::io::Write;
    let mut err = std::io::stderr();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Failure::new(format!("cannot read the answer: {e}")))?;
    Ok(line.trim().to_string())
}

fn read_stdin_line(what: &str) -> Result<Zeroizing<String>, Failure> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().read_line(&mut line).map_err(|e| Failure::new(format!("cannot read the {what} from stdin: {e}")))?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_string());
    if trimmed.is_empty() {
        return Err(Failure::new(format!("no {what} on stdin")));
    }
    Ok(trimmed)
}

fn prompt(text: &str) -> Result<Zeroizing<String>, Failure> {
    rpassword::prompt_password(text).map(Zeroizing::new).map_err(|e| Failure::new(format!("cannot read input: {e}")))
}

/// The vault PIN: `SOFTTOKEN_PIN`, else one line of stdin with `--pin-stdin`, else a hidden prompt.
pub fn pin(pin_stdin: bool) -> Result<Zeroizing<String>, Failure> {
    if let Ok(p) = std::env::var(PIN_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if pin_stdin {
        return read_stdin_line("PIN");
    }
    if interactive() {
        return prompt("PIN: ");
    }
    Err(Failure::new(format!("this vault needs its PIN: set {PIN_ENV}, use --pin-stdin, or run on a terminal")))
}

/// A new PIN: `SOFTTOKEN_NEW_PIN`, else (for a new vault) `SOFTTOKEN_PIN` / `--pin-stdin`, else a
/// hidden prompt asked twice.
pub fn new_pin(pin_stdin: bool, fall_back_to_pin: bool) -> Result<Zeroizing<String>, Failure> {
    if let Ok(p) = std::env::var(NEW_PIN_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if fall_back_to_pin {
        if let Ok(p) = std::env::var(PIN_ENV) {
            return Ok(Zeroizing::new(p));
        }
        if pin_stdin {
            return read_stdin_line("PIN");
        }
    }
    if interactive() {
        let first = prompt("New PIN: ")?;
        let second = prompt("Repeat the new PIN: ")?;
        if first != second {
            return Err(Failure::new("the two PINs differ; nothing was changed"));
        }
        return Ok(first);
    }
    Err(Failure::new(format!("a new PIN is needed: set {NEW_PIN_ENV} or run on a terminal")))
}

/// A backup password: `SOFTTOKEN_BACKUP_PASSWORD`, else a hidden prompt (twice when `confirm`).
/// The password of another app's encrypted export (or a softtoken backup): from
/// $SOFTTOKEN_IMPORT_PASSWORD, else $SOFTTOKEN_BACKUP_PASSWORD for a backup, else a hidden prompt.
pub fn import_password(app: &str, backup: bool) -> Result<Zeroizing<String>, Failure> {
    if let Ok(p) = std::env::var(IMPORT_PASSWORD_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if backup {
        if let Ok(p) = std::env::var(BACKUP_PASSWORD_ENV) {
            return Ok(Zeroizing::new(p));
        }
    }
    if interactive() {
        return prompt(&format!("Password of the {app} export: "));
    }
    Err(Failure::new(format!("this {app} export is encrypted: set {IMPORT_PASSWORD_ENV} or run on a terminal")))
}

pub fn backup_password(confirm: bool) -> Result<Zeroizing<String>, Failure> {
    if let Ok(p) = std::env::var(BACKUP_PASSWORD_ENV) {
        return Ok(Zeroizing::new(p));
    }
    if interactive() {
        let first = prompt("Backup password: ")?;
        if confirm && first != prompt("Repeat the backup password: ")? {
            return Err(Failure::new("the two passwords differ; nothing was written"));
        }
        return Ok(first);
    }
    Err(Failure::new(format!("a backup password is needed: set {BACKUP_PASSWORD_ENV} or run on a terminal")))
}
