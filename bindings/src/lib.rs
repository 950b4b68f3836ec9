//! softtoken-ffi: the UniFFI surface of softtoken for the Kotlin and Swift shells.
//!
//! This crate converts and never computes: every operation is a call into
//! `softtoken_core::session::Session` (or another core function), with core types turned into
//! FFI records and core errors into [`SofttokenError`], whose variants are the decisions a UI acts
//! on. Seeds never cross this boundary except in the PIN-confirmed encrypted backup export.
//! Foreign key-store failures, including unexpected exceptions, become `Platform` errors.

use softtoken_core::entrust::ObservedOtp;
use softtoken_core::session::{Session, ShownCode};
use softtoken_core::vault::keys::KdfParams;
use softtoken_core::vault::keystore as core_ks;
use softtoken_core::vault::VaultOptions;
use softtoken_core::Error as CoreError;
use std::sync::{Arc, Mutex, MutexGuard};

uniffi::setup_scaffolding!();

mod background;
mod transactions;
pub use transactions::*;

/// What went wrong, as a decision the UI can act on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SofttokenError {
    /// The activation or backup password is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// The PIN is wrong.
    #[error("wrong PIN ({attempts_left} attempts left)")]
    WrongPin {
        /// Attempts before the next delay.
        attempts_left: u32,
    },
    /// Wait before the next PIN attempt (0: the vault is locked, ask for the PIN).
    #[error("locked: try again in {retry_after_s} s")]
    Locked {
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// Too many wrong PINs: restore a backup or activate again.
    #[error("locked for good")]
    LockedPermanently,
    /// A typed or scanned value is malformed.
    #[error("{field}: {reason}")]
    InvalidCode {
        /// Which input ("activation code", "serial number", "uri", …).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The vault or backup is damaged or was tampered with.
    #[error("{detail}")]
    CorruptData {
        /// Details.
        detail: String,
    },
    /// The device key is gone (another device, key invalidated): restore a backup.
    #[error("{detail}")]
    KeyUnavailable {
        /// Details.
        detail: String,
    },
    /// Reading or writing files failed.
    #[error("{detail}")]
    Storage {
        /// Details.
        detail: String,
    },
    /// The organisation's policy forbids it.
    #[error("{detail}")]
    PolicyViolation {
        /// Details.
        detail: String,
    },
    /// Not possible in this state or not supported.
    #[error("{detail}")]
    Unsupported {
        /// Details.
        detail: String,
    },
    /// The user dismissed the biometric prompt: offer it again or ask for the PIN (never a
    /// damaged vault).
    #[error("authentication was cancelled")]
    Cancelled,
    /// The platform (key store) failed.
    #[error("{detail}")]
    Platform {
        /// Details.
        detail: String,
    },
}

impl From<CoreError> for SofttokenError {
    /// The one boundary between the core's rich errors and the decisions a UI takes. Every detail
    /// text is neutralised (control and bidi characters replaced): it may quote a name or a
    /// provider's words.
    fn from(e: CoreError) -> Self {
        let message = softtoken_core::text::neutralise(&e.to_string()).into_owned();
        let invalid = |field: &str, reason: String| SofttokenError::InvalidCode { field: field.into(), reason };
        match e {
            CoreError::WrongPassword | CoreError::WrongBackupPassword => SofttokenError::WrongPassword,
            CoreError::WrongPin { attempts_left } => SofttokenError::WrongPin { attempts_left },
            CoreError::Locked { retry_after_s } => SofttokenError::Locked { retry_after_s },
            // Ask for the PIN (again): never unlocked, locked by the user or idle, a PIN that was
            // not given, or a PIN changed by another process.
            CoreError::VaultLocked | CoreError::PinRequired | CoreError::ChangedElsewhere => SofttokenError::Locked { retry_after_s: 0 },
            CoreError::LockedPermanently => SofttokenError::LockedPermanently,
            CoreError::Invalid { field, reason } => invalid(&field.to_string(), softtoken_core::text::neutralise(&reason).into_owned()),
            CoreError::MalformedUri(_) => invalid("uri", message),
            CoreError::MalformedPayload(_) => invalid("activation payload", message),
            CoreError::NoMatch | CoreError::Ambiguous { .. } | CoreError::ResyncFailed { .. } => invalid("OTP", message),
            CoreError::NotFound(_) | CoreError::Duplicate { .. } | CoreError::NameTaken(_) | CoreError::AmbiguousName(_) => invalid("identity", message),
            CoreError::PinLength { .. } => invalid("PIN", message),
            CoreError::BackupPasswordTooShort { .. } => invalid("backup password", message),
            CoreError::NotABackup => invalid("backup", message),
            CoreError::TooLarge { .. } => invalid("input", message),
            CoreError::Refused { code, .. } => invalid("provider", code.as_str().into()),
            CoreError::ProviderClockOff { .. } => invalid("provider", "clock_off".into()),
            CoreError::CorruptVault { .. } | CoreError::RolledBack { .. } | CoreError::CorruptBackup => SofttokenError::CorruptData { detail: message },
            CoreError::KeyUnavailable(_) | CoreError::WrongKeyStore { .. } => SofttokenError::KeyUnavailable { detail: message },
            CoreError::AuthenticationCancelled => SofttokenError::Cancelled,
            CoreError::Platform(_) | CoreError::Crypto(_) | CoreError::Encoding(_) | CoreError::Network(_) => SofttokenError::Platform { detail: message },
            CoreError::Storage(_)
            | CoreError::NoVault(_)
            | CoreError::VaultExists(_)
            | CoreError::VaultIntact
            | CoreError::NoPreviousVersion
            | CoreError::ConcurrentChange
            | CoreError::HalfActivated { .. } => SofttokenError::Storage { detail: message },
            CoreError::PolicyViolation(_) => SofttokenError::PolicyViolation { detail: message },
            CoreError::UnsupportedVersion(_)
            | CoreError::UnsupportedFormat { .. }
            | CoreError::KdfParameters { .. }
            | CoreError::BiometricNotEnabled
            | CoreError::NotHotp(_)
            | CoreError::HotpNeedsRequest(_)
            | CoreError::CounterExhausted
            | CoreError::NotOnline(_) => SofttokenError::Unsupported { detail: message },
        }
    }
}

/// How a foreign key store failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyStoreError {
    /// The key does not exist (new device, key invalidated).
    #[error("key missing: {detail}")]
    KeyMissing {
        /// Details.
        detail: String,
    },
    /// The sealed bytes were not made by this key or were altered.
    #[error("sealed data rejected")]
    Rejected,
    /// The user dismissed the authentication prompt (biometric keys): never `Rejected`.
    #[error("authentication was cancelled")]
    Cancelled,
    /// Anything else (authentication cancelled, I/O, an unexpected exception).
    #[error("{detail}")]
    Failed {
        /// Details.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyStoreError::Failed { detail: format!("unexpected error in the key store: {}", e.reason) }
    }
}

