//! `softtoken otp`: a code from an otpauth URI or a raw secret.

use crate::output::{emit, CmdResult, Failure};
use clap::{ArgGroup, Args};
use serde_json::json;
use softtoken_core::clock::{Clock, SystemClock};
use softtoken_core::otp::{Algorithm, Hotp, Totp};
use softtoken_core::secret::hex_decode;
use softtoken_core::uri::{otpauth, OtpAuth, OtpKind};
use softtoken_core::{Error, Field, Secret};

/// Arguments of `otp`.
#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["uri", "secret_hex", "secret_base32"])))]
pub struct OtpArgs {
    /// An otpauth:// URI.
    #[arg(long)]
    uri: Option<String>,
    /// The secret as hex.
    #[arg(long)]
    secret_hex: Option<String>,
    /// The secret as base32.
    #[arg(long)]
    secret_base32: Option<String>,
    /// SHA1, SHA256 or SHA512 (with a raw secret).
    #[arg(long, default_value = "SHA1", conflicts_with = "uri")]
    algorithm: String,
    /// Code length 6 to 8 (with a raw secret).
    #[arg(long, default_value_t = 6, conflicts_with = "uri")]
    digits: u8,
    /// Seconds per code (with a raw secret).
    #[arg(long, default_value_t = 30, conflicts_with = "uri")]
    period: u32,
    /// Compute an HOTP code for this counter instead of a TOTP code (with a raw secret).
    #[arg(long, conflicts_with = "uri")]
    counter: Option<u64>,
    /// Unix time to compute the code for (default: now).
    #[arg(long, value_name = "UNIXTIME")]
    at: Option<u64>,
}

enum Generator {
    Totp(Totp),
    Hotp(Hotp, u64),
}

fn generator(args: &OtpArgs) -> Result<Generator, Error> {
    if let Some(uri) = &args.uri {
        let u = OtpAuth::parse(uri)?;
        return Ok(match u.kind {
            OtpKind::Totp { .. } | OtpKind::Steam => Generator::Totp(u.totp()?),
            OtpKind::Hotp { counter } => Generator::Hotp(u.hotp()?, counter),
        });
    }
    let secret = match (&args.secret_hex, &args.secret_base32) {
        (Some(h), _) => Secret::new(hex_decode(h.trim()).ok_or_else(|| Error::invalid(Field::Secret, "is not valid hex"))?),
        (_, Some(b)) => otpauth::decode_base32(b)?,
        _ => unreachable!("clap requires one source"),
    };
    let algorithm = Algorithm::parse(&args.algorithm)?;
    Ok(match args.counter {
        Some(c) => Generator::Hotp(Hotp::new(secret, algorithm, args.digits)?, c),
        None => Generator::Totp(Totp::new(secret, algorithm, args.digits, args.period)?),
    })
}

/// Runs `otp`.
pub fn run(json: bool, args: &OtpArgs) -> CmdResult {
    match generator(args).map_err(Failure::from)? {
        Generator::Totp(t) => {
            let now = args.at.unwrap_or_else(|| SystemClock.unix_time());
            let c = t.code_at(now);
            let text = format!("{}  (valid for {} s)\n", c.code, c.remaining_s);
            emit(json, &json!({"code": c.code, "remaining_s": c.remaining_s}), &text)
        }
        Generator::Hotp(h, counter) => {
            let code = h.code(counter);
            let text = format!("{code}  (counter {counter})\n");
            emit(json, &json!({"code": code, "remaining_s": null, "counter": counter}), &text)
        }
    }
}
