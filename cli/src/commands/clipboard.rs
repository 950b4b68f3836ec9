//! `code --copy`: the code onto the desktop clipboard through the desktop's own tool (wl-copy on
//! Wayland, xclip or xsel on X11, pbcopy on macOS), which keeps serving it after softtoken exits,
//! and a detached helper that clears it after [`clear_after_s`] if it still holds that code.

use crate::output::Failure;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Seconds before the copied code is cleared: 30, or `SOFTTOKEN_CLIPBOARD_CLEAR_S` (1..=600).
pub fn clear_after_s() -> u64 {
    std::env::var("SOFTTOKEN_CLIPBOARD_CLEAR_S").ok().and_then(|v| v.parse().ok()).filter(|s| (1..=600).contains(s)).unwrap_or(30)
}

/// A desktop clipboard tool: how to write, read and empty the clipboard.
struct Tool {
    name: &'static str,
    write: &'static [&'static str],
    read: &'static [&'static str],
    /// Empties the clipboard; `None`: write an empty text instead.
    clear: Option<&'static [&'static str]>,
}

const TOOLS: [(Session, Tool); 4] = [
    (Session::Wayland, Tool { name: "wl-copy", write: &["wl-copy"], read: &["wl-paste", "--no-newline"], clear: Some(&["wl-copy", "--clear"]) }),
    (
        Session::X11,
        Tool { name: "xclip", write: &["xclip", "-selection", "clipboard", "-in"], read: &["xclip", "-selection", "clipboard", "-out"], clear: None },
    ),
    (
        Session::X11,
        Tool {
            name: "xsel",
            write: &["xsel", "--clipboard", "--input"],
            read: &["xsel", "--clipboard", "--output"],
            clear: Some(&["xsel", "--clipboard", "--delete"]),
        },
    ),
    (Session::MacOs, Tool { name: "pbcopy", write: &["pbcopy"], read: &["pbpaste"], clear: None }),
];

#[derive(PartialEq)]
enum Session {
    Wayland,
    X11,
    MacOs,
}

fn present(session: &Session) -> bool {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    match session {
        Session::Wayland => set("WAYLAND_DISPLAY"),
        Session::X11 => set("DISPLAY"),
        Session::MacOs => cfg!(target_os = "macos"),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

fn tool() -> Option<&'static Tool> {
    TOOLS.iter().find(|(session, tool)| present(session) && on_path(tool.write[0])).map(|(_, tool)| tool)
}

fn run_with_input(argv: &[&str], input: &str) -> std::io::Result<bool> {
    // The tool may leave a child serving the selection: never wait on its output pipes.
    let mut child = Command::new(argv[0]).args(&argv[1..]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input.as_bytes())?;
    }
    Ok(child.wait()?.success())
}

fn read_clipboard(tool: &Tool) -> Option<String> {
    let out = Command::new(tool.read[0]).args(&tool.read[1..]).stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Puts `code` on the clipboard and starts the helper that clears it; returns the tool's name.
pub fn copy_for_a_while(code: &str) -> Result<&'static str, Failure> {
    let tool = tool().ok_or_else(|| {
        Failure::new("no desktop clipboard here: --copy needs a graphical session with wl-copy (Wayland), xclip or xsel (X11), or macOS; the code is shown instead with `softtoken code`")
    })?;
    match run_with_input(tool.write, code) {
        Ok(true) => {}
        Ok(false) => return Err(Failure::new(format!("{} could not set the clipboard", tool.name))),
        Err(e) => return Err(Failure::new(format!("cannot run {}: {e}", tool.name))),
    }
    let exe = std::env::current_exe().map_err(|e| Failure::new(format!("cannot start the clipboard clearer: {e}")))?;
    let mut clearer = Command::new(exe);
    clearer.arg("clipboard-clear").stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
    // Its own process group: Ctrl-C in the terminal that ran `code --copy` does not stop it.
    std::os::unix::process::CommandExt::process_group(&mut clearer, 0);
    let mut child = clearer.spawn().map_err(|e| Failure::new(format!("cannot start the clipboard clearer: {e}")))?;
    // The code goes over a pipe, never in the helper's arguments (which `ps` shows).
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(code.as_bytes());
    }
    Ok(tool.name)
}

/// The hidden `clipboard-clear` command: waits, then empties the clipboard if it still holds the
/// code read from stdin (whatever the user copied since is left alone).
pub fn clear_later() -> crate::output::CmdResult {
    let mut code = String::new();
    std::io::stdin().take(64).read_to_string(&mut code).map_err(|e| Failure::new(format!("cannot read the code: {e}")))?;
    let Some(tool) = tool() else { return Ok(()) };
    std::thread::sleep(Duration::from_secs(clear_after_s()));
    if code.is_empty() || read_clipboard(tool).as_deref() != Some(code.as_str()) {
        return Ok(());
    }
    let cleared = match tool.clear {
        Some(argv) => run_with_input(argv, ""),
        None => run_with_input(tool.write, ""),
    };
    cleared.map(|_| ()).map_err(|e| Failure::new(format!("cannot clear the clipboard: {e}")))
}