/// The platform's non-exportable key (Android Keystore, iOS Keychain / Secure Enclave), implemented
/// by the app. Labels starting with `softtoken/v1/biometric/` must use a user-authentication-bound key.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// A short stable name recorded in the vault header (e.g. `android-keystore`).
    fn kind(&self) -> Result<String, KeyStoreError>;
    /// Encrypts and authenticates `plaintext` under the key for `label`.
    fn seal(&self, label: String, plaintext: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
    /// Reverses `seal`; `Rejected` for altered bytes. (The core calls this `open`; across the FFI it
    /// is `unseal` because UniFFI 0.32 escapes the Swift keyword `open` inside the C header.)
    fn unseal(&self, label: String, sealed: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
    /// Reads a small record; `None` when absent.
    fn load(&self, label: String) -> Result<Option<Vec<u8>>, KeyStoreError>;
    /// Writes a small record durably.
    fn store(&self, label: String, bytes: Vec<u8>) -> Result<(), KeyStoreError>;
}

/// The foreign store seen as the core's trait.
struct ForeignStore(Arc<dyn DeviceKeyStore>);

fn to_core(e: KeyStoreError) -> core_ks::KeyStoreError {
    match e {
        KeyStoreError::KeyMissing { detail } => core_ks::KeyStoreError::KeyMissing(detail),
        KeyStoreError::Rejected => core_ks::KeyStoreError::Rejected,
        KeyStoreError::Cancelled => core_ks::KeyStoreError::Cancelled,
        KeyStoreError::Failed { detail } => core_ks::KeyStoreError::Failed(detail),
    }
}

impl core_ks::DeviceKeyStore for ForeignStore {
    fn kind(&self) -> String {
        self.0.kind().unwrap_or_else(|e| format!("unavailable ({e})"))
    }
    fn seal(&self, label: &str, plaintext: &[u8]) -> Result<Vec<u8>, core_ks::KeyStoreError> {
        self.0.seal(label.into(), plaintext.to_vec()).map_err(to_core)
    }
    fn open(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>, core_ks::KeyStoreError> {
        self.0.unseal(label.into(), sealed.to_vec()).map_err(to_core)
    }
    fn load(&self, label: &str) -> Result<Option<Vec<u8>>, core_ks::KeyStoreError> {
        self.0.load(label.into()).map_err(to_core)
    }
    fn store(&self, label: &str, bytes: &[u8]) -> Result<(), core_ks::KeyStoreError> {
        self.0.store(label.into(), bytes.to_vec()).map_err(to_core)
    }
}

/// A software-held key for test doubles and platforms without a key store: AES-256-GCM with the
/// label as associated data (the core's software sealing). The key is random and never leaves Rust.
#[derive(uniffi::Object)]
pub struct SoftwareKey {
    key: softtoken_core::vault::keystore::SoftwareKeyBytes,
}

#[uniffi::export]
impl SoftwareKey {
    /// A fresh random key.
    #[uniffi::constructor]
    pub fn new() -> Result<Arc<Self>, KeyStoreError> {
        let key = softtoken_core::vault::keystore::SoftwareKeyBytes::random().map_err(|e| KeyStoreError::Failed { detail: e.to_string() })?;
        Ok(Arc::new(SoftwareKey { key }))
    }

    /// Seals `plaintext` for `label`.
    pub fn seal(&self, label: String, plaintext: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.key.seal(&label, &plaintext).map_err(from_core)
    }

    /// Opens what `seal` made; `Rejected` for altered bytes.
    pub fn unseal(&self, label: String, sealed: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.key.open(&label, &sealed).map_err(from_core)
    }
}

fn from_core(e: core_ks::KeyStoreError) -> KeyStoreError {
    match e {
        core_ks::KeyStoreError::KeyMissing(detail) => KeyStoreError::KeyMissing { detail },
        core_ks::KeyStoreError::Rejected => KeyStoreError::Rejected,
        core_ks::KeyStoreError::Cancelled => KeyStoreError::Cancelled,
        core_ks::KeyStoreError::Failed(detail) => KeyStoreError::Failed { detail },
    }
}

/// Vault creation settings.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VaultSettings {
    /// Argon2id memory in MiB (19..=1024).
    pub kdf_memory_mib: u32,
    /// Argon2id passes (2..=16).
    pub kdf_passes: u32,
    /// Argon2id lanes (1..=16).
    pub kdf_lanes: u32,
    /// Wrong PINs before the vault locks for good.
    pub max_attempts: u32,
}

/// The recommended settings: 64 MiB, 3 passes, 4 lanes, 10 attempts.
#[uniffi::export]
pub fn default_vault_settings() -> VaultSettings {
    let d = VaultOptions::default();
    VaultSettings { kdf_memory_mib: d.kdf.m_kib / 1024, kdf_passes: d.kdf.t, kdf_lanes: d.kdf.p, max_attempts: d.max_attempts }
}

/// Text from outside (names, issuers, providers, transaction texts) as the UI may show it: control
/// and bidi characters replaced by U+FFFD (`softtoken_core::text::neutralise`).
pub(crate) fn shown(text: &str) -> String {
    softtoken_core::text::neutralise(text).into_owned()
}

/// An identity as the UI lists it (never its seed; texts neutralised).
#[derive(Debug, Clone, uniffi::Record)]
pub struct IdentityInfo {
    /// Stable id.
    pub id: String,
    /// Token name.
    pub name: String,
    /// Identity provider.
    pub provider: Option<String>,
    /// `entrust`, `totp` or `hotp`.
    pub kind: String,
    /// Entrust serial number.
    pub serial: Option<String>,
    /// Code length.
    pub digits: u8,
    /// Seconds per code.
    pub period: u32,
    /// Activated online: gets push transactions.
    pub online: bool,
}

impl From<&softtoken_core::identity::Identity> for IdentityInfo {
    fn from(i: &softtoken_core::identity::Identity) -> Self {
        IdentityInfo {
            id: i.id.clone(),
            name: shown(&i.name),
            provider: i.provider.as_deref().map(shown),
            kind: i.kind.name().into(),
            serial: i.serial.clone(),
            digits: i.digits,
            period: i.period,
            online: i.is_online(),
        }
    }
}

/// A code to show.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CodeInfo {
    /// The digits.
    pub code: String,
    /// Seconds until it changes (none for HOTP).
    pub remaining_s: Option<u32>,
}

