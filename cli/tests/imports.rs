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
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("stdout: {} stderr: {}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
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
    assert!(r["skipped"][0]["reason"].as_str().unwrap().contains("\"motp\" tokens are not supported"));
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
    let missing = e.run(&["import", "/nonexistent/file.txt", "--json"], &[("SOFTTOKEN_PIN", "8080")]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(Env::json(&missing)["skipped"][0]["reason"].as_str().unwrap().contains("cannot read"));
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
            .map(|i| OtpAuth::parse(&format!("otpauth://totp/M{i}:u?secret=GEZDGNBVGY3TQOJ{}", ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L"][i])).unwrap())
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
    assert!(String::from_utf8_lossy(&o.stderr).contains("backup password is needed"));
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
