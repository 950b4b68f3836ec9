//! `softtoken demo`: the whole product against the reference provider, no input needed — a QR
//! activation, a manual one, an activation from an e-mailed link, and three push sign-ins answered
//! Confirm, Cancel and Suspicious, with the provider's log.
//!
//! Everything is real: the provider's SQLite state, the encrypted QR URI and its PNG, the vault
//! file sealed by a file device key, Argon2id for the PIN, the protocol's requests and replies
//! (`docs/protocol.md`). The provider answers in process (its `api::route`, the function its HTTP
//! server runs for every request), so the demo opens no socket. It all lives in a temporary
//! directory that is removed at the end.

use crate::key_stores::{FileKeyStore, SoftwareStore};
use crate::output::{emit, shown, CmdResult, Failure};
use serde_json::json;
use softtoken_app::{Authenticator, HttpRequest, HttpResponse, Response, TransactionTransport};
use softtoken_core::clock::{Clock, SystemClock};
use softtoken_core::entrust::Policy;
use softtoken_core::vault::VaultOptions;
use softtoken_provider::protocol::transactions::PushOptions;
use softtoken_provider::{IssueOptions, Provider};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

/// The address the demo's provider is given; requests to it are answered in process.
const DEMO_BASE: &str = "http://127.0.0.1:8443";

/// The provider's protocol answered in process: each request goes through `api::route`, exactly
/// the function `softtoken-provider serve` runs for it.
struct InProcess(Mutex<Provider>);

impl TransactionTransport for InProcess {
    fn send(&self, r: &HttpRequest) -> Result<HttpResponse, String> {
        let path = r.url.strip_prefix(DEMO_BASE).ok_or("the demo's provider has another address")?;
        let authorization = r.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).map(|(_, v)| v.as_str());
        let request = softtoken_provider::protocol::Request { method: r.method.as_str(), url: path, authorization, body: r.body.as_deref().unwrap_or("") };
        let now = SystemClock.unix_time();
        let (status, mut body) = softtoken_provider::protocol::route(&self.0.lock().unwrap_or_else(|e| e.into_inner()), &request, now);
        body["server_time"] = now.into();
        Ok(HttpResponse { status, body: body.to_string() })
    }
}

/// The demo's provider in process, every other address over HTTP (a privacyIDEA server).
struct Routed {
    demo: Arc<InProcess>,
    http: softtoken_net::http::HttpTransport,
}

impl TransactionTransport for Routed {
    fn send(&self, r: &HttpRequest) -> Result<HttpResponse, String> {
        if r.url.starts_with(DEMO_BASE) {
            self.demo.send(r)
        } else {
            self.http.send(r)
        }
    }
}

const DEMO_PIN: &str = "2468";

/// What the demo prints (and keeps, for the JSON summary's sake).
pub(crate) struct Out {
    json: bool,
    text: String,
}

impl Out {
    /// Prints a line (unless the output is JSON).
    pub(crate) fn say(&mut self, line: impl AsRef<str>) {
        if !self.json {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{}", line.as_ref());
            let _ = o.flush();
        }
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }
}

fn fail(what: &str) -> impl Fn(softtoken_provider::ProviderError) -> Failure + '_ {
    move |e| Failure::new(format!("demo: {what}: {e}"))
}

/// Shows a code with its countdown: animated for a few seconds on a terminal, once otherwise.
fn show_code(out: &mut Out, app: &Authenticator, name: &str) -> Result<String, Failure> {
    let animate = !out.json && std::io::stdout().is_terminal();
    let mut shown = app.code(name)?;
    if animate {
        for _ in 0..4 {
            shown = app.code(name)?;
            print!("\r   code: {}   (changes in {:>2} s) ", shown.code, shown.remaining_s.unwrap_or(0));
            let _ = std::io::stdout().flush();
            std::thread::sleep(std::time::Duration::from_millis(1000));
        }
        println!();
        shown = app.code(name)?;
    }
    out.say(format!("   code: {}   (changes in {} s)", shown.code, shown.remaining_s.unwrap_or(0)));
    Ok(shown.code)
}

/// Arguments of `demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Also show a privacyIDEA push sign-in against this server (its administrator's password in
    /// $SOFTTOKEN_PRIVACYIDEA_ADMIN_PASSWORD; poll-only push policies as in docs/privacyidea.md).
    #[arg(long, value_name = "URL")]
    privacyidea: Option<String>,
    /// The privacyIDEA user (in the server's default realm) the demo enrolls a token for.
    #[arg(long, value_name = "NAME", default_value = "alice")]
    privacyidea_user: String,
}

