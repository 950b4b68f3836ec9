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
    Err(Failure::new(format!(
        "this activation URI needs its password: give --password P or set {ACTIVATION_PASSWORD_ENV}"
    )))
}