impl From<ShownCode> for CodeInfo {
    fn from(c: ShownCode) -> Self {
        CodeInfo { code: c.code, remaining_s: c.remaining_s }
    }
}

/// A code the official app showed, and when.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ObservedCode {
    /// The code.
    pub code: String,
    /// Unix time it was shown.
    pub unix_time: u64,
}

/// One item an import did not store.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SkippedItem {
    /// The item's label.
    pub name: String,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportResult {
    /// Names stored.
    pub imported: Vec<String>,
    /// Items not stored.
    pub skipped: Vec<SkippedItem>,
}

/// What a deep link holds, shown before anything is stored.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum LinkPreview {
    /// An Entrust activation QR link: ask for its password, then `begin_qr_activation`.
    Activation {
        /// The link's scheme (`igmobileotp` unless the issuer changed it).
        scheme: String,
    },
    /// One otpauth token: store it with `import_link`.
    Token {
        /// Service.
        issuer: Option<String>,
        /// Account.
        account: String,
        /// `totp` or `hotp`.
        kind: String,
        /// Code length.
        digits: u8,
    },
    /// An online activation link: confirm with the user, then `activate_link`.
    OnlineActivation {
        /// The provider's host.
        provider: String,
        /// The provider's address.
        base_url: String,
    },
    /// One QR code of a Google Authenticator export: store it with `import_link`.
    GoogleExport {
        /// The tokens' labels.
        names: Vec<String>,
        /// This code's index (0-based).
        batch_index: u32,
        /// Codes in the export.
        batch_size: u32,
    },
}

