//! `softtoken scan <IMAGE>...`: every QR text in image files; and the image path of `decode`/`add`.

use crate::output::{CmdResult, Failure};
use clap::Args;
use serde_json::{json, Value};
use softtoken_scan::{decode_image, scan_luma, ScanOptions};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// Arguments of `scan`.
#[derive(Args)]
pub struct ScanArgs {
    /// Image files (PNG, JPEG, WebP, GIF).
    #[arg(required = true)]
    images: Vec<String>,
    /// Also say which decoder and which pass read each code.
    #[arg(long)]
    verbose: bool,
    /// Scan each image this many times and report the fastest (benchmarks; the codes are the same).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    repeat: u32,
}

/// Runs `scan`: with `--json`, one object per image per line (the one exception to "one JSON
/// object"); `ms` is QR detection and decoding on the luma image, without reading or decoding the file.
pub fn run(json: bool, args: &ScanArgs) -> CmdResult {
    let mut failed = 0usize;
    let mut out = std::io::stdout().lock();
    for path in &args.images {
        let line = match scan_file(Path::new(path), args.repeat) {
            Ok((codes, ms)) => {
                let texts: Vec<Value> =
                    codes
                        .iter()
                        .map(|c| {
                            if args.verbose {
                                json!({"text": c.text, "decoder": c.decoder.as_str(), "pass": c.pass.as_str()})
                            } else {
                                json!({"text": c.text})
                            }
                        })
                        .collect();
                if json {
                    json!({"path": path, "codes": texts, "ms": ms}).to_string()
                } else if codes.is_empty() {
                    format!("{path}: no QR code found ({ms:.1} ms)")
                } else {
                    let mut s = String::new();
                    for c in &codes {
                        let how = if args.verbose { format!(" [{} {}]", c.decoder.as_str(), c.pass.as_str()) } else { String::new() };
                        s += &format!("{path}: {}{how}\n", c.text);
                    }
                    s.pop();
                    s
                }
            }
            Err(message) => {
                failed += 1;
                if json {
                    json!({"path": path, "codes": [], "error": message, "ms": 0}).to_string()
                } else {
                    eprintln!("softtoken: {path}: {message}");
                    continue;
                }
            }
        };
        crate::output::printed();
        if writeln!(out, "{line}").is_err() {
            return Ok(()); // stdout closed (`| head`)
        }
    }
    if failed > 0 {
        return Err(Failure::new(format!("{failed} of {} could not be read", softtoken_core::error::plural(args.images.len(), "image", "images"))));
    }
    Ok(())
}

/// Reads and scans one image file: the codes and the milliseconds spent on the luma image.
fn scan_file(path: &Path, repeat: u32) -> Result<(Vec<softtoken_scan::ScannedCode>, f64), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let image = decode_image(&bytes).map_err(|e| e.to_string())?;
    let mut best = (Vec::new(), f64::INFINITY);
    for _ in 0..repeat {
        let start = Instant::now();
        let codes = scan_luma(&image.frame(), &ScanOptions::file());
        let ms = start.elapsed().as_secs_f64() * 1e3;
        if ms < best.1 {
            best = (codes, ms);
        }
    }
    Ok(best)
}

/// The one activation or otpauth URI in a QR image (for `decode IMAGE` and `add --qr IMAGE`).
pub fn uri_from_image(path: &Path) -> Result<String, Failure> {
    let (codes, _) = scan_file(path, 1).map_err(|m| Failure::new(format!("{}: {m}", path.display())))?;
    if codes.is_empty() {
        return Err(Failure::new(format!("{}: no QR code found in the image", path.display())));
    }
    let uris: Vec<&str> = codes
        .iter()
        .map(|c| c.text.as_str())
        .filter(|t| softtoken_core::entrust::is_secactivate(t) || t.trim_start().to_ascii_lowercase().starts_with("otpauth"))
        .collect();
    match uris.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(Failure::new(format!(
            "{}: the QR code holds no activation or otpauth URI (it reads: {})",
            path.display(),
            codes.iter().map(|c| format!("{:?}", truncate(&c.text))).collect::<Vec<_>>().join(", ")
        ))),
        _ => Err(Failure::new(format!("{}: {} QR codes with URIs in the image; crop it to the one to use", path.display(), uris.len()))),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        s.chars().take(40).collect::<String>() + "…"
    } else {
        s.to_owned()
    }
}
