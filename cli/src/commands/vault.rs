//! Vault commands: init, info, change-pin, add, list, code, rename, remove, export, import,
//! restore-previous, time-offset.

use crate::key_stores::{FileKeyStore, KeyringKeyStore, SoftwareStore, FILE_KIND, KEYRING_KIND};
use crate::output::{emit, exit, shown, warn, CmdResult, Failure};
use crate::secrets;
use clap::Args;
use serde_json::{json, Value};
use softtoken_app::{Authenticator, MovedToken};
use softtoken_core::clock::SystemClock;
use softtoken_core::entrust::{self, ObservedOtp, Policy, RegistrationCode};
use softtoken_core::identity::{Identity, IdentityKind};
use softtoken_core::vault::{self, DeviceKeyStore, KdfParams, VaultOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Global options every vault command shares.
pub struct Ctx {
    /// `--json`.
    pub json: bool,
    /// The vault file.
    pub path: PathBuf,
    /// `--pin-stdin`.
    pub pin_stdin: bool,
}

fn data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("softtoken")
}

/// `--vault`, else `SOFTTOKEN_VAULT`, else `$XDG_DATA_HOME/softtoken/vault.stv`.
pub fn vault_path(given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SOFTTOKEN_VAULT").filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| data_dir().join("vault.stv"))
}

/// Where the file key store keeps its key: `SOFTTOKEN_KEY_DIR`, else `$XDG_DATA_HOME/softtoken/keys`.
fn key_dir() -> PathBuf {
    std::env::var_os("SOFTTOKEN_KEY_DIR").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| data_dir().join("keys"))
}

fn store_of_kind(kind: &str, create: bool) -> Result<Arc<dyn DeviceKeyStore>, Failure> {
    Ok(match kind {
        FILE_KIND => Arc::new(SoftwareStore(FileKeyStore::new(&key_dir(), create)?)),
        KEYRING_KIND => Arc::new(SoftwareStore(KeyringKeyStore::new(create)?)),
        other => return Err(Failure::new(format!("this vault is sealed by the {other:?} key store, which this desktop build does not have"))),
    })
}

/// The authenticator of the vault, sealed by the key store its header records (not unlocked).
/// The CLI is one command per process: no idle lock.
pub fn open(ctx: &Ctx) -> Result<Authenticator, Failure> {
    let kind = vault::recorded_store_kind(&ctx.path)?;
    Ok(with_store(ctx, store_of_kind(&kind, false)?))
}

fn with_store(ctx: &Ctx, store: Arc<dyn DeviceKeyStore>) -> Authenticator {
    let app = Authenticator::new(ctx.path.clone(), store, Arc::new(SystemClock));
    app.set_auto_lock(0);
    app
}

/// Opens and unlocks the vault, asking for the PIN only when it has one.
pub fn unlock(ctx: &Ctx) -> Result<Authenticator, Failure> {
    Ok(unlock_with_pin(ctx)?.0)
}

/// [`unlock`], keeping the PIN typed (to confirm an operation that weakens protection).
pub fn unlock_with_pin(ctx: &Ctx) -> Result<(Authenticator, Option<zeroize::Zeroizing<String>>), Failure> {
    let app = open(ctx)?;
    let pin = ask_and_unlock(&app, ctx)?;
    Ok((app, pin))
}

/// Unlocks `app`, asking for the PIN only when the vault has one; returns the PIN typed.
pub fn ask_and_unlock(app: &Authenticator, ctx: &Ctx) -> Result<Option<zeroize::Zeroizing<String>>, Failure> {
    let pin = if app.has_pin()? { Some(secrets::pin(ctx.pin_stdin)?) } else { None };
    app.unlock(pin.as_deref().map(|p| p.as_str()))?;
    Ok(pin)
}

/// Arguments of `init`.
#[derive(Args)]
pub struct InitArgs {
    /// Protect the vault with the device key only (refused later for tokens whose policy needs a PIN).
    #[arg(long)]
    no_pin: bool,
    /// Where the device key lives: the OS keychain, a 0600 key file, or auto (keychain if one answers).
    #[arg(long, default_value = "auto", value_parser = ["auto", "keyring", "file"])]
    key_store: String,
    /// Wrong PINs before the vault locks for good.
    #[arg(long, default_value_t = 10)]
    max_attempts: u32,
    /// Argon2id memory in MiB (19..=1024).
    #[arg(long, default_value_t = 64)]
    kdf_memory_mib: u32,
    /// Argon2id passes (2..=16).
    #[arg(long, default_value_t = 3)]
    kdf_passes: u32,
    /// Argon2id lanes (1..=16).
    #[arg(long, default_value_t = 4)]
    kdf_lanes: u32,
}

