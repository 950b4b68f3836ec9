//! `softtoken unlock` / `softtoken lock`: an opt-in agent that keeps the vault unlocked for a
//! while, so `code` and `list` do not cost an Argon2 run each.
//!
//! `unlock` starts a detached `softtoken agent` process of the same user and hands it the PIN over
//! a pipe (never in its arguments or environment). The agent unlocks the vault, listens on a Unix
//! socket in a directory only the user can enter (`$XDG_RUNTIME_DIR/softtoken`, else
//! `/tmp/softtoken-UID`, 0700; the socket 0600) and refuses connections from other users (their
//! uid is checked on every connection). It answers reads only — the time-based codes and the list —
//! after taking what other processes saved since. It ends when its minutes are up (the vault's
//! auto-lock: reads do not extend it), at `softtoken lock`, when the PIN is changed elsewhere, or
//! when its socket is removed. Anything that changes the vault, and HOTP codes, still asks for the PIN.
//!
//! The trade-off: while the agent runs, any program of this user can read codes without the PIN
//! (as on a phone left unlocked). It is off unless the user starts it.

use super::vault::{open, Ctx};
use crate::output::{emit, exit, CmdResult, Failure};
use crate::secrets;
use serde_json::{json, Value};
use softtoken_core::identity::IdentityKind;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The longest an agent keeps a vault unlocked.
pub const MAX_MINUTES: u64 = 8 * 60;
/// The longest request line the agent reads.
const MAX_REQUEST: u64 = 4096;

fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The directory of the user's agent sockets: made 0700, refused when someone else owns it or
/// others may enter it.
fn socket_dir() -> Result<PathBuf, Failure> {
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(runtime) => PathBuf::from(runtime).join("softtoken"),
        None => std::env::temp_dir().join(format!("softtoken-{}", uid())),
    };
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    let meta = std::fs::symlink_metadata(&dir).map_err(|e| Failure::new(format!("{}: {e}", dir.display())))?;
    if !meta.is_dir() || meta.uid() != uid() || meta.mode() & 0o077 != 0 {
        return Err(Failure::new(format!("{} is not a private directory of this user (0700): refusing to use it for the agent", dir.display())));
    }
    Ok(dir)
}

/// The agent's socket for this vault (one agent per vault file).
fn socket_path(ctx: &Ctx) -> Result<PathBuf, Failure> {
    let vault = std::fs::canonicalize(&ctx.path).unwrap_or_else(|_| ctx.path.clone());
    let digest = ring::digest::digest(&ring::digest::SHA256, vault.as_os_str().as_encoded_bytes());
    Ok(socket_dir()?.join(format!("agent-{}.sock", softtoken_core::secret::hex_encode(&digest.as_ref()[..8]))))
}

/// The uid of the process at the other end of `stream`.
fn peer_uid(stream: &UnixStream) -> Option<u32> {
    use std::os::fd::AsRawFd;
    #[cfg(target_os = "linux")]
    {
        let mut cred = libc::ucred { pid: 0, uid: 0, gid: 0 };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: `cred` and `len` are valid for writes of the sizes given; the fd is open.
        let rc = unsafe { libc::getsockopt(stream.as_raw_fd(), libc::SOL_SOCKET, libc::SO_PEERCRED, (&mut cred as *mut libc::ucred).cast(), &mut len) };
        (rc == 0).then_some(cred.uid)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let (mut uid, mut gid) = (0, 0);
        // SAFETY: `uid` and `gid` are valid for writes; the fd is open.
        let rc = unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) };
        (rc == 0).then_some(uid)
    }
}

/// Sends one request to this vault's agent: `None` when no agent runs (or it cannot answer:
/// the caller unlocks the vault itself).
pub fn ask(ctx: &Ctx, request: &Value) -> Option<Value> {
    let path = socket_path(ctx).ok()?;
    let mut stream = UnixStream::connect(&path).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    stream.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    writeln!(stream, "{request}").ok()?;
    let mut line = String::new();
    BufReader::new(stream.take(1 << 20)).read_line(&mut line).ok()?;
    let reply: Value = serde_json::from_str(&line).ok()?;
    // "Do it yourself" (an HOTP token, a locked agent): the caller unlocks as usual.
    (reply.get("fallback").is_none()).then_some(reply)
}

