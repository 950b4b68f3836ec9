//! The vault through the real `softtoken` binary, on real files: golden files of every format
//! version, wrong PINs and lockout, tampering, policy, backups, and crashes mid-save.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Env { dir: tempfile::tempdir().unwrap() }
    }
    fn vault(&self) -> PathBuf {
        self.dir.path().join("vault.stv")
    }
    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_softtoken"));
        c.args(args)
            .env("SOFTTOKEN_VAULT", self.vault())
            .env("SOFTTOKEN_KEY_DIR", self.dir.path().join("keys"))
            .env_remove("SOFTTOKEN_PIN")
            .env_remove("SOFTTOKEN_NEW_PIN")
            .env_remove("SOFTTOKEN_BACKUP_PASSWORD")
            .env_remove("SOFTTOKEN_ACTIVATION_PASSWORD")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.cmd(args, env).output().unwrap()
    }
    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let o = self.run(args, env);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
    }
    fn fails(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
        let o = self.run(args, env);
        let code = o.status.code().unwrap();
        assert!(code != 0 && code != 101, "{args:?} exit {code}: {}", String::from_utf8_lossy(&o.stderr));
        (code, String::from_utf8_lossy(&o.stderr).trim().to_string())
    }
    fn init_fast(&self, pin: Option<&str>) {
        let mut args = vec!["init", "--key-store", "file", "--kdf-memory-mib", "19", "--kdf-passes", "2", "--kdf-lanes", "1", "--json"];
        match pin {
            Some(p) => {
                self.ok(&args, &[("SOFTTOKEN_NEW_PIN", p)]);
            }
            None => {
                args.push("--no-pin");
                self.ok(&args, &[]);
            }
        }
    }
}

const PIN: (&str, &str) = ("SOFTTOKEN_PIN", "4711");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            // git keeps no 0600 mode: give the copy the mode an install has (the key store refuses
            // key files others can read).
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(to.join(e.file_name()), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

#[test]
fn golden_files_of_every_version_open_forever() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/vaults");
    let mut versions = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let src = entry.unwrap().path();
        versions += 1;
        let manifest: Value = serde_json::from_str(&std::fs::read_to_string(src.join("manifest.json")).unwrap()).unwrap();
        let env = Env::new();
        let work = env.dir.path().join("golden");
        copy_dir(&src, &work);
        let keys = work.join(manifest["key_dir"].as_str().unwrap());
        let keys = keys.to_str().unwrap();
        for (file, spec) in manifest["vaults"].as_object().unwrap() {
            let vault = work.join(file);
            let vault = vault.to_str().unwrap();
            let pin = spec["pin"].as_str().unwrap_or("");
            let envs = [("SOFTTOKEN_KEY_DIR", keys), ("SOFTTOKEN_PIN", pin)];
            let info = env.ok(&["--vault", vault, "info", "--json"], &envs);
            assert_eq!(info["format_version"], manifest["format_version"]);
            assert_eq!(info["pin"], !spec["pin"].is_null());
            let list = env.ok(&["--vault", vault, "list", "--json"], &envs);
            let rows = list["identities"].as_array().unwrap();
            let expected = manifest["identities"].as_array().unwrap();
            assert_eq!(rows.len(), expected.len(), "{file}");
            for (row, want) in rows.iter().zip(expected) {
                for k in ["name", "type", "provider", "serial", "digits"] {
                    assert_eq!(row[k], want[k], "{file}: {k}");
                }
                // Online identities (fields added within format 1) keep their provider address.
                for k in ["online", "transaction_url"] {
                    if !want[k].is_null() {
                        assert_eq!(row[k], want[k], "{file}: {k}");
                    }
                }
                let name = want["name"].as_str().unwrap();
                let mut args = vec!["--vault", vault, "code", name, "--json"];
                let at = want["at"].to_string();
                if want["at"].is_u64() {
                    args.extend(["--at", &at]);
                }
                let codes = env.ok(&args, &envs);
                assert_eq!(codes["codes"][0]["code"], want["code"], "{file}: {name}");
            }
            // Automatic-backup settings (added within format 2) survive in the payload.
            if let Some(keep) = manifest["auto_backup"]["keep"].as_u64() {
                let status = env.ok(&["--vault", vault, "auto-backup", "--json"], &envs);
                assert_eq!((status["enabled"].as_bool(), status["keep"].as_u64()), (Some(true), Some(keep)), "{file}");
            }
        }
        // The backup of this version imports into a fresh vault.
        let fresh = Env::new();
        fresh.init_fast(None);
        let b = work.join(manifest["backup"]["file"].as_str().unwrap());
        let r = fresh.ok(&["import", b.to_str().unwrap(), "--json"], &[("SOFTTOKEN_BACKUP_PASSWORD", manifest["backup"]["password"].as_str().unwrap())]);
        assert_eq!(r["imported"], manifest["identities"].as_array().unwrap().len());
    }
    assert!(versions >= 1, "fixtures/vaults holds at least v1");
}

