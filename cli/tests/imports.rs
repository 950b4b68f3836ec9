//! Imports from other authenticators and exports to them, through the real binary and files.

use serde_json::Value;
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(pin: Option<&str>) -> Self {
        let e = Env { dir: tempfile::tempdir().unwrap() };
        let mut args = vec!["init", "--key-store", "file", "--kdf-memory-mib", "19", "--kdf-passes", "2", "--kdf-lanes", "1", "--json"];
        if pin.is_none() {
            args.push("--no-pin");
        }
        let o = e.run(&args, &[("SOFTTOKEN_NEW_PIN", pin.unwrap_or(""))]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        e
    }
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_softtoken"));
        c.args(args)
            .env("SOFTTOKEN_VAULT", self.dir.path().join("v.stv"))
            .env("SOFTTOKEN_KEY_DIR", self.dir.path().join("keys"))
            .env_remove("SOFTTOKEN_PIN")
            .env_remove("SOFTTOKEN_BACKUP_PASSWORD")
            .env_remove("SOFTTOKEN_IMPORT_PASSWORD")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
    fn file(&self, name: &str, content: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_string()
    }
    fn json(o: &Output) -> Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|_| panic!("stdout: {} stderr: {}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    }
    fn names(&self) -> Vec<String> {
        let o = self.run(&["list", "--json"], &[]);
        Env::json(&o)["identities"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
    }
}

const AEGIS: &str = r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":2,"entries":[
    {"type":"totp","uuid":"1","name":"alice","issuer":"Example","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA256","digits":8,"period":30}},
    {"type":"motp","uuid":"2","name":"old","issuer":"Legacy","info":{"secret":"JBSWY3DP"}},
    {"type":"hotp","uuid":"3","name":"bob","issuer":"","info":{"secret":"GEZDGNBVGY3TQOJQ","algo":"SHA1","digits":6,"counter":0}}
]}}"#;

#[test]
fn aegis_export_with_one_broken_item() {
    let e = Env::new(None);
    let f = e.file("aegis.json", AEGIS);
    let o = e.run(&["import", &f, "--json"], &[]);
    assert_eq!(o.status.code(), Some(3), "partial import exits 3");
    let r = Env::json(&o);
    assert_eq!(r["imported"], 2);
    assert_eq!(r["skipped"].as_array().unwrap().len(), 1);
    assert_eq!(r["skipped"][0]["name"], "Legacy: old");
    assert!(r["skipped"][0]["reason"].as_str().unwrap().contains("mOTP tokens are not supported"));
    assert_eq!(e.names(), vec!["Example: alice", "bob"]);
    let c = Env::json(&e.run(&["code", "Example: alice", "--at", "59", "--json"], &[]));
    let expected = Command::new(env!("CARGO_BIN_EXE_softtoken"))
        .args(["otp", "--secret-base32", "JBSWY3DPEHPK3PXP", "--algorithm", "SHA256", "--digits", "8", "--at", "59", "--json"])
        .output()
        .unwrap();
    assert_eq!(c["codes"][0]["code"], Env::json(&expected)["code"]);
    // Importing again stores nothing new, and says why for each.
    let again = Env::json(&e.run(&["import", &f, "--json"], &[]));
    assert_eq!(again["imported"], 0);
    assert_eq!(again["skipped"].as_array().unwrap().len(), 3);
}

