//! Moving tokens in and out: `import` (softtoken backups, Aegis, otpauth text, migration URIs) and
//! `export` (encrypted backup, otpauth text, Google Authenticator migration QR codes).

use super::vault::{now, unlock, Ctx};
use crate::output::{emit, exit, warn, CmdResult, Failure};
use crate::secrets;
use serde_json::{json, Value};
use softtoken_core::import::{self, BatchSeen};
use softtoken_core::uri::{migration, OtpAuth};
use softtoken_core::vault::keys::KdfParams;
use softtoken_core::vault::store::write_atomic;
use softtoken_core::Error as CoreError;
use std::path::{Path, PathBuf};

fn is_uri(text: &str) -> bool {
    let t = text.trim_start().to_ascii_lowercase();
    t.starts_with("otpauth://") || t.starts_with("otpauth-migration://")
}

/// Runs `import <FILE|URI>...`: every input is read and parsed before the vault is unlocked, then
/// every good item is stored in one atomic save.
pub fn import(ctx: &Ctx, inputs: &[String]) -> CmdResult {
    let rng = ring::rand::SystemRandom::new();
    let mut batches: Vec<BatchSeen> = Vec::new();
    let mut items = Vec::new();
    let mut unreadable: Vec<(String, String)> = Vec::new();
    for input in inputs {
        if is_uri(input) {
            items.extend(import::from_uri_text(input, now(), &rng, &mut batches));
            continue;
        }
        let bytes = match std::fs::read(input) {
            Ok(b) => b,
            Err(e) => {
                unreadable.push((input.clone(), format!("cannot read the file: {e}")));
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
        let parsed = import::from_bytes(&bytes, &mut ask, now(), &rng, &mut batches);
        if let Some(f) = no_password {
            return Err(f);
        }
        match parsed {
            Ok(found) => items.extend(found),
            Err(e @ (CoreError::WrongBackupPassword | CoreError::UnsupportedFormat { .. })) => return Err(e.into()),
            Err(e) => unreadable.push((input.clone(), e.to_string())),
        }
    }
    unreadable.extend(import::missing_parts(&batches));
    let mut v = unlock(ctx)?;
    let report = v.import(items)?;
    let skipped: Vec<(String, String)> = unreadable.into_iter().chain(report.skipped).collect();
    let skipped_json: Vec<Value> = skipped.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect();
    let mut text = format!("Imported {} tokens\n", report.imported.len());
    for name in &report.imported {
        text += &format!("  + {name}\n");
    }
    for (n, r) in &skipped {
        text += &format!("  - {n}: {r}\n");
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

/// Runs `export --out FILE [--format backup|otpauth|migration]`; unlocking (the PIN) confirms it.
pub fn export(ctx: &Ctx, out: &Path, format: &str) -> CmdResult {
    let v = unlock(ctx)?;
    let n = v.identities().len();
    match format {
        "backup" => {
            let password = secrets::backup_password(true)?;
            write_atomic(out, &v.export_backup(&password, KdfParams::DEFAULT)?, false)?;
            emit(ctx.json, &json!({"path": out.display().to_string(), "identities": n}), &format!("Wrote an encrypted backup of {n} tokens to {}\n", out.display()))
        }
        "otpauth" => {
            warn(&format!("{} holds every secret in clear text: move it to the other app and delete it", out.display()));
            let mut text = zeroize::Zeroizing::new(String::new());
            for i in v.identities() {
                text.push_str(&i.to_otpauth().to_uri());
                text.push('\n');
            }
            write_atomic(out, text.as_bytes(), false)?;
            emit(ctx.json, &json!({"path": out.display().to_string(), "identities": n}), &format!("Wrote {n} otpauth URIs to {}\n", out.display()))
        }
        _ => {
            let mut tokens: Vec<OtpAuth> = Vec::new();
            let mut skipped = Vec::new();
            for i in v.identities() {
                let t = i.to_otpauth();
                match migration::unsupported_reason(&t) {
                    Some(r) => skipped.push(json!({"name": i.name, "reason": r})),
                    None => tokens.push(t),
                }
            }
            let uris = migration::format(&tokens, 10, (now() % 1_000_000) as i32);
            let paths = migration_paths(out, uris.len());
            for (uri, path) in uris.iter().zip(&paths) {
                write_atomic(path, &softtoken_core::qr::png(uri, 6)?, false)?;
            }
            warn("the QR codes hold every secret: scan them into Google Authenticator (Transfer accounts > Import), then delete them");
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            let mut text = format!("Wrote {} tokens as {} QR codes: {}\n", tokens.len(), names.len(), names.join(", "));
            for s in &skipped {
                text += &format!("  not exported {}: {}\n", s["name"], s["reason"]);
            }
            emit(ctx.json, &json!({"paths": names, "exported": tokens.len(), "skipped": skipped}), &text)?;
            if skipped.is_empty() {
                Ok(())
            } else {
                Err(Failure { code: exit::PARTIAL_IMPORT, message: format!("{} tokens cannot be expressed in Google Authenticator's format", skipped.len()) })
            }
        }
    }
}