/// One QR symbol read from a camera frame or an image.
#[derive(uniffi::Record)]
pub struct ScannedCode {
    /// The symbol's text (an activation URI, an otpauth URI, anything else).
    pub text: String,
    /// Which decoder read it ("rxing" or "rqrr").
    pub decoder: String,
    /// Which transformation of the frame it was read in ("plain", "inverted", …).
    pub pass: String,
}

impl From<softtoken_scan::ScannedCode> for ScannedCode {
    fn from(c: softtoken_scan::ScannedCode) -> Self {
        ScannedCode { text: c.text, decoder: c.decoder.as_str().into(), pass: c.pass.as_str().into() }
    }
}

impl From<softtoken_scan::ScanError> for SofttokenError {
    fn from(e: softtoken_scan::ScanError) -> Self {
        use softtoken_scan::ScanError;
        let reason = e.to_string();
        match e {
            ScanError::InvalidFrame(_) => SofttokenError::InvalidCode { field: "frame".into(), reason },
            ScanError::TooLarge { .. } | ScanError::Corrupt(_) => SofttokenError::InvalidCode { field: "image".into(), reason },
            ScanError::UnknownFormat => SofttokenError::Unsupported { detail: reason },
        }
    }
}

/// Every QR code in a camera frame's luma (Y) plane — CameraX `ImageProxy.planes[0]`, the Y plane of
/// a `CVPixelBuffer` — with a time budget for a 30 fps loop. An empty list: try the next frame.
#[uniffi::export]
pub fn scan_luma(width: u32, height: u32, stride: u32, bytes: Vec<u8>) -> Result<Vec<ScannedCode>, SofttokenError> {
    let frame = softtoken_scan::LumaFrame::new(width, height, stride, &bytes)?;
    Ok(softtoken_scan::scan_luma(&frame, &softtoken_scan::ScanOptions::camera()).into_iter().map(Into::into).collect())
}

