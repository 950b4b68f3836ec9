//! `softtoken-provider`: the reference issuer's command line. Same contract as `softtoken`:
//! `--json` prints one JSON object, errors go to stderr with a non-zero exit, nothing panics.

use base64::Engine;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use softtoken_provider::protocol::transactions::PushOptions;
use softtoken_provider::server::Limits;
use softtoken_provider::{Database, IssueOptions, Provider, ProviderError, DEFAULT_LIFETIME_S, DEFAULT_POLICY, DEFAULT_REGISTRATION_URL};
use std::io::Write;
use std::path::PathBuf;

/// softtoken-provider — a reference issuer of Entrust-style soft tokens (tests, demos, trials).
#[derive(Parser)]
#[command(name = "softtoken-provider", version, about)]
struct Cli {
    /// The state database: a SQLite file (WAL), or postgres://USER@HOST/DB for a PostgreSQL
    /// server several `serve` processes share (then --kek-file is required). Default:
    /// $SOFTTOKEN_PROVIDER_DATABASE, else ./softtoken-provider.db if it exists (a new one is
    /// never made in the current directory unasked).
    #[arg(long = "database", visible_alias = "state", global = true, value_name = "PATH|URL", value_parser = parse_database)]
    database: Option<Database>,
    /// The key that seals seeds and activation codes in the state (32 bytes, 0600; created on
    /// first use). Default: the SQLite file's path with `.kek` added.
    #[arg(long, global = true, value_name = "FILE")]
    kek_file: Option<PathBuf>,
    /// The VAPID key (PKCS#8 PEM, P-256) that signs Web Push wake-ups (default: the state's path
    /// with `.vapid.pem` added; created 0600 when missing).
    #[arg(long, global = true, value_name = "PEM")]
    vapid_key: Option<PathBuf>,
    /// The contact put in VAPID tokens for push services' operators (mailto: or https:).
    #[arg(long, global = true, value_name = "URI")]
    vapid_subject: Option<String>,
    /// Also deliver Web Push wake-ups to push services on loopback addresses (tests, a
    /// distributor on this host). Private, link-local and other non-public addresses are always
    /// refused.
    #[arg(long, global = true)]
    web_push_allow_loopback: bool,
    /// APNs wake-ups for iOS apps (`apns:` push tokens): the team's token key, the AuthKey_….p8 file
    /// (PKCS#8 PEM). Needs --apns-key-id, --apns-team-id and --apns-topic.
    #[arg(long, global = true, value_name = "P8", requires_all = ["apns_key_id", "apns_team_id", "apns_topic"])]
    apns_key: Option<PathBuf>,
    /// The APNs key's id (10 characters, shown with the key in Apple's developer account).
    #[arg(long, global = true, value_name = "ID")]
    apns_key_id: Option<String>,
    /// The Apple developer team id (10 characters).
    #[arg(long, global = true, value_name = "ID")]
    apns_team_id: Option<String>,
    /// The iOS app's bundle id (the APNs topic).
    #[arg(long, global = true, value_name = "BUNDLE_ID")]
    apns_topic: Option<String>,
    /// The APNs environment the app's builds register with.
    #[arg(long, global = true, value_enum, default_value_t = ApnsEnvironment::Production)]
    apns_environment: ApnsEnvironment,
    /// FCM wake-ups for Android apps with Google services (`fcm:` push tokens): a service account
    /// key file (JSON) of the app's Firebase project.
    #[arg(long, global = true, value_name = "JSON")]
    fcm_service_account: Option<PathBuf>,
    /// Send APNs and FCM wake-ups to this https:// address instead of Apple's and Google's (tests, a
    /// relay); needs --push-service-ca.
    #[arg(long, global = true, value_name = "URL", hide = true, requires = "push_service_ca")]
    push_service_url: Option<String>,
    /// The root certificate (PEM) trusted for --push-service-url instead of the public roots.
    #[arg(long, global = true, value_name = "PEM", hide = true)]
    push_service_ca: Option<PathBuf>,
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mint a token: serial, activation code, QR password and secactivate URI.
    Issue {
        /// Code length.
        #[arg(long, default_value = "6", value_parser = ["6", "8"])]
        digits: String,
        /// Policy JSON put in the payload verbatim (default: the spec's sample policy).
        #[arg(long, conflicts_with = "no_policy")]
        policy: Option<String>,
        /// Put no policy in the payload (needed for manual activation by serial + activation code).
        #[arg(long)]
        no_policy: bool,
        /// Digits of the QR password.
        #[arg(long, default_value_t = 8)]
        password_length: usize,
        /// Seconds the activation stays valid.
        #[arg(long, default_value_t = DEFAULT_LIFETIME_S)]
        lifetime: u64,
        /// The payload's registration address (default: the `organisation` setting, else a
        /// placeholder; "" for none).
        #[arg(long)]
        registration_url: Option<String>,
        /// Also write the QR code as a PNG.
        #[arg(long, value_name = "FILE")]
        qr_png: Option<PathBuf>,
        /// Also make an online activation link (an email link the app opens; no typing).
        /// (The provider's address: --base-url, else the one the last `serve` announced.)
        #[arg(long)]
        online: bool,
        /// This provider's address as the app reaches it (https, or http on loopback), for --online.
        #[arg(long, value_name = "URL", requires = "online")]
        base_url: Option<String>,
        /// Give the token to this user (listed among their authenticators, checked by the
        /// validate API for them).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// entrust (an Entrust-style soft token, activated with its QR code and password), or a
        /// standard totp / hotp token for any authenticator app (an otpauth:// URI; needs --user).
        #[arg(long, default_value = "entrust", value_parser = ["entrust", "totp", "hotp"], requires_if("totp", "user"), requires_if("hotp", "user"))]
        kind: String,
        /// The hash of a totp / hotp token.
        #[arg(long, default_value = "sha1", value_parser = ["sha1", "sha256", "sha512"])]
        algorithm: String,
        /// Seconds per code of a totp token.
        #[arg(long, default_value_t = 30)]
        period: u32,
        /// The issuer an authenticator app shows for a totp / hotp token.
        #[arg(long, default_value = softtoken_provider::tokens::oath::DEFAULT_ISSUER)]
        issuer: String,
    },
    /// Complete an activation with the registration code the user typed in.
    Complete {
        /// Serial number.
        #[arg(long)]
        serial: String,
        /// Registration code from the app.
        #[arg(long)]
        registration_code: String,
    },
    /// Check a code; reports the clock drift in time steps.
    Verify {
        /// Serial number.
        #[arg(long)]
        serial: String,
        /// The code.
        #[arg(long)]
        otp: String,
        /// Unix time to check at (default: now).
        #[arg(long, value_name = "UNIXTIME")]
        at: Option<u64>,
        /// Time steps accepted either side.
        #[arg(long, default_value_t = 2)]
        window: u32,
    },
    /// Create a push transaction for a completed identity (docs/protocol.md).
    Push {
        /// Serial number.
        #[arg(long)]
        serial: String,
        /// What the user is asked to approve.
        #[arg(long)]
        summary: String,
        /// A detail shown under the summary (repeat, in order).
        #[arg(long = "detail", value_name = "KEY=VALUE")]
        details: Vec<String>,
        /// Seconds until it expires.
        #[arg(long, default_value_t = softtoken_provider::protocol::transactions::DEFAULT_TRANSACTION_LIFETIME_S)]
        lifetime: u64,
        /// The website shows a two-digit number the user must type in the app.
        #[arg(long)]
        number_match: bool,
        /// Offline ("classic") mode: a 10-digit id the user types; answered with a confirmation code.
        #[arg(long)]
        offline: bool,
    },
    /// A transaction's state: pending, approved, cancelled, denied or expired.
    Status {
        /// Transaction id.
        transaction_id: String,
    },
    /// Logged answers (Confirm, Cancel and Suspicious, and denials).
    Log,
    /// Serve the protocol over HTTP: HTTPS with --tls-cert/--tls-key, plain HTTP on loopback only;
    /// the first line printed is `listening on http(s)://HOST:PORT`.
    Serve {
        /// Address to listen on (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
        /// The server's certificate chain (PEM): serve HTTPS.
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Open connections at most (more are closed when accepted).
        #[arg(long, default_value_t = Limits::default().connections)]
        max_connections: usize,
        /// Open connections at most from one address.
        #[arg(long, default_value_t = Limits::default().connections_per_address)]
        max_connections_per_address: usize,
        /// Answers and activation completions per minute from one address.
        #[arg(long, default_value_t = Limits::default().answers_per_address)]
        answers_per_address: u32,
        /// Answers per minute for one identity (and completions per minute for one activation).
        #[arg(long, default_value_t = Limits::default().answers_per_identity)]
        answers_per_identity: u32,
        /// Seconds a client has to send a request's headers, and then its body.
        #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().header_timeout_s, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout: u64,
        /// Seconds after its last byte either way that a connection is closed (HTTP/2 included).
        #[arg(long, value_name = "SECONDS", default_value_t = Limits::default().idle_timeout_s, value_parser = clap::value_parser!(u64).range(1..=3600))]
        idle_timeout: u64,
        /// The address browsers and phones reach this server at, for online activation links
        /// (default: the listening address).
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// Send activation e-mails by plain SMTP to a relay on this host (smtp://127.0.0.1:25).
        #[arg(long, value_name = "URL", conflicts_with = "outbox")]
        smtp: Option<String>,
        /// Without --smtp, write activation e-mails as .eml files here (default: the state's
        /// path with `.outbox` added).
        #[arg(long, value_name = "DIR")]
        outbox: Option<PathBuf>,
        /// The activation e-mails' sender.
        #[arg(long, default_value = "softtoken portal <portal@localhost>")]
        mail_from: String,
        /// The request log (time, address, method, path without query, status, ms): a file
        /// (default: the state's path with `.requests.log` added), `-` for stderr, `off`.
        #[arg(long, value_name = "FILE|-|off")]
        request_log: Option<String>,
    },
    /// Portal accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the VAPID public key (base64url), the `applicationServerKey` a Web Push
    /// subscription is made with (creating the key when missing).
    VapidKey,
    /// Re-wrap every seed and activation code under a new key (the old key file is kept as
    /// `<kek>.retired-ID` for older backups); restart `serve` afterwards.
    RotateKek,
    /// Users from the company's LDAP directory.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// API tokens for the validate API (`/validate/triggerchallenge`).
    #[command(subcommand, name = "api-token")]
    ApiToken(ApiTokenCommand),
    /// The validate API's audit log: every request and decision, oldest first.
    Audit {
        /// Only this user's requests.
        #[arg(long)]
        user: Option<String>,
        /// The newest N entries.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// Print JSON lines (one entry per line), for export.
        #[arg(long, conflicts_with = "json")]
        jsonl: bool,
    },
    /// Show or change what activations carry: the company's name (the app shows it and names the
    /// token after it) and the registration address; the portal's Administration page sets the same.
    Organisation {
        /// The company's name, as users know it ("" removes it).
        #[arg(long)]
        company: Option<String>,
        /// The registration address, without scheme (portal.example.com/activate; "" for the default).
        #[arg(long)]
        registration_url: Option<String>,
    },
    /// Show or change the validate API's settings (realm, fail limit, number matching, challenge lifetime).
    ValidateSettings {
        /// The realm users are in.
        #[arg(long)]
        realm: Option<String>,
        /// Failed checks in a row before a token is locked.
        #[arg(long)]
        max_fail: Option<u32>,
        /// Push challenges show a number the user enters in the app.
        #[arg(long, value_name = "true|false")]
        number_matching: Option<bool>,
        /// Seconds a challenge stays answerable.
        #[arg(long, value_name = "SECONDS")]
        challenge_lifetime: Option<u64>,
        /// Seconds a check that starts a push waits for the app's answer (0: reply at once with
        /// the challenge; RADIUS wants about 20).
        #[arg(long, value_name = "SECONDS")]
        push_wait: Option<u64>,
        /// What comes before the code in `pass`: tokenpin (the token's PIN, if it has one) or none.
        #[arg(long, value_parser = ["tokenpin", "none"])]
        otppin: Option<String>,
    },
    /// Set a token's PIN, typed before its code at the validate API (PIN from
    /// $SOFTTOKEN_TOKEN_PIN or a hidden prompt; empty removes it).
    SetPin {
        /// Serial number.
        serial: String,
    },
    /// Unlock a token locked by too many failed checks (its fail counter back to 0).
    ResetFails {
        /// Serial number.
        serial: String,
    },
    /// Check the confirmation code a user typed for an offline transaction.
    CheckConfirmation {
        /// Transaction id.
        #[arg(long)]
        id: String,
        /// The 8-digit code from the app.
        #[arg(long)]
        code: String,
    },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Use an LDAP directory's users (checked now: the service account must bind).
    Set {
        /// ldaps://HOST[:PORT], or ldap://HOST[:PORT] with --start-tls (plain ldap:// on loopback only).
        #[arg(long)]
        url: String,
        /// Upgrade ldap:// with StartTLS.
        #[arg(long)]
        start_tls: bool,
        /// The service account's DN.
        #[arg(long)]
        bind_dn: String,
        /// A file (0600) holding the service account's password.
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
        /// Where users are searched (subtree).
        #[arg(long)]
        base_dn: String,
        /// The search filter; {user} is the name, escaped.
        #[arg(long, default_value = softtoken_provider::directory::DEFAULT_FILTER)]
        filter: String,
        /// The attribute holding a user's e-mail address.
        #[arg(long, default_value = "mail")]
        mail_attribute: String,
        /// CA certificates (PEM) the directory's certificate is checked against (default: the system's).
        #[arg(long, value_name = "PEM")]
        ca_file: Option<PathBuf>,
        /// Seconds to wait for the directory.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
    },
    /// Show the directory settings.
    Show,
    /// Look a user up in the directory.
    Lookup {
        /// The user's name.
        name: String,
    },
    /// Stop using the directory (its users stay known but can no longer sign in).
    Clear,
}

