//! `softtoken open <LINK>`: routes a deep link to its flow, previews it, stores on confirmation.

use super::vault::{now, unlock, Ctx};
use crate::output::{emit, CmdResult, Failure};
use crate::secrets;
use clap::Args;
use serde_json::{json, Value};
use softtoken_core::activation::{otpauth_identity, PendingActivation};
use softtoken_core::entrust::Policy;
use softtoken_core::link::{classify, Link};
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

/// Runs `open`.
pub fn open(ctx: &Ctx, a: &OpenArgs) -> CmdResult {
    let rng = ring::rand::SystemRandom::new();
    let (mut value, preview, items): (Value, String, Vec<(String, softtoken_core::Result<softtoken_core::identity::Identity>)>) = match classify(&a.link)? {
        Link::SecActivate(_) => {
            let password = secrets::activation_password(a.password.as_deref())?;
            let pending = PendingActivation::from_uri(&a.link, &password, None, &rng)?;
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
                pending.provider.as_deref().unwrap_or("(unknown)"),
                pending.serial,
                policy.entries.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "),
                pending.registration_code
            );
            let label = pending.serial.to_string();
            (value, preview, vec![(label, pending.into_identity(None, None, now(), &rng))])
        }
        Link::Otpauth(u) => {
            let value = json!({"kind": "otpauth", "issuer": u.issuer, "account": u.account, "digits": u.digits});
            let preview = format!("Token {} ({})\n", u.account, u.issuer.as_deref().unwrap_or("no issuer"));
            (value, preview, vec![(u.account.clone(), otpauth_identity(&u, None, now(), &rng))])
        }
        Link::OnlineActivation(l) => {
            let host = softtoken_core::activation::provider_from_url(&l.base_url).unwrap_or_default();
            if !ctx.json {
                print!("Online activation\n  provider: {host} ({})\n", l.base_url);
            }
            if !confirmed(a, ctx.json) {
                return emit(ctx.json, &json!({"kind": "online-activation", "provider": host, "stored": []}), "Nothing stored (confirm with --yes).\n");
            }
            return super::online::activate_link(ctx, &super::online::ActivateLinkArgs::new(a.link.clone()));
        }
        Link::Migration(part) => {
            let names: Vec<String> = part.items.iter().map(|(l, _)| l.clone()).collect();
            let value = json!({"kind": "otpauth-migration", "items": names, "batch_index": part.batch_index, "batch_size": part.batch_size});
            let preview = format!("Google Authenticator export (QR code {} of {}): {}\n", part.batch_index + 1, part.batch_size, names.join(", "));
            let items = part.items.into_iter().map(|(l, t)| (l, t.and_then(|t| otpauth_identity(&t, None, now(), &rng)))).collect();
            (value, preview, items)
        }
    };
    if !ctx.json {
        print!("{preview}");
    }
    let store = confirmed(a, ctx.json);
    let mut text = String::new();
    if store {
        let mut v = unlock(ctx)?;
        let report = v.import(items)?;
        value["stored"] = json!(report.imported);
        value["skipped"] = json!(report.skipped.iter().map(|(n, r)| json!({"name": n, "reason": r})).collect::<Vec<_>>());
        text += &format!("Stored: {}\n", report.imported.join(", "));
        for (n, r) in &report.skipped {
            text += &format!("Not stored {n}: {r}\n");
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
