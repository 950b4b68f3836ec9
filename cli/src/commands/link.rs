//! `softtoken open <LINK>`: routes a deep link to its flow, previews it, stores on confirmation.

use super::vault::Ctx;
use crate::output::{emit, shown, CmdResult, Failure};
use crate::secrets;
use clap::Args;
use serde_json::{json, Value};
use softtoken_app::{preview_link, ImportBatch, LinkPreview};
use softtoken_core::activation::PendingActivation;
use softtoken_core::entrust::Policy;
use std::io::{BufRead, IsTerminal, Write};

/// Arguments of `open`.
#[derive(Args)]
pub struct OpenArgs {
    /// The link.
    link: String,
    /// Store without asking (else: ask on a terminal, store nothing otherwise).
    #[arg(long)]
    yes: bool,
    /// The activation password of a secactivate link.
    #[arg(long)]
    password: Option<String>,
}

fn confirmed(a: &OpenArgs, json: bool) -> bool {
    if a.yes {
        return true;
    }
    if json || !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("Store it? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

/// What a confirmed link stores.
enum Item {
    Activation(PendingActivation),
    Batch(ImportBatch),
}

/// Runs `open`.
pub fn open(ctx: &Ctx, a: &OpenArgs) -> CmdResult {
    let app = super::vault::open(ctx)?;
    let (mut value, preview, item): (Value, String, Item) = match preview_link(&a.link)? {
        LinkPreview::Activation { .. } => {
            let password = secrets::activation_password(a.password.as_deref())?;
            let pending = app.begin_qr_activation(&a.link, &password, None)?;
            let policy = Policy::parse(pending.policy.as_deref())?;
            let value = json!({
                "kind": "secactivate",
                "provider": pending.provider,
                "serial": pending.serial.to_string(),
                "policy": pending.policy,
                "registration_code": pending.registration_code.to_string(),
            });
            let preview = format!(
                "Entrust activation\n  provider:          {}\n  serial number:     {}\n  policy:            {}\n  registration code: {}\n",
                shown(pending.provider.as_deref().unwrap_or("(unknown)")),
                pending.serial,
                shown(&policy.describe()),
                pending.registration_code
            );
            (value, preview, Item::Activation(pending))
        }
        LinkPreview::Token { issuer, account, digits, .. } => {
            let value = json!({"kind": "otpauth", "issuer": issuer, "account": account, "digits": digits});
            let preview = format!("Token {} ({})\n", shown(&account), shown(issuer.as_deref().unwrap_or("no issuer")));
            let mut batch = ImportBatch::new();
            batch.add_uri_text(&a.link, app.now());
            (value, preview, Item::Batch(batch))
        }
        LinkPreview::OnlineActivation { provider: host, base_url } => {
            if !ctx.json {
                print!("{}", crate::output::terminal_safe(&format!("Online activation\n  provider: {host} ({base_url})\n")));
            }
            if !confirmed(a, ctx.json) {
                return emit(ctx.json, &json!({"kind": "online-activation", "provider": host, "stored": []}), "Nothing stored (confirm with --yes).\n");
            }
            return super::online::activate_link(ctx, &super::online::ActivateLinkArgs::new(a.link.clone()));
        }
        LinkPreview::GoogleExport { names, batch_index, batch_size } => {
            let value = json!({"kind": "otpauth-migration", "items": names, "batch_index": batch_index, "batch_size": batch_size});
            let preview = format!(
                "Google Authenticator export (QR code {} of {}): {}\n",
                batch_index + 1,
                batch_size,
                names.iter().map(|n| shown(n)).collect::<Vec<_>>().join(", ")
            );
            let mut batch = ImportBatch::new();
            batch.add_uri_text(&a.link, app.now());
            (value, preview, Item::Batch(batch))
        }
    };
    if !ctx.json {
        print!("{}", crate::output::terminal_safe(&preview));
    }
    let store = confirmed(a, ctx.json);
    let mut text = String::new();
    if store {
        super::vault::ask_and_unlock(&app, ctx)?;
        let report = match item {
            Item::Activation(pending) => {
                let stored = app.commit_activation(pending, None, None)?;
                softtoken_core::vault::ImportReport { imported: vec![stored.name], ..Default::default() }
            }
            Item::Batch(batch) => app.import(batch)?,
        };
        value["stored"] = json!(report.imported);
        value["skipped"] = json!(report.skipped.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect::<Vec<_>>());
        text += &format!("Stored: {}\n", report.imported.iter().map(|n| shown(n)).collect::<Vec<_>>().join(", "));
        for (n, r) in &report.skipped {
            text += &format!("Not stored {}: {}\n", shown(n), shown(r));
        }
        emit(ctx.json, &value, &text)?;
        if !report.skipped.is_empty() {
            return Err(Failure { code: crate::output::exit::PARTIAL_IMPORT, message: "some items were not stored".into() });
        }
        Ok(())
    } else {
        value["stored"] = json!([]);
        emit(ctx.json, &value, "Nothing stored (confirm with --yes).\n")
    }
}