/// A failure the agent sent back, as the CLI reports it.
pub fn failure_in(reply: &Value) -> Option<Failure> {
    let e = reply.get("error")?;
    Some(Failure { code: e["code"].as_i64().unwrap_or(1) as i32, message: e["message"].as_str().unwrap_or("the agent failed").to_string() })
}

/// Runs `unlock`: starts (or restarts) this vault's agent for `minutes`.
pub fn unlock(ctx: &Ctx, minutes: u64) -> CmdResult {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(Failure { code: exit::USAGE, message: format!("--minutes must be 1 to {MAX_MINUTES}") });
    }
    let app = open(ctx)?;
    if !app.has_pin()? {
        return Err(Failure::new("this vault has no PIN: its commands never ask for one, so there is nothing to keep unlocked"));
    }
    let pin = secrets::pin(ctx.pin_stdin)?;
    // One agent per vault: an earlier one ends first.
    let _ = ask(ctx, &json!({"op": "lock"}));
    let exe = std::env::current_exe().map_err(|e| Failure::new(format!("cannot start the agent: {e}")))?;
    let mut command = std::process::Command::new(exe);
    command
        .arg("--vault")
        .arg(&ctx.path)
        .args(["agent", "--minutes", &minutes.to_string()])
        .env_remove(secrets::PIN_ENV)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    // Its own process group: Ctrl-C in this terminal does not end it.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| Failure::new(format!("cannot start the agent: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(pin.as_bytes()).and_then(|_| stdin.write_all(b"\n")).map_err(|e| Failure::new(format!("cannot reach the agent: {e}")))?;
    }
    drop(pin);
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout.take(4096)).read_line(&mut line);
    }
    let reply: Value = serde_json::from_str(&line).unwrap_or_else(|_| json!({"error": {"code": 1, "message": "the agent did not start"}}));
    if let Some(f) = failure_in(&reply) {
        let _ = child.wait();
        return Err(f);
    }
    // Not waited for: it runs on after this process.
    std::mem::forget(child);
    let until = reply["until"].as_u64().unwrap_or(0);
    let text = format!(
        "The vault stays unlocked for {minutes} minute{} (until {}): `softtoken code` and `list` ask no PIN meanwhile. `softtoken lock` ends it.\n",
        if minutes == 1 { "" } else { "s" },
        clock_time(until)
    );
    emit(ctx.json, &json!({"unlocked": true, "until": until, "socket": reply["socket"]}), &text)
}

/// A Unix time as `14:30:00 UTC` (the CLI has no time zone database).
fn clock_time(unix: u64) -> String {
    let s = unix % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s % 3600 / 60, s % 60)
}

/// Runs `lock`: ends this vault's agent, if one runs.
pub fn lock(ctx: &Ctx) -> CmdResult {
    let ended = ask(ctx, &json!({"op": "lock"})).is_some();
    let text = if ended { "The vault is locked: the agent ended.\n" } else { "No agent was running: the vault was not kept unlocked.\n" };
    emit(ctx.json, &json!({"locked": true, "agent_was_running": ended}), text)
}

