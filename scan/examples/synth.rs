//! Writes a deterministic set of distorted QR images (secactivate and otpauth URIs) for the
//! benchmark against zxing-cpp (`bench/scan.py`).
//!
//! `cargo run --release -p softtoken-scan --example synth -- OUT_DIR [--count N] [--seed S]`
//! writes `NNN-<distortions>.png|jpg` and `NNN-<distortions>.txt` (the expected text). The same
//! seed gives the same images; a new seed gives a fresh, unseen set (held-out checks).

#[path = "../tests/synth/mod.rs"]
mod synth;

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!("usage: synth OUT_DIR [--count N] [--seed S]");
        std::process::exit(2);
    };
    let opt = |name: &str, default: u64| -> u64 {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(default, |v| v.parse().expect("a number"))
    };
    let (count, seed) = (opt("--count", 60) as usize, opt("--seed", 1));
    std::fs::create_dir_all(&out).expect("create the output folder");
    let mut rng = synth::Rng(seed);
    for i in 0..count {
        let s = synth::sample(&mut rng, i);
        std::fs::write(out.join(format!("{}.{}", s.stem, s.ext)), &s.bytes).expect("write the image");
        std::fs::write(out.join(format!("{}.txt", s.stem)), &s.text).expect("write the text");
    }
    println!("wrote {count} images to {}", out.display());
}