/// Runs `init`.
pub fn init(ctx: &Ctx, a: &InitArgs) -> CmdResult {
    if ctx.path.exists() {
        return Err(Failure::new(format!("{} already exists; softtoken will not overwrite a vault", ctx.path.display())));
    }
    let kind = match a.key_store.as_str() {
        "auto" if KeyringKeyStore::available() => KEYRING_KIND,
        "auto" => {
            warn(&format!(
                "no OS keychain answered: the device key is kept in a file ({}, mode 0600); it is not hardware-bound, so protect the vault with a PIN",
                key_dir().join("device.key").display()
            ));
            FILE_KIND
        }
        "keyring" => KEYRING_KIND,
        _ => FILE_KIND,
    };
    let store = store_of_kind(kind, true)?;
    let pin = if a.no_pin { None } else { Some(secrets::new_pin(ctx.pin_stdin, true)?) };
    let kdf = KdfParams { m_kib: a.kdf_memory_mib.saturating_mul(1024), t: a.kdf_passes, p: a.kdf_lanes };
    if let Some(dir) = ctx.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    let app = with_store(ctx, store);
    app.create(pin.as_deref().map(|p| p.as_str()), VaultOptions { kdf, max_attempts: a.max_attempts })?;
    let v = app.info()?;
    let value = json!({"path": ctx.path.display().to_string(), "pin": v.has_pin, "key_store": v.key_store});
    let text = format!("Created {} ({}, device key: {})\n", ctx.path.display(), if v.has_pin { "PIN-protected" } else { "no PIN" }, v.key_store);
    emit(ctx.json, &value, &text)
}

/// Runs `info`.
pub fn info(ctx: &Ctx) -> CmdResult {
    let v = unlock(ctx)?.info()?;
    let value = json!({
        "path": ctx.path.display().to_string(),
        "format_version": v.format_version,
        "pin": v.has_pin,
        "biometric": v.has_biometric,
        "identities": v.identities,
        "key_store": v.key_store,
    });
    let text = format!(
        "vault:       {}\nformat:      v{}\nPIN:         {}\nidentities:  {}\nkey store:   {}\n",
        ctx.path.display(),
        v.format_version,
        if v.has_pin { "yes" } else { "no" },
        v.identities,
        v.key_store
    );
    emit(ctx.json, &value, &text)
}

/// Arguments of `change-pin`.
#[derive(Args)]
pub struct ChangePinArgs {
    /// Remove the PIN (refused while a token's policy requires one).
    #[arg(long)]
    remove: bool,
}

/// Runs `change-pin`.
pub fn change_pin(ctx: &Ctx, a: &ChangePinArgs) -> CmdResult {
    let (app, current) = unlock_with_pin(ctx)?;
    let new = if a.remove { None } else { Some(secrets::new_pin(false, false)?) };
    app.change_pin(current.as_deref().map(|p| p.as_str()), new.as_deref().map(|p| p.as_str()), None)?;
    let has_pin = app.has_pin()?;
    emit(ctx.json, &json!({"pin": has_pin}), if has_pin { "PIN changed\n" } else { "PIN removed\n" })
}

