//! Everyday use of the `softtoken` binary, as a person types it: finding identities by part of a
//! name, the list's columns, empty vaults, JSON errors, removal needing a confirmation, watching
//! codes, and copying one to a real X11 clipboard (Xvfb and xclip, when this machine has them).

use serde_json::Value;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let e = Env { dir: tempfile::tempdir().unwrap() };
        let o = e.run(&["init", "--no-pin", "--key-store", "file", "--kdf-memory-mib", "19", "--kdf-passes", "2", "--kdf-lanes", "1"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        e
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_softtoken"));
        c.args(args)
            .env("SOFTTOKEN_VAULT", self.dir.path().join("v.stv"))
            .env("SOFTTOKEN_KEY_DIR", self.dir.path().join("keys"))
            .env_remove("SOFTTOKEN_PIN")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null());
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    fn json(&self, args: &[&str]) -> Value {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }
    fn add(&self, uri: &str) {
        let o = self.run(&["add", "--uri", uri]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn with_three() -> Env {
    let e = Env::new();
    e.add("otpauth://totp/GitHub:me?secret=JBSWY3DPEHPK3PXP&issuer=GitHub");
    e.add("otpauth://totp/GitLab:me?secret=GEZDGNBVGY3TQOJQ&issuer=GitLab");
    e.add("otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBV&issuer=Example&digits=8");
    e
}

#[test]
fn identities_are_found_the_way_people_type_them_and_ambiguity_lists_the_choices() {
    let e = with_three();
    let name = |key: &str| e.json(&["code", key, "--json"])["codes"][0]["name"].as_str().unwrap().to_string();
    assert_eq!(name("github"), "GitHub: me", "case-insensitive part of the name");
    assert_eq!(name("gitlab"), "GitLab: me");
    assert_eq!(name("EXAMPLE"), "Example: alice", "the issuer");
    assert_eq!(name("exmpl"), "Example: alice", "letters in order");
    let o = e.run(&["code", "git"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.starts_with("softtoken: error: \"git\" matches 2 identities: GitHub: me (GitHub) ["), "{err}");
    assert!(err.contains("GitLab: me (GitLab) [") && err.contains("type more of the name, or the id"), "{err}");
    assert!(stderr(&e.run(&["code", "nothing"])).contains("no identity named \"nothing\""));
}

#[test]
fn list_has_a_header_and_aligned_columns_of_fixed_meaning() {
    let e = with_three();
    let o = e.run(&["list"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("NAME") && lines[0].contains("ISSUER") && lines[0].contains("DIGITS") && lines[0].ends_with("ID"), "{text}");
    // Every column starts at the same place on every line.
    let at = |line: &str, word: &str| line.find(word).unwrap();
    let issuer_at = at(lines[0], "ISSUER");
    assert_eq!(at(lines[1], "GitHub\u{20}\u{20}"), issuer_at, "{text}");
    assert_eq!(at(lines[3], "Example\u{20}"), issuer_at, "{text}");
    assert!(lines[3].contains(" 8 "), "{text}");
}

#[test]
fn an_empty_vault_says_so_and_json_errors_are_json_with_the_same_exit_codes() {
    let e = Env::new();
    let o = e.run(&["code"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the vault holds no identity yet"), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&e.run(&["list"]).stdout).contains("no identity yet"));
    let o = e.run(&["code", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "error");
    assert!(v["error"]["message"].as_str().unwrap().contains("no identity yet"));
    // clap's usage errors: the same prefix as every other error, JSON with --json, exit 2.
    let o = e.run(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("softtoken: error: unrecognized subcommand 'no-such-command'"), "{}", stderr(&o));
    let o = e.run(&["--json", "code", "--at", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "usage");
}

#[test]
fn remove_needs_a_confirmation_and_names_what_it_found() {
    let e = with_three();
    let o = e.run(&["remove", "hub"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("removing \"GitHub: me\" cannot be undone: add --yes to confirm"), "{}", stderr(&o));
    assert_eq!(e.json(&["list", "--json"])["identities"].as_array().unwrap().len(), 3, "nothing removed");
    let gone = e.json(&["remove", "hub", "--yes", "--json"]);
    assert_eq!(gone["name"], "GitHub: me");
    assert_eq!(e.json(&["list", "--json"])["identities"].as_array().unwrap().len(), 2);
}

#[test]
fn code_watch_prints_a_block_per_period_until_stopped() {
    let e = Env::new();
    e.add("otpauth://totp/Fast:x?secret=JBSWY3DPEHPK3PXP&issuer=Fast&period=2");
    let mut child = e.cmd(&["code", "--watch"]).stdout(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(4500));
    child.kill().unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.wait().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    // Not a terminal: a new line each time the code changes (every 2 s), with its countdown.
    assert!((2..=4).contains(&lines.len()), "{out}");
    assert!(lines.iter().all(|l| l.contains("Fast: x") && l.ends_with(" s") && l.contains('[')), "{out}");
    let o = e.run(&["code", "--watch", "--json"]);
    assert_eq!(o.status.code(), Some(2));
}

/// An X server of its own (Xvfb) when this machine has Xvfb and xclip; CI installs both.
struct Display {
    server: std::process::Child,
    name: String,
}

impl Display {
    fn start() -> Option<Display> {
        let have = |p: &str| std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()));
        if !have("Xvfb") || !have("xclip") {
            return None;
        }
        let number = 90 + std::process::id() % 500;
        let name = format!(":{number}");
        let server = Command::new("Xvfb").args([name.as_str(), "-nolisten", "tcp"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?;
        let display = Display { server, name };
        // Ready once its socket exists (a busy machine may take seconds).
        let socket = std::path::PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        for _ in 0..100 {
            if socket.exists() {
                std::thread::sleep(Duration::from_millis(100));
                return Some(display);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Xvfb {} did not start within 10 s", display.name);
    }
    fn clipboard(&self) -> String {
        let o = Command::new("xclip").args(["-selection", "clipboard", "-out"]).env("DISPLAY", &self.name).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

#[test]
fn code_copy_puts_the_code_on_the_clipboard_and_clears_it_after_the_delay() {
    let e = with_three();
    // No desktop: a clear error, no code lost (the message says how to see it).
    let o = e.run(&["code", "github", "--copy"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no desktop clipboard"), "{}", stderr(&o));
    assert!(stderr(&e.run(&["code", "--copy"])).contains("--copy copies one code"));
    let Some(display) = Display::start() else {
        println!("clipboard: skipped (no Xvfb or xclip on this machine)");
        return;
    };
    let o = e.cmd(&["code", "github", "--copy", "--json"]).env("DISPLAY", &display.name).env("SOFTTOKEN_CLIPBOARD_CLEAR_S", "2").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let code = v["codes"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(v["copied"], true);
    assert_eq!(display.clipboard(), code);
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(display.clipboard(), "", "cleared after the delay");
    // Something else copied meanwhile is left alone.
    let o = e.cmd(&["code", "gitlab", "--copy"]).env("DISPLAY", &display.name).env("SOFTTOKEN_CLIPBOARD_CLEAR_S", "2").output().unwrap();
    assert!(o.status.success());
    let mut other = Command::new("xclip")
        .args(["-selection", "clipboard", "-in"])
        .env("DISPLAY", &display.name)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(other.stdin.as_mut().unwrap(), b"my own text").unwrap();
    drop(other.stdin.take());
    other.wait().unwrap();
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(display.clipboard(), "my own text");
}

#[test]
fn unlock_keeps_the_vault_open_for_code_and_list_until_lock_and_a_pin_change_elsewhere_ends_it() {
    let e = Env { dir: tempfile::tempdir().unwrap() };
    let run = e.dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let with = |args: &[&str], pin: Option<&str>| {
        let mut c = e.cmd(args);
        c.env("XDG_RUNTIME_DIR", &run);
        if let Some(p) = pin {
            c.env("SOFTTOKEN_PIN", p).env("SOFTTOKEN_NEW_PIN", p);
        }
        c.output().unwrap()
    };
    assert!(with(&["init", "--key-store", "file", "--kdf-memory-mib", "19", "--kdf-passes", "2", "--kdf-lanes", "1"], Some("2468")).status.success());
    assert!(with(&["add", "--uri", "otpauth://totp/GitHub:me?secret=JBSWY3DPEHPK3PXP&issuer=GitHub"], Some("2468")).status.success());
    // Without the agent, no PIN: refused.
    assert_eq!(with(&["code"], None).status.code(), Some(1));
    // A wrong PIN starts nothing (and counts as a wrong PIN).
    let o = with(&["unlock"], Some("0000"));
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(with(&["code"], None).status.code(), Some(1));
    let o = with(&["unlock", "--minutes", "5", "--json"], Some("2468"));
    assert!(o.status.success(), "{}", stderr(&o));
    let socket: Value = serde_json::from_slice(&o.stdout).unwrap();
    let socket = std::path::PathBuf::from(socket["socket"].as_str().unwrap());
    assert!(socket.starts_with(run.join("softtoken")));
    let mode = std::fs::metadata(&socket).unwrap().permissions();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);
    // Codes and the list with no PIN; what another process adds is seen.
    let o = with(&["code", "--json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap()["codes"][0]["name"], "GitHub: me");
    assert!(with(&["add", "--uri", "otpauth://totp/Mail:me?secret=GEZDGNBVGY3TQOJQ&issuer=Mail"], Some("2468")).status.success());
    let listed: Value = serde_json::from_slice(&with(&["list", "--json"], None).stdout).unwrap();
    assert_eq!(listed["identities"].as_array().unwrap().len(), 2);
    // Changing the vault still needs the PIN.
    assert_eq!(with(&["rename", "mail", "Post"], None).status.code(), Some(1));
    // A PIN changed elsewhere ends the agent: the old unlock is stale.
    let mut change = e.cmd(&["change-pin", "--pin-stdin"]);
    change.env("XDG_RUNTIME_DIR", &run).env("SOFTTOKEN_NEW_PIN", "1357").stdin(Stdio::piped()).stdout(Stdio::null());
    let mut child = change.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"2468\n").unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(with(&["code"], None).status.code(), Some(1), "the agent answered after the PIN changed");
    // Unlock again, then lock: the agent ends and its socket goes.
    assert!(with(&["unlock"], Some("1357")).status.success());
    assert!(with(&["code"], None).status.success());
    let o = with(&["lock", "--json"], None);
    assert_eq!(serde_json::from_slice::<Value>(&o.stdout).unwrap()["agent_was_running"], true);
    std::thread::sleep(Duration::from_millis(400));
    assert!(!socket.exists(), "the socket is removed");
    assert_eq!(with(&["code"], None).status.code(), Some(1));
}
