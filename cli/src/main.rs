//! `softtoken`: the desktop shell. Parses arguments, calls softtoken-core, prints results.
//!
//! The contract is stable and scriptable: `--json` prints exactly one JSON object on stdout, errors
//! go to stderr with a non-zero exit code (1 error, 2 usage, 4 wrong password), nothing panics.

mod commands;
mod output;
mod secrets;

use clap::{Args, Parser, Subcommand};

/// softtoken — an open soft-token authenticator (Entrust-style activation, TOTP/HOTP).
#[derive(Parser)]
#[command(name = "softtoken", version, about, propagate_version = true)]
struct Cli {
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what an activation (secactivate) or otpauth URI contains; never prints a secret
    /// unless --show-secret is given.
    Decode(commands::decode::DecodeArgs),
    /// Entrust token maths; these commands print a seed by design.
    #[command(subcommand)]
    Entrust(EntrustCommand),
    /// Compute a one-time password from an otpauth URI or a raw secret.
    Otp(commands::otp::OtpArgs),
}

#[derive(Subcommand)]
enum EntrustCommand {
    /// Activate a token from serial + activation code: prints a fresh registration code and the
    /// resulting seed (BY DESIGN this prints the secret seed).
    Activate(commands::entrust::ActivateArgs),
    /// Derive the seed from serial, activation and registration codes (BY DESIGN prints the seed).
    Seed(commands::entrust::SeedArgs),
    /// Recover the seed of a token activated in the official app from one or more of its codes
    /// (BY DESIGN prints the seed).
    Recover(commands::entrust::RecoverArgs),
}

/// Digits option shared by Entrust commands.
#[derive(Args, Clone)]
pub struct DigitsArg {
    /// Code length: 6 or 8 (an admin setting of the issuer).
    #[arg(long, value_parser = ["6", "8"])]
    digits: Option<String>,
}

impl DigitsArg {
    /// The chosen digits, or `default`.
    pub fn get(&self, default: u8) -> u8 {
        self.digits.as_deref().and_then(|d| d.parse().ok()).unwrap_or(default)
    }
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    let result = match &cli.command {
        Command::Decode(a) => commands::decode::run(cli.json, a),
        Command::Entrust(EntrustCommand::Activate(a)) => commands::entrust::activate(cli.json, a),
        Command::Entrust(EntrustCommand::Seed(a)) => commands::entrust::seed(cli.json, a),
        Command::Entrust(EntrustCommand::Recover(a)) => commands::entrust::recover(cli.json, a),
        Command::Otp(a) => commands::otp::run(cli.json, a),
    };
    if let Err(f) = result {
        eprintln!("softtoken: error: {}", f.message);
        std::process::exit(f.code);
    }
}