/// Arguments of `add`.
#[derive(Args)]
pub struct AddArgs {
    /// A secactivate URI (activation QR code), an otpauth:// URI (privacyIDEA's two-step ones
    /// too), or a privacyIDEA / eduMFA push enrollment link (otpauth://pipush/…, pia://pipush/…,
    /// edumfa-push://edumfa/…).
    #[arg(long, conflicts_with_all = ["serial", "activation_code", "qr"])]
    uri: Option<String>,
    /// An image file (PNG, JPEG, WebP, GIF) of the activation or otpauth QR code.
    #[arg(long, value_name = "IMAGE", conflicts_with_all = ["serial", "activation_code"])]
    qr: Option<std::path::PathBuf>,
    /// The activation password shown with the QR code.
    #[arg(long)]
    password: Option<String>,
    /// Serial number (manual activation, or a token moved from the official app).
    #[arg(long, requires = "activation_code")]
    serial: Option<String>,
    /// Activation code.
    #[arg(long, requires = "serial")]
    activation_code: Option<String>,
    /// Policy string, verbatim (moving a token activated from a QR code).
    #[arg(long)]
    policy: Option<String>,
    /// The official app's registration code (moving a token).
    #[arg(long, requires = "serial", conflicts_with = "otps")]
    registration_code: Option<String>,
    /// A code the official app showed: CODE@UNIXTIME (moving a token; repeat for more).
    #[arg(long = "otp", value_name = "CODE@UNIXTIME", requires = "serial")]
    otps: Vec<String>,
    /// Token name (default: the provider, or "Entrust <serial>").
    #[arg(long)]
    name: Option<String>,
    /// Identity provider name (default: the registration address's host).
    #[arg(long)]
    provider: Option<String>,
    /// The provider's address for push sign-ins (an Entrust activation carries none): https, or
    /// http to a loopback host.
    #[arg(long, value_name = "URL")]
    transaction_url: Option<String>,
    /// Accept a push enrollment link's `sslverify=0` for a server off this machine: its TLS
    /// certificate is then not checked (only if its administrator confirms it has no valid one).
    #[arg(long)]
    allow_unverified_tls: bool,
    #[command(flatten)]
    digits: crate::DigitsArg,
}

/// What `add` is about to store, decided before the vault is unlocked (so a wrong activation
/// password never costs a PIN attempt).
struct Adding {
    item: Item,
    registration_code: Option<String>,
    /// A two-step token's part for the user to type into privacyIDEA.
    client_part: Option<String>,
    preview: String,
}

enum Item {
    /// An Entrust activation, stored by `commit_activation`.
    Activation(softtoken_core::activation::PendingActivation),
    /// An identity ready to store (otpauth, a moved token).
    Ready(Identity),
    /// A privacyIDEA / eduMFA push enrollment link, enrolled once the vault is open.
    Push(String),
}

fn describe_policy(policy: Option<&str>) -> String {
    match policy {
        None => "(none)".into(),
        Some(raw) => match Policy::parse(Some(raw)) {
            Ok(p) if !p.entries.is_empty() => p.entries.iter().map(|(k, v)| format!("{}={}", shown(k), shown(v))).collect::<Vec<_>>().join(", "),
            _ => shown(raw).into_owned(),
        },
    }
}