#[test]
fn text_file_of_uris_and_direct_uris() {
    let e = Env::new(Some("8080"));
    let f = e.file("uris.txt", "# from a password manager\notpauth://totp/GitHub:me?secret=JBSWY3DPEHPK3PXP&issuer=GitHub\n\nnot a uri\notpauth://hotp/h?secret=GEZDGNBVGY3TQOJQ&counter=3\n");
    let o = e.run(&["import", &f, "otpauth://totp/Direct:x?secret=GEZDGNBVGY3TQOJQGEZDGNBV", "--json"], &[("SOFTTOKEN_PIN", "8080")]);
    assert_eq!(o.status.code(), Some(3));
    let r = Env::json(&o);
    assert_eq!(r["imported"], 3);
    assert_eq!(r["skipped"][0]["name"], "line 4");
    // A missing file is "not found" (7), a truncated one "corrupt" (6), before the PIN is asked
    // (no SOFTTOKEN_PIN here): nothing is imported, which is not a partial import (3).
    let count = || Env::json(&e.run(&["list", "--json"], &[("SOFTTOKEN_PIN", "8080")]))["identities"].as_array().unwrap().len();
    let before = count();
    let missing = e.run(&["import", &f, "/nonexistent/file.txt", "--json"], &[]);
    assert_eq!(missing.status.code(), Some(7), "{}", String::from_utf8_lossy(&missing.stderr));
    assert_eq!(Env::json(&missing)["error"]["kind"], "not_found");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/file.txt: no such file; nothing was imported"));
    let truncated = e.file("aegis-truncated.json", &AEGIS[..AEGIS.len() / 2]);
    let corrupt = e.run(&["import", &truncated, "--json"], &[]);
    assert_eq!(corrupt.status.code(), Some(6), "{}", String::from_utf8_lossy(&corrupt.stderr));
    assert_eq!(Env::json(&corrupt)["error"]["kind"], "corrupt");
    assert_eq!(count(), before);
}

