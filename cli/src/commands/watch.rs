//! `code --watch`: the codes of time-based identities with a countdown, redrawn every second on
//! a terminal (a new block per period when the output is not one), until Ctrl-C.

use crate::output::{shown, CmdResult, Failure};
use softtoken_app::Authenticator;
use softtoken_core::identity::Identity;
use std::io::{IsTerminal, Write};
use std::time::Duration;

const BAR: usize = 10;

fn bar(remaining: u32, period: u32) -> String {
    let full = (remaining as usize * BAR).div_ceil(period.max(1) as usize).min(BAR);
    format!("[{}{}]", "#".repeat(full), " ".repeat(BAR - full))
}

/// Runs the watch; returns when stdout is closed.
pub fn run(app: &Authenticator, targets: &[Identity]) -> CmdResult {
    let terminal = std::io::stdout().is_terminal();
    let width = targets.iter().map(|i| shown(&i.name).chars().count()).max().unwrap_or(0);
    let code_width = targets.iter().map(|i| i.digits as usize).max().unwrap_or(6);
    let mut last_codes: Vec<String> = Vec::new();
    let mut drawn = false;
    loop {
        let now = app.now();
        let mut lines = Vec::with_capacity(targets.len());
        let mut codes = Vec::with_capacity(targets.len());
        for i in targets {
            let c = app.code_at(&i.id, now)?;
            let remaining = c.remaining_s.unwrap_or(0);
            let name = shown(&i.name);
            lines.push(format!("{:<code_width$}  {name}{}  {} {remaining:>2} s", c.code, " ".repeat(width - name.chars().count()), bar(remaining, i.period)));
            codes.push(c.code);
        }
        let mut out = std::io::stdout().lock();
        let written = if terminal {
            // Back to the first line of the block, each line rewritten in place.
            let up = if drawn { format!("\x1b[{}A", lines.len()) } else { String::new() };
            write!(out, "{up}{}", lines.iter().map(|l| format!("\r\x1b[2K{l}\n")).collect::<String>())
        } else if codes != last_codes {
            writeln!(out, "{}", lines.join("\n"))
        } else {
            Ok(())
        };
        match written.and_then(|_| out.flush()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Failure::new(format!("cannot write output: {e}"))),
        }
        drawn = true;
        last_codes = codes;
        std::thread::sleep(Duration::from_millis(
            1000 - u64::from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_millis()).unwrap_or(0)),
        ));
    }
}