fn prepare_add(app: &Authenticator, a: &AddArgs) -> Result<Adding, Failure> {
    let digits = a.digits.digits.as_deref().and_then(|d| d.parse().ok());
    let scanned = a.qr.as_deref().map(crate::commands::scan::uri_from_image).transpose()?;
    let uri = a.uri.clone().or(scanned);
    if a.password.is_some() && uri.is_none() {
        return Err(Failure { code: exit::USAGE, message: "--password goes with --uri or --qr".into() });
    }
    if let Some(uri) = &uri {
        if entrust::is_secactivate(uri) {
            entrust::SecActivateUri::parse(uri)?;
            let password = secrets::activation_password(a.password.as_deref())?;
            let pending = app.begin_qr_activation(uri, &password, digits)?;
            if !pending.serial_check_digit_ok {
                warn(&format!("serial number {}: check digit does not match", pending.serial));
            }
            let rc = pending.registration_code.to_string();
            let mut preview = format!(
                "Provider:          {}\nSerial number:     {}\nPolicy:            {}\n{}",
                shown(&a.provider.clone().or(pending.provider.clone()).unwrap_or_else(|| "(unknown)".into())),
                pending.serial,
                describe_policy(pending.policy.as_deref()),
                describe_activation(&pending, a.transaction_url.as_deref()),
            );
            preview += &format!("Registration code: {rc}   <- type this into your company's portal\n");
            return Ok(Adding { item: Item::Activation(pending), registration_code: Some(rc), client_part: None, preview });
        }
        if softtoken_core::privacyidea::enrollment::is_push_link(uri) {
            let e = softtoken_core::privacyidea::PushEnrollment::parse(uri)?;
            e.tls_verify(a.allow_unverified_tls)?;
            if !e.sslverify {
                warn(&format!(
                    "the enrollment link says sslverify=0: {}'s TLS certificate is not checked",
                    softtoken_core::privacyidea::enrollment::host_of(&e.url)
                ));
            }
            let preview = format!("{} push token {} at {}\n", e.server.name(), shown(&e.serial), shown(&e.url));
            return Ok(Adding { item: Item::Push(uri.clone()), registration_code: None, client_part: None, preview });
        }
        if digits.is_some() {
            return Err(Failure { code: exit::USAGE, message: "--digits applies to Entrust tokens; an otpauth URI carries its own".into() });
        }
        let token = app.prepare_otpauth(uri, a.name.as_deref(), a.provider.as_deref())?;
        let identity = token.identity;
        let mut preview = format!("Token:    {}\nProvider: {}\n", shown(&identity.name), shown(identity.provider.as_deref().unwrap_or("(none)")));
        if let Some(part) = &token.client_part {
            preview += &format!("Two-step enrollment: type {part} into privacyIDEA to finish it there\n");
        }
        return Ok(Adding { item: Item::Ready(identity), registration_code: None, client_part: token.client_part, preview });
    }
    let (Some(serial), Some(ac)) = (&a.serial, &a.activation_code) else {
        return Err(Failure { code: exit::USAGE, message: "add needs --uri, or --serial with --activation-code".into() });
    };
    if a.registration_code.is_none() && a.otps.is_empty() {
        if a.policy.is_some() {
            return Err(Failure { code: exit::USAGE, message: "--policy applies only when moving a token (--registration-code or --otp)".into() });
        }
        // Checked before asking anything, so a mistyped number is reported first.
        entrust::SerialNumber::parse(serial)?;
        entrust::ActivationCode::parse(ac)?;
        let digits = match digits {
            Some(d) => d,
            None => ask_digits()?,
        };
        let pending = app.begin_manual_activation(serial, ac, Some(digits))?;
        let rc = pending.registration_code.to_string();
        let preview = format!(
            "Serial number:     {}\n{}Registration code: {rc}   <- type this into your company's portal\n",
            pending.serial,
            describe_activation(&pending, a.transaction_url.as_deref())
        );
        return Ok(Adding { item: Item::Activation(pending), registration_code: Some(rc), client_part: None, preview });
    }
    // Moving a token already activated in the official app.
    let otps = a.otps.iter().map(|o| ObservedOtp::parse(o)).collect::<Result<Vec<_>, _>>()?;
    let token = MovedToken { serial, activation_code: ac, policy: a.policy.as_deref(), registration_code: a.registration_code.as_deref(), otps: &otps, digits };
    let identity = app.prepare_moved(&token, a.name.as_deref(), a.provider.as_deref())?;
    // Already checked by prepare_moved; parsed again only to show it in its dashed form.
    let rc = a.registration_code.as_deref().map(RegistrationCode::parse).transpose()?.map(|rc| rc.to_string());
    let serial = identity.serial.clone().unwrap_or_default();
    let preview = format!("Serial number: {serial}\nMoved from the official app (keep using its registration)\n");
    Ok(Adding { item: Item::Ready(identity), registration_code: rc, client_part: None, preview })
}

/// A manual activation does not say how many digits the token shows: ask on a terminal, else
/// require `--digits` (a guess of 6 for an 8-digit token makes every code fail).
fn ask_digits() -> Result<u8, Failure> {
    if !secrets::interactive() {
        return Err(Failure {
            code: exit::USAGE,
            message: "a serial number and activation code do not say the code length: add --digits 6 or --digits 8 (your company's activation page or letter says which)".into(),
        });
    }
    for _ in 0..3 {
        match secrets::ask("How many digits do your company's codes have (6 or 8)? ")?.as_str() {
            "6" => return Ok(6),
            "8" => return Ok(8),
            _ => eprintln!("Type 6 or 8."),
        }
    }
    Err(Failure { code: exit::USAGE, message: "no code length given (6 or 8)".into() })
}