/// The hidden `agent` command: unlocks with the PIN on stdin, says `ready` on stdout, then
/// answers on its socket until its time is up or it is told to lock.
pub fn serve(ctx: &Ctx, minutes: u64) -> CmdResult {
    let report = |v: Value| {
        println!("{v}");
        let _ = std::io::stdout().flush();
    };
    let fail = |f: Failure| {
        report(json!({"error": {"code": f.code, "message": f.message}}));
        Err(f)
    };
    let minutes = minutes.clamp(1, MAX_MINUTES);
    let mut pin = zeroize::Zeroizing::new(String::new());
    std::io::stdin().lock().take(1024).read_line(&mut pin).map_err(|e| Failure::new(format!("no PIN: {e}")))?;
    let app = match open(ctx) {
        Ok(app) => app,
        Err(f) => return fail(f),
    };
    if let Err(e) = app.unlock(Some(pin.trim_end_matches(['\n', '\r']))) {
        return fail(e.into());
    }
    drop(pin);
    // The vault's auto-lock is the agent's lifetime: reads do not extend it.
    app.set_auto_lock(minutes * 60);
    let path = match socket_path(ctx) {
        Ok(p) => p,
        Err(f) => return fail(f),
    };
    if path.exists() && UnixStream::connect(&path).is_err() {
        let _ = std::fs::remove_file(&path); // an agent that died without cleaning up
    }
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => return fail(Failure::new(format!("cannot listen on {}: {e}", path.display()))),
    };
    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    let started = Instant::now();
    let until = app.now() + minutes * 60;
    report(json!({"ready": true, "until": until, "socket": path.display().to_string()}));
    let _ = listener.set_nonblocking(true);
    let deadline = Duration::from_secs(minutes * 60);
    while started.elapsed() < deadline && app.is_unlocked() && path.exists() {
        // Wakes at once for a connection, else twice a second to check the time and the socket.
        if !readable(&listener, 500) {
            continue;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                if answer(&app, stream, until) == Flow::Stop {
                    break;
                }
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    app.lock();
    let _ = std::fs::remove_file(&path);
    Ok(())
}

/// Whether a connection waits on `listener`, waiting at most `ms` milliseconds.
fn readable(listener: &UnixListener, ms: i32) -> bool {
    use std::os::fd::AsRawFd;
    let mut fd = libc::pollfd { fd: listener.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut fd, 1, ms) > 0 }
}

#[derive(PartialEq)]
enum Flow {
    Go,
    Stop,
}

/// Answers one connection (one request line).
fn answer(app: &softtoken_app::Authenticator, mut stream: UnixStream, until: u64) -> Flow {
    if peer_uid(&stream) != Some(uid()) {
        return Flow::Go; // another user's process: no answer at all
    }
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    if BufReader::new((&stream).take(MAX_REQUEST)).read_line(&mut line).is_err() {
        return Flow::Go;
    }
    let request: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
    let (reply, flow) = match request["op"].as_str() {
        Some("lock") => (json!({"locked": true}), Flow::Stop),
        Some("status") => (json!({"until": until}), Flow::Go),
        Some(op @ ("codes" | "list")) => match app.reload() {
            Err(_) => (json!({"fallback": "locked"}), Flow::Stop),
            Ok(()) if op == "list" => (list(app), Flow::Go),
            Ok(()) => (codes(app, request["identity"].as_str(), request["at"].as_u64()), Flow::Go),
        },
        _ => (json!({"error": {"code": exit::USAGE, "message": "the agent does not know this request"}}), Flow::Go),
    };
    let _ = writeln!(stream, "{reply}");
    flow
}

fn error_reply(f: Failure) -> Value {
    json!({"error": {"code": f.code, "message": f.message}})
}

/// `list`'s identities, as `list --json` prints them.
fn list(app: &softtoken_app::Authenticator) -> Value {
    match app.identities() {
        Ok(identities) => json!({"identities": identities.iter().map(super::vault::identity_json).collect::<Vec<_>>()}),
        Err(e) => error_reply(e.into()),
    }
}

/// Time-based codes (of one identity, or all); an HOTP token is left to the caller (its counter
/// advances under the vault lock, as a request of its own).
fn codes(app: &softtoken_app::Authenticator, key: Option<&str>, at: Option<u64>) -> Value {
    let targets = match super::vault::code_targets(app, key) {
        Ok(t) => t,
        Err(f) => return error_reply(f),
    };
    if targets.iter().any(|i| i.kind == IdentityKind::Hotp) {
        return json!({"fallback": "hotp"});
    }
    let t = at.unwrap_or_else(|| app.now());
    let mut rows = Vec::new();
    for i in &targets {
        match app.code_at(&i.id, t) {
            Ok(c) => rows.push(super::vault::code_row(i, &c)),
            Err(e) => return error_reply(e.into()),
        }
    }
    json!({"codes": rows, "vault_empty": app.identities().map(|v| v.is_empty()).unwrap_or(false)})
}
