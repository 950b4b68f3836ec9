//! `softtoken`: the desktop shell. Parses arguments, calls softtoken-core, prints results.
//!
//! The contract is stable and scriptable: `--json` prints exactly one JSON object on stdout (an
//! error too: `{"error":{"kind","message"}}`), errors go to stderr as `softtoken: error: …`, the
//! exit code says the kind (`output::exit`), nothing panics.

mod commands;
mod key_stores;
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
    /// The vault file (default: $SOFTTOKEN_VAULT, else $XDG_DATA_HOME/softtoken/vault.stv).
    #[arg(long, global = true, value_name = "PATH")]
    vault: Option<std::path::PathBuf>,
    /// Read the PIN from one line of standard input (else $SOFTTOKEN_PIN, else a hidden prompt).
    #[arg(long, global = true)]
    pin_stdin: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole activation against the reference provider in a temporary directory (and, given
    /// a server, a privacyIDEA push sign-in).
    Demo(commands::demo::DemoArgs),
    /// Show what an activation (secactivate) or otpauth URI contains; never prints a secret
    /// unless --show-secret is given.
    Decode(commands::decode::DecodeArgs),
    /// Read every QR code in image files (PNG, JPEG, WebP, GIF); with --json one object per image
    /// per line: {"path","codes":[{"text"}],"ms"}, or {"path","codes":[],"error","ms":0}.
    Scan(commands::scan::ScanArgs),
    /// Entrust token maths; these commands print a seed by design.
    #[command(subcommand)]
    Entrust(EntrustCommand),
    /// Compute a one-time password from an otpauth URI or a raw secret.
    Otp(commands::otp::OtpArgs),
    /// Create a vault (PIN-protected unless --no-pin).
    Init(commands::vault::InitArgs),
    /// Show the vault's path, format, PIN state, identity count and key store.
    Info,
    /// Change the PIN (or set one; --remove takes it away).
    ChangePin(commands::vault::ChangePinArgs),
    /// Add a token: activate from a QR URI or serial + activation code, move one from the official
    /// app, or add an otpauth URI. Shows the registration code to type into the portal.
    Add(commands::vault::AddArgs),
    /// List identities.
    List,
    /// Offline ("classic") transaction confirmation: the 8-digit code to type on the website for
    /// the transaction id it shows (softtoken's open protocol, docs/protocol.md).
    ConfirmCode(commands::vault::ConfirmCodeArgs),
    /// Show current codes (HOTP codes advance their counter).
    Code(commands::vault::CodeArgs),
    /// Rename an identity.
    Rename {
        /// Name or id.
        identity: String,
        /// The new name.
        new_name: String,
    },
    /// Activate from an online activation link (softtoken://activate?…): no typing; the app sends
    /// the registration code to the provider itself.
    ActivateLink(commands::online::ActivateLinkArgs),
    /// Pending push transactions (sign-in requests) of the identities activated online.
    Transactions,
    /// Answer a push transaction: confirm, cancel or suspicious.
    Respond(commands::online::RespondArgs),
    /// Register a push token (FCM/APNs) with the provider of every online identity.
    RegisterPushToken {
        /// The token the platform's push service issued.
        token: String,
    },
    /// Remove an identity (one activated online is unregistered at its provider first). Asks
    /// for confirmation on a terminal; elsewhere --yes is needed.
    Remove {
        /// Name or id.
        identity: String,
        /// Remove without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Change an Entrust token's code length (6 or 8) without a new registration code.
    Digits {
        /// Name or id.
        identity: String,
        /// 6 or 8.
        #[arg(value_parser = ["6", "8"])]
        digits: String,
    },
    /// Set the provider address an Entrust token's push sign-ins come from (https, or http to a
    /// loopback host), for a token activated without it; --clear forgets it.
    TransactionUrl {
        /// Name or id.
        identity: String,
        /// The provider's address, as its activation page shows it.
        #[arg(required_unless_present = "clear")]
        url: Option<String>,
        /// Stop asking a provider for this token's push sign-ins.
        #[arg(long, conflicts_with = "url")]
        clear: bool,
    },
    /// Keep the vault unlocked for a while in a background agent of this user, so `code` and
    /// `list` ask no PIN meanwhile (opt-in; any program of this user can then read codes).
    Unlock {
        /// How long, in minutes (1 to 480).
        #[arg(long, default_value_t = 15)]
        minutes: u64,
    },
    /// End the agent `unlock` started: the vault is locked again.
    Lock,
    /// The agent itself (started by `unlock`; reads the PIN from stdin).
    #[command(hide = true)]
    Agent {
        #[arg(long, default_value_t = 15)]
        minutes: u64,
    },
    /// Clears the clipboard after `code --copy` (started by softtoken itself).
    #[command(hide = true)]
    ClipboardClear,
    /// Resynchronise an HOTP token from two consecutive codes it showed.
    Resync {
        /// Name or id.
        identity: String,
        /// A code.
        first: String,
        /// The code right after it.
        second: String,
    },
    /// Set an identity's clock offset in seconds (when its provider reports drift).
    TimeOffset {
        /// Name or id.
        identity: String,
        /// Seconds added to this device's clock for this identity's codes.
        #[arg(allow_hyphen_values = true)]
        seconds: i64,
    },
    /// Export every token: an encrypted backup (default; password from $SOFTTOKEN_BACKUP_PASSWORD or
    /// a prompt), otpauth URIs in a text file, or Google Authenticator migration QR codes (PNG).
    /// The PIN confirms it.
    Export {
        /// The file to write (migration: `NAME.png`, or `NAME-1.png`, `NAME-2.png`… for several codes).
        #[arg(long)]
        out: std::path::PathBuf,
        /// What to write: a softtoken backup, an Aegis export (encrypted with the backup password;
        /// `aegis-plain` without), otpauth URIs, or Google migration QR codes.
        #[arg(long, default_value = "backup", value_parser = ["backup", "aegis", "aegis-plain", "otpauth", "migration"])]
        format: String,
    },
    /// Import tokens from other authenticators' exports (Aegis, 2FAS, Ente, Bitwarden JSON/CSV,
    /// Stratum / Authenticator Pro, andOTP, FreeOTP+, Proton, LastPass, Steam .maFile; plain or
    /// encrypted), softtoken backups, text files of otpauth URIs and URIs given directly. The
    /// format is found from the content. An encrypted file's password comes from
    /// $SOFTTOKEN_IMPORT_PASSWORD or a hidden prompt; a wrong one stores nothing (exit 4).
    /// Every file is read before the vault is unlocked; every item is reported; exit 3 when any
    /// was not stored.
    Import {
        /// Files or URIs.
        #[arg(required = true)]
        inputs: Vec<String>,
        /// Read every file as this format: backup, otpauth, aegis, 2fas, ente, bitwarden,
        /// stratum, andotp, freeotp+, proton, lastpass, steam.
        #[arg(long)]
        format: Option<String>,
    },
    /// Handle a link (what a phone's deep-link handler calls): secactivate, otpauth or
    /// otpauth-migration. Shows a preview; stores only with --yes or a confirmation on a terminal.
    Open(commands::link::OpenArgs),
    /// Automatic backups: after every change, an encrypted backup into DIR (password from
    /// $SOFTTOKEN_BACKUP_PASSWORD or a prompt; the PIN confirms it), keeping the newest N. Without
    /// DIR, shows the state; --off turns them off.
    AutoBackup {
        /// The directory (it must exist).
        dir: Option<std::path::PathBuf>,
        /// How many backups to keep.
        #[arg(long, default_value_t = 5)]
        keep: u32,
        /// Turn automatic backups off (the files written stay).
        #[arg(long, conflicts_with = "dir")]
        off: bool,
    },
    /// Bring back the previous version of a corrupt vault.
    RestorePrevious,
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
    pub digits: Option<String>,
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
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // clap's usage errors in the CLI's own shape: the same prefix, JSON with --json.
            let rendered = e.render().to_string();
            let message = rendered.trim_end().strip_prefix("error: ").unwrap_or(rendered.trim_end()).to_string();
            let json = std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json");
            output::fail(json, &output::Failure { code: output::exit::USAGE, message })
        }
    };
    let ctx = commands::vault::Ctx { json: cli.json, path: commands::vault::vault_path(cli.vault.as_deref()), pin_stdin: cli.pin_stdin };
    let result = match &cli.command {
        Command::Demo(a) => commands::demo::run(cli.json, a),
        Command::Decode(a) => commands::decode::run(cli.json, a),
        Command::Scan(a) => commands::scan::run(cli.json, a),
        Command::Entrust(EntrustCommand::Activate(a)) => commands::entrust::activate(cli.json, a),
        Command::Entrust(EntrustCommand::Seed(a)) => commands::entrust::seed(cli.json, a),
        Command::Entrust(EntrustCommand::Recover(a)) => commands::entrust::recover(cli.json, a),
        Command::Otp(a) => commands::otp::run(cli.json, a),
        Command::Init(a) => commands::vault::init(&ctx, a),
        Command::Info => commands::vault::info(&ctx),
        Command::ChangePin(a) => commands::vault::change_pin(&ctx, a),
        Command::Add(a) => commands::vault::add(&ctx, a),
        Command::List => commands::vault::list(&ctx),
        Command::ConfirmCode(a) => commands::vault::confirm_code(&ctx, a),
        Command::Code(a) => commands::vault::code(&ctx, a),
        Command::Rename { identity, new_name } => commands::vault::rename(&ctx, identity, new_name),
        Command::Remove { identity, yes } => commands::online::remove(&ctx, identity, *yes),
        Command::Digits { identity, digits } => commands::vault::digits(&ctx, identity, digits.parse().unwrap_or(6)),
        Command::TransactionUrl { identity, url, clear: _ } => commands::vault::transaction_url(&ctx, identity, url.as_deref()),
        Command::ClipboardClear => commands::clipboard::clear_later(),
        Command::Unlock { minutes } => commands::agent::unlock(&ctx, *minutes),
        Command::Lock => commands::agent::lock(&ctx),
        Command::Agent { minutes } => commands::agent::serve(&ctx, *minutes),
        Command::ActivateLink(a) => commands::online::activate_link(&ctx, a),
        Command::Transactions => commands::online::transactions(&ctx),
        Command::Respond(a) => commands::online::respond(&ctx, a),
        Command::RegisterPushToken { token } => commands::online::register_push_token(&ctx, token),
        Command::Resync { identity, first, second } => commands::vault::resync(&ctx, identity, first, second),
        Command::TimeOffset { identity, seconds } => commands::vault::time_offset(&ctx, identity, *seconds),
        Command::Export { out, format } => commands::transfer::export(&ctx, out, format),
        Command::Import { inputs, format } => commands::transfer::import(&ctx, inputs, format.as_deref()),
        Command::Open(a) => commands::link::open(&ctx, a),
        Command::AutoBackup { dir, keep, off } => commands::transfer::auto_backup(&ctx, dir.as_deref(), *keep, *off),
        Command::RestorePrevious => commands::vault::restore_previous(&ctx),
    };
    if let Err(f) = result {
        output::fail(cli.json, &f);
    }
}
