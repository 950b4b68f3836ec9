//! Moving tokens in and out: `import` (every format the core reads: other apps' exports, softtoken
//! backups, otpauth text, migration URIs) and `export` (encrypted backup, Aegis, otpauth text,
//! Google Authenticator migration QR codes).

use super::vault::{unlock_with_pin, Ctx};
use crate::output::{emit, exit, shown, warn, CmdResult, Failure};
use crate::secrets;
use serde_json::{json, Value};
use softtoken_app::{ErrorKind, ImportBatch};
use softtoken_core::error::plural;
use softtoken_core::import::Format;
use softtoken_core::vault::write_atomic;
use softtoken_core::vault::KdfParams;
use softtoken_core::Error as CoreError;
use std::path::{Path, PathBuf};

fn is_uri(text: &str) -> bool {
    let t = text.trim_start().to_ascii_lowercase();
    t.starts_with("otpauth://") || t.starts_with("otpauth-migration://") || t.starts_with("steam://")
}

/// Runs `import <FILE|URI>... [--format F]`: every input is read and decrypted before the vault
/// is unlocked, then every good item is stored in one atomic save. A wrong password stops the
/// whole import (exit 4) before anything is stored.
pub fn import(ctx: &Ctx, inputs: &[String], format: Option<&str>) -> CmdResult {
    let format = format.map(Format::from_name).transpose()?;
    let app = super::vault::open(ctx)?;
    let mut batch = ImportBatch::new();
    for input in inputs {
        if is_uri(input) && format.is_none() {
            batch.add_uri_text(input, app.now());
            continue;
        }
        // A file that cannot be read or parsed as a whole stops the import before the vault is
        // unlocked: nothing is stored, and the exit code says why (not found, corrupt, …).
        let bytes = std::fs::read(input).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound { exit::NOT_FOUND } else { exit::ERROR };
            let why = if code == exit::NOT_FOUND { "no such file".to_string() } else { e.to_string() };
            Failure { code, message: format!("{input}: {why}; nothing was imported") }
        })?;
        let mut read = batch.add_bytes(&bytes, format, None, app.now());
        if let Err(CoreError::ExportPasswordNeeded { format: app_name }) = read {
            let backup = app_name == Format::Backup.app();
            let password = secrets::import_password(app_name, backup)?;
            read = batch.add_bytes(&bytes, format, Some(&password), app.now());
        }
        if let Err(e) = read {
            let code = match &e {
                CoreError::MalformedExport { .. } | CoreError::CorruptBackup => exit::CORRUPT,
                _ => crate::output::exit_code(&ErrorKind::from(&e)),
            };
            return Err(Failure { code, message: format!("{input}: {e}; nothing was imported") });
        }
    }
    super::vault::ask_and_unlock(&app, ctx)?;
    let report = app.import(batch)?;
    let skipped = report.skipped;
    let pairs = |list: &[(String, String)]| list.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect::<Vec<Value>>();
    let mut text = format!("Imported {}\n", plural(report.imported.len(), "token", "tokens"));
    for name in &report.imported {
        text += &format!("  + {}\n", shown(name));
    }
    for (n, r) in &skipped {
        text += &format!("  - {}: {}\n", shown(n), shown(r));
    }
    for (n, r) in &report.notices {
        text += &format!("  note {}: {}\n", shown(n), shown(r));
    }
    emit(ctx.json, &json!({"imported": report.imported.len(), "skipped": pairs(&skipped), "notices": pairs(&report.notices)}), &text)?;
    if skipped.is_empty() {
        Ok(())
    } else {
        Err(Failure { code: exit::PARTIAL_IMPORT, message: format!("{} not imported (listed above)", plural(skipped.len(), "item was", "items were")) })
    }
}

/// The files a migration export is written to.
fn migration_paths(out: &Path, n: usize) -> Vec<PathBuf> {
    if n == 1 {
        return vec![out.to_path_buf()];
    }
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "softtoken-export".into());
    (1..=n).map(|i| out.with_file_name(format!("{stem}-{i}.png"))).collect()
}