#[derive(Subcommand)]
enum ApiTokenCommand {
    /// Make a new API token (shown once; the state keeps its hash).
    Create {
        /// What it is for (shown to operators).
        #[arg(long, default_value = "api token")]
        label: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (password from $SOFTTOKEN_PROVIDER_PASSWORD or a hidden prompt).
    Add {
        /// The name they sign in with.
        name: String,
        /// An administrator (assigns tokens, sets token settings, adds users).
        #[arg(long)]
        admin: bool,
        /// Where their activation e-mails go.
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a user's password (from $SOFTTOKEN_PROVIDER_PASSWORD or a hidden prompt); every
    /// session of theirs ends. For a forgotten password: users change their own in the portal.
    Password {
        /// The user.
        name: String,
    },
    /// List users.
    List,
}

/// The new user's password: from the environment, or typed twice at a hidden prompt.
fn new_password() -> Result<zeroize::Zeroizing<String>, ProviderError> {
    if let Ok(p) = std::env::var("SOFTTOKEN_PROVIDER_PASSWORD") {
        return Ok(zeroize::Zeroizing::new(p));
    }
    let read = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| ProviderError::Invalid(format!("cannot read the password: {e} (or set SOFTTOKEN_PROVIDER_PASSWORD)")))
    };
    let first = read("New password: ")?;
    if *read("Again: ")? != *first {
        return Err(ProviderError::Invalid("the two passwords differ".into()));
    }
    Ok(first)
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn emit(json: bool, value: serde_json::Value, text: String) -> Result<(), ProviderError> {
    let mut out = std::io::stdout().lock();
    let r = if json { writeln!(out, "{value}") } else { write!(out, "{text}") };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(ProviderError::Fault(format!("cannot write output: {e}"))),
        _ => Ok(()),
    }
}

