//! Every file of `fixtures/imports/` (built by `tests/vectors/make_import_fixtures.py` from the
//! formats' descriptions with independent tools) imports exactly: each token's kind, secret,
//! algorithm, digits, period or counter and name equal to `expected.json`.

use super::*;
use crate::identity::IdentityKind;
use crate::secret::hex_encode;
use ring::rand::SystemRandom;

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/imports")
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("expected.json")).unwrap()).unwrap()
}

fn check(identity: &Identity, want: &Value, file: &str) {
    let kind = match want["kind"].as_str().unwrap() {
        "totp" => IdentityKind::Totp,
        "hotp" => IdentityKind::Hotp,
        _ => IdentityKind::Steam,
    };
    let what = format!("{file}: {}", want["id"]);
    assert_eq!(identity.kind, kind, "{what}");
    assert_eq!(hex_encode(identity.seed.expose()), want["secret"].as_str().unwrap(), "{what}");
    assert_eq!(identity.algorithm.name(), want["algorithm"].as_str().unwrap(), "{what}");
    assert_eq!(identity.digits as u64, want["digits"].as_u64().unwrap(), "{what}");
    match kind {
        IdentityKind::Hotp => assert_eq!(identity.counter, want["counter"].as_u64().unwrap(), "{what}"),
        _ => assert_eq!(identity.period as u64, want["period"].as_u64().unwrap(), "{what}"),
    }
    let name = format!("{}: {}", want["issuer"].as_str().unwrap(), want["account"].as_str().unwrap());
    assert_eq!(identity.name, name, "{what}");
    assert_eq!(identity.provider.as_deref(), want["issuer"].as_str(), "{what}");
}

#[test]
fn every_fixture_imports_every_token_exactly() {
    let exp = expected();
    let tokens = exp["tokens"].as_array().unwrap();
    let files = exp["files"].as_array().unwrap();
    assert!(files.len() >= 20);
    for f in files {
        let name = f["file"].as_str().unwrap();
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        let format = Format::from_name(f["format"].as_str().unwrap()).unwrap();
        assert_eq!(detect(&bytes), Some(format), "{name} is detected from its content");
        let password = f["password"].as_str();
        let rng = SystemRandom::new();
        if password.is_some() {
            let e = read(&bytes, None, None, 0, &rng, &mut Vec::new()).unwrap_err();
            assert_eq!(e, Error::ExportPasswordNeeded { format: format.app() }, "{name}");
            let e = read(&bytes, None, Some("not the password"), 0, &rng, &mut Vec::new()).unwrap_err();
            assert_eq!(e, Error::WrongExportPassword { format: format.app() }, "{name}");
        }
        let parsed = read(&bytes, None, password, 0, &rng, &mut Vec::new()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.format, format);
        let want: Vec<&Value> = f["tokens"].as_array().unwrap().iter().map(|id| tokens.iter().find(|t| t["id"] == *id).unwrap()).collect();
        assert_eq!(parsed.items.len(), want.len(), "{name}: {:?}", parsed.items.iter().map(|(l, r)| (l, r.as_ref().err())).collect::<Vec<_>>());
        for ((label, item), w) in parsed.items.iter().zip(&want) {
            let identity = item.as_ref().unwrap_or_else(|e| panic!("{name}: {label}: {e}"));
            check(identity, w, name);
        }
    }
}