/// Every QR code in an image file's bytes (PNG, JPEG, WebP, GIF): a picked screenshot or photo.
#[uniffi::export]
pub fn scan_image(bytes: Vec<u8>) -> Result<Vec<ScannedCode>, SofttokenError> {
    #[cfg(feature = "image-files")]
    {
        Ok(softtoken_scan::scan_image(&bytes, &softtoken_scan::ScanOptions::file())?.into_iter().map(Into::into).collect())
    }
    #[cfg(not(feature = "image-files"))]
    {
        let _ = bytes;
        Err(SofttokenError::Unsupported { detail: "this build reads no image files: decode the image to luma and call scan_luma".into() })
    }
}

/// Recognises a deep link (what the phone's link handler receives) and previews it.
#[uniffi::export]
pub fn handle_link(link: String) -> Result<LinkPreview, SofttokenError> {
    use softtoken_core::link::{classify, Link};
    use softtoken_core::uri::OtpKind;
    Ok(match classify(&link)? {
        Link::SecActivate(u) => LinkPreview::Activation { scheme: shown(&u.scheme) },
        Link::Otpauth(u) => LinkPreview::Token {
            issuer: u.issuer.as_deref().map(shown),
            account: shown(&u.account),
            kind: match u.kind {
                OtpKind::Totp { .. } => "totp".into(),
                OtpKind::Hotp { .. } => "hotp".into(),
            },
            digits: u.digits,
        },
        Link::OnlineActivation(l) => LinkPreview::OnlineActivation { provider: softtoken_core::activation::provider_from_url(&l.base_url).unwrap_or_default(), base_url: l.base_url },
        Link::Migration(p) => LinkPreview::GoogleExport { names: p.items.iter().map(|(l, _)| shown(l)).collect(), batch_index: p.batch_index, batch_size: p.batch_size },
    })
}

impl From<softtoken_core::vault::backup::ImportReport> for ImportResult {
    fn from(r: softtoken_core::vault::backup::ImportReport) -> Self {
        ImportResult {
            imported: r.imported.iter().map(|n| shown(n)).collect(),
            skipped: r.skipped.into_iter().map(|(name, reason)| SkippedItem { name: shown(&name), reason: shown(&reason) }).collect(),
        }
    }
}

/// An activation shown before anything is stored; `cancel` (or dropping it) wipes it.
#[derive(uniffi::Object)]
pub struct PendingActivation {
    inner: Mutex<Option<softtoken_core::activation::PendingActivation>>,
    serial: String,
    provider: Option<String>,
    policy: Option<String>,
    registration_code: String,
    digits: u8,
}

