//! The `Authenticator` object: one vault — create, unlock (PIN, biometrics), the idle lock,
//! identities and codes, PIN and biometrics, backups and imports. Each method converts and calls
//! `softtoken_app::Authenticator`; long work (Argon2, the recovery search) runs off the caller's
//! thread.

use crate::key_store::{DeviceKeyStore, ForeignStore};
use crate::{off_thread, shown, SofttokenError};
use softtoken_core::entrust::ObservedOtp;
use softtoken_core::vault::{KdfParams, VaultOptions};
use std::sync::Arc;

pub(crate) type R<T> = Result<T, SofttokenError>;

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

/// An identity as the UI lists it (never its seed; texts neutralised).
#[derive(Debug, Clone, uniffi::Record)]
pub struct IdentityInfo {
    /// Stable id.
    pub id: String,
    /// Token name.
    pub name: String,
    /// Identity provider.
    pub provider: Option<String>,
    /// `entrust`, `totp`, `hotp`, `steam` or `push` (a privacyIDEA / eduMFA push token: no codes).
    pub kind: String,
    /// Entrust serial number.
    pub serial: Option<String>,
    /// Code length.
    pub digits: u8,
    /// Seconds per code.
    pub period: u32,
    /// Gets push transactions (activated online, or a privacyIDEA / eduMFA push token).
    pub online: bool,
}

/// A token added from an otpauth URI.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OtpauthToken {
    /// The stored identity.
    pub identity: IdentityInfo,
    /// Two-step enrollment only: the phone's part of the key (base32check) for the user to type
    /// into privacyIDEA; none for an ordinary URI.
    pub client_part: Option<String>,
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
            online: i.receives_push(),
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

impl From<softtoken_app::ShownCode> for CodeInfo {
    fn from(c: softtoken_app::ShownCode) -> Self {
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
    /// What stored items carried that softtoken does not keep (notes, groups).
    pub notices: Vec<SkippedItem>,
}

fn items(list: Vec<(String, String)>) -> Vec<SkippedItem> {
    list.into_iter().map(|(name, reason)| SkippedItem { name: shown(&name), reason: shown(&reason) }).collect()
}

/// Automatic backups' settings and state.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AutoBackupInfo {
    /// The directory backups go to.
    pub dir: String,
    /// How many are kept.
    pub keep: u32,
    /// Unix time of the last backup written.
    pub last_backup_at: Option<u64>,
    /// Why the last backup failed: when set, the latest changes are not backed up.
    pub last_error: Option<String>,
}

impl From<softtoken_core::vault::AutoBackupStatus> for AutoBackupInfo {
    fn from(s: softtoken_core::vault::AutoBackupStatus) -> Self {
        AutoBackupInfo { dir: s.dir.display().to_string(), keep: s.keep, last_backup_at: s.last_backup_at, last_error: s.last_error.as_deref().map(shown) }
    }
}

/// What an export holds, read and decrypted before anything is stored.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportPreview {
    /// The format it was read as (`aegis`, `2fas`, …).
    pub format: String,
    /// Tokens that will be stored (duplicates of the vault's are found at import).
    pub tokens: Vec<IdentityInfo>,
    /// Items that cannot be stored, with why.
    pub skipped: Vec<SkippedItem>,
    /// What the tokens carry that softtoken does not keep.
    pub notices: Vec<SkippedItem>,
}

impl From<softtoken_core::vault::ImportReport> for ImportResult {
    fn from(r: softtoken_core::vault::ImportReport) -> Self {
        ImportResult { imported: r.imported.iter().map(|n| shown(n)).collect(), skipped: items(r.skipped), notices: items(r.notices) }
    }
}

/// One vault: unlock, list, codes, activations, backups, and the online side.
#[derive(uniffi::Object)]
pub struct Authenticator {
    pub(crate) app: Arc<softtoken_app::Authenticator>,
}

impl Authenticator {
    /// Runs `work` on the façade off the caller's thread.
    pub(crate) async fn run<T: Send + 'static, E: Into<SofttokenError>>(
        &self,
        work: impl FnOnce(&softtoken_app::Authenticator) -> Result<T, E> + Send + 'static,
    ) -> R<T> {
        let app = self.app.clone();
        off_thread(move || work(&app).map_err(Into::into)).await?
    }
}

/// Sets its flag when dropped: a cancelled coroutine or task drops the future holding it.
struct CancelOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[uniffi::export]
impl Authenticator {
    /// A vault at `path` sealed by `key_store` (the file need not exist yet).
    #[uniffi::constructor]
    pub fn new(path: String, key_store: Arc<dyn DeviceKeyStore>) -> Arc<Self> {
        let store = Arc::new(ForeignStore(key_store));
        Arc::new(Authenticator { app: Arc::new(softtoken_app::Authenticator::new(path, store, Arc::new(softtoken_core::clock::SystemClock))) })
    }