/// A Unix time as the command line shows it: `Sun, 06 Dec 2026 14:30:00 GMT` (JSON keeps numbers).
fn date(unix: u64) -> String {
    softtoken_provider::portal::html::time(unix)
}

/// The file used when neither `--state` nor `SOFTTOKEN_PROVIDER_DATABASE` names one, if it exists.
const FALLBACK_DATABASE: &str = "softtoken-provider.db";

/// `--state`, else `SOFTTOKEN_PROVIDER_DATABASE`, else an existing `./softtoken-provider.db`; a
/// state is never created in the current directory by accident.
fn database(cli: &Cli) -> Result<Database, ProviderError> {
    if let Some(d) = &cli.database {
        return Ok(d.clone());
    }
    if let Some(d) = std::env::var("SOFTTOKEN_PROVIDER_DATABASE").ok().filter(|d| !d.is_empty()) {
        return Ok(Database::parse(&d));
    }
    if std::path::Path::new(FALLBACK_DATABASE).exists() {
        return Ok(Database::parse(FALLBACK_DATABASE));
    }
    let here = std::env::current_dir().map(|d| d.join(FALLBACK_DATABASE).display().to_string()).unwrap_or_else(|_| FALLBACK_DATABASE.into());
    Err(ProviderError::Invalid(format!(
        "no state database named: give --state PATH (a SQLite file, made on first use) or --database postgres://…, or set SOFTTOKEN_PROVIDER_DATABASE; softtoken-provider will not create {here} unasked"
    )))
}

