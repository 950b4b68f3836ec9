//! `softtoken entrust activate|seed|recover`: Entrust token maths. These print a seed by design.

use crate::output::{emit, CmdResult, Failure};
use crate::DigitsArg;
use clap::Args;
use serde_json::json;
use softtoken_core::entrust::{self, ActivationCode, ObservedOtp, RegistrationCode, SerialNumber};
use softtoken_core::Secret;

/// The numbers every Entrust command starts from.
#[derive(Args)]
pub struct TokenNumbers {
    /// Serial number, NNNNN-NNNNN.
    #[arg(long)]
    serial: String,
    /// Activation code, NNNN-NNNN-NNNN-NNNN.
    #[arg(long)]
    activation_code: String,
    /// The policy string from the activation payload, verbatim (QR/online activations only).
    #[arg(long)]
    policy: Option<String>,
}

impl TokenNumbers {
    fn parse(&self) -> Result<(SerialNumber, ActivationCode), Failure> {
        Ok((SerialNumber::parse(&self.serial)?, ActivationCode::parse(&self.activation_code)?))
    }
}

/// Arguments of `entrust activate`.
#[derive(Args)]
pub struct ActivateArgs {
    #[command(flatten)]
    numbers: TokenNumbers,
    #[command(flatten)]
    digits: DigitsArg,
}

/// Arguments of `entrust seed`.
#[derive(Args)]
pub struct SeedArgs {
    #[command(flatten)]
    numbers: TokenNumbers,
    /// Registration code, NNNNN-NNNNN.
    #[arg(long)]
    registration_code: String,
    #[command(flatten)]
    digits: DigitsArg,
}

/// Arguments of `entrust recover`.
#[derive(Args)]
pub struct RecoverArgs {
    #[command(flatten)]
    numbers: TokenNumbers,
    /// A code the official app showed and when: CODE@UNIXTIME (repeat for more codes).
    #[arg(long = "otp", value_name = "CODE@UNIXTIME", required = true)]
    otps: Vec<String>,
    #[command(flatten)]
    digits: DigitsArg,
}

fn seed_text(seed: &Secret, uri: &str) -> String {
    format!("  seed (hex):  {}\n  otpauth:     {uri}\n  (this command prints the secret seed by design: keep it private)\n", seed.to_hex())
}

/// Runs `entrust activate`.
pub fn activate(json: bool, args: &ActivateArgs) -> CmdResult {
    let (serial, ac) = args.numbers.parse()?;
    let rng = ring::rand::SystemRandom::new();
    let rc = RegistrationCode::generate(&rng)?;
    let seed = entrust::seed_from_registration(&serial, &ac, &rc, args.numbers.policy.as_deref());
    let uri = entrust::token_otpauth(&serial, seed.clone(), args.digits.get(entrust::DEFAULT_DIGITS))?.to_uri();
    let value = json!({"registration_code": rc.to_string(), "seed_hex": seed.to_hex(), "otpauth": uri});
    let text = format!("Registration code (type it into the portal): {rc}\n{}", seed_text(&seed, &uri));
    emit(json, &value, &text)
}

/// Runs `entrust seed`.
pub fn seed(json: bool, args: &SeedArgs) -> CmdResult {
    let (serial, ac) = args.numbers.parse()?;
    let rc = RegistrationCode::parse(&args.registration_code)?;
    let seed = entrust::seed_from_registration(&serial, &ac, &rc, args.numbers.policy.as_deref());
    let uri = entrust::token_otpauth(&serial, seed.clone(), args.digits.get(entrust::DEFAULT_DIGITS))?.to_uri();
    let value = json!({"seed_hex": seed.to_hex(), "seed_base32": seed.to_base32(), "otpauth": uri});
    let text = format!("{}  seed (base32): {}\n", seed_text(&seed, &uri), seed.to_base32());
    emit(json, &value, &text)
}

/// Runs `entrust recover`.
pub fn recover(json: bool, args: &RecoverArgs) -> CmdResult {
    let (serial, ac) = args.numbers.parse()?;
    let otps = args.otps.iter().map(|o| ObservedOtp::parse(o)).collect::<Result<Vec<_>, _>>()?;
    if let Some(d) = args.digits.digits.as_deref() {
        if let Some(o) = otps.iter().find(|o| o.code.len().to_string() != d) {
            return Err(Failure::new(format!("OTP: {:?} has {} but --digits is {d}", o.code, softtoken_core::error::plural(o.code.len(), "digit", "digits"))));
        }
    }
    let found = entrust::recover(&serial, &ac, args.numbers.policy.as_deref(), &otps)?;
    let uri = entrust::token_otpauth(&serial, found.seed.clone(), found.digits)?.to_uri();
    let random = format!("{:04x}", found.device_random);
    let value = json!({"device_random": random, "policy_used": found.policy_used, "seed_hex": found.seed.to_hex(), "otpauth": uri});
    let text =
        format!("Found the token's device random: {random} ({} policy)\n{}", if found.policy_used { "with" } else { "without" }, seed_text(&found.seed, &uri));
    emit(json, &value, &text)
}