    /// Whether the vault file exists.
    pub fn exists(&self) -> bool {
        self.app.exists()
    }

    /// Creates the vault (PIN optional) and leaves it unlocked.
    pub async fn create(&self, pin: Option<String>, settings: VaultSettings) -> R<()> {
        let options = VaultOptions {
            kdf: KdfParams { m_kib: settings.kdf_memory_mib.saturating_mul(1024), t: settings.kdf_passes, p: settings.kdf_lanes },
            max_attempts: settings.max_attempts,
        };
        let created = self.run(move |a| a.creating(pin.as_deref(), options)).await?;
        self.app.install(created)?;
        Ok(())
    }

    /// Unlocks with the PIN (none for a PIN-less vault). Argon2 runs on its own thread without
    /// holding any lock, so `lock()` and `is_unlocked()` answer at once meanwhile; if the caller's
    /// coroutine or task is cancelled, the result is dropped and the vault stays locked.
    pub async fn unlock(&self, pin: Option<String>) -> R<()> {
        let unlocked = self.run(move |a| a.unlocking(pin.as_deref())).await?;
        self.app.install_and_register_kept(unlocked)?;
        Ok(())
    }

    /// Unlocks with the biometric slot (the platform prompts; refused while wrong PINs have the
    /// vault waiting or locked for good).
    pub async fn unlock_biometric(&self) -> R<()> {
        let unlocked = self.run(|a| a.unlocking_biometric()).await?;
        self.app.install_and_register_kept(unlocked)?;
        Ok(())
    }

    /// Whether biometric unlock is enabled. Synchronous on purpose: while locked it reads only the
    /// file's sealed header (no lock, no KDF), and a lock screen needs the answer to draw itself.
    pub fn has_biometric(&self) -> R<bool> {
        Ok(self.app.has_biometric()?)
    }

    /// Locks now.
    pub fn lock(&self) {
        self.app.lock();
    }

    /// Whether the vault is unlocked (after the idle lock is applied).
    pub fn is_unlocked(&self) -> bool {
        self.app.is_unlocked()
    }

    /// Whether unlocking needs a PIN. Synchronous like `has_biometric` (the header only).
    pub fn has_pin(&self) -> R<bool> {
        Ok(self.app.has_pin()?)
    }

    /// Seconds of inactivity before the vault locks itself (0: never).
    pub fn set_auto_lock(&self, seconds: u64) {
        self.app.set_auto_lock(seconds);
    }

    /// All identities.
    pub fn identities(&self) -> R<Vec<IdentityInfo>> {
        Ok(self.app.identities()?.iter().map(IdentityInfo::from).collect())
    }

    /// The current TOTP code of an identity (a read: it does not keep the vault unlocked; HOTP
    /// identities are refused, see `next_hotp`).
    pub fn code(&self, id: String) -> R<CodeInfo> {
        Ok(self.app.code(&id)?.into())
    }

    /// Waits for the identity's next period edge and returns the new code: the code ticker (a
    /// `Flow` / `AsyncStream` calls it in a loop). TOTP and Steam only; a read that never keeps
    /// the vault unlocked; ends with `Locked` when the vault locks. Cancelling the caller stops the
    /// wait within a second.
    pub async fn next_code(&self, id: String) -> R<CodeInfo> {
        let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let _on_drop = CancelOnDrop(cancelled.clone());
        let code = self.run(move |a| a.next_code(&id, &cancelled)).await?;
        code.map(Into::into).ok_or(SofttokenError::Cancelled)
    }

    /// The TOTP code at a given Unix time.
    pub fn code_at(&self, id: String, unix_time: u64) -> R<CodeInfo> {
        Ok(self.app.code_at(&id, unix_time)?.into())
    }

    /// The next HOTP code: call it only when the user asks for one (it advances the counter and
    /// saves it before the code is returned).
    pub async fn next_hotp(&self, id: String) -> R<CodeInfo> {
        Ok(self.run(move |a| a.next_hotp(&id)).await?.into())
    }

    /// Adds an otpauth:// URI. A privacyIDEA two-step URI (`2step_salt`…) gets half its key made
    /// here: show `client_part` to the user, who types it into privacyIDEA to finish there.
    #[uniffi::method(default(name = None))]
    pub async fn add_otpauth(&self, uri: String, name: Option<String>) -> R<OtpauthToken> {
        let token = self.run(move |a| a.add_otpauth(&uri, name.as_deref())).await?;
        Ok(OtpauthToken { identity: (&token.identity).into(), client_part: token.client_part })
    }

