//! The `softtoken` CLI contract, exercised by running the real binary.

use serde_json::Value;
use std::process::{Command, Output, Stdio};

fn vectors() -> Value {
    serde_json::from_str(include_str!("../../fixtures/vectors/entrust.json")).unwrap()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_softtoken")).args(args).env_remove("SOFTTOKEN_ACTIVATION_PASSWORD").stdin(Stdio::null()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Runs a command that must succeed with --json and returns its single JSON object.
fn json(args: &[&str]) -> Value {
    let o = run(args);
    assert_eq!(o.status.code(), Some(0), "{args:?} failed: {}", stderr(&o));
    let text = stdout(&o);
    assert_eq!(text.lines().count(), 1, "exactly one JSON object: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Runs a command that must fail; returns (exit code, stderr).
fn fails(args: &[&str]) -> (i32, String) {
    let o = run(args);
    let code = o.status.code().expect("exited normally");
    assert_ne!(code, 0, "{args:?} should fail");
    assert_ne!(code, 101, "{args:?} panicked: {}", stderr(&o));
    if args.contains(&"--json") {
        // With --json, the error as one JSON object, its kind matching the exit code.
        let v: Value = serde_json::from_str(stdout(&o).trim()).unwrap_or_else(|_| panic!("{args:?}: not one JSON object: {}", stdout(&o)));
        assert!(v["error"]["message"].is_string() && v["error"]["kind"].is_string(), "{v}");
    } else {
        assert!(o.stdout.is_empty(), "nothing on stdout when failing: {}", stdout(&o));
    }
    (code, stderr(&o))
}

fn spec_uri() -> String {
    vectors()["secactivate"]["uri"].as_str().unwrap().to_string()
}

#[test]
fn decode_secactivate_json_contract() {
    let v = json(&["decode", &spec_uri(), "--password", "54998317", "--json"]);
    let expected: Value = serde_json::json!({
        "type": "entrust",
        "serial": "48244-13456",
        "activation_code": "1745-7712-6942-8698",
        "policy": "{\"allowUnsecured\":\"false\",\"trustedExecution\":\"NOT_ALLOWED\"}",
        "registration_url": "myid.umc.edu/igst",
        "digits": null,
        "issuer": null,
        "transaction_url": null,
    });
    assert_eq!(v, expected);
}

#[test]
fn json_flag_before_or_after_subcommand() {
    let a = json(&["--json", "decode", &spec_uri(), "--password", "54998317"]);
    let b = json(&["decode", &spec_uri(), "--json", "--password", "54998317"]);
    assert_eq!(a, b);
}

#[test]
fn decode_text_shows_numbers_and_policy() {
    let o = run(&["decode", &spec_uri(), "--password", "54998317"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("48244-13456") && out.contains("1745-7712-6942-8698") && out.contains("trustedExecution"), "{out}");
}

#[test]
fn decode_password_from_environment() {
    let o = Command::new(env!("CARGO_BIN_EXE_softtoken"))
        .args(["decode", &spec_uri(), "--json"])
        .env("SOFTTOKEN_ACTIVATION_PASSWORD", "54998317")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["serial"], "48244-13456");
}

#[test]
fn decode_errors() {
    let (code, err) = fails(&["decode", &spec_uri(), "--password", "54998318", "--json"]);
    assert_eq!(code, 4);
    assert!(err.contains("wrong activation password"), "{err}");
    let (code, err) = fails(&["decode", &spec_uri()]);
    assert_eq!(code, 1);
    assert!(err.contains("needs its password"), "{err}");
    let (_, err) = fails(&["decode", &spec_uri().replace("&v=1", "&v=7"), "--password", "54998317"]);
    assert!(err.contains("unsupported activation URI version \"7\""), "{err}");
    let (_, err) = fails(&["decode", "igmobileotp://?action=secactivate&enc=AAAA&v=1&mac=AAAAAAAAAAAAAAAA", "--password", "12345678"]);
    assert!(err.contains("malformed URI: enc is truncated"), "{err}");
    let (_, err) = fails(&["decode", "hello world"]);
    assert!(err.contains("unrecognised URI"), "{err}");
    let (_, err) = fails(&["decode", &spec_uri(), "--password", "5499-83x7"]);
    assert!(err.contains("activation password: contains 'x'"), "{err}");
}

#[test]
fn decode_otpauth_never_shows_secret_unless_asked() {
    let uri = "otpauth://totp/ACME:jane?secret=JBSWY3DPEHPK3PXP&issuer=ACME&algorithm=SHA256&digits=8&period=60";
    let v = json(&["decode", uri, "--json"]);
    assert_eq!(v, serde_json::json!({"type":"totp","issuer":"ACME","account":"jane","algorithm":"SHA256","digits":8,"period":60,"counter":null}));
    let plain = run(&["decode", uri]);
    assert!(!stdout(&plain).contains("JBSWY3DPEHPK3PXP"));
    let shown = json(&["decode", uri, "--json", "--show-secret"]);
    assert_eq!(shown["secret"], "JBSWY3DPEHPK3PXP");
    let h = json(&["decode", "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=5", "--json"]);
    assert_eq!((h["type"].as_str(), h["counter"].as_u64(), h["period"].is_null()), (Some("hotp"), Some(5), true));
    let (_, err) = fails(&["decode", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=12"]);
    assert_eq!(err.trim(), "softtoken: error: digits: 12 is not supported (use 6, 7 or 8)");
}

#[test]
fn entrust_seed_matches_the_spec() {
    let a = &vectors()["activation"];
    let v = json(&["entrust", "seed", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--registration-code", "12211-49352", "--json"]);
    assert_eq!(v["seed_hex"], a["seed_without_policy_hex"]);
    assert_eq!(v["seed_base32"], a["seed_without_policy_base32"]);
    assert_eq!(v["otpauth"], "otpauth://totp/Entrust:48244-13456?secret=TKHKWXWMT7CBG5MKSKWCEPOGUA&issuer=Entrust&algorithm=SHA256&digits=6&period=30");
    let policy = vectors()["secactivate"]["policy"].as_str().unwrap().to_string();
    let p = json(&[
        "entrust",
        "seed",
        "--serial",
        "48244-13456",
        "--activation-code",
        "1745-7712-6942-8698",
        "--registration-code",
        "12211-49352",
        "--policy",
        &policy,
        "--digits",
        "8",
        "--json",
    ]);
    assert_eq!(p["seed_hex"], a["seed_with_policy_hex"]);
    assert!(p["otpauth"].as_str().unwrap().contains("digits=8"));
}

#[test]
fn entrust_activate_gives_a_valid_registration_code_and_consistent_seed() {
    let v = json(&["entrust", "activate", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--json"]);
    let rc = v["registration_code"].as_str().unwrap();
    assert_eq!(rc.len(), 11);
    assert_eq!(&rc[5..6], "-");
    let again = json(&["entrust", "seed", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--registration-code", rc, "--json"]);
    assert_eq!(v["seed_hex"], again["seed_hex"]);
    assert_eq!(v["otpauth"], again["otpauth"]);
    // A fresh device random each time.
    let w = json(&["entrust", "activate", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--json"]);
    let x = json(&["entrust", "activate", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--json"]);
    assert!(v["registration_code"] != w["registration_code"] || w["registration_code"] != x["registration_code"]);
}

#[test]
fn entrust_input_errors_name_the_field() {
    let (code, err) = fails(&["entrust", "activate", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8699"]);
    assert_eq!(code, 1);
    assert_eq!(err.trim(), "softtoken: error: activation code: check digit does not match");
    let (_, err) = fails(&["entrust", "activate", "--serial", "48244-1345", "--activation-code", "1745-7712-6942-8698"]);
    assert_eq!(err.trim(), "softtoken: error: serial number: group 2 has 4 digits, expected 5");
    let (_, err) = fails(&["entrust", "seed", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--registration-code", "12211-49353"]);
    assert_eq!(err.trim(), "softtoken: error: registration code: check digit does not match");
    let (code, _) = fails(&["entrust", "activate", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--digits", "7"]);
    assert_eq!(code, 2, "digits other than 6 or 8 are a usage error");
}

#[test]
fn entrust_recover_spec_vector() {
    let r = &vectors()["recover"];
    let v = json(&[
        "entrust",
        "recover",
        "--serial",
        "48244-13456",
        "--activation-code",
        "1745-7712-6942-8698",
        "--otp",
        "043700@1570434609",
        "--otp",
        "814835@1570351831",
        "--json",
    ]);
    assert_eq!(v["device_random"], r["device_random_hex"]);
    assert_eq!(v["policy_used"], false);
    assert_eq!(v["seed_hex"], vectors()["activation"]["seed_without_policy_hex"]);
}

#[test]
fn entrust_recover_refuses_to_guess() {
    use softtoken_core::entrust::{derive_seed, recover, ActivationCode, ObservedOtp, SerialNumber};
    use softtoken_core::otp::{Algorithm, Totp};
    let serial = SerialNumber::parse("48244-13456").unwrap();
    let ac = ActivationCode::parse("1745-7712-6942-8698").unwrap();
    let totp = Totp::new(derive_seed(&serial, &ac, 0x5377, None), Algorithm::Sha256, 6, 30).unwrap();
    // Find a time whose single code matches several device randoms (expected ~1 in 5 searches).
    let (code, t) = (0..200u64)
        .map(|i| 1_650_000_000 + i * 4_999)
        .map(|t| (totp.code_at(t).code, t))
        .find(|(c, t)| recover(&serial, &ac, None, &[ObservedOtp { code: c.clone(), unix_time: *t }]).is_err())
        .expect("an ambiguous time exists");
    let arg = format!("{code}@{t}");
    let (code_exit, err) = fails(&["entrust", "recover", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--otp", &arg]);
    assert_eq!(code_exit, 1);
    assert!(err.contains("device randoms match these codes") && err.contains("later time step"), "{err}");
    let (_, err) = fails(&["entrust", "recover", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--otp", "043700"]);
    assert!(err.contains("CODE@UNIXTIME"), "{err}");
    let (_, err) =
        fails(&["entrust", "recover", "--serial", "48244-13456", "--activation-code", "1745-7712-6942-8698", "--otp", "043700@1570434609", "--digits", "8"]);
    assert!(err.contains("--digits is 8"), "{err}");
}

#[test]
fn otp_codes_at_fixed_times() {
    for row in vectors()["totp_sha256"].as_array().unwrap() {
        let digits = row["digits"].to_string();
        let t = row["time"].to_string();
        let v = json(&["otp", "--secret-hex", row["seed_hex"].as_str().unwrap(), "--algorithm", "SHA256", "--digits", &digits, "--at", &t, "--json"]);
        assert_eq!(v["code"], row["code"]);
        let remaining = v["remaining_s"].as_u64().unwrap();
        assert_eq!(remaining, 30 - row["time"].as_u64().unwrap() % 30);
    }
    let v = json(&["otp", "--uri", "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8", "--at", "59", "--json"]);
    assert_eq!(v["code"], "94287082");
    assert_eq!(v["remaining_s"], 1);
    let b = json(&["otp", "--secret-base32", "gezdgnbvgy3tqojqgezdgnbvgy3tqojq", "--digits", "8", "--at", "1111111109", "--json"]);
    assert_eq!(b["code"], "07081804");
    let h = json(&["otp", "--secret-hex", "3132333435363738393031323334353637383930", "--counter", "9", "--json"]);
    assert_eq!(h["code"], "520489");
    let now = json(&["otp", "--secret-hex", "00", "--json"]);
    assert_eq!(now["code"].as_str().unwrap().len(), 6);
}

#[test]
fn otp_errors() {
    let (code, err) = fails(&["otp", "--secret-hex", "xyz"]);
    assert_eq!((code, err.trim()), (1, "softtoken: error: secret: is not valid hex"));
    let (_, err) = fails(&["otp", "--secret-hex", ""]);
    assert!(err.contains("secret: is empty"), "{err}");
    let (_, err) = fails(&["otp", "--secret-base32", "JBSWY3DP", "--period", "0"]);
    assert!(err.contains("period"), "{err}");
    let (code, _) = fails(&["otp"]);
    assert_eq!(code, 2);
    let (code, _) = fails(&["otp", "--uri", "otpauth://totp/x?secret=JBSWY3DP", "--digits", "8"]);
    assert_eq!(code, 2);
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        " ",
        "://",
        "igmobileotp://",
        "igmobileotp://?",
        "igmobileotp://?action=secactivate",
        "igmobileotp://?action=secactivate&enc=%%%&v=1&mac=%",
        "igmobileotp://?mac=AA&action=secactivate&enc=AA&v=1",
        "otpauth://",
        "otpauth://totp",
        "otpauth://totp/",
        "otpauth://totp/a?secret=%FF",
        "otpauth://hotp/a?secret=AA&counter=-1",
        "\u{1}\u{2}",
        "otpauth://totp/a?secret=AAAAAAAA&period=99999999999999999999",
    ];
    for input in inputs {
        let o = run(&["decode", input, "--password", "12345678", "--json"]);
        assert_ne!(o.status.code(), Some(101), "panic on {input:?}");
        assert_ne!(o.status.code(), Some(0), "{input:?} accepted");
        assert!(!stderr(&o).is_empty());
    }
}

/// `scan --json`: one object per image per line, in order; an unreadable file gets an `error` and
/// `ms: 0` and the batch goes on; the exit code says that something could not be read.
#[test]
fn scan_json_lines_contract() {
    let dir = tempfile::tempdir().unwrap();
    let photos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/qr-photos");
    let photo = photos.join("qrcode-1/1.webp");
    let expected = std::fs::read_to_string(photos.join("qrcode-1/1.txt")).unwrap();
    let blank = photos.join("falsepositives-2/01.webp");
    let garbage = dir.path().join("garbage.png");
    std::fs::write(&garbage, b"\x89PNG\r\n\x1a\n not really").unwrap();
    let missing = dir.path().join("missing.png");
    let args = ["scan", "--json", photo.to_str().unwrap(), blank.to_str().unwrap(), garbage.to_str().unwrap(), missing.to_str().unwrap()];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["path"], photo.to_str().unwrap());
    assert_eq!(lines[0]["codes"][0]["text"].as_str().unwrap().replace("\r\n", "\n").trim(), expected.replace("\r\n", "\n").trim());
    assert!(lines[0]["ms"].as_f64().unwrap() > 0.0);
    assert_eq!(lines[1]["codes"], serde_json::json!([]));
    assert!(lines[1].get("error").is_none());
    for (line, needle) in [(&lines[2], "unreadable image"), (&lines[3], "cannot read the file")] {
        assert_eq!(line["codes"], serde_json::json!([]));
        assert_eq!(line["ms"], 0);
        assert!(line["error"].as_str().unwrap().contains(needle), "{line}");
    }
    assert!(stderr(&o).contains("2 of 4 images could not be read"));
}

/// `decode IMAGE` with an image holding no URI says what it read instead.
#[test]
fn decode_image_without_a_uri_says_what_it_holds() {
    let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/qr-photos/qrcode-1/1.webp");
    let (code, err) = fails(&["decode", photo.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("holds no activation or otpauth URI"), "{err}");
}
