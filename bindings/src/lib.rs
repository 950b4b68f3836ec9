//! softtoken-ffi: the UniFFI surface of softtoken for the Kotlin and Swift shells.
//!
//! This crate converts and never computes: every operation is a call into
//! `softtoken_app::Authenticator` (or a core function), with core types turned into FFI records and
//! errors into [`SofttokenError`], whose variants are the decisions a UI acts on. Seeds never cross
//! this boundary except in the PIN-confirmed encrypted backup export. One module per concept:
//!
//! | module | concept |
//! |---|---|
//! | `errors` | the FFI error and the one mapping from every core, online and scanning error |
//! | `key_store` | the app's `DeviceKeyStore` (foreign trait) and `SoftwareKey` |
//! | `authenticator` | the `Authenticator` object: vault, codes, PIN, biometrics, backups |
//! | `activation` | activations previewed before they are stored |
//! | `scanning` | QR codes from camera frames and image files |
//! | `links` | deep links previewed |
//! | `online` | the transport, activation by link, push transactions, push tokens |

uniffi::setup_scaffolding!();

mod activation;
mod authenticator;
mod background;
mod errors;
mod key_store;
mod links;
mod online;
mod scanning;

pub use activation::*;
pub use authenticator::*;
pub use errors::*;
pub use key_store::*;
pub use links::*;
pub use online::*;
pub use scanning::*;

use std::sync::{Mutex, MutexGuard};

/// Text from outside (names, issuers, providers, transaction texts) as the UI may show it: control
/// and bidi characters replaced by U+FFFD (`softtoken_core::text::neutralise`).
pub(crate) fn shown(text: &str) -> String {
    softtoken_core::text::neutralise(text).into_owned()
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs blocking work (Argon2, the recovery search, requests) on its own thread, so the caller's
/// coroutine or task is not blocked while it runs; if the caller is cancelled, the result is
/// dropped.
pub(crate) async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, SofttokenError> {
    background::spawn(work).await.ok_or_else(|| SofttokenError::Platform { detail: "background work stopped".into() })
}