    /// Moves a token activated in the official app (registration code, or codes it showed).
    #[allow(clippy::too_many_arguments)]
    #[uniffi::method(default(policy = None, registration_code = None, codes = [], digits = None, name = None))]
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
        let otps: Vec<ObservedOtp> = codes.into_iter().map(|c| ObservedOtp { code: c.code, unix_time: c.unix_time }).collect();
        let identity = self
            .run(move |a| {
                let token = softtoken_app::MovedToken {
                    serial: &serial,
                    activation_code: &activation_code,
                    policy: policy.as_deref(),
                    registration_code: registration_code.as_deref(),
                    otps: &otps,
                    digits,
                };
                a.import_existing(&token, name.as_deref())
            })
            .await?;
        Ok((&identity).into())
    }

    /// Renames an identity.
    pub async fn rename(&self, id: String, name: String) -> R<()> {
        self.run(move |a| a.rename(&id, &name).map(|_| ())).await
    }

    /// Changes an Entrust identity's code length (6 or 8) without a new registration code (a
    /// manual activation cannot know it; the user reads it from the company's portal).
    pub async fn set_digits(&self, id: String, digits: u8) -> R<()> {
        self.run(move |a| a.set_digits(&id, digits).map(|_| ())).await
    }

    /// Sets (or with none clears) the provider address an Entrust identity's push sign-ins come
    /// from: https, or http to a loopback host.
    #[uniffi::method(default(url = None))]
    pub async fn set_transaction_url(&self, id: String, url: Option<String>) -> R<()> {
        self.run(move |a| a.set_transaction_url(&id, url.as_deref()).map(|_| ())).await
    }

    /// Sets, changes or (none) removes the PIN; `current_pin` is the PIN in force (a wrong one
    /// counts like a failed unlock). Returns true when biometric unlock was turned off by the
    /// change (enable it again with the new PIN).
    pub async fn change_pin(&self, current_pin: Option<String>, new_pin: Option<String>) -> R<bool> {
        self.run(move |a| a.change_pin(current_pin.as_deref(), new_pin.as_deref(), None)).await
    }

    /// Turns biometric unlock on (needs the current PIN, counted like an unlock) or off.
    pub async fn set_biometric(&self, pin: Option<String>, enabled: bool) -> R<()> {
        self.run(move |a| a.set_biometric(pin.as_deref(), enabled)).await
    }

    /// The explicit, PIN-confirmed export: an encrypted backup file's bytes (the PIN is checked
    /// like an unlock attempt).
    pub async fn export_backup(&self, pin: Option<String>, password: String) -> R<Vec<u8>> {
        self.run(move |a| a.export_backup(pin.as_deref(), &password, KdfParams::DEFAULT)).await
    }

    /// Stores what an otpauth or otpauth-migration link holds; every item is reported.
    pub async fn import_link(&self, link: String) -> R<ImportResult> {
        Ok(self.run(move |a| a.import_uris(&link)).await?.into())
    }

    /// Reads an export of any format softtoken imports (Aegis, 2FAS, Ente, Bitwarden, Stratum,
    /// andOTP, FreeOTP+, Proton, LastPass, Steam, otpauth text, softtoken backups) and shows what
    /// it holds; the vault is not touched. An encrypted one needs `password`.
    pub async fn preview_import(&self, bytes: Vec<u8>, password: Option<String>) -> R<ImportPreview> {
        let p = self.run(move |a| a.preview_import(&bytes, None, password.as_deref())).await?;
        Ok(ImportPreview {
            format: p.format.name().into(),
            tokens: p.tokens.iter().map(IdentityInfo::from).collect(),
            skipped: items(p.skipped),
            notices: items(p.notices),
        })
    }

    /// Imports an export of any format `preview_import` reads (a softtoken backup too): all of it
    /// is decrypted before the vault is touched, then every good item is stored in one save.
    pub async fn import_file(&self, bytes: Vec<u8>, password: Option<String>) -> R<ImportResult> {
        Ok(self.run(move |a| a.import_file(&bytes, None, password.as_deref())).await?.into())
    }

    /// Turns automatic backups on (PIN-confirmed): after every change an encrypted backup under
    /// `password` goes into `dir` (an app-private or user-picked directory), the newest `keep` kept.
    pub async fn set_auto_backup(&self, pin: Option<String>, dir: String, keep: u32, password: String) -> R<AutoBackupInfo> {
        Ok(self.run(move |a| a.set_auto_backup(pin.as_deref(), std::path::Path::new(&dir), keep, &password)).await?.into())
    }

    /// Turns automatic backups off (the files written stay).
    pub async fn disable_auto_backup(&self) -> R<()> {
        self.run(move |a| a.disable_auto_backup()).await
    }

    /// Automatic backups' settings and state, none when off.
    pub fn auto_backup(&self) -> R<Option<AutoBackupInfo>> {
        Ok(self.app.auto_backup()?.map(Into::into))
    }

    /// The explicit, PIN-confirmed export to Aegis: its JSON export file, encrypted with
    /// `password` (or plain, secrets in clear, without one).
    pub async fn export_aegis(&self, pin: Option<String>, password: Option<String>) -> R<Vec<u8>> {
        self.run(move |a| a.export_aegis(pin.as_deref(), password.as_deref()).map(|json| json.as_bytes().to_vec())).await
    }
}