#[test]
fn wrong_pin_then_delay_and_counter_survives_restart() {
    let env = Env::new();
    env.init_fast(Some("4711"));
    let (code, err) = env.fails(&["list"], &[("SOFTTOKEN_PIN", "0000")]);
    assert_eq!((code, err.as_str()), (4, "softtoken: error: wrong PIN: 9 attempts left before the vault locks for good"));
    let (_, err) = env.fails(&["list"], &[("SOFTTOKEN_PIN", "0000")]);
    assert_eq!(err, "softtoken: error: wrong PIN: 8 attempts left before the vault locks for good", "the count survives a new process");
    for _ in 0..3 {
        env.fails(&["list"], &[("SOFTTOKEN_PIN", "0000")]);
    }
    let (code, err) = env.fails(&["list"], &[PIN]);
    assert_eq!(code, 5);
    assert!(err.starts_with("softtoken: error: locked: try again in "), "{err}");
}

#[test]
fn pin_from_stdin() {
    let env = Env::new();
    env.init_fast(Some("4711"));
    let mut child = env.cmd(&["list", "--json", "--pin-stdin"], &[]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"4711\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let (_, err) = env.fails(&["list"], &[]);
    assert!(err.contains("needs its PIN"), "{err}");
}

#[test]
fn tampering_is_reported_and_costs_no_attempt() {
    let env = Env::new();
    env.init_fast(Some("4711"));
    env.ok(&["add", "--uri", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "--json"], &[PIN]);
    let mut bytes = std::fs::read(env.vault()).unwrap();
    bytes[30] ^= 0x04;
    std::fs::write(env.vault(), &bytes).unwrap();
    let (code, err) = env.fails(&["list"], &[PIN]);
    assert_eq!(code, 6);
    assert!(err.contains("vault file is corrupt or was tampered with"), "{err}");
    assert!(err.contains("restore-previous"), "the intact previous version is offered: {err}");
    env.ok(&["restore-previous", "--json"], &[PIN]);
    let (_, err) = env.fails(&["list"], &[("SOFTTOKEN_PIN", "1")]);
    assert_eq!(err, "softtoken: error: wrong PIN: 9 attempts left before the vault locks for good", "tampering spent no attempt");
    let list = env.ok(&["list", "--json"], &[PIN]);
    assert_eq!(list["identities"].as_array().unwrap().len(), 0, "the previous generation predates the add");
}

#[test]
fn missing_device_key_points_to_backup() {
    let env = Env::new();
    env.init_fast(None);
    std::fs::remove_file(env.dir.path().join("keys/device.key")).unwrap();
    let (_, err) = env.fails(&["list"], &[]);
    assert!(err.contains("device key for this vault is missing") && err.contains("backup"), "{err}");
}

#[test]
fn policy_needs_a_pin() {
    let env = Env::new();
    env.init_fast(None);
    let (code, err) = env.fails(
        &[
            "add",
            "--serial",
            "48244-13456",
            "--activation-code",
            "1745-7712-6942-8698",
            "--registration-code",
            "12211-49352",
            "--policy",
            r#"{"pinRequired":"true"}"#,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.starts_with("softtoken: error: policy:"), "{err}");
    assert_eq!(env.ok(&["list", "--json"], &[])["identities"].as_array().unwrap().len(), 0);
}

#[test]
fn add_from_qr_shows_registration_code_and_wrong_password_costs_no_pin_attempt() {
    let v: Value = serde_json::from_str(include_str!("../../fixtures/vectors/entrust.json")).unwrap();
    let uri = v["secactivate"]["uri"].as_str().unwrap();
    let env = Env::new();
    env.init_fast(Some("4711"));
    let (code, err) = env.fails(&["add", "--uri", uri, "--password", "11111111"], &[("SOFTTOKEN_PIN", "0000")]);
    assert_eq!(code, 4);
    assert!(err.contains("wrong activation password"), "{err}");
    let added = env.ok(&["add", "--uri", uri, "--password", "54998317", "--json"], &[PIN]);
    assert_eq!(added["serial"], "48244-13456");
    assert_eq!(added["name"], "myid.umc.edu");
    let rc = added["registration_code"].as_str().unwrap();
    // The stored seed is the one the shown registration code gives (what the portal derives).
    let seed = {
        let o = Command::new(env!("CARGO_BIN_EXE_softtoken"))
            .args([
                "entrust",
                "seed",
                "--serial",
                "48244-13456",
                "--activation-code",
                "1745-7712-6942-8698",
                "--registration-code",
                rc,
                "--policy",
                v["secactivate"]["policy"].as_str().unwrap(),
                "--json",
            ])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["seed_hex"].as_str().unwrap().to_string()
    };
    let code = env.ok(&["code", "myid.umc.edu", "--at", "1700000000", "--json"], &[PIN]);
    let expected = Command::new(env!("CARGO_BIN_EXE_softtoken"))
        .args(["otp", "--secret-hex", &seed, "--algorithm", "SHA256", "--at", "1700000000", "--json"])
        .output()
        .unwrap();
    assert_eq!(code["codes"][0]["code"], serde_json::from_slice::<Value>(&expected.stdout).unwrap()["code"]);
    let manual = env.ok(&["add", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--digits", "8", "--name", "manual", "--json"], &[PIN]);
    assert_eq!(manual["registration_code"].as_str().unwrap().len(), 11);
    let list = env.ok(&["list", "--json"], &[PIN]);
    assert_eq!(list["identities"][1]["digits"], 8);
}

#[test]
fn rename_remove_time_offset_and_hotp() {
    let env = Env::new();
    env.init_fast(None);
    env.ok(&["add", "--uri", "otpauth://totp/ACME:jane?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME", "--json"], &[]);
    env.ok(&["add", "--uri", "otpauth://hotp/h?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0", "--json"], &[]);
    env.ok(&["rename", "ACME: jane", "work", "--json"], &[]);
    let c = env.ok(&["code", "--at", "59", "--json"], &[]);
    assert_eq!(c["codes"].as_array().unwrap().len(), 1, "HOTP codes only when named");
    assert_eq!(c["codes"][0]["code"], "287082");
    env.ok(&["time-offset", "work", "-30", "--json"], &[]);
    assert_eq!(env.ok(&["code", "work", "--at", "89", "--json"], &[])["codes"][0]["code"], "287082");
    assert_eq!(env.ok(&["code", "h", "--json"], &[])["codes"][0]["code"], "755224");
    assert_eq!(env.ok(&["code", "h", "--json"], &[])["codes"][0]["code"], "287082");
    let r = env.ok(&["resync", "h", "162583", "399871", "--json"], &[]);
    assert_eq!(r["counter"], 9);
    assert_eq!(env.ok(&["code", "h", "--json"], &[])["codes"][0]["code"], "520489");
    env.ok(&["remove", "work", "--yes", "--json"], &[]);
    let (_, err) = env.fails(&["code", "work"], &[]);
    assert_eq!(err, "softtoken: error: no identity named \"work\"");
}

#[test]
fn backup_round_trip_and_partial_import() {
    let env = Env::new();
    env.init_fast(Some("4711"));
    env.ok(&["add", "--uri", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "--json"], &[PIN]);
    env.ok(&["add", "--uri", "otpauth://totp/b?secret=GEZDGNBVGY3TQOJQ", "--json"], &[PIN]);
    let backup = env.dir.path().join("b.stbk");
    let pw = ("SOFTTOKEN_BACKUP_PASSWORD", "a long backup password");
    env.ok(&["export", "--out", backup.to_str().unwrap(), "--json"], &[PIN, pw]);
    let bytes = std::fs::read(&backup).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("JBSWY3DP"));
    let (code, err) = env.fails(&["import", backup.to_str().unwrap()], &[PIN, ("SOFTTOKEN_BACKUP_PASSWORD", "not the password")]);
    assert_eq!((code, err), (4, format!("softtoken: error: {}: wrong backup password; nothing was imported", backup.display())));
    // Importing into the same vault: both are duplicates; the JSON report is printed in full, exit 3.
    let o = env.run(&["import", backup.to_str().unwrap(), "--json"], &[PIN, pw]);
    assert_eq!(o.status.code(), Some(3));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["imported"], 0);
    assert_eq!(r["skipped"].as_array().unwrap().len(), 2);
    assert!(r["skipped"][0]["reason"].as_str().unwrap().contains("already in the vault"));
    let other = Env::new();
    other.init_fast(None);
    let r = other.ok(&["import", backup.to_str().unwrap(), "--json"], &[pw]);
    assert_eq!((r["imported"].as_u64(), r["skipped"].as_array().unwrap().len()), (Some(2), 0));
}

#[test]
fn change_and_remove_pin() {
    let env = Env::new();
    env.init_fast(Some("4711"));
    env.ok(&["change-pin", "--json"], &[PIN, ("SOFTTOKEN_NEW_PIN", "ünïcode PIN")]);
    env.fails(&["list"], &[PIN]);
    env.ok(&["list", "--json"], &[("SOFTTOKEN_PIN", "ünïcode PIN")]);
    let info = env.ok(&["change-pin", "--remove", "--json"], &[("SOFTTOKEN_PIN", "ünïcode PIN")]);
    assert_eq!(info["pin"], false);
    assert_eq!(env.ok(&["info", "--json"], &[])["pin"], false);
    let (_, err) = env.fails(&["init", "--no-pin"], &[]);
    assert!(err.contains("already exists"), "{err}");
}

/// A child process is SIGKILLed at random moments while it saves; the vault must always open with
/// the old or the new contents. 200 rounds, each killing `rename` after a pseudo-random delay.
#[test]
fn killed_mid_save_leaves_old_or_new() {
    let env = Env::new();
    env.init_fast(None);
    // Enough identities that a save takes a moment.
    for i in 0..40 {
        const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let unique: String = (0..8).map(|k| B32[(i >> (5 * k)) & 31] as char).collect();
        let uri = format!("otpauth://totp/acct{i}?secret=JBSWY3DPEHPK3PXP{unique}");
        env.ok(&["add", "--uri", &uri, "--json"], &[]);
    }
    let mut names = ("acct0".to_string(), "renamed".to_string());
    // Calibrate: how long does an unkilled rename take here? Kill delays spread over 0..1.2× that.
    let mut runs: Vec<u128> = (0..6)
        .map(|_| {
            let t = std::time::Instant::now();
            env.ok(&["rename", &names.0, &names.1], &[]);
            names = (names.1.clone(), names.0.clone());
            t.elapsed().as_micros()
        })
        .collect();
    runs.sort();
    let span_us = (runs[3] * 6 / 5).max(500) as u64;
    let mut state: u64 = 0x5eed;
    let mut killed = 0;
    for round in 0..200 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay_us = (state >> 33) % span_us;
        let mut child = env.cmd(&["rename", &names.0, &names.1], &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_micros(delay_us));
        let _ = child.kill();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        let was_killed = status.signal() == Some(9);
        killed += was_killed as u32;
        let list = env.ok(&["list", "--json"], &[]);
        let rows = list["identities"].as_array().unwrap();
        assert_eq!(rows.len(), 40, "round {round}");
        let first = rows[0]["name"].as_str().unwrap();
        assert!(first == names.0 || first == names.1, "round {round}: {first}");
        if !was_killed {
            assert_eq!(first, names.1, "round {round}: a finished rename is stored");
        }
        if first == names.1 {
            names = (names.1.clone(), names.0.clone());
        }
    }
    eprintln!("{killed} of 200 rounds were killed before finishing (delays 0..{span_us} us)");
    assert!(killed >= 50, "only {killed} of 200 rounds were killed mid-run");
    assert!(killed <= 195, "{killed} of 200 killed: the delays do not reach the save");
}

/// Runs the same command in `n` processes at once; returns their exit codes.
fn in_parallel(env: &Env, n: usize, args: impl Fn(usize) -> Vec<String>, extra: &[(&str, &str)]) -> Vec<i32> {
    let children: Vec<_> = (0..n)
        .map(|i| {
            let a = args(i);
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            env.cmd(&a, extra).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap()
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().unwrap().status.code().unwrap_or(-1)).collect()
}

#[test]
fn twelve_parallel_wrong_pins_are_all_counted() {
    // The attack (issue #13, finding 3): 12 parallel `softtoken list` with wrong PINs; the old
    // unlocked load → check → save let more guesses be evaluated than the 5 free ones.
    let env = Env::new();
    env.init_fast(Some("4711"));
    for round in 0..2 {
        let codes = in_parallel(&env, 12, |_| vec!["list".into()], &[("SOFTTOKEN_PIN", "0000")]);
        let evaluated = codes.iter().filter(|c| **c == 4).count();
        assert!(codes.iter().all(|c| *c == 4 || *c == 5), "round {round}: {codes:?}");
        assert_eq!(evaluated, if round == 0 { 5 } else { 0 }, "round {round}: {codes:?}");
    }
    let (code, err) = env.fails(&["list"], &[PIN]);
    assert_eq!(code, 5, "the right PIN waits too: {err}");
}

#[test]
fn parallel_adds_lose_none_and_parallel_hotp_codes_never_repeat() {
    let env = Env::new();
    env.init_fast(None);
    env.ok(&["add", "--uri", "otpauth://hotp/h?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0", "--json"], &[]);
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let codes = in_parallel(&env, 8, |i| vec!["add".into(), "--uri".into(), format!("otpauth://totp/p{i}?secret=JBSWY3DPEHPK3PX{}", B32[i] as char)], &[]);
    assert!(codes.iter().all(|c| *c == 0), "{codes:?}");
    assert_eq!(env.ok(&["list", "--json"], &[])["identities"].as_array().unwrap().len(), 9, "no add was lost");
    let children: Vec<_> = (0..8).map(|_| env.cmd(&["code", "h", "--json"], &[]).stdout(Stdio::piped()).spawn().unwrap()).collect();
    let mut shown: Vec<String> = children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            v["codes"][0]["code"].as_str().unwrap().to_string()
        })
        .collect();
    shown.sort();
    shown.dedup();
    assert_eq!(shown.len(), 8, "two processes showed the same HOTP code: {shown:?}");
}

#[test]
fn the_old_pin_does_not_come_back_through_restore_previous() {
    // The attack (finding 4): init with 1111, change-pin, restore-previous (no PIN asked, on a
    // healthy vault), and 1111 opened the vault again.
    let env = Env::new();
    env.init_fast(Some("1111"));
    env.ok(&["add", "--uri", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "--json"], &[("SOFTTOKEN_PIN", "1111")]);
    env.ok(&["change-pin", "--json"], &[("SOFTTOKEN_PIN", "1111"), ("SOFTTOKEN_NEW_PIN", "2222")]);
    assert_eq!(env.fails(&["list"], &[("SOFTTOKEN_PIN", "1111")]).0, 4);
    let (code, err) = env.fails(&["restore-previous"], &[("SOFTTOKEN_PIN", "1111")]);
    assert!(err.contains("intact") || err.contains("no previous version"), "{code}: {err}");
    assert_eq!(env.fails(&["list"], &[("SOFTTOKEN_PIN", "1111")]).0, 4);
    env.ok(&["list", "--json"], &[("SOFTTOKEN_PIN", "2222")]);
}

#[test]
fn an_older_copy_of_the_vault_put_back_is_refused() {
    let env = Env::new();
    env.init_fast(None);
    env.ok(&["add", "--uri", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "--json"], &[]);
    let copy = std::fs::read(env.vault()).unwrap();
    env.ok(&["remove", "a", "--yes", "--json"], &[]);
    std::fs::write(env.vault(), copy).unwrap();
    let (code, err) = env.fails(&["list"], &[]);
    assert_eq!(code, 6, "{err}");
    assert!(err.contains("older copy"), "{err}");
}