impl PendingActivation {
    fn wrap(p: softtoken_core::activation::PendingActivation) -> Arc<Self> {
        Arc::new(PendingActivation {
            serial: p.serial.to_string(),
            provider: p.provider.as_deref().map(shown),
            policy: p.policy.as_deref().map(shown),
            registration_code: p.registration_code.to_string(),
            digits: p.digits,
            inner: Mutex::new(Some(p)),
        })
    }
}

#[uniffi::export]
impl PendingActivation {
    /// Serial number.
    pub fn serial(&self) -> String {
        self.serial.clone()
    }
    /// Identity provider (the registration address's host).
    pub fn provider(&self) -> Option<String> {
        self.provider.clone()
    }
    /// Policy string, verbatim.
    pub fn policy(&self) -> Option<String> {
        self.policy.clone()
    }
    /// The code the user types into the portal.
    pub fn registration_code(&self) -> String {
        self.registration_code.clone()
    }
    /// Code length.
    pub fn digits(&self) -> u8 {
        self.digits
    }
    /// Wipes the activation; committing it afterwards fails.
    pub fn cancel(&self) {
        lock(&self.inner).take();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs blocking work (Argon2, the recovery search, requests) on its own thread, so the caller's
/// coroutine or task is not blocked while it runs.
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, SofttokenError> {
    background::spawn(work).await.ok_or_else(|| SofttokenError::Platform { detail: "background work stopped".into() })
}

/// One vault: unlock, list, codes, activations, backups.
#[derive(uniffi::Object)]
pub struct Authenticator {
    session: Arc<Mutex<Session>>,
    transport: Mutex<Option<Arc<dyn softtoken_net::TransactionTransport>>>,
}

type R<T> = Result<T, SofttokenError>;

#[uniffi::export]
impl Authenticator {
    /// A vault at `path` sealed by `key_store` (the file need not exist yet).
    #[uniffi::constructor]
    pub fn new(path: String, key_store: Arc<dyn DeviceKeyStore>) -> Arc<Self> {
        let store: Arc<dyn core_ks::DeviceKeyStore> = Arc::new(ForeignStore(key_store));
        Arc::new(Authenticator {
            session: Arc::new(Mutex::new(Session::new(path.into(), store, Arc::new(softtoken_core::otp::SystemClock)))),
            transport: Mutex::new(None),
        })
    }

    /// Whether the vault file exists.
    pub fn exists(&self) -> bool {
        lock(&self.session).exists()
    }

    /// Creates the vault (PIN optional) and leaves it unlocked.
    pub async fn create(&self, pin: Option<String>, settings: VaultSettings) -> R<()> {
        let session = self.session.clone();
        let options = VaultOptions { kdf: KdfParams { m_kib: settings.kdf_memory_mib.saturating_mul(1024), t: settings.kdf_passes, p: settings.kdf_lanes }, max_attempts: settings.max_attempts };
        off_thread(move || lock(&session).create(pin.as_deref(), options)).await??;
        Ok(())
    }

    /// Unlocks with the PIN (none for a PIN-less vault). Argon2 runs on its own thread without
    /// holding the session, so `lock()` and `is_unlocked()` answer at once meanwhile; if the
    /// caller's coroutine or task is cancelled, the result is dropped and the vault stays locked.
    pub async fn unlock(&self, pin: Option<String>) -> R<()> {
        let unlocker = lock(&self.session).unlocker();
        let vault = off_thread(move || unlocker.unlock(pin.as_deref())).await??;
        lock(&self.session).install(vault);
        Ok(())
    }

    /// Unlocks with the biometric slot (the platform prompts; refused while wrong PINs have the
    /// vault waiting or locked for good).
    pub async fn unlock_biometric(&self) -> R<()> {
        let unlocker = lock(&self.session).unlocker();
        let vault = off_thread(move || unlocker.unlock_biometric()).await??;
        lock(&self.session).install(vault);
        Ok(())
    }

    /// Whether biometric unlock is enabled.
    pub fn has_biometric(&self) -> R<bool> {
        Ok(lock(&self.session).has_biometric()?)
    }

    /// Locks now.
    pub fn lock(&self) {
        lock(&self.session).lock();
    }

    /// Whether the vault is unlocked (after the idle lock is applied).
    pub fn is_unlocked(&self) -> bool {
        lock(&self.session).is_unlocked()
    }

    /// Whether unlocking needs a PIN.
    pub fn has_pin(&self) -> R<bool> {
        Ok(lock(&self.session).has_pin()?)
    }

    /// Seconds of inactivity before the vault locks itself (0: never).
    pub fn set_auto_lock(&self, seconds: u64) {
        lock(&self.session).set_auto_lock(seconds);
    }

    /// All identities.
    pub fn identities(&self) -> R<Vec<IdentityInfo>> {
        Ok(lock(&self.session).identities()?.iter().map(IdentityInfo::from).collect())
    }

    /// The current TOTP code of an identity (a read: it does not keep the vault unlocked; HOTP
    /// identities are refused, see `next_hotp`).
    pub fn code(&self, id: String) -> R<CodeInfo> {
        Ok(lock(&self.session).code(&id)?.into())
    }

    /// The TOTP code at a given Unix time.
    pub fn code_at(&self, id: String, unix_time: u64) -> R<CodeInfo> {
        Ok(lock(&self.session).code_at(&id, unix_time)?.into())
    }

    /// The next HOTP code: call it only when the user asks for one (it advances the counter).
    pub fn next_hotp(&self, id: String) -> R<CodeInfo> {
        Ok(lock(&self.session).next_hotp(&id)?.into())
    }

    /// Previews an activation from a QR URI and its password.
    pub fn begin_qr_activation(&self, uri: String, password: String, digits: Option<u8>) -> R<Arc<PendingActivation>> {
        Ok(PendingActivation::wrap(lock(&self.session).begin_qr_activation(&uri, &password, digits)?))
    }

    /// Previews an activation from a typed serial number and activation code.
    pub fn begin_manual_activation(&self, serial: String, activation_code: String, digits: Option<u8>) -> R<Arc<PendingActivation>> {
        Ok(PendingActivation::wrap(lock(&self.session).begin_manual_activation(&serial, &activation_code, digits)?))
    }

    /// Stores a previewed activation.
    pub fn commit_activation(&self, pending: Arc<PendingActivation>, name: Option<String>) -> R<IdentityInfo> {
        let p = lock(&pending.inner).take().ok_or(SofttokenError::Unsupported { detail: "this activation was cancelled or already stored".into() })?;
        Ok((&lock(&self.session).commit_activation(p, name.as_deref())?).into())
    }

    /// Adds an otpauth:// URI.
    pub fn add_otpauth(&self, uri: String, name: Option<String>) -> R<IdentityInfo> {
        Ok((&lock(&self.session).add_otpauth(&uri, name.as_deref())?).into())
    }

    /// Moves a token activated in the official app (registration code, or codes it showed).
    #[allow(clippy::too_many_arguments)]
    pub async fn import_existing(
        &self,
        serial: String,
        activation_code: String,
        policy: Option<String>,
        registration_code: Option<String>,
        codes: Vec<ObservedCode>,
        digits: Option<u8>,
        name: Option<String>,
    ) -> R<IdentityInfo> {
        let session = self.session.clone();
        let otps: Vec<ObservedOtp> = codes.into_iter().map(|c| ObservedOtp { code: c.code, unix_time: c.unix_time }).collect();
        let identity = off_thread(move || {
            lock(&session).import_existing(&serial, &activation_code, policy.as_deref(), registration_code.as_deref(), &otps, digits, name.as_deref())
        })
        .await??;
        Ok((&identity).into())
    }

    /// Renames an identity.
    pub fn rename(&self, id: String, name: String) -> R<()> {
        Ok(lock(&self.session).rename(&id, &name)?)
    }

    /// Sets, changes or (none) removes the PIN; `current_pin` is the PIN in force (a wrong one
    /// counts like a failed unlock). Returns true when biometric unlock was turned off by the
    /// change (enable it again with the new PIN).
    pub async fn change_pin(&self, current_pin: Option<String>, new_pin: Option<String>) -> R<bool> {
        let session = self.session.clone();
        Ok(off_thread(move || lock(&session).change_pin(current_pin.as_deref(), new_pin.as_deref())).await??)
    }

    /// Turns biometric unlock on (needs the current PIN, counted like an unlock) or off.
    pub async fn set_biometric(&self, pin: Option<String>, enabled: bool) -> R<()> {
        let session = self.session.clone();
        Ok(off_thread(move || lock(&session).set_biometric(pin.as_deref(), enabled)).await??)
    }

    /// The explicit, PIN-confirmed export: an encrypted backup file's bytes (the PIN is checked
    /// like an unlock attempt).
    pub async fn export_backup(&self, pin: Option<String>, password: String) -> R<Vec<u8>> {
        let session = self.session.clone();
        Ok(off_thread(move || lock(&session).export_backup(pin.as_deref(), &password, KdfParams::DEFAULT)).await??)
    }

    /// Stores what an otpauth or otpauth-migration link holds; every item is reported.
    pub fn import_link(&self, link: String) -> R<ImportResult> {
        Ok(lock(&self.session).import_uris(&link)?.into())
    }

    /// Imports a softtoken backup; every item is reported.
    pub async fn import_backup(&self, bytes: Vec<u8>, password: String) -> R<ImportResult> {
        let session = self.session.clone();
        Ok(off_thread(move || lock(&session).import_backup(&bytes, &password)).await??.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_maps_to_the_decision_a_ui_takes() {
        use softtoken_core::error::PolicyRule;
        let cases: Vec<(CoreError, &str)> = vec![
            (CoreError::WrongPin { attempts_left: 2 }, "WrongPin"),
            (CoreError::PinRequired, "Locked"),
            (CoreError::ChangedElsewhere, "Locked"),
            (CoreError::VaultLocked, "Locked"),
            (CoreError::LockedPermanently, "LockedPermanently"),
            (CoreError::WrongBackupPassword, "WrongPassword"),
            (CoreError::RolledBack { found: 1, newest: 2 }, "CorruptData"),
            (CoreError::CorruptBackup, "CorruptData"),
            (CoreError::WrongKeyStore { recorded: "file".into(), given: "memory".into() }, "KeyUnavailable"),
            (CoreError::Network("down".into()), "Platform"),
            (CoreError::Refused { code: softtoken_core::protocol::Refusal::Expired, message: "x".into() }, "InvalidCode"),
            (CoreError::TooLarge { what: "QR codes", found: 9, limit: 1 }, "InvalidCode"),
            (CoreError::KdfParameters { m_kib: 1, t: 1, p: 1, reason: "x" }, "Unsupported"),
            (CoreError::HotpNeedsRequest("h".into()), "Unsupported"),
            (CoreError::PolicyViolation(PolicyRule::PinRequired { identity: "a".into() }), "PolicyViolation"),
            (CoreError::VaultIntact, "Storage"),
            (CoreError::AuthenticationCancelled, "Cancelled"),
        ];
        for (core, want) in cases {
            let ffi = SofttokenError::from(core.clone());
            let got = format!("{ffi:?}");
            assert!(got.starts_with(want), "{core:?} → {got}");
        }
        match SofttokenError::from(CoreError::NotFound("evil\u{1b}[2K\u{202e}".into())) {
            SofttokenError::InvalidCode { reason, .. } => assert!(!reason.chars().any(softtoken_core::text::is_hazard), "{reason:?}"),
            other => panic!("{other:?}"),
        }
    }
}