/// The preview lines of an activation: code length (and whether it was a guess) and where push
/// sign-ins come from.
fn describe_activation(pending: &softtoken_core::activation::PendingActivation, given_url: Option<&str>) -> String {
    let mut text = if pending.digits_known {
        format!("Code length:       {} digits\n", pending.digits)
    } else {
        format!("Code length:       {} digits (the activation does not say; if your codes have 8, run `softtoken digits NAME 8`)\n", pending.digits)
    };
    match given_url.or(pending.transaction_url()) {
        Some(url) => text += &format!("Push sign-ins:     from {}\n", shown(url)),
        None => text += "Push sign-ins:     none (no provider address; add one later with `softtoken transaction-url NAME URL`)\n",
    }
    text
}

/// Runs `add`.
pub fn add(ctx: &Ctx, a: &AddArgs) -> CmdResult {
    let app = open(ctx)?;
    let mut adding = prepare_add(&app, a)?;
    if let Some(url) = &a.transaction_url {
        adding.item = match adding.item {
            Item::Activation(pending) => Item::Activation(pending.with_transaction_url(url)?),
            Item::Ready(_) | Item::Push(_) => {
                return Err(Failure { code: exit::USAGE, message: "--transaction-url applies to an Entrust activation (QR code or serial number)".into() })
            }
        };
    }
    ask_and_unlock(&app, ctx)?;
    let mut waiting = None;
    let stored = match adding.item {
        Item::Activation(pending) => app.commit_activation(pending, a.name.as_deref(), a.provider.as_deref())?,
        Item::Ready(identity) => app.add(identity)?,
        Item::Push(link) => {
            app.set_transport(std::sync::Arc::new(super::online::transport()?));
            let enrolled = app.enroll_push(&link, a.name.as_deref(), a.allow_unverified_tls)?;
            waiting = Some(enrolled.waiting);
            enrolled.identity
        }
    };
    let value = json!({
        "id": stored.id, "name": stored.name, "serial": stored.serial, "type": stored.kind.name(),
        "registration_code": adding.registration_code, "client_part": adding.client_part, "waiting": waiting,
    });
    let text = format!("{}Stored as \"{}\" (id {})\n", adding.preview, shown(&stored.name), stored.id);
    emit(ctx.json, &value, &text)
}

/// Runs `list`: a header and columns of fixed meaning, aligned on the widest entry.
pub fn list(ctx: &Ctx) -> CmdResult {
    let rows: Vec<Value> = match super::agent::ask(ctx, &json!({"op": "list"})) {
        Some(reply) => match super::agent::failure_in(&reply) {
            Some(f) => return Err(f),
            None => reply["identities"].as_array().cloned().unwrap_or_default(),
        },
        None => unlock(ctx)?.identities()?.iter().map(identity_json).collect(),
    };
    let cell = |v: &Value, key: &str| v[key].as_str().map(|s| shown(s).into_owned());
    let text = if rows.is_empty() {
        "The vault holds no identity yet: add one with `softtoken add` (or `softtoken import FILE`).\n".to_string()
    } else {
        let table: Vec<[String; 6]> = rows
            .iter()
            .map(|i| {
                [
                    cell(i, "name").unwrap_or_default(),
                    cell(i, "provider").unwrap_or_else(|| "-".into()),
                    cell(i, "type").unwrap_or_default(),
                    if i["type"] == "push" { "-".into() } else { i["digits"].to_string() },
                    if i["online"] == true { "yes" } else { "no" }.to_string(),
                    cell(i, "id").unwrap_or_default(),
                ]
            })
            .collect();
        columns(&["NAME", "ISSUER", "TYPE", "DIGITS", "PUSH", "ID"], &table)
    };
    emit(ctx.json, &json!({"identities": rows}), &text)
}

/// An identity as `list --json` shows it.
pub fn identity_json(i: &Identity) -> Value {
    json!({"id": i.id, "name": i.name, "provider": i.provider, "type": i.kind.name(), "serial": i.serial, "digits": i.digits, "period": i.period, "online": i.receives_push(), "transaction_url": i.transaction_url})
}

/// Lays out rows under a header, each column as wide as its widest cell (counted in characters).
fn columns<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(header.to_vec());
    for row in rows {
        text += &line(row.iter().map(String::as_str).collect());
    }
    text
}