/// Runs `demo`.
pub fn run(json: bool, args: &DemoArgs) -> CmdResult {
    let dir = tempfile::Builder::new().prefix("softtoken-demo-").tempdir().map_err(|e| Failure::new(format!("demo: temporary directory: {e}")))?;
    let mut out = Out { json, text: String::new() };
    let provider = Provider::open(&dir.path().join("provider.db")).map_err(fail("provider state"))?;
    out.say(format!("softtoken demo: a whole activation against the reference provider (in {})\n", dir.path().display()));

    // QR path.
    out.say("1. The company's portal issues a soft token (reference provider).");
    let issued = provider.issue(&IssueOptions::default(), SystemClock.unix_time()).map_err(fail("issue"))?;
    let png_path = dir.path().join("activation.png");
    std::fs::write(&png_path, softtoken_core::qr::png(&issued.uri, 6)?).map_err(|e| Failure::new(format!("demo: write PNG: {e}")))?;
    if !json {
        println!("{}", softtoken_core::qr::terminal(&issued.uri)?);
    }
    out.say(format!("   QR code saved as {} — password {} — valid for 5 minutes", png_path.display(), issued.password));

    out.say("2. The app scans the QR image and decrypts it with the password.");
    let scanned = crate::commands::scan::uri_from_image(&png_path)?;
    if scanned != issued.uri {
        return Err(Failure::new("demo: the scanned QR code does not hold the issued URI"));
    }
    out.say(format!("   scanned {} ({} characters)", png_path.display(), scanned.len()));
    let store = Arc::new(SoftwareStore(FileKeyStore::new(&dir.path().join("keys"), true)?));
    let app = Authenticator::new(dir.path().join("vault.stv"), store, Arc::new(SystemClock));
    let pending = app.begin_qr_activation(&scanned, &issued.password, None)?;
    let policy = Policy::parse(pending.policy.as_deref())?;
    out.say(format!(
        "   provider: {}   serial number: {}   policy: {}",
        shown(pending.provider.as_deref().unwrap_or("(unknown)")),
        pending.serial,
        shown(&policy.describe())
    ));

    out.say(format!("3. The app creates a PIN-protected vault (PIN {DEMO_PIN}) and stores the token."));
    app.create(Some(DEMO_PIN), VaultOptions::default())?;
    let rc = pending.registration_code.to_string();
    let name = app.commit_activation(pending, Some("Demo bank"), None)?.name;
    out.say(format!("   Registration code: {rc}   <- the user types this into the portal"));

    out.say("4. The portal completes the activation with the registration code.");
    provider.complete(&issued.serial, &rc, SystemClock.unix_time()).map_err(fail("complete"))?;
    app.lock();
    app.unlock(Some(DEMO_PIN))?;
    out.say("5. The app (unlocked with the PIN) shows the current code.");
    let code = show_code(&mut out, &app, &name)?;
    let v = provider.verify(&issued.serial, &code, SystemClock.unix_time(), 1).map_err(fail("verify"))?;
    if !v.valid {
        return Err(Failure::new("demo: the provider rejected the app's code"));
    }
    out.say(format!("6. The portal verifies the code: valid (clock drift {} steps).\n", v.drift_steps.unwrap_or(0)));

    // Manual path.
    out.say("7. The portal issues a token for manual activation (8 digits, no policy).");
    let manual = provider
        .issue(&IssueOptions { digits: 8, policy: None, registration_url: None, ..Default::default() }, SystemClock.unix_time())
        .map_err(fail("issue"))?;
    out.say(format!("   serial number: {}   activation code: {}", manual.serial, manual.activation_code));
    out.say("8. The user types both into the app, which shows a registration code.");
    let pending = app.begin_manual_activation(&manual.serial, &manual.activation_code, Some(8))?;
    let manual_rc = pending.registration_code.to_string();
    let manual_name = app.commit_activation(pending, Some("Demo manual"), Some("Demo bank"))?.name;
    out.say(format!("   Registration code: {manual_rc}"));
    out.say("9. The portal completes it; the app shows an 8-digit code; the portal verifies it.");
    provider.complete(&manual.serial, &manual_rc, SystemClock.unix_time()).map_err(fail("complete"))?;
    let manual_code = show_code(&mut out, &app, &manual_name)?;
    let mv = provider.verify(&manual.serial, &manual_code, SystemClock.unix_time(), 1).map_err(fail("verify"))?;
    if !mv.valid {
        return Err(Failure::new("demo: the provider rejected the manual token's code"));
    }
    out.say("   valid.\n");

    // Online path: an e-mailed link, then push sign-ins.
    out.say("10. The portal e-mails an activation link (online activation; no typing).");
    let online = provider
        .issue(&IssueOptions { online_base_url: Some(DEMO_BASE.into()), ..Default::default() }, SystemClock.unix_time())
        .map_err(fail("issue --online"))?;
    let link = online.link.clone().ok_or_else(|| Failure::new("demo: the provider made no link"))?;
    out.say(format!("   {}…   (a bearer secret: it works once)", &link[..link.len().min(60)]));
    let transport = Arc::new(InProcess(Mutex::new(Provider::open(&dir.path().join("provider.db")).map_err(fail("provider state"))?)));
    app.set_transport(transport.clone());
    let activated = app.activate_link(&link, None, Some("Demo online"))?;
    out.say(format!(
        "11. The app opened the link, derived the seed and sent registration code {} itself: serial {} is active.",
        activated.registration_code, online.serial
    ));
    let mut answers = serde_json::Map::new();
    let asks = [
        ("confirm", Response::Confirm, "Sign in to Demo bank from Firefox", false),
        ("cancel", Response::Cancel, "Sign in to Demo bank from Safari", false),
        ("suspicious", Response::Suspicious, "Sign in to Demo bank from an unknown device", true),
    ];
    for (n, (word, response, summary, number_match)) in asks.into_iter().enumerate() {
        let opts = PushOptions { summary: summary.into(), details: vec![("IP".into(), "192.0.2.7".into())], lifetime_s: 120, number_match, offline: false };
        let pushed = provider.push(&online.serial, &opts, SystemClock.unix_time()).map_err(fail("push"))?;
        let fetched = app.pending_transactions()?;
        let tx = fetched
            .transactions
            .iter()
            .find(|p| p.transaction.id == pushed.transaction_id)
            .ok_or_else(|| Failure::new("demo: the pushed transaction is not in the app's pending list"))?;
        out.say(format!(
            "{}. Push: \"{}\"{} → the user answers {word}.",
            12 + n,
            shown(&tx.transaction.summary),
            if number_match { " (number matching: the website shows a number the user never sees)" } else { "" }
        ));
        let number = if response == Response::Confirm { pushed.number.map(|n| format!("{n:02}")) } else { None };
        let identity = tx.identity_id.clone();
        let state = app.respond(Some(&identity), &pushed.transaction_id, response, number.as_deref())?.state;
        out.say(format!("    state at the provider: {state}"));
        answers.insert(word.into(), json!({"transaction_id": pushed.transaction_id, "state": state}));
    }
    let log = provider.log().map_err(fail("log"))?;
    out.say("15. The provider's log (every answer: Confirm, Cancel and Suspicious):");
    for e in &log {
        out.say(format!("    {}  {}  {}", e.transaction_id, e.serial, e.response));
    }
    answers.insert(
        "log".into(),
        json!(log.iter().map(|e| json!({"transaction_id": e.transaction_id, "serial": e.serial, "response": e.response, "at": e.at})).collect::<Vec<_>>()),
    );
    // Moving in from another app: an encrypted Aegis export, made here the way Aegis writes one.
    out.say("16. The user brings tokens from Aegis: an encrypted export (a TOTP and a Steam Guard token), read with its password.");
    let rng = ring::rand::SystemRandom::new();
    let now = SystemClock.unix_time();
    let theirs: Vec<_> =
        ["otpauth://totp/Forum:demo?secret=JBSWY3DPEHPK3PXP&issuer=Forum", "otpauth://totp/Steam:demo?secret=GEZDGNBVGY3TQOJQ&issuer=Steam&encoder=steam"]
            .iter()
            .map(|u| softtoken_core::uri::OtpAuth::parse(u).and_then(|t| softtoken_core::activation::otpauth_identity(&t, None, now, &rng)))
            .collect::<Result<_, _>>()?;
    let export = softtoken_core::import::aegis::export(&theirs, Some("aegis demo password"), &rng)?;
    let report = app.import_file(export.as_bytes(), None, Some("aegis demo password"))?;
    let steam = show_code(&mut out, &app, "Steam: demo")?;
    out.say(format!("    imported {}; the Steam Guard code is {steam}", softtoken_core::error::plural(report.imported.len(), "token", "tokens")));
    let privacyidea = match &args.privacyidea {
        Some(url) => {
            app.set_transport(Arc::new(Routed { demo: transport.clone(), http: softtoken_net::http::HttpTransport::new() }));
            Some(super::demo_privacyidea::run(&mut out, &app, 17, url, &args.privacyidea_user)?)
        }
        None => {
            super::demo_privacyidea::how_to_run_one(&mut out, 17);
            None
        }
    };
    let identities = app.identities()?.len();
    out.say(format!("\nDone: {identities} identities in a PIN vault, the Entrust ones verified by the provider; three push answers; an Aegis import. Temporary files removed."));
    let value = json!({
        "qr": {"serial": &issued.serial, "registration_code": rc, "code": code, "valid": v.valid, "drift_steps": v.drift_steps},
        "manual": {"serial": manual.serial, "registration_code": manual_rc, "code": manual_code, "valid": mv.valid},
        "online": {"serial": online.serial, "registration_code": activated.registration_code, "completed": true},
        "push": answers,
        "import": {"format": "aegis", "imported": report.imported.len(), "steam_code": steam},
        "identities": identities,
        "privacyidea": privacyidea,
    });
    if json {
        emit(true, &value, "")?;
    }
    Ok(())
}
