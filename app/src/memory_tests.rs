//! Secrets leave memory: a child process (this test binary again) creates a vault, adds an
//! identity, unlocks it, shows a code and locks it; the parent then reads the child's whole memory
//! (`/proc/PID/mem`, every readable mapping) and searches it for the seed and the data key.
//!
//! The child gets the seed through a raw read of its standard input into a zeroizing buffer (no
//! buffered reader keeps a copy) and hands the data key out with a direct write from the vault's
//! own buffer, so neither leaves a copy of its own behind. Linux only (procfs).

use super::*;
use softtoken_core::vault::{KdfParams, MemoryKeyStore};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

const CHILD: &str = "SOFTTOKEN_MEMORY_CHILD";

/// The child's part: run only when the parent starts this test binary with [`CHILD`] set.
#[test]
#[ignore = "the child process of a_memory_dump_after_lock_holds_no_seed_or_data_key"]
fn memory_child() {
    let Some(dir) = std::env::var_os(CHILD) else { return };
    // The otpauth URI arrives on fd 0, read without a buffer.
    let mut uri = Zeroizing::new(vec![0u8; 256]);
    let mut stdin = std::mem::ManuallyDrop::new(unsafe_stdin());
    let n = stdin.read(&mut uri[..]).unwrap();
    uri.truncate(n);
    let uri = Zeroizing::new(String::from_utf8(uri.to_vec()).unwrap());

    let a = Authenticator::new(std::path::Path::new(&dir).join("v"), Arc::new(MemoryKeyStore::new()), Arc::new(softtoken_core::clock::SystemClock));
    a.create(Some("2580"), VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap();
    a.add_otpauth(uri.trim(), Some("m")).unwrap();
    drop(uri);
    a.lock();
    a.unlock(Some("2580")).unwrap();
    let code = a.code("m").unwrap();
    assert_eq!(code.code.len(), 6);
    {
        let vault = guard(&a.state).vault.clone().unwrap();
        let mut out = std::io::stdout().lock();
        out.write_all(b"\nDATAKEY:").unwrap();
        // Hex, a byte at a time, from the vault's buffer: the raw bytes are never copied.
        let key_hex = HexOut(&mut out);
        guard(&vault).write_data_key_for_test(&mut { key_hex }).unwrap();
        out.write_all(b"\n").unwrap();
    }
    a.lock();
    drop(a);
    println!("LOCKED");
    std::io::stdout().flush().unwrap();
    // Wait for the parent to finish reading.
    let mut byte = [0u8; 1];
    let _ = stdin.read(&mut byte);
}

/// Standard input as a file, unbuffered.
fn unsafe_stdin() -> std::fs::File {
    std::fs::File::open("/proc/self/fd/0").unwrap()
}

/// Writes bytes as lower-case hex.
struct HexOut<'a, W: Write>(&'a mut W);

impl<W: Write> Write for HexOut<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            self.0.write_all(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Where `needle` occurs in the readable memory of process `pid`: (mapping, offset) of each hit.
fn find_in_process(pid: u32, needle: &[u8]) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut hits = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let name = fields.nth(3).unwrap_or("[anonymous]");
        if !perms.starts_with('r') || name == "[vvar]" || name == "[vsyscall]" || name == "[vvar_vclock]" {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let (start, end) = (u64::from_str_radix(start, 16).unwrap(), u64::from_str_radix(end, 16).unwrap());
        let mut region = vec![0u8; (end - start) as usize];
        use std::io::Seek;
        if mem.seek(std::io::SeekFrom::Start(start)).is_err() || mem.read_exact(&mut region).is_err() {
            continue;
        }
        let mut i = 0;
        while let Some(p) = region[i..].iter().position(|&b| b == needle[0]) {
            let at = i + p;
            if region[at..].starts_with(needle) {
                hits.push(format!("{name} {range} {perms} +{at:#x}"));
            }
            i = at + 1;
        }
    }
    hits
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn a_memory_dump_after_lock_holds_no_seed_or_data_key() {
    if !std::path::Path::new("/proc/self/mem").exists() {
        eprintln!("no procfs: the memory search runs on Linux only");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A random seed, so no copy of it can be in the binary or anywhere but the child's vault work.
    let mut seed = [0u8; 20];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut seed).unwrap();
    let uri = format!("otpauth://totp/m?secret={}", softtoken_core::Secret::new(seed.to_vec()).to_base32());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "memory_tests::memory_child", "--include-ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(uri.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut data_key = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(hex) = line.strip_prefix("DATAKEY:") {
            data_key = Some(hex_decode(hex.trim()));
        }
        if line.trim() == "LOCKED" {
            break;
        }
    }
    let data_key = data_key.expect("the child reported its data key");
    assert_eq!(data_key.len(), 32);
    let seed_hits = find_in_process(child.id(), &seed);
    let key_hits = find_in_process(child.id(), &data_key);
    // The search itself works: the child's memory holds the URI's text (it came through a pipe
    // into a buffer that was zeroized, but the harness keeps its argv and environment).
    let env_hits = find_in_process(child.id(), CHILD.as_bytes());
    stdin.write_all(b"x").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(!env_hits.is_empty(), "the memory search finds what is there");
    assert!(seed_hits.is_empty(), "the seed is still in memory after lock at {seed_hits:?}");
    assert!(key_hits.is_empty(), "the data key is still in memory after lock at {key_hits:?}");
    assert!(status.success());
}