/// Arguments of `code`.
#[derive(Args)]
pub struct CodeArgs {
    /// Name or id (default: every time-based token; HOTP tokens only when named; push tokens have none).
    identity: Option<String>,
    /// Unix time to compute codes for (default: now).
    #[arg(long, value_name = "UNIXTIME", conflicts_with = "watch")]
    at: Option<u64>,
    /// Copy the code to the desktop clipboard (one identity), cleared after 30 s if still there.
    #[arg(long, conflicts_with = "watch")]
    copy: bool,
    /// Keep showing the codes, each with its countdown, until Ctrl-C (time-based tokens only).
    #[arg(long)]
    watch: bool,
}

/// Arguments of `confirm-code`.
#[derive(Args)]
pub struct ConfirmCodeArgs {
    /// The transaction id the website shows (10 digits; dashes and spaces ignored).
    transaction_id: String,
    /// Name or id of the identity (needed when the vault holds more than one).
    #[arg(long)]
    identity: Option<String>,
}

/// Runs `confirm-code`: the offline ("classic") confirmation code for a transaction.
pub fn confirm_code(ctx: &Ctx, a: &ConfirmCodeArgs) -> CmdResult {
    let app = unlock(ctx)?;
    let identity = match &a.identity {
        Some(key) => app.identity(key)?,
        None => match app.identities()?.as_slice() {
            [one] => one.clone(),
            [] => return Err(Failure::new("the vault holds no identity")),
            _ => return Err(Failure { code: exit::USAGE, message: "several identities: name one with --identity".into() }),
        },
    };
    let code = app.confirmation_code(&identity.id, &a.transaction_id)?;
    emit(
        ctx.json,
        &json!({"transaction_id": a.transaction_id, "identity": identity.name, "code": code}),
        &format!("{code}   <- type this on the website to confirm the transaction ({})\n", shown(&identity.name)),
    )
}

/// Runs `code`: from the agent when one keeps the vault unlocked (time-based codes), else after
/// unlocking.
pub fn code(ctx: &Ctx, a: &CodeArgs) -> CmdResult {
    if !a.watch {
        if let Some(reply) = super::agent::ask(ctx, &json!({"op": "codes", "identity": a.identity, "at": a.at})) {
            if let Some(f) = super::agent::failure_in(&reply) {
                return Err(f);
            }
            let rows = reply["codes"].as_array().cloned().unwrap_or_default();
            return show_codes(ctx, a, rows, reply["vault_empty"] == true);
        }
    }
    let app = unlock(ctx)?;
    let targets = code_targets(&app, a.identity.as_deref())?;
    if a.watch && !targets.is_empty() {
        if ctx.json {
            return Err(Failure {
                code: exit::USAGE,
                message: "--watch shows codes on a terminal; without --json, or call `code --json` when you need one".into(),
            });
        }
        if let Some(hotp) = targets.iter().find(|i| i.kind == IdentityKind::Hotp) {
            return Err(Failure { code: exit::USAGE, message: format!("{:?} is an HOTP token: each code is a request, not a countdown", hotp.name) });
        }
        return super::watch::run(&app, &targets);
    }
    let t = a.at.unwrap_or_else(|| app.now());
    let mut rows = Vec::new();
    for i in &targets {
        // A named HOTP token is the user's explicit request for its next code.
        let c = if i.kind == IdentityKind::Hotp { app.next_hotp(&i.id)? } else { app.code_at(&i.id, t)? };
        rows.push(code_row(i, &c));
    }
    show_codes(ctx, a, rows, app.identities()?.is_empty())
}

/// The identities `code` shows: the one named (found as typed), else every one with time-based codes.
pub fn code_targets(app: &Authenticator, key: Option<&str>) -> Result<Vec<Identity>, Failure> {
    Ok(match key {
        Some(key) => vec![app.identity(key)?],
        None => app.identities()?.into_iter().filter(|i| i.kind != IdentityKind::Hotp && i.has_codes()).collect(),
    })
}

/// One code as `code --json` shows it.
pub fn code_row(i: &Identity, c: &softtoken_app::ShownCode) -> Value {
    json!({"id": i.id, "name": i.name, "code": c.code, "remaining_s": c.remaining_s})
}