fn run(cli: &Cli) -> Result<(), ProviderError> {
    let database = database(cli)?;
    let kek = match (&cli.kek_file, &database) {
        (Some(kek), _) => kek.clone(),
        (None, Database::Sqlite(path)) => softtoken_provider::sealed::default_kek_path(path),
        (None, Database::Postgres(_)) => {
            return Err(ProviderError::Invalid("a postgres:// database needs --kek-file: the key that seals its seeds lives outside the database".into()))
        }
    };
    let mut p = Provider::open_database(&database, &kek)?;
    match &cli.command {
        Command::Issue { kind, user: Some(user), digits, algorithm, period, issuer, qr_png, .. } if kind != "entrust" => {
            use softtoken_provider::tokens::oath::{OathKind, OathOptions};
            let opts = OathOptions {
                kind: OathKind::parse(kind).expect("clap checked"),
                digits: digits.parse().expect("clap checked"),
                algorithm: softtoken_core::otp::Algorithm::parse(algorithm)?,
                period: *period,
                issuer: issuer.clone(),
            };
            let issued = p.issue_oath(user, &opts, now())?;
            write_qr(qr_png.as_deref(), &issued.uri)?;
            emit(
                cli.json,
                json!({"serial": &issued.serial, "kind": kind, "user": user, "uri": &issued.uri}),
                format!("serial number:   {}\nuser:            {user}\notpauth URI:     {}\n", issued.serial, issued.uri),
            )
        }
        Command::Issue { kind, .. } if kind != "entrust" => Err(ProviderError::Invalid(format!("--kind {kind} needs --user"))),
        Command::Issue { digits, policy, no_policy, password_length, lifetime, registration_url, qr_png, online, base_url, user, .. } => {
            let settings = p.token_settings()?;
            let base_url = match (online, base_url) {
                (false, _) => None,
                (true, Some(url)) => Some(url.clone()),
                (true, None) => Some(p.public_url()?.ok_or_else(|| {
                    ProviderError::Invalid("--online needs the provider's address: give --base-url URL (or start `serve` once: it records its address)".into())
                })?),
            };
            let opts = IssueOptions {
                digits: digits.parse().expect("clap checked"),
                policy: if *no_policy { None } else { Some(policy.clone().unwrap_or_else(|| DEFAULT_POLICY.into())) },
                password_length: *password_length,
                lifetime_s: *lifetime,
                registration_url: match registration_url {
                    Some(u) => Some(u.clone()).filter(|u| !u.is_empty()),
                    None => Some(settings.registration_url.clone().unwrap_or_else(|| DEFAULT_REGISTRATION_URL.into())),
                },
                online_base_url: base_url,
                issuer: settings.company.clone(),
            };
            if let Some(user) = user {
                if p.known_user(user, now())?.is_none() {
                    return Err(ProviderError::Refused(format!("there is no user {user} (softtoken-provider user add {user})")));
                }
            }
            let issued = p.issue(&opts, now())?;
            if let Some(user) = user {
                p.give_token(user, &issued.serial, now())?;
            }
            write_qr(qr_png.as_deref(), &issued.uri)?;
            let mut text = format!(
                "serial number:   {}\nactivation code: {}\nQR password:     {}\nexpires:         {}\nQR URI:          {}\n",
                issued.serial,
                issued.activation_code,
                issued.password,
                date(issued.expires_at),
                issued.uri
            );
            let mut value = json!({"serial": &issued.serial, "activation_code": &issued.activation_code, "password": &issued.password, "uri": &issued.uri, "expires_at": issued.expires_at, "kind": "entrust", "user": user});
            if let Some(link) = &issued.link {
                text += &format!("activation link: {link}\n");
                value["link"] = json!(link);
            }
            emit(cli.json, value, text)
        }
        Command::Complete { serial, registration_code } => {
            p.complete(serial, registration_code, now())?;
            emit(cli.json, json!({"serial": serial, "completed": true}), format!("{serial}: activation completed\n"))
        }
        Command::Verify { serial, otp, at, window } => {
            let v = p.verify(serial, otp, at.unwrap_or_else(now), *window)?;
            let text = match v.drift_steps {
                Some(d) => format!("valid (drift {d} steps)\n"),
                None => "not valid\n".to_string(),
            };
            emit(cli.json, json!({"valid": v.valid, "drift_steps": v.drift_steps}), text)
        }
        Command::Push { serial, summary, details, lifetime, number_match, offline } => {
            let details = details
                .iter()
                .map(|d| {
                    d.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .ok_or_else(|| ProviderError::Invalid(format!("--detail {d:?}: expected KEY=VALUE")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let opts = PushOptions { summary: summary.clone(), details, lifetime_s: *lifetime, number_match: *number_match, offline: *offline };
            let pushed = p.push(serial, &opts, now())?;
            let wake = p.wake(&wake_ups(cli, &database, &kek)?, serial, &pushed.transaction_id, pushed.push_token.as_deref(), now())?;
            let mut text = format!("transaction {}\n{}\n", pushed.transaction_id, wake.describe());
            if let Some(n) = pushed.number {
                text += &format!("number to show on the website: {n}\n");
            }
            emit(
                cli.json,
                json!({"transaction_id": pushed.transaction_id, "number": pushed.number, "push_token": pushed.push_token, "wake_up": wake.outcome()}),
                text,
            )
        }
        Command::Status { transaction_id } => {
            let state = p.status(transaction_id, now())?;
            emit(cli.json, json!({"state": state.as_str()}), format!("{}\n", state.as_str()))
        }
        Command::Log => {
            let events = p.log()?;
            let text: String = events.iter().map(|e| format!("{}  {} {} {}\n", date(e.at), e.serial, e.transaction_id, e.response)).collect();
            let list: Vec<_> =
                events.iter().map(|e| json!({"transaction_id": e.transaction_id, "serial": e.serial, "response": e.response, "at": e.at})).collect();
            emit(cli.json, json!({"events": list}), text)
        }
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            max_connections,
            max_connections_per_address,
            answers_per_address,
            answers_per_identity,
            header_timeout,
            idle_timeout,
            public_url,
            smtp,
            outbox,
            mail_from,
            request_log,
        } => {
            let tls = tls_cert.clone().zip(tls_key.clone()).map(|(certificate, key)| softtoken_provider::server::TlsFiles { certificate, key });
            let limits = Limits {
                connections: *max_connections,
                connections_per_address: *max_connections_per_address,
                answers_per_address: *answers_per_address,
                answers_per_identity: *answers_per_identity,
                header_timeout_s: *header_timeout,
                idle_timeout_s: *idle_timeout,
            };
            let delivery = match smtp {
                Some(url) => softtoken_provider::portal::mail::Delivery::smtp(url)?,
                None => softtoken_provider::portal::mail::Delivery::Outbox(outbox.clone().unwrap_or_else(|| beside(&database, &kek, ".outbox"))),
            };
            let portal = softtoken_provider::server::PortalOptions {
                public_url: public_url.clone(),
                delivery,
                mail_from: mail_from.clone(),
                wake_ups: wake_ups(cli, &database, &kek)?,
                request_log: match request_log {
                    Some(d) => softtoken_provider::server::request_log::Destination::parse(d),
                    None => softtoken_provider::server::request_log::Destination::File(beside(&database, &kek, ".requests.log")),
                },
            };
            drop(p);
            softtoken_provider::server::serve(&database, &kek, listen, tls.as_ref(), limits, portal)
        }
        Command::VapidKey => {
            let key = web_push(cli, &database, &kek)?.key.public_key();
            emit(cli.json, json!({"public_key": key}), format!("{key}\n"))
        }
        Command::User(UserCommand::Add { name, admin, email }) => {
            let password = new_password()?;
            let user = p.add_user(name, &password, *admin, email.as_deref(), now())?;
            let role = if user.admin { "administrator" } else { "user" };
            emit(cli.json, json!({"name": user.name, "admin": user.admin, "email": user.email}), format!("{role} {} added\n", user.name))
        }
        Command::User(UserCommand::Password { name }) => {
            let password = new_password()?;
            p.reset_password(name, &password)?;
            emit(cli.json, json!({"name": name, "password_set": true}), format!("password of {name} set; their sessions have ended\n"))
        }
        Command::User(UserCommand::List) => {
            let users = p.users()?;
            let text: String = users
                .iter()
                .map(|u| {
                    format!(
                        "{}{}{}\n",
                        u.name,
                        if u.admin { " (administrator)" } else { "" },
                        u.email.as_deref().map(|e| format!(" <{e}>")).unwrap_or_default()
                    )
                })
                .collect();
            let list: Vec<_> = users.iter().map(|u| json!({"name": u.name, "admin": u.admin, "email": u.email})).collect();
            emit(cli.json, json!({"users": list}), text)
        }
        Command::RotateKek => {
            let r = p.rotate_kek()?;
            let retired = r.retired.display().to_string();
            emit(
                cli.json,
                json!({"rewrapped": r.rewrapped, "kek_id": r.kek_id, "retired": retired}),
                format!("re-wrapped {} secrets under key {}; the old key is kept as {retired} (for older backups of the state)\n", r.rewrapped, r.kek_id),
            )
        }
        Command::Directory(DirectoryCommand::Set { url, start_tls, bind_dn, password_file, base_dn, filter, mail_attribute, ca_file, timeout }) => {
            let settings = softtoken_provider::directory::DirectorySettings {
                url: url.clone(),
                start_tls: *start_tls,
                bind_dn: bind_dn.clone(),
                bind_password_file: std::path::absolute(password_file).unwrap_or_else(|_| password_file.clone()),
                base_dn: base_dn.clone(),
                filter: filter.clone(),
                mail_attribute: mail_attribute.clone(),
                ca_file: ca_file.as_ref().map(|c| std::path::absolute(c).unwrap_or_else(|_| c.clone())),
                timeout_s: *timeout,
            };
            p.set_directory(&settings)?;
            emit(
                cli.json,
                json!({"url": url, "bind_dn": bind_dn, "base_dn": base_dn, "filter": filter, "set": true}),
                format!("directory {url} set (the service account binds)\n"),
            )
        }
        Command::Directory(DirectoryCommand::Show) => match p.directory()? {
            None => emit(cli.json, json!({"directory": null}), "no directory: users are the portal's own\n".into()),
            Some(s) => emit(
                cli.json,
                json!({"directory": {"url": s.url, "start_tls": s.start_tls, "bind_dn": s.bind_dn, "base_dn": s.base_dn, "filter": s.filter, "mail_attribute": s.mail_attribute, "timeout_s": s.timeout_s}}),
                format!(
                    "url:       {}\nStartTLS:  {}\nbind DN:   {}\nbase DN:   {}\nfilter:    {}\nmail:      {}\n",
                    s.url, s.start_tls, s.bind_dn, s.base_dn, s.filter, s.mail_attribute
                ),
            ),
        },
        Command::Directory(DirectoryCommand::Lookup { name }) => {
            let found = p.directory_user(name)?;
            let text = match &found {
                Some(u) => format!("{name}: {} <{}>\n", u.dn, u.email.as_deref().unwrap_or("no e-mail")),
                None => format!("{name}: not in the directory\n"),
            };
            emit(
                cli.json,
                json!({"name": name, "found": found.is_some(), "dn": found.as_ref().map(|u| &u.dn), "email": found.as_ref().and_then(|u| u.email.as_ref())}),
                text,
            )
        }
        Command::Directory(DirectoryCommand::Clear) => {
            p.clear_directory()?;
            emit(cli.json, json!({"directory": null}), "directory cleared\n".into())
        }
        Command::ApiToken(ApiTokenCommand::Create { label }) => {
            let token = p.create_api_token(label, now())?;
            emit(
                cli.json,
                json!({"token": token.as_str(), "label": label}),
                format!("{}\n(shown once: send it as the Authorization header of /validate/triggerchallenge)\n", token.as_str()),
            )
        }
        Command::Audit { user, limit, jsonl } => {
            let entries = p.audit_log(user.as_deref(), *limit)?;
            let line = |e: &softtoken_provider::validate::audit::Entry| serde_json::to_string(e).map_err(|e| ProviderError::Fault(e.to_string()));
            if *jsonl {
                let text = entries.iter().map(|e| line(e).map(|l| l + "\n")).collect::<Result<String, _>>()?;
                return emit(false, json!({}), text);
            }
            let text: String = entries
                .iter()
                .map(|e| {
                    format!(
                        "{}  {} {} user={} serial={} {} {}\n",
                        date(e.at),
                        e.address,
                        e.endpoint,
                        softtoken_core::text::escape(e.user.as_deref().unwrap_or("-")),
                        e.serial.as_deref().unwrap_or("-"),
                        e.decision,
                        softtoken_core::text::escape(&e.message)
                    )
                })
                .collect();
            emit(cli.json, json!({"entries": entries}), text)
        }
        Command::Organisation { company, registration_url } => {
            let mut s = p.token_settings()?;
            let blank = |v: &String| Some(v.trim().to_string()).filter(|v| !v.is_empty());
            if let Some(c) = company {
                s.company = blank(c);
            }
            if let Some(u) = registration_url {
                s.registration_url = blank(u);
            }
            if company.is_some() || registration_url.is_some() {
                p.set_token_settings(&s)?;
            }
            let registration = s.registration_url.clone().unwrap_or_else(|| DEFAULT_REGISTRATION_URL.into());
            let text = format!("company:              {}\nregistration address: {registration}\n", s.company.as_deref().unwrap_or("(none)"));
            emit(cli.json, json!({"company": s.company, "registration_url": registration}), text)
        }
        Command::ValidateSettings { realm, max_fail, number_matching, challenge_lifetime, push_wait, otppin } => {
            let mut s = p.validate_settings()?;
            let changed =
                realm.is_some() || max_fail.is_some() || number_matching.is_some() || challenge_lifetime.is_some() || push_wait.is_some() || otppin.is_some();
            if let Some(o) = otppin {
                s.otppin = softtoken_provider::validate::settings::OtpPin::parse(o)?;
            }
            if let Some(w) = push_wait {
                s.push_wait_s = *w;
            }
            if let Some(r) = realm {
                s.realm = r.clone();
            }
            if let Some(m) = max_fail {
                s.max_fail = *m;
            }
            if let Some(n) = number_matching {
                s.number_matching = *n;
            }
            if let Some(l) = challenge_lifetime {
                s.challenge_lifetime_s = *l;
            }
            if changed {
                p.set_validate_settings(&s)?;
            }
            let text = format!(
                "realm:              {}\nfail limit:         {}\nnumber matching:    {}\nchallenge lifetime: {} s\npush wait:          {} s\notppin:             {}\n",
                s.realm,
                s.max_fail,
                s.number_matching,
                s.challenge_lifetime_s,
                s.push_wait_s,
                s.otppin.as_str()
            );
            emit(
                cli.json,
                json!({"realm": s.realm, "max_fail": s.max_fail, "number_matching": s.number_matching, "challenge_lifetime_s": s.challenge_lifetime_s, "push_wait_s": s.push_wait_s, "otppin": s.otppin.as_str()}),
                text,
            )
        }
        Command::SetPin { serial } => {
            let pin = match std::env::var("SOFTTOKEN_TOKEN_PIN") {
                Ok(pin) => zeroize::Zeroizing::new(pin),
                Err(_) => rpassword::prompt_password("Token PIN (empty removes it): ")
                    .map(zeroize::Zeroizing::new)
                    .map_err(|e| ProviderError::Invalid(format!("cannot read the PIN: {e} (or set SOFTTOKEN_TOKEN_PIN)")))?,
            };
            p.set_token_pin(serial, &pin)?;
            let set = !pin.is_empty();
            emit(cli.json, json!({"serial": serial, "pin_set": set}), format!("{serial}: PIN {}\n", if set { "set" } else { "removed" }))
        }
        Command::ResetFails { serial } => {
            let before = p.fail_count(serial)?;
            p.reset_fail_count(serial)?;
            emit(cli.json, json!({"serial": serial, "fail_count_was": before, "fail_count": 0}), format!("{serial}: fail counter reset (was {before})\n"))
        }
        Command::CheckConfirmation { id, code } => {
            let state = p.check_confirmation(id, code, now())?;
            emit(cli.json, json!({"state": state.as_str()}), format!("{}\n", state.as_str()))
        }
    }
}

/// Writes the QR code of `uri` as a PNG at `path`, when asked. The QR code is a secret (with its
/// password it activates the token; a standard token's holds its secret): written 0600,
/// atomically, never through a link planted at the path.
fn write_qr(path: Option<&std::path::Path>, uri: &str) -> Result<(), ProviderError> {
    if let Some(path) = path {
        let png = softtoken_core::qr::png(uri, 6)?;
        softtoken_core::vault::write_atomic(path, &png, false).map_err(|e| ProviderError::Invalid(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(())
}

/// The Web Push set-up the flags give.
fn web_push(cli: &Cli, database: &Database, kek: &std::path::Path) -> Result<softtoken_provider::push::webpush::WebPush, ProviderError> {
    let path = cli.vapid_key.clone().unwrap_or_else(|| beside(database, kek, ".vapid.pem"));
    Ok(softtoken_provider::push::webpush::WebPush {
        key: softtoken_provider::push::webpush::VapidKey::load_or_create(&path)?,
        subject: cli.vapid_subject.clone(),
        allow_loopback: cli.web_push_allow_loopback,
    })
}

/// Which APNs environment the iOS app's builds use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ApnsEnvironment {
    /// App Store and TestFlight builds.
    Production,
    /// Development builds.
    Development,
}

/// Every wake-up sender the flags configure: Web Push always (the VAPID key is made on first use),
/// APNs and FCM when their credentials are given.
fn wake_ups(cli: &Cli, database: &Database, kek: &std::path::Path) -> Result<softtoken_provider::push::Senders, ProviderError> {
    use softtoken_provider::push::{apns, fcm};
    let read = |path: &std::path::Path, what: &str| {
        std::fs::read_to_string(path)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| ProviderError::Invalid(format!("cannot read the {what} {}: {e}", path.display())))
    };
    let endpoint = || -> Result<Option<apns::Endpoint>, ProviderError> {
        let (Some(url), Some(ca)) = (&cli.push_service_url, &cli.push_service_ca) else { return Ok(None) };
        let pem = read(ca, "push service CA")?;
        let der = pem_certificate(&pem).ok_or_else(|| ProviderError::Invalid(format!("{} holds no PEM certificate", ca.display())))?;
        Ok(Some(apns::Endpoint { url: url.clone(), roots: vec![der] }))
    };
    let apns = match &cli.apns_key {
        Some(path) => Some(apns::Apns::new(
            &read(path, "APNs key")?,
            cli.apns_key_id.as_deref().unwrap_or_default(),
            cli.apns_team_id.as_deref().unwrap_or_default(),
            cli.apns_topic.as_deref().unwrap_or_default(),
            match cli.apns_environment {
                ApnsEnvironment::Production => apns::Environment::Production,
                ApnsEnvironment::Development => apns::Environment::Development,
            },
            endpoint()?,
        )?),
        None => None,
    };
    let fcm = match &cli.fcm_service_account {
        Some(path) => Some(fcm::Fcm::new(&read(path, "FCM service account")?, endpoint()?)?),
        None => None,
    };
    Ok(softtoken_provider::push::Senders { web_push: Some(web_push(cli, database, kek)?), apns, fcm })
}

/// The first certificate of a PEM file, as DER.
fn pem_certificate(pem: &str) -> Option<rustls::pki_types::CertificateDer<'static>> {
    let body = pem.split_once("-----BEGIN CERTIFICATE-----")?.1.split_once("-----END CERTIFICATE-----")?.0;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok().map(rustls::pki_types::CertificateDer::from)
}

/// A file kept beside the state: the SQLite file's path (or, on PostgreSQL, the key file's) with
/// `suffix` added.
fn beside(database: &Database, kek: &std::path::Path, suffix: &str) -> PathBuf {
    match database {
        Database::Sqlite(path) => softtoken_provider::sealed::with_suffix(path, suffix),
        Database::Postgres(_) => softtoken_provider::sealed::with_suffix(kek, suffix),
    }
}

fn parse_database(text: &str) -> Result<Database, String> {
    Ok(Database::parse(text))
}

fn main() {
    let cli = Cli::try_parse().unwrap_or_else(|e| e.exit());
    if let Err(e) = run(&cli) {
        eprintln!("softtoken-provider: error: {e}");
        std::process::exit(1);
    }
}
