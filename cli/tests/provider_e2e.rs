//! End to end: the `softtoken-provider` and `softtoken` binaries together, as a company portal and
//! a user would use them: both activation paths, expiry, wrong password, bad check digits, and
//! codes verified by the provider at fixed times with 6 and 8 digits.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The provider binary. `cargo test --workspace` builds it beside `softtoken`; only when this
/// package's tests run alone and it is missing is it built here (a `-p` build has another feature
/// set and would otherwise rebuild the core under the running tests).
fn provider_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_BIN_EXE_softtoken")).parent().unwrap().to_path_buf();
        let bin = dir.join("softtoken-provider");
        if bin.exists() {
            return bin;
        }
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "softtoken-provider", "--bin", "softtoken-provider"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success() && bin.exists(), "cannot build softtoken-provider");
        bin
    })
}

struct World {
    dir: tempfile::TempDir,
}

fn check(o: &Output, what: &str) -> Value {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

impl World {
    fn new() -> Self {
        let w = World { dir: tempfile::tempdir().unwrap() };
        let o = w.app(
            &["init", "--key-store", "file", "--kdf-memory-mib", "19", "--kdf-passes", "2", "--kdf-lanes", "1", "--json"],
            &[("SOFTTOKEN_NEW_PIN", "1357")],
        );
        check(&o, "init");
        w
    }
    fn provider(&self, args: &[&str]) -> Output {
        Command::new(provider_bin()).arg("--state").arg(self.dir.path().join("p.db")).args(args).stdin(Stdio::null()).output().unwrap()
    }
    fn app(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_softtoken"));
        c.args(args)
            .env("SOFTTOKEN_VAULT", self.dir.path().join("v.stv"))
            .env("SOFTTOKEN_KEY_DIR", self.dir.path().join("keys"))
            .env("SOFTTOKEN_PIN", "1357")
            .env_remove("SOFTTOKEN_ACTIVATION_PASSWORD")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
    fn issue(&self, extra: &[&str]) -> Value {
        let mut args = vec!["issue", "--json"];
        args.extend_from_slice(extra);
        check(&self.provider(&args), "issue")
    }
    /// Completes at the provider and checks codes at fixed times against it.
    fn complete_and_verify(&self, serial: &str, rc: &str, name: &str, digits: usize) {
        check(&self.provider(&["complete", "--serial", serial, "--registration-code", rc, "--json"]), "complete");
        for t in ["1700000000", "1800000015", "2000000000"] {
            let c = check(&self.app(&["code", name, "--at", t, "--json"], &[]), "code");
            let code = c["codes"][0]["code"].as_str().unwrap();
            assert_eq!(code.len(), digits);
            let v = check(&self.provider(&["verify", "--serial", serial, "--otp", code, "--at", t, "--json"]), "verify");
            assert_eq!(v, serde_json::json!({"valid": true, "drift_steps": 0}), "at {t}");
            // A code from 3 steps later is outside the default window and reported invalid (exit 0).
            let later = (t.parse::<u64>().unwrap() + 90).to_string();
            let c2 = check(&self.app(&["code", name, "--at", &later, "--json"], &[]), "code");
            let v2 = check(&self.provider(&["verify", "--serial", serial, "--otp", c2["codes"][0]["code"].as_str().unwrap(), "--at", t, "--json"]), "verify");
            assert_eq!(v2["valid"], false);
        }
    }
}

#[cfg(unix)]
#[test]
fn the_qr_png_is_private_and_no_link_planted_at_its_path_is_followed() {
    // The attack (issue 28, finding 13): `issue --qr-png` wrote 0644 and followed symlinks, so
    // anyone on the machine could read the QR code, and a link planted at the path made the
    // provider overwrite another file.
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let png = w.dir.path().join("qr.png");
    w.issue(&["--qr-png", png.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&png).unwrap().permissions().mode() & 0o777, 0o600);
    let victim = w.dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let planted = w.dir.path().join("planted.png");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    w.issue(&["--qr-png", planted.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me", "the link's target was not written");
    let meta = std::fs::symlink_metadata(&planted).unwrap();
    assert!(meta.file_type().is_file() && meta.permissions().mode() & 0o777 == 0o600);
    assert!(std::fs::read(&planted).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn qr_activation_six_digits() {
    let w = World::new();
    let png = w.dir.path().join("qr.png");
    let issued = w.issue(&["--qr-png", png.to_str().unwrap()]);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let (uri, password, serial) = (issued["uri"].as_str().unwrap(), issued["password"].as_str().unwrap(), issued["serial"].as_str().unwrap());
    let decoded = check(&w.app(&["decode", uri, "--password", password, "--json"], &[]), "decode");
    assert_eq!(decoded["serial"], serial);
    assert_eq!(decoded["activation_code"], issued["activation_code"]);
    assert_eq!(decoded["registration_url"], "provider.softtoken.invalid/activate");
    // The image path: `decode` reads a QR image given as its argument, `add` one given as --qr.
    let from_image = check(&w.app(&["decode", png.to_str().unwrap(), "--password", password, "--json"], &[]), "decode image");
    assert_eq!(from_image, decoded);
    let scanned = w.app(&["scan", "--json", png.to_str().unwrap()], &[]);
    assert_eq!(scanned.status.code(), Some(0));
    let line: Value = serde_json::from_slice(&scanned.stdout).unwrap();
    assert_eq!(line["codes"], serde_json::json!([{"text": uri}]));
    let added = check(&w.app(&["add", "--qr", png.to_str().unwrap(), "--password", password, "--name", "bank", "--json"], &[]), "add");
    w.complete_and_verify(serial, added["registration_code"].as_str().unwrap(), "bank", 6);
}

#[test]
fn qr_activation_eight_digits_from_payload() {
    let w = World::new();
    let issued = w.issue(&["--digits", "8", "--policy", r#"{"pinRequired":"true","allowUnsecured":"false"}"#]);
    let added = check(
        &w.app(&["add", "--uri", issued["uri"].as_str().unwrap(), "--password", issued["password"].as_str().unwrap(), "--name", "eight", "--json"], &[]),
        "add",
    );
    let list = check(&w.app(&["list", "--json"], &[]), "list");
    assert_eq!(list["identities"][0]["digits"], 8, "digits come from the payload's extension");
    w.complete_and_verify(issued["serial"].as_str().unwrap(), added["registration_code"].as_str().unwrap(), "eight", 8);
}

#[test]
fn manual_activation() {
    let w = World::new();
    let issued = w.issue(&["--no-policy", "--digits", "8"]);
    let serial = issued["serial"].as_str().unwrap();
    let added = check(
        &w.app(
            &["add", "--serial", serial, "--activation-code", issued["activation_code"].as_str().unwrap(), "--digits", "8", "--name", "typed", "--json"],
            &[],
        ),
        "add",
    );
    w.complete_and_verify(serial, added["registration_code"].as_str().unwrap(), "typed", 8);
}

#[test]
fn expiry_wrong_password_bad_check_digits() {
    let w = World::new();
    let issued = w.issue(&["--lifetime", "0"]);
    let (uri, password, serial) = (issued["uri"].as_str().unwrap(), issued["password"].as_str().unwrap(), issued["serial"].as_str().unwrap());
    let wrong = if password.starts_with('1') { "2" } else { "1" }.to_string() + &password[1..];
    let o = w.app(&["add", "--uri", uri, "--password", &wrong], &[]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong activation password"));
    let added = check(&w.app(&["add", "--uri", uri, "--password", password, "--json"], &[]), "add");
    let rc = added["registration_code"].as_str().unwrap();
    let o = w.provider(&["complete", "--serial", serial, "--registration-code", rc]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim(), "softtoken-provider: error: activation expired");
    // A mistyped registration code: the check digit catches it and the message names the field.
    let fresh = w.issue(&[]);
    let mut bad: Vec<u8> = rc.as_bytes().to_vec();
    bad[0] = if bad[0] == b'9' { b'8' } else { bad[0] + 1 };
    let o = w.provider(&["complete", "--serial", fresh["serial"].as_str().unwrap(), "--registration-code", std::str::from_utf8(&bad).unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stderr).trim(), "softtoken-provider: error: registration code: check digit does not match");
    // Verify needs a completed, known serial.
    let o = w.provider(&["verify", "--serial", fresh["serial"].as_str().unwrap(), "--otp", "123456"]);
    assert_eq!(o.status.code(), Some(1));
    let o = w.provider(&["verify", "--serial", "48244-13456", "--otp", "123456"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown serial number"));
    let o = w.app(&["add", "--serial", fresh["serial"].as_str().unwrap(), "--activation-code", "1111-1111-1111-1111"], &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("activation code: check digit does not match"));
}

#[test]
fn provider_flags_before_or_after_subcommand() {
    let w = World::new();
    let a = w.provider(&["--json", "issue"]);
    let b = Command::new(provider_bin()).args(["issue", "--json", "--state"]).arg(w.dir.path().join("p.db")).output().unwrap();
    check(&a, "issue");
    check(&b, "issue");
    let o = w.provider(&["issue", "--digits", "7"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn demo_runs_piped_and_shows_the_whole_product() {
    let o = Command::new(env!("CARGO_BIN_EXE_softtoken")).args(["demo", "--json"]).stdin(Stdio::null()).output().unwrap();
    let v = check(&o, "demo");
    assert_eq!((v["qr"]["valid"].as_bool(), v["manual"]["valid"].as_bool(), v["identities"].as_u64()), (Some(true), Some(true), Some(5)));
    assert_eq!(v["online"]["completed"], true);
    assert_eq!(v["import"]["imported"], 2);
    assert_eq!(v["import"]["steam_code"].as_str().map(str::len), Some(5));
    assert_eq!(v["push"]["confirm"]["state"], "approved");
    assert_eq!(v["push"]["cancel"]["state"], "cancelled");
    assert_eq!(v["push"]["suspicious"]["state"], "denied");
    let logged: Vec<(&str, &str)> =
        v["push"]["log"].as_array().unwrap().iter().map(|e| (e["transaction_id"].as_str().unwrap(), e["response"].as_str().unwrap())).collect();
    let id = |w: &str| v["push"][w]["transaction_id"].as_str().unwrap();
    assert_eq!(logged, vec![(id("confirm"), "confirm"), (id("cancel"), "cancel"), (id("suspicious"), "suspicious")], "every answer is logged");
    let text = Command::new(env!("CARGO_BIN_EXE_softtoken")).arg("demo").stdin(Stdio::null()).output().unwrap();
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(text.status.success());
    for step in [
        "1. The company's portal issues",
        "Registration code:",
        "6. The portal verifies the code: valid",
        "9. The portal completes it",
        "11. The app opened the link",
        "state at the provider: denied",
        "16. The user brings tokens from Aegis",
        "Done:",
    ] {
        assert!(out.contains(step), "missing {step:?} in:\n{out}");
    }
}

/// Offline ("classic") transaction confirmation through both binaries: the provider pushes a
/// transaction, the user types its id into the app, and the app's code approves it once.
#[test]
fn offline_transaction_confirmation() {
    let w = World::new();
    let issued = w.issue(&[]);
    let serial = issued["serial"].as_str().unwrap();
    let added = check(
        &w.app(&["add", "--uri", issued["uri"].as_str().unwrap(), "--password", issued["password"].as_str().unwrap(), "--name", "bank", "--json"], &[]),
        "add",
    );
    check(&w.provider(&["complete", "--serial", serial, "--registration-code", added["registration_code"].as_str().unwrap(), "--json"]), "complete");

    let pushed =
        check(&w.provider(&["push", "--serial", serial, "--summary", "Pay 120 EUR to ACME", "--detail", "IBAN=DE00 1234", "--offline", "--json"]), "push");
    let id = pushed["transaction_id"].as_str().unwrap();
    assert_eq!(id.len(), 10);
    assert_eq!(check(&w.provider(&["status", id, "--json"]), "status"), serde_json::json!({"state": "pending"}));
    let typed = format!("{}-{}", &id[..5], &id[5..]);
    let code = check(&w.app(&["confirm-code", &typed, "--json"], &[]), "confirm-code");
    let code = code["code"].as_str().unwrap();
    assert_eq!(code.len(), 8);

    let wrong = if code == "00000000" { "00000001" } else { "00000000" };
    let o = w.provider(&["check-confirmation", "--id", id, "--code", wrong, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not authentic"));
    assert_eq!(check(&w.provider(&["check-confirmation", "--id", id, "--code", code, "--json"]), "check"), serde_json::json!({"state": "approved"}));
    let again = w.provider(&["check-confirmation", "--id", id, "--code", code, "--json"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already answered"), "single use");
    let log = check(&w.provider(&["log", "--json"]), "log");
    assert_eq!(log["events"].as_array().unwrap().len(), 1);
    assert_eq!(log["events"][0]["transaction_id"], id);
    assert_eq!(log["events"][0]["response"], "confirm");
    assert_eq!(log["events"][0]["serial"], serial);
}

/// A running `softtoken-provider serve` on a free loopback port; killed (SIGKILL) when dropped.
struct Served {
    child: std::process::Child,
    base: String,
}

impl Served {
    fn start(w: &World) -> Self {
        Self::start_with(w, &[])
    }

    fn start_with(w: &World, extra: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = Command::new(provider_bin())
            .arg("--state")
            .arg(w.dir.path().join("p.db"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line {line:?}")).to_string();
        Served { child, base }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Online activation by link and push answers through both binaries over real loopback HTTP: no
/// typing, each answer's state and log, number matching, replays, a server killed mid-flow and
/// restarted, and removal unregistering the identity.
#[test]
fn online_activation_and_push_answers_over_loopback() {
    let w = World::new();
    let server = Served::start(&w);
    let issued = check(&w.provider(&["issue", "--online", "--base-url", &server.base, "--json"]), "issue --online");
    let link = issued["link"].as_str().unwrap();
    assert!(link.starts_with("softtoken://activate?base=http%3A%2F%2F127.0.0.1%3A"), "{link}");
    let done = check(&w.app(&["activate-link", link, "--name", "bank", "--push-token", "fcm:cli", "--json"], &[]), "activate-link");
    assert_eq!(done["completed"], true);
    assert_eq!(done["serial"], issued["serial"]);
    let serial = issued["serial"].as_str().unwrap();
    let id = done["id"].as_str().unwrap();
    // The provider completed the activation from the app's post: its code verifies.
    let code = check(&w.app(&["code", "bank", "--json"], &[]), "code");
    let code = code["codes"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(check(&w.provider(&["verify", "--serial", serial, "--otp", &code, "--json"]), "verify")["valid"], true);
    let used = w.app(&["activate-link", link, "--json"], &[]);
    assert_eq!(used.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&used.stderr).contains("not_found"), "single-use link");

    let push = |extra: &[&str]| {
        let mut args = vec!["push", "--serial", serial, "--summary", "Sign in to Example Bank", "--detail", "IP=192.0.2.7", "--json"];
        args.extend_from_slice(extra);
        check(&w.provider(&args), "push")
    };
    let pushed: Vec<Value> = (0..3).map(|_| push(&[])).collect();
    assert_eq!(pushed[0]["push_token"], "fcm:cli");
    let ids: Vec<&str> = pushed.iter().map(|p| p["transaction_id"].as_str().unwrap()).collect();
    let listed = check(&w.app(&["transactions", "--json"], &[]), "transactions");
    let listed_ids: Vec<&str> = listed["transactions"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, ids);
    assert_eq!(listed["transactions"][0]["identity"], "bank");
    assert_eq!(listed["transactions"][0]["details"], serde_json::json!([["IP", "192.0.2.7"]]));

    // The server dies (SIGKILL) with three transactions pending and restarts over the same state
    // on the same port (the app's recorded provider address): nothing is lost.
    let port = server.base.rsplit(':').next().unwrap().to_string();
    drop(server);
    let down = w.app(&["respond", ids[0], "confirm", "--json"], &[]);
    assert_eq!(down.status.code(), Some(1), "no provider: an error, nothing answered");
    let restarted = {
        use std::io::BufRead;
        let mut child = Command::new(provider_bin())
            .arg("--state")
            .arg(w.dir.path().join("p.db"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        Served { child, base: line.trim().trim_start_matches("listening on ").to_string() }
    };
    for (tx, response, state) in [(ids[0], "confirm", "approved"), (ids[1], "cancel", "cancelled"), (ids[2], "suspicious", "denied")] {
        let r = check(&w.app(&["respond", tx, response, "--json"], &[]), "respond");
        assert_eq!(r["state"], state);
        assert_eq!(check(&w.provider(&["status", tx, "--json"]), "status")["state"], state);
    }
    let replay = w.app(&["respond", ids[0], "suspicious", "--json"], &[]);
    assert_eq!(replay.status.code(), Some(1), "the first answer is final");
    let log = check(&w.provider(&["log", "--json"]), "log");
    let logged: Vec<(&str, &str)> =
        log["events"].as_array().unwrap().iter().map(|e| (e["transaction_id"].as_str().unwrap(), e["response"].as_str().unwrap())).collect();
    assert_eq!(logged, vec![(ids[0], "confirm"), (ids[1], "cancel"), (ids[2], "suspicious")], "every answer is logged, Cancel too");

    // Number matching: the number is required and must be right.
    let nm = push(&["--number-match"]);
    let tx = nm["transaction_id"].as_str().unwrap();
    let number = nm["number"].as_u64().unwrap().to_string();
    assert_eq!(w.app(&["respond", tx, "confirm", "--json"], &[]).status.code(), Some(1));
    assert_eq!(check(&w.app(&["respond", tx, "confirm", "--number", &number, "--json"], &[]), "respond")["state"], "approved");

    // Suspicious on a number-matching push needs no number, denies and is logged as Suspicious
    // (the user who did not start the sign-in never sees the number).
    let nm = push(&["--number-match"]);
    let tx = nm["transaction_id"].as_str().unwrap();
    assert_eq!(check(&w.app(&["respond", tx, "suspicious", "--json"], &[]), "respond")["state"], "denied");
    let log = check(&w.provider(&["log", "--json"]), "log");
    assert_eq!(log["events"].as_array().unwrap().last().unwrap()["response"], "suspicious");

    // A website's summary that moves the cursor and rewrites the line the user approves is shown
    // escaped on the terminal (and an offline transaction does not block the list).
    check(&w.provider(&["push", "--serial", serial, "--summary", "Pay 1 EUR", "--offline", "--json"]), "push --offline");
    let evil = "Sign in\u{1b}[2A\u{1b}[2K\rWire 9999 EUR\u{202e}";
    let args = ["push", "--serial", serial, "--summary", evil, "--detail", "Browser=x\u{1b}]0;owned\u{7}", "--json"];
    let forged = check(&w.provider(&args), "push");
    let shown = w.app(&["transactions"], &[]);
    assert_eq!(shown.status.code(), Some(0), "{}", String::from_utf8_lossy(&shown.stderr));
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains(forged["transaction_id"].as_str().unwrap()), "{text}");
    assert!(!text.chars().any(|c| c == '\u{1b}' || c == '\r' || c == '\u{202e}' || c == '\u{7}'), "raw control characters reached the terminal: {text:?}");
    assert!(text.contains("Sign in\\u{1b}[2A"), "{text}");
    let listed = check(&w.app(&["transactions", "--json"], &[]), "transactions");
    assert_eq!(listed["transactions"].as_array().unwrap().len(), 1, "offline transactions are not listed");
    assert_eq!(listed["transactions"][0]["summary"], evil, "JSON keeps the text verbatim (escaped by JSON)");
    check(&w.app(&["respond", forged["transaction_id"].as_str().unwrap(), "cancel", "--json"], &[]), "respond");

    // Removing the identity unregisters it: its pending transaction is cancelled, pushes refused.
    let waiting = push(&[]);
    let removed = check(&w.app(&["remove", id, "--yes", "--json"], &[]), "remove");
    assert_eq!(removed["unregistered"], true);
    assert_eq!(check(&w.provider(&["status", waiting["transaction_id"].as_str().unwrap(), "--json"]), "status")["state"], "cancelled");
    let refused = w.provider(&["push", "--serial", serial, "--summary", "x", "--json"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unregistered"));
    drop(restarted);
}

/// A token activated from the QR code is told the provider's address by `--transaction-url` (the
/// QR payload carries none) and answers that provider's pushes; an address off loopback over plain
/// http is refused before the vault is touched.
#[test]
fn qr_activation_with_transaction_url_answers_pushes() {
    let w = World::new();
    let server = Served::start(&w);
    let issued = w.issue(&[]);
    let (uri, password, serial) = (issued["uri"].as_str().unwrap(), issued["password"].as_str().unwrap(), issued["serial"].as_str().unwrap());
    let refused = w.app(&["add", "--uri", uri, "--password", password, "--transaction-url", "http://provider.example", "--json"], &[]);
    assert!(matches!(refused.status.code(), Some(c) if c != 0 && c != 101), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("provider address"), "{}", String::from_utf8_lossy(&refused.stderr));
    assert_eq!(check(&w.app(&["list", "--json"], &[]), "list")["identities"], serde_json::json!([]), "nothing stored");
    let added = check(
        &w.app(&["add", "--uri", uri, "--password", password, "--name", "bank", "--transaction-url", &format!("{}/", server.base), "--json"], &[]),
        "add",
    );
    let listed = check(&w.app(&["list", "--json"], &[]), "list");
    assert_eq!(listed["identities"][0]["transaction_url"], server.base.as_str(), "stored without the trailing slash");
    assert_eq!(listed["identities"][0]["online"], true);
    check(&w.provider(&["complete", "--serial", serial, "--registration-code", added["registration_code"].as_str().unwrap(), "--json"]), "complete");
    let pushed = check(&w.provider(&["push", "--serial", serial, "--summary", "Sign in", "--json"]), "push");
    let tx = pushed["transaction_id"].as_str().unwrap();
    assert_eq!(check(&w.app(&["respond", tx, "confirm", "--json"], &[]), "respond")["state"], "approved");
    assert_eq!(check(&w.provider(&["status", tx, "--json"]), "status")["state"], "approved");
}

/// HTTPS: the provider serves TLS from a PEM certificate and key, the app trusts that certificate
/// through SOFTTOKEN_CA_CERT, and a client that does not trust it gets a clear error, never data.
#[test]
fn online_activation_over_https() {
    let w = World::new();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let (cert, key) = (w.dir.path().join("cert.pem"), w.dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let server = Served::start_with(&w, &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let issued = check(&w.provider(&["issue", "--online", "--base-url", &server.base, "--json"]), "issue --online");
    let link = issued["link"].as_str().unwrap();

    // Without the certificate among its roots, the app refuses the connection and stores nothing.
    let untrusted = w.app(&["activate-link", link, "--json"], &[]);
    assert_eq!(untrusted.status.code(), Some(1));
    let err = String::from_utf8_lossy(&untrusted.stderr);
    assert!(err.contains("provider unreachable") && err.to_lowercase().contains("certificate"), "{err}");
    assert_eq!(check(&w.app(&["list", "--json"], &[]), "list")["identities"], serde_json::json!([]));

    let ca = [("SOFTTOKEN_CA_CERT", cert.to_str().unwrap())];
    let done = check(&w.app(&["activate-link", link, "--json"], &ca), "activate-link over https");
    assert_eq!(done["serial"], issued["serial"]);
    let serial = issued["serial"].as_str().unwrap();
    let pushed = check(&w.provider(&["push", "--serial", serial, "--summary", "Sign in", "--json"]), "push");
    let tx = pushed["transaction_id"].as_str().unwrap();
    assert_eq!(check(&w.app(&["respond", tx, "confirm", "--json"], &ca), "respond")["state"], "approved");

    // A plain-HTTP provider address other than loopback is refused before any request is made.
    let http = link.replace("https%3A", "http%3A").replace("127.0.0.1", "192.0.2.1");
    let refused = w.app(&["activate-link", &http, "--json"], &ca);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("plain http"), "{}", String::from_utf8_lossy(&refused.stderr));
    drop(server);
}

#[test]
fn a_qr_activation_from_the_provider_carries_its_push_address_company_and_code_length() {
    // Issue 33: push never reached a token activated by QR unless the user knew
    // --transaction-url, every token was named after a placeholder, and 8 digits were not said.
    let w = World::new();
    check(&w.provider(&["organisation", "--company", "Acme Bank", "--registration-url", "portal.acme.test/activate", "--json"]), "organisation");
    let issued = check(&w.provider(&["issue", "--online", "--base-url", "http://127.0.0.1:9", "--digits", "8", "--json"]), "issue");
    let (uri, password) = (issued["uri"].as_str().unwrap(), issued["password"].as_str().unwrap());
    let decoded = check(&w.app(&["decode", uri, "--password", password, "--json"], &[]), "decode");
    assert_eq!(
        (decoded["issuer"].as_str(), decoded["transaction_url"].as_str(), decoded["digits"].as_u64()),
        (Some("Acme Bank"), Some("http://127.0.0.1:9"), Some(8))
    );
    assert_eq!(decoded["registration_url"], "portal.acme.test/activate");
    let o = w.app(&["add", "--uri", uri, "--password", password], &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains("Provider:          Acme Bank")
            && text.contains("Code length:       8 digits\n")
            && text.contains("Push sign-ins:     from http://127.0.0.1:9"),
        "{text}"
    );
    let listed = check(&w.app(&["list", "--json"], &[]), "list");
    let identity = &listed["identities"][0];
    assert_eq!(
        (identity["name"].as_str(), identity["transaction_url"].as_str(), identity["digits"].as_u64()),
        (Some("Acme Bank"), Some("http://127.0.0.1:9"), Some(8))
    );
    assert_eq!(identity["online"], true);
    // Without --online, no address is invented: the app says how to add one later.
    let offline = check(&w.provider(&["issue", "--json"]), "issue offline");
    let o = w.app(&["add", "--uri", offline["uri"].as_str().unwrap(), "--password", offline["password"].as_str().unwrap(), "--name", "offline"], &[]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("Push sign-ins:     none (no provider address; add one later with `softtoken transaction-url NAME URL`)")
    );
    let set = check(&w.app(&["transaction-url", "offline", "http://127.0.0.1:9", "--json"], &[]), "transaction-url");
    assert_eq!(set["transaction_url"], "http://127.0.0.1:9");
    let o = w.app(&["transaction-url", "offline", "http://push.example.com"], &[]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("plain http"), "a remote plain-http address is refused");
}

#[test]
fn a_manual_activation_asks_for_the_code_length_and_a_wrong_guess_is_corrected_without_a_new_registration() {
    let w = World::new();
    let issued = check(&w.provider(&["issue", "--no-policy", "--digits", "8", "--json"]), "issue");
    let (serial, ac) = (issued["serial"].as_str().unwrap(), issued["activation_code"].as_str().unwrap());
    // Not on a terminal and no --digits: refused, with the way out (nothing stored).
    let o = w.app(&["add", "--serial", serial, "--activation-code", ac], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("add --digits 6 or --digits 8"), "{}", String::from_utf8_lossy(&o.stderr));
    // A user who guessed 6: the codes never verify; `digits NAME 8` fixes it, same registration.
    let added = check(&w.app(&["add", "--serial", serial, "--activation-code", ac, "--digits", "6", "--name", "typed", "--json"], &[]), "add");
    check(&w.provider(&["complete", "--serial", serial, "--registration-code", added["registration_code"].as_str().unwrap(), "--json"]), "complete");
    let code = |w: &World| check(&w.app(&["code", "typed", "--json"], &[]), "code")["codes"][0]["code"].as_str().unwrap().to_string();
    let six = code(&w);
    assert_eq!(six.len(), 6);
    let o = w.provider(&["verify", "--serial", serial, "--otp", &six, "--json"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("has 6 digits, expected 8"), "{}", String::from_utf8_lossy(&o.stderr));
    check(&w.app(&["digits", "typed", "8", "--json"], &[]), "digits");
    let eight = code(&w);
    assert_eq!(eight.len(), 8);
    assert_eq!(check(&w.provider(&["verify", "--serial", serial, "--otp", &eight, "--json"]), "verify")["valid"], true);
    let o = w.app(&["add", "--uri", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", "--name", "other"], &[]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&w.app(&["digits", "other", "8"], &[]).stderr).contains("not an Entrust token"));
}

#[test]
fn the_provider_never_makes_a_state_in_the_current_directory_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(provider_bin()).arg("issue").current_dir(dir.path()).env_remove("SOFTTOKEN_PROVIDER_DATABASE").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --state PATH"), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was created");
    let named = dir.path().join("named.db");
    let o = Command::new(provider_bin()).args(["issue", "--json"]).current_dir(dir.path()).env("SOFTTOKEN_PROVIDER_DATABASE", &named).output().unwrap();
    assert!(o.status.success() && named.exists(), "{}", String::from_utf8_lossy(&o.stderr));
}