/// Prints codes (`{"id","name","code","remaining_s"}` each), copying the one code with `--copy`.
fn show_codes(ctx: &Ctx, a: &CodeArgs, rows: Vec<Value>, vault_empty: bool) -> CmdResult {
    if rows.is_empty() {
        return Err(Failure::new(if vault_empty {
            "the vault holds no identity yet: add one with `softtoken add`"
        } else {
            "no time-based identity: name an HOTP token to show its next code (`softtoken code NAME`)"
        }));
    }
    if a.copy && rows.len() != 1 {
        return Err(Failure { code: exit::USAGE, message: format!("--copy copies one code: name one of the {} identities", rows.len()) });
    }
    let width = rows.iter().filter_map(|r| r["code"].as_str()).map(str::len).max().unwrap_or(6);
    let mut text = String::new();
    for r in &rows {
        let (code, name) = (r["code"].as_str().unwrap_or(""), shown(r["name"].as_str().unwrap_or("")).into_owned());
        match r["remaining_s"].as_u64() {
            Some(s) => text += &format!("{code:<width$}  {name}  ({s} s)\n"),
            None => text += &format!("{code:<width$}  {name}\n"),
        }
    }
    let mut copied = false;
    if a.copy {
        let tool = super::clipboard::copy_for_a_while(rows[0]["code"].as_str().unwrap_or(""))?;
        text += &format!("Copied to the clipboard ({tool}); cleared in {} s if still there\n", super::clipboard::clear_after_s());
        copied = true;
    }
    emit(ctx.json, &json!({"codes": rows, "copied": copied}), &text)
}

/// Runs `digits`: an Entrust identity's code length, changed without a new registration.
pub fn digits(ctx: &Ctx, key: &str, digits: u8) -> CmdResult {
    let i = unlock(ctx)?.set_digits(key, digits)?;
    emit(ctx.json, &json!({"id": i.id, "name": i.name, "digits": i.digits}), &format!("\"{}\" now shows {} digits\n", shown(&i.name), i.digits))
}

/// Runs `transaction-url`: where an Entrust identity's push sign-ins come from (or none).
pub fn transaction_url(ctx: &Ctx, key: &str, url: Option<&str>) -> CmdResult {
    let i = unlock(ctx)?.set_transaction_url(key, url)?;
    let text = match &i.transaction_url {
        Some(u) => format!("\"{}\" receives push sign-ins from {}\n", shown(&i.name), shown(u)),
        None => format!("\"{}\" no longer asks a provider for push sign-ins\n", shown(&i.name)),
    };
    emit(ctx.json, &json!({"id": i.id, "name": i.name, "transaction_url": i.transaction_url}), &text)
}

/// Runs `rename`.
pub fn rename(ctx: &Ctx, key: &str, new_name: &str) -> CmdResult {
    let i = unlock(ctx)?.rename(key, new_name)?;
    emit(ctx.json, &json!({"id": i.id, "name": i.name}), &format!("Renamed to {:?}\n", i.name))
}

/// Runs `resync`.
pub fn resync(ctx: &Ctx, key: &str, first: &str, second: &str) -> CmdResult {
    let app = unlock(ctx)?;
    let next = app.resync_hotp(key, first, second)?;
    let i = app.identity(key)?;
    emit(ctx.json, &json!({"id": i.id, "name": i.name, "counter": next}), &format!("{:?} resynchronised: next counter {next}\n", i.name))
}

/// Runs `time-offset`.
pub fn time_offset(ctx: &Ctx, key: &str, seconds: i64) -> CmdResult {
    let app = unlock(ctx)?;
    app.set_time_offset(key, seconds)?;
    let i = app.identity(key)?;
    emit(ctx.json, &json!({"id": i.id, "name": i.name, "time_offset_s": seconds}), &format!("{:?}: codes use a clock offset of {seconds} s\n", i.name))
}

/// Runs `restore-previous`: only when the current file is damaged, and with the PIN of the
/// version restored.
pub fn restore_previous(ctx: &Ctx) -> CmdResult {
    let app = open(ctx)?;
    let pin = if app.previous_needs_pin()? { Some(secrets::pin(ctx.pin_stdin)?) } else { None };
    app.restore_previous(pin.as_deref().map(|p| p.as_str()))?;
    emit(ctx.json, &json!({"restored": true}), "The previous version of the vault was restored\n")
}