#[test]
fn notes_groups_and_tags_become_notices() {
    let rng = SystemRandom::new();
    let read_file =
        |name: &str, password: Option<&str>| read(&std::fs::read(fixtures().join(name)).unwrap(), None, password, 0, &rng, &mut Vec::new()).unwrap();
    let aegis = read_file("aegis-plain.json", None);
    assert_eq!(aegis.notices, vec![("GitHub: alice@example.com".to_string(), "its groups (Work) are not kept: softtoken has no groups".to_string())]);
    assert!(read_file("ente-plain.txt", None).notices[0].1.contains("tags (Work)"));
    assert!(read_file("stratum-plain.json", None).notices[0].1.contains("categories (Work)"));
    assert!(read_file("andotp-plain.json", None).notices[0].1.contains("tags (Work)"));
    assert!(read_file("proton.json", None).notices[0].1.contains("note (26 characters)"));
    assert_eq!(read_file("bitwarden.csv", None).notices, vec![("(Bitwarden items)".to_string(), "1 without a TOTP secret (they hold no token)".to_string())]);
    assert!(read_file("steam.maFile", None).notices[0].1.contains("identity secret"));
}

#[test]
fn damaged_encrypted_files_are_refused_with_a_clear_error() {
    let rng = SystemRandom::new();
    for name in ["aegis-encrypted.json", "2fas-encrypted.2fas", "ente-encrypted.txt", "stratum-encrypted.bin", "andotp-encrypted.json.aes"] {
        let mut bytes = std::fs::read(fixtures().join(name)).unwrap();
        // Truncated: never a panic, never a partial import.
        for cut in [0, 1, 17, bytes.len() / 2, bytes.len() - 1] {
            let e = read(&bytes[..cut], Some(detect(&bytes).unwrap()), Some("correct horse battery"), 0, &rng, &mut Vec::new());
            assert!(e.is_err(), "{name} cut at {cut}");
        }
        // One byte of the binary ones flipped in the ciphertext.
        if name.ends_with(".bin") || name.ends_with(".aes") {
            let n = bytes.len() - 20;
            bytes[n] ^= 1;
            assert!(read(&bytes, None, Some("correct horse battery"), 0, &rng, &mut Vec::new()).is_err(), "{name}");
        }
    }
}

#[test]
fn a_secret_of_a_length_no_encoder_writes_imports_as_the_peers_read_it_and_the_report_says_so() {
    // Issue 33: Ente and Proton Authenticator accept a base32 secret of 1, 3 or 6 characters past
    // a multiple of 8 (a stray character typed after it); softtoken refused the whole token.
    let rng = SystemRandom::new();
    let bytes = std::fs::read(fixtures().join("ente-encrypted-lenient.txt")).unwrap();
    let parsed = read(&bytes, None, Some("correct horse battery"), 0, &rng, &mut Vec::new()).unwrap();
    assert!(parsed.items.iter().all(|(_, r)| r.is_ok()));
    let lenient: Vec<_> = parsed.notices.iter().filter(|(_, n)| n.contains("base32 length")).collect();
    assert_eq!(lenient.len(), 1, "{:?}", parsed.notices);
    assert_eq!(lenient[0].0, "Forum: grace");
    // Typed or scanned one by one, the same secret is still refused: only imports are lenient.
    let odd = format!("{}A", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert!(crate::uri::otpauth::decode_base32(&odd).is_err());
    assert!(crate::uri::OtpAuth::parse(&format!("otpauth://totp/x?secret={odd}")).is_err());
    let (secret, was_lenient) = crate::uri::otpauth::decode_base32_with(&odd, true).unwrap();
    assert!(was_lenient);
    assert_eq!(secret.expose(), b"12345678901234567890");
}

#[test]
fn the_steam_apps_account_file_imports_every_account() {
    let rng = SystemRandom::new();
    let bytes = std::fs::read(fixtures().join("steam-accounts.json")).unwrap();
    assert_eq!(detect(&bytes), Some(Format::Steam));
    let parsed = read(&bytes, None, None, 0, &rng, &mut Vec::new()).unwrap();
    let names: Vec<&str> = parsed.items.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(names, ["Steam: gaben", "Steam: gordon"]);
    assert_eq!(parsed.notices.len(), 2, "each account's identity secret is reported as not kept");
    // LastPass's `accounts` (an array next to a version) is still LastPass.
    assert_eq!(detect(&std::fs::read(fixtures().join("lastpass.json")).unwrap()), Some(Format::LastPass));
}