#[test]
fn google_migration_round_trip_and_missing_batch_part() {
    // Export from one vault as otpauth text and as migration QR codes; import the text elsewhere.
    let a = Env::new(None);
    for i in 0..12 {
        let uri = format!("otpauth://totp/Svc{i}:user?secret=JBSWY3DPEHPK3PX{}", ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"][i]);
        assert!(a.run(&["add", "--uri", &uri], &[]).status.success());
    }
    let out = a.dir.path().join("export.png");
    let o = a.run(&["export", "--format", "migration", "--out", out.to_str().unwrap(), "--json"], &[]);
    let r = Env::json(&o);
    assert_eq!((r["exported"].as_u64(), r["paths"].as_array().unwrap().len()), (Some(12), 2));
    for p in r["paths"].as_array().unwrap() {
        assert!(std::fs::read(p.as_str().unwrap()).unwrap().starts_with(b"\x89PNG"));
    }
    let text = a.dir.path().join("export.txt");
    assert!(a.run(&["export", "--format", "otpauth", "--out", text.to_str().unwrap()], &[]).status.success());
    let b = Env::new(None);
    let r = Env::json(&b.run(&["import", text.to_str().unwrap(), "--json"], &[]));
    assert_eq!(r["imported"], 12);
    // Codes agree between the two vaults.
    let ca = Env::json(&a.run(&["code", "--at", "1700000000", "--json"], &[]));
    let cb = Env::json(&b.run(&["code", "--at", "1700000000", "--json"], &[]));
    let codes = |v: &Value| v["codes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(codes(&ca), codes(&cb));
}

#[test]
fn migration_uri_batch_with_a_part_missing_is_reported() {
    // Make a two-part batch through an export to otpauth text, then convert via the core format.
    let uris: Vec<String> = {
        use softtoken_core::uri::{migration, OtpAuth};
        let tokens: Vec<OtpAuth> = (0..12)
            .map(|i| {
                OtpAuth::parse(&format!("otpauth://totp/M{i}:u?secret=GEZDGNBVGY3TQOJ{}", ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"][i]))
                    .unwrap()
            })
            .collect();
        migration::format(&tokens, 10, 4242)
    };
    assert_eq!(uris.len(), 2);
    let e = Env::new(None);
    let o = e.run(&["import", &uris[0], "--json"], &[]);
    assert_eq!(o.status.code(), Some(3));
    let r = Env::json(&o);
    assert_eq!(r["imported"], 10);
    assert_eq!(r["skipped"][0]["name"], "migration batch 4242: QR code 2 of 2");
    assert_eq!(r["skipped"][0]["reason"], "not given: import every QR code of the export");
    let o = e.run(&["import", &uris[1], "--json"], &[]);
    let r = Env::json(&o);
    assert_eq!(r["imported"], 2);
    assert_eq!(e.names().len(), 12);
}

#[test]
fn backups_ask_for_their_password_only() {
    let a = Env::new(None);
    assert!(a.run(&["add", "--uri", "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"], &[]).status.success());
    let b = a.dir.path().join("b.stbk");
    let pw = ("SOFTTOKEN_BACKUP_PASSWORD", "backup pass 1");
    assert!(a.run(&["export", "--out", b.to_str().unwrap()], &[pw]).status.success());
    let fresh = Env::new(None);
    let o = fresh.run(&["import", b.to_str().unwrap(), "--json"], &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("this softtoken backup export is encrypted: set SOFTTOKEN_IMPORT_PASSWORD"));
    let r = Env::json(&fresh.run(&["import", b.to_str().unwrap(), "--json"], &[pw]));
    assert_eq!(r["imported"], 1);
}

#[test]
fn open_previews_then_stores_only_when_confirmed() {
    let e = Env::new(None);
    let link = "otpauth://totp/Shop:me?secret=JBSWY3DPEHPK3PXP&issuer=Shop";
    let preview = Env::json(&e.run(&["open", link, "--json"], &[]));
    assert_eq!((preview["kind"].as_str(), preview["issuer"].as_str()), (Some("otpauth"), Some("Shop")));
    assert_eq!(preview["stored"].as_array().unwrap().len(), 0);
    assert!(e.names().is_empty(), "a preview stores nothing");
    let stored = Env::json(&e.run(&["open", link, "--yes", "--json"], &[]));
    assert_eq!(stored["stored"][0], "Shop: me");
    let v: Value = serde_json::from_str(include_str!("../../fixtures/vectors/entrust.json")).unwrap();
    let uri = v["secactivate"]["uri"].as_str().unwrap();
    let p = Env::json(&e.run(&["open", uri, "--password", "54998317", "--json"], &[]));
    assert_eq!((p["kind"].as_str(), p["serial"].as_str(), p["provider"].as_str()), (Some("secactivate"), Some("48244-13456"), Some("myid.umc.edu")));
    assert_eq!(p["registration_code"].as_str().unwrap().len(), 11);
    let bad = e.run(&["open", "https://example.com/x", "--json"], &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(e.names().len(), 1);
}

fn fixture(name: &str) -> String {
    format!("{}/../fixtures/imports/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn encrypted_exports_import_with_their_password_and_a_wrong_one_stores_nothing() {
    let e = Env::new(None);
    let files = [fixture("aegis-encrypted.json"), fixture("2fas-encrypted.2fas")];
    // The attack on consistency: one good file and one with a wrong password. Nothing is stored.
    let wrong = ("SOFTTOKEN_IMPORT_PASSWORD", "not the password");
    let o = e.run(&["import", &files[0], &files[1], "--json"], &[wrong]);
    assert_eq!(o.status.code(), Some(4), "wrong password is exit 4: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong password for this Aegis export; nothing was imported"));
    assert!(e.names().is_empty());
    let pw = ("SOFTTOKEN_IMPORT_PASSWORD", "correct horse battery");
    let o = e.run(&["import", &files[0], "--json"], &[pw]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let r = Env::json(&o);
    assert_eq!(r["imported"], 7);
    assert_eq!(r["notices"][0]["name"], "GitHub: alice@example.com");
    // The same tokens again from 2FAS: every one is a duplicate, reported by name.
    let o = e.run(&["import", &files[1], "--json"], &[pw]);
    assert_eq!(o.status.code(), Some(3));
    let r = Env::json(&o);
    assert_eq!(r["imported"], 0);
    assert_eq!(r["skipped"].as_array().unwrap().len(), 7);
    assert!(r["skipped"][0]["reason"].as_str().unwrap().contains("already in the vault"), "{}", r["skipped"][0]);
    assert_eq!(e.names().len(), 7);
    // A Steam token shows Steam codes.
    let c = Env::json(&e.run(&["code", "Steam: gaben", "--json"], &[]));
    let code = c["codes"][0]["code"].as_str().unwrap();
    assert!(code.len() == 5 && code.bytes().all(|b| b"23456789BCDFGHJKMNPQRTVWXY".contains(&b)), "{code}");
}

#[test]
fn forced_format_and_unknown_files() {
    let e = Env::new(None);
    let odd = e.file("export.dat", "{\"what\":1}");
    // A file that is no export at all stops the import (nothing stored), not a partial one.
    let o = e.run(&["import", &odd, "--json"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(Env::json(&o)["error"]["message"].as_str().unwrap().contains("not a format softtoken imports"));
    let o = e.run(&["import", &fixture("lastpass.json"), "--format", "keepass"], &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"keepass\" is not one of backup, otpauth, aegis"));
    // A LastPass file read as 2FAS says what is wrong; read as LastPass, it imports.
    let o = e.run(&["import", &fixture("lastpass.json"), "--format", "2fas", "--json"], &[]);
    assert!(Env::json(&o)["error"]["message"].as_str().unwrap().contains("not a readable 2FAS export"));
    let o = e.run(&["import", &fixture("lastpass.json"), "--format", "lastpass", "--json"], &[]);
    assert_eq!(Env::json(&o)["imported"], 4);
}

#[test]
fn aegis_export_reads_back_in_every_kind() {
    let e = Env::new(None);
    let pw = ("SOFTTOKEN_IMPORT_PASSWORD", "correct horse battery");
    assert!(e.run(&["import", &fixture("andotp-plain.json")], &[pw]).status.success());
    let out = e.dir.path().join("aegis-out.json");
    let bpw = ("SOFTTOKEN_BACKUP_PASSWORD", "export password 1");
    let o = e.run(&["export", "--format", "aegis", "--out", out.to_str().unwrap()], &[bpw]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fresh = Env::new(None);
    let o = fresh.run(&["import", out.to_str().unwrap(), "--json"], &[("SOFTTOKEN_IMPORT_PASSWORD", "export password 1")]);
    assert_eq!(Env::json(&o)["imported"], 7, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fresh.names(), e.names());
    for name in e.names().iter().filter(|n| !["Server: erin", "Door: frank"].contains(&n.as_str())) {
        let a = Env::json(&e.run(&["code", name, "--at", "1000000", "--json"], &[]));
        let b = Env::json(&fresh.run(&["code", name, "--at", "1000000", "--json"], &[]));
        assert!(a["codes"][0]["code"].is_string(), "{a}");
        assert_eq!(a["codes"][0]["code"], b["codes"][0]["code"], "{name}");
    }
}

#[test]
fn auto_backup_after_every_change_keeps_the_newest() {
    let e = Env::new(None);
    let dir = e.dir.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    let bpw = ("SOFTTOKEN_BACKUP_PASSWORD", "auto backup pw");
    let o = e.run(&["auto-backup", dir.to_str().unwrap(), "--keep", "2", "--json"], &[bpw]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(Env::json(&o)["keep"], 2);
    for uri in ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", "otpauth://totp/b?secret=GEZDGNBVGY3TQOJQ", "otpauth://totp/c?secret=KRUGS4ZANFZSAYJA"] {
        assert!(e.run(&["add", "--uri", uri], &[]).status.success());
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|f| f.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    let status = Env::json(&e.run(&["auto-backup", "--json"], &[]));
    assert!(status["last_backup_at"].is_u64() && status["last_error"].is_null(), "{status}");
    let fresh = Env::new(None);
    let o = fresh.run(&["import", files[1].to_str().unwrap(), "--json"], &[("SOFTTOKEN_IMPORT_PASSWORD", "auto backup pw")]);
    assert_eq!(Env::json(&o)["imported"], 3);
    assert_eq!(Env::json(&e.run(&["auto-backup", "--off", "--json"], &[]))["enabled"], false);
}
