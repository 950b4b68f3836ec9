//! Moving tokens in and out: `import` (softtoken backups, Aegis, otpauth text, migration URIs) and
//! `export` (encrypted backup, otpauth text, Google Authenticator migration QR codes).

use super::vault::{unlock_with_pin, Ctx};
use crate::output::{emit, exit, shown, warn, CmdResult, Failure};
use crate::secrets;
use serde_json::{json, Value};
use softtoken_app::ImportBatch;
use softtoken_core::vault::write_atomic;
use softtoken_core::vault::KdfParams;
use softtoken_core::Error as CoreError;
use std::path::{Path, PathBuf};

fn is_uri(text: &str) -> bool {
    let t = text.trim_start().to_ascii_lowercase();
    t.starts_with("otpauth://") || t.starts_with("otpauth-migration://")
}

/// Runs `import <FILE|URI>...`: every input is read and parsed before the vault is unlocked, then
/// every good item is stored in one atomic save.
pub fn import(ctx: &Ctx, inputs: &[String]) -> CmdResult {
    let app = super::vault::open(ctx)?;
    let mut batch = ImportBatch::new();
    for input in inputs {
        if is_uri(input) {
            batch.add_uri_text(input, app.now());
            continue;
        }
        let bytes = match std::fs::read(input) {
            Ok(b) => b,
            Err(e) => {
                batch.add_unreadable(input.clone(), format!("cannot read the file: {e}"));
                continue;
            }
        };
        let mut no_password: Option<Failure> = None;
        let mut ask = || {
            secrets::backup_password(false).map(|p| p.to_string()).map_err(|f| {
                // Never shown: the CLI's own failure (no password given) is returned instead.
                no_password = Some(f);
                CoreError::WrongBackupPassword
            })
        };
        let parsed = batch.add_bytes(&bytes, &mut ask, app.now());
        if let Some(f) = no_password {
            return Err(f);
        }
        match parsed {
            Ok(_) => {}
            Err(e @ (CoreError::WrongBackupPassword | CoreError::UnsupportedFormat { .. })) => return Err(e.into()),
            Err(e) => batch.add_unreadable(input.clone(), e.to_string()),
        }
    }
    super::vault::ask_and_unlock(&app, ctx)?;
    let report = app.import(batch)?;
    let skipped = report.skipped;
    let skipped_json: Vec<Value> = skipped.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect();
    let mut text = format!("Imported {} tokens\n", report.imported.len());
    for name in &report.imported {
        text += &format!("  + {}\n", shown(name));
    }
    for (n, r) in &skipped {
        text += &format!("  - {}: {}\n", shown(n), shown(r));
    }
    emit(ctx.json, &json!({"imported": report.imported.len(), "skipped": skipped_json}), &text)?;
    if skipped.is_empty() {
        Ok(())
    } else {
        Err(Failure { code: exit::PARTIAL_IMPORT, message: format!("{} items were not imported (listed above)", skipped.len()) })
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
                &format!("Wrote an encrypted backup of {n} tokens to {}\n", out.display()),
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
            let mut text = format!("Wrote {} tokens as {} QR codes: {}\n", export.exported, names.len(), names.join(", "));
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
                    message: format!("{} tokens cannot be expressed in Google Authenticator's format", export.skipped.len()),
                })
            }
        }
    }
}