/// Runs `export --out FILE [--format backup|otpauth|migration]`: the PIN typed to unlock confirms
/// the export.
pub fn export(ctx: &Ctx, out: &Path, format: &str) -> CmdResult {
    let (app, pin) = unlock_with_pin(ctx)?;
    let pin = pin.as_deref().map(|p| p.as_str());
    match format {
        "backup" => {
            let password = secrets::backup_password(true)?;
            let n = app.info()?.identities;
            write_atomic(out, &app.export_backup(pin, &password, KdfParams::DEFAULT)?, false)?;
            emit(
                ctx.json,
                &json!({"path": out.display().to_string(), "identities": n}),
                &format!("Wrote an encrypted backup of {} to {}\n", plural(n, "token", "tokens"), out.display()),
            )
        }
        "aegis" | "aegis-plain" => {
            let password = if format == "aegis" { Some(secrets::backup_password(true)?) } else { None };
            let n = app.info()?.identities;
            let file = app.export_aegis(pin, password.as_deref().map(|p| p.as_str()))?;
            if password.is_none() {
                warn(&format!("{} holds every secret in clear text: import it into Aegis and delete it", out.display()));
            }
            write_atomic(out, file.as_bytes(), false)?;
            let how = if password.is_some() { "an encrypted" } else { "a plain" };
            emit(
                ctx.json,
                &json!({"path": out.display().to_string(), "identities": n}),
                &format!("Wrote {how} Aegis export of {} to {}\n", plural(n, "token", "tokens"), out.display()),
            )
        }
        "otpauth" => {
            let (text, n) = app.export_otpauth(pin)?;
            warn(&format!("{} holds every secret in clear text: move it to the other app and delete it", out.display()));
            write_atomic(out, text.as_bytes(), false)?;
            emit(ctx.json, &json!({"path": out.display().to_string(), "identities": n}), &format!("Wrote {n} otpauth URIs to {}\n", out.display()))
        }
        _ => {
            let export = app.export_migration(pin, 10)?;
            let paths = migration_paths(out, export.uris.len());
            for (uri, path) in export.uris.iter().zip(&paths) {
                write_atomic(path, &softtoken_core::qr::png(uri, 6)?, false)?;
            }
            warn("the QR codes hold every secret: scan them into Google Authenticator (Transfer accounts > Import), then delete them");
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let mut text =
                format!("Wrote {} as {}: {}\n", plural(export.exported, "token", "tokens"), plural(names.len(), "QR code", "QR codes"), names.join(", "));
            let skipped: Vec<Value> = export.skipped.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect();
            for (n, r) in &export.skipped {
                text += &format!("  not exported {}: {}\n", shown(n), shown(r));
            }
            emit(ctx.json, &json!({"paths": names, "exported": export.exported, "skipped": skipped}), &text)?;
            if export.skipped.is_empty() {
                Ok(())
            } else {
                Err(Failure {
                    code: exit::PARTIAL_IMPORT,
                    message: format!("{} cannot be expressed in Google Authenticator's format", plural(export.skipped.len(), "token", "tokens")),
                })
            }
        }
    }
}

/// Runs `auto-backup [DIR] [--keep N] [--off]`.
pub fn auto_backup(ctx: &Ctx, dir: Option<&Path>, keep: u32, off: bool) -> CmdResult {
    let status = if let Some(dir) = dir {
        let password = secrets::backup_password(true)?;
        let (app, pin) = unlock_with_pin(ctx)?;
        Some(app.set_auto_backup(pin.as_deref().map(|p| p.as_str()), dir, keep, &password)?)
    } else {
        let app = super::vault::open(ctx)?;
        super::vault::ask_and_unlock(&app, ctx)?;
        if off {
            app.disable_auto_backup()?;
        }
        app.auto_backup()?
    };
    match status {
        None => emit(ctx.json, &json!({"enabled": false}), "Automatic backups are off\n"),
        Some(s) => {
            let mut text = format!("Automatic backups into {} (the newest {} kept)\n", s.dir.display(), s.keep);
            match (&s.last_error, s.last_backup_at) {
                (Some(e), _) => text += &format!("  the last backup FAILED: {}: the latest changes are not backed up\n", shown(e)),
                (None, Some(t)) => text += &format!("  last backup at {t} (Unix time)\n"),
                (None, None) => {}
            }
            emit(
                ctx.json,
                &json!({"enabled": true, "dir": s.dir.display().to_string(), "keep": s.keep, "last_backup_at": s.last_backup_at, "last_error": s.last_error}),
                &text,
            )
        }
    }
}
