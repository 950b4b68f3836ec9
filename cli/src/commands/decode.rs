//! `softtoken decode <URI>`: what an activation or otpauth URI holds.

use crate::output::{emit, shown, warn, CmdResult, Failure};
use crate::secrets;
use clap::Args;
use serde_json::{json, Value};
use softtoken_core::entrust::{self, Policy};
use softtoken_core::uri::{OtpAuth, OtpKind};

/// Arguments of `decode`.
#[derive(Args)]
pub struct DecodeArgs {
    /// A secactivate URI (from the activation QR code) or an otpauth:// URI, or an image file of
    /// its QR code (a path that exists is read as an image).
    uri: String,
    /// The activation password shown with the QR code (else $SOFTTOKEN_ACTIVATION_PASSWORD or a prompt).
    #[arg(long)]
    password: Option<String>,
    /// Also print the secret of an otpauth URI.
    #[arg(long)]
    show_secret: bool,
}

/// Runs `decode`.
pub fn run(json: bool, args: &DecodeArgs) -> CmdResult {
    let path = std::path::Path::new(&args.uri);
    if !entrust::is_secactivate(&args.uri) && path.is_file() {
        let uri = crate::commands::scan::uri_from_image(path)?;
        return run(json, &DecodeArgs { uri, password: args.password.clone(), show_secret: args.show_secret });
    }
    if entrust::is_secactivate(&args.uri) {
        decode_secactivate(json, args)
    } else if args.uri.trim_start().to_ascii_lowercase().starts_with("otpauth://") {
        decode_otpauth(json, &args.uri, args.show_secret)
    } else {
        Err(Failure::new("unrecognised URI: expected a secactivate activation URI or an otpauth:// URI"))
    }
}

fn decode_secactivate(json: bool, args: &DecodeArgs) -> CmdResult {
    let parsed = entrust::SecActivateUri::parse(&args.uri)?;
    let password = secrets::activation_password(args.password.as_deref())?;
    let p = parsed.decrypt(&password)?;
    if !p.serial_check_digit_ok {
        warn(&format!("serial number {}: check digit does not match (continuing: the rule is not confirmed for every issuer)", p.serial));
    }
    let value = json!({
        "type": "entrust",
        "serial": p.serial.to_string(),
        "activation_code": p.activation_code.dashed(),
        "policy": p.policy,
        "registration_url": p.registration_url,
        "digits": p.digits,
        "issuer": p.issuer,
        "transaction_url": p.transaction_url,
    });
    let mut text = format!("Entrust soft-token activation\n  serial number:    {}\n  activation code:  {}\n", p.serial, p.activation_code.dashed());
    if let Some(issuer) = &p.issuer {
        text += &format!("  issuer:           {}\n", shown(issuer));
    }
    if let Some(url) = &p.transaction_url {
        text += &format!("  push sign-ins:    {url}\n");
    }
    if let Some(url) = &p.registration_url {
        text += &format!("  registration URL: {}\n", shown(url));
    }
    if let Some(d) = p.digits {
        text += &format!("  digits:           {d}\n");
    }
    match &p.policy {
        Some(raw) => {
            text += &format!("  policy:           {raw}\n");
            if let Ok(policy) = Policy::parse(Some(raw)) {
                for (k, v) in &policy.entries {
                    text += &format!("    {k} = {v}\n");
                }
            }
        }
        None => text += "  policy:           (none)\n",
    }
    emit(json, &value, &text)
}

fn decode_otpauth(json: bool, uri: &str, show_secret: bool) -> CmdResult {
    let u = OtpAuth::parse(uri)?;
    let (kind, period, counter) = match u.kind {
        OtpKind::Totp { period } => ("totp", Some(period), None),
        OtpKind::Hotp { counter } => ("hotp", None, Some(counter)),
        OtpKind::Steam => ("steam", Some(softtoken_core::otp::STEAM_PERIOD), None),
    };
    let mut value = json!({
        "type": kind,
        "issuer": u.issuer,
        "account": u.account,
        "algorithm": u.algorithm.name(),
        "digits": u.digits,
        "period": period,
        "counter": counter,
    });
    let mut text = format!(
        "{} token\n  issuer:    {}\n  account:   {}\n  algorithm: {}\n  digits:    {}\n",
        kind.to_uppercase(),
        u.issuer.as_deref().unwrap_or("(none)"),
        u.account,
        u.algorithm.name(),
        u.digits
    );
    match (period, counter) {
        (Some(p), _) => text += &format!("  period:    {p} s\n"),
        (_, Some(c)) => text += &format!("  counter:   {c}\n"),
        _ => {}
    }
    if show_secret {
        let b32 = softtoken_core::uri::otpauth::encode_base32(&u.secret);
        text += &format!("  secret:    {b32}\n");
        if let Value::Object(m) = &mut value {
            m.insert("secret".into(), Value::String(b32));
        }
    }
    emit(json, &value, &text)
}
