//! Seeds and activation codes at rest: sealed under the key file's key, so a copy of the state
//! database without its key file yields none; a database from before sealing is sealed on open; a
//! rotation re-wraps everything under a new key.

use ring::rand::SystemRandom;
use softtoken_core::activation::PendingActivation;
use softtoken_core::otp::{Algorithm, Totp};
use softtoken_core::Secret;
use softtoken_provider::{IssueOptions, Provider, ProviderError};
use std::path::Path;

mod support;

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Issues and completes a token as the app would; returns (serial, activation code, seed).
fn activated(p: &Provider) -> (String, String, Vec<u8>) {
    let rng = SystemRandom::new();
    let issued = p.issue(&IssueOptions::default(), now()).unwrap();
    let pending = PendingActivation::from_uri(&issued.uri, &issued.password, None, &rng).unwrap();
    let rc = pending.registration_code.to_string();
    let identity = pending.into_identity(None, None, now(), &rng).unwrap();
    p.complete(&issued.serial, &rc, now()).unwrap();
    (issued.serial.clone(), issued.activation_code.clone(), identity.seed.expose().to_vec())
}

fn code(seed: &[u8]) -> String {
    Totp::new(Secret::from_slice(seed), Algorithm::Sha256, 6, 30).unwrap().code_at(now()).code
}

/// The database's bytes on disk (main file and write-ahead log).
fn on_disk(state: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(state).unwrap();
    bytes.extend(std::fs::read(state.with_extension("db-wal")).unwrap_or_default());
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The attack: copy the state database (a backup, a stolen disk image) and read the seeds out of
/// it. Before, they were stored as they are; now the copy alone holds no seed and no activation
/// code, and does not open without its key file.
#[test]
fn a_copied_database_without_its_key_file_yields_no_seed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("p.db");
    let p = Provider::open(&state).unwrap();
    let (serial, activation_code, seed) = activated(&p);
    assert!(p.verify(&serial, &code(&seed), now(), 1).unwrap().valid);
    drop(p);
    let bytes = on_disk(&state);
    assert!(!contains(&bytes, &seed), "the seed is in the database file");
    assert!(!contains(&bytes, activation_code.as_bytes()) && !contains(&bytes, activation_code.replace('-', "").as_bytes()), "the activation code is in it");

    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("p.db");
    std::fs::copy(&state, &copy).unwrap();
    let err = Provider::open(&copy).err().expect("the copy does not open without its key").to_string();
    assert!(err.contains("key file") && err.contains("missing"), "{err}");
    let other_key = elsewhere.path().join("other.kek");
    softtoken_provider::sealed::Kek::load_or_create(&other_key).unwrap();
    assert!(matches!(Provider::open_with_kek(&copy, &other_key), Err(ProviderError::KekMismatch { .. })));
    // With its key file the copy works.
    std::fs::copy(dir.path().join("p.db.kek"), elsewhere.path().join("p.db.kek")).unwrap();
    assert!(Provider::open(&copy).unwrap().verify(&serial, &code(&seed), now(), 1).unwrap().valid);
}

/// The same on either database (SQLite, or PostgreSQL with SOFTTOKEN_TEST_POSTGRES): what is
/// stored holds neither seed nor activation code, and another key file opens nothing.
#[test]
fn the_stored_database_without_its_key_file_yields_no_seed() {
    let db = support::TestDb::new();
    let p = db.open();
    let (serial, activation_code, seed) = activated(&p);
    assert!(p.verify(&serial, &code(&seed), now(), 1).unwrap().valid);
    drop(p);
    let bytes = db.stored_bytes();
    assert!(contains(&bytes, serial.as_bytes()), "the token's row was read");
    let seed_hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!contains(&bytes, &seed) && !contains(&bytes, seed_hex.as_bytes()), "the seed is stored readable");
    assert!(
        !contains(&bytes, activation_code.as_bytes()) && !contains(&bytes, activation_code.replace('-', "").as_bytes()),
        "the activation code is stored readable"
    );
    let other_key = db.dir.path().join("other.kek");
    softtoken_provider::sealed::Kek::load_or_create(&other_key).unwrap();
    let database = softtoken_provider::Database::parse(&db.database);
    assert!(matches!(Provider::open_database(&database, &other_key), Err(ProviderError::KekMismatch { .. })));
    assert!(Provider::open_database(&database, &db.dir.path().join("missing.kek")).is_err(), "a missing key file is not made anew");
}

#[test]
fn a_database_copy_without_its_key_file_cannot_activate_a_pending_link() {
    // The attack (issue 28, finding 7): link tokens were stored in clear; from a copied database
    // without its key file, an attacker fetched the activation code through the live server
    // and activated first. Now only a hash of each token is stored.
    let db = support::TestDb::new();
    let p = db.open();
    let opts = IssueOptions { online_base_url: Some("https://bank.example".into()), ..Default::default() };
    let issued = p.issue(&opts, now()).unwrap();
    let link = issued.link.clone().unwrap();
    let token = link.rsplit_once("token=").unwrap().1.to_string();
    assert_eq!(token.len(), 32, "{link}");
    drop(p);
    let bytes = db.stored_bytes();
    assert!(contains(&bytes, issued.serial.as_bytes()), "the token's row was read");
    assert!(!contains(&bytes, token.as_bytes()) && !contains(&bytes, token.to_uppercase().as_bytes()), "the link token is stored readable");
    // Whatever is stored does not work as a token; the real link still does.
    let p = db.open();
    let stored = stored_link_tokens(&db);
    assert_eq!(stored.len(), 1);
    assert!(p.link_activation(&stored[0], now()).is_err());
    assert_eq!(p.link_activation(&token, now()).unwrap().serial, issued.serial);
}

/// The activation_token column as stored.
fn stored_link_tokens(db: &support::TestDb) -> Vec<String> {
    db.query_strings("SELECT activation_token FROM tokens WHERE activation_token IS NOT NULL")
}

/// A database from before link tokens were hashed: its clear tokens are hashed on open, and the
/// links already sent keep working.
#[test]
fn clear_link_tokens_of_an_older_database_are_hashed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("p.db");
    let p = Provider::open(&state).unwrap();
    let opts = IssueOptions { online_base_url: Some("https://bank.example".into()), ..Default::default() };
    let issued = p.issue(&opts, now()).unwrap();
    let token = issued.link.clone().unwrap().rsplit_once("token=").unwrap().1.to_string();
    drop(p);
    let db = rusqlite::Connection::open(&state).unwrap();
    db.execute("UPDATE tokens SET activation_token = ?1 WHERE serial = ?2", rusqlite::params![token, issued.serial]).unwrap();
    db.execute("DELETE FROM meta WHERE name = 'link_tokens'", []).unwrap();
    drop(db);
    let p = Provider::open(&state).unwrap();
    assert_eq!(p.link_activation(&token, now()).unwrap().serial, issued.serial);
    let stored: String = rusqlite::Connection::open(&state).unwrap().query_row("SELECT activation_token FROM tokens", [], |r| r.get(0)).unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);
}

/// A state database written before secrets were sealed (plain seed and activation code, no key
/// recorded) is sealed on its first open and keeps working.
#[test]
fn a_database_from_before_sealing_is_sealed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("p.db");
    let p = Provider::open(&state).unwrap();
    let (serial, activation_code, seed) = activated(&p);
    drop(p);
    // Written back as the previous version stored them.
    let db = rusqlite::Connection::open(&state).unwrap();
    db.execute("UPDATE tokens SET activation_code = ?1, seed = ?2 WHERE serial = ?3", rusqlite::params![activation_code, seed, serial]).unwrap();
    db.execute("DELETE FROM meta", []).unwrap();
    drop(db);
    std::fs::remove_file(dir.path().join("p.db.kek")).unwrap();
    assert!(contains(&on_disk(&state), &seed));

    let p = Provider::open(&state).unwrap();
    assert!(p.verify(&serial, &code(&seed), now(), 1).unwrap().valid);
    drop(p);
    assert!(!contains(&on_disk(&state), &seed), "sealed, and the plaintext pages vacuumed away");
}

/// Rotation re-wraps every secret under a new key (on either database); the old key no longer opens the database, the
/// new one does, and codes verify as before.
#[test]
fn rotating_the_key_rewraps_every_secret() {
    let db = support::TestDb::new();
    let mut p = db.open();
    let (serial, _, seed) = activated(&p);
    p.issue(&IssueOptions::default(), now()).unwrap(); // one not yet completed: its code only
    let old_id = p.kek().id().to_string();
    let rotated = p.rotate_kek().unwrap();
    assert_eq!(rotated.rewrapped, 3);
    assert_ne!(rotated.kek_id, old_id);
    assert!(p.verify(&serial, &code(&seed), now(), 1).unwrap().valid);
    drop(p);
    let database = softtoken_provider::Database::parse(&db.database);
    assert!(matches!(Provider::open_database(&database, &rotated.retired), Err(ProviderError::KekMismatch { .. })));
    let p = db.open();
    assert_eq!(p.kek().id(), rotated.kek_id);
    assert!(p.verify(&serial, &code(&seed), now(), 1).unwrap().valid);
}

/// A golden state database of each format (fixtures/provider/, made by
/// tests/vectors/make_golden_provider_db.sh), copied and opened: its completed token verifies
/// codes from the seed recorded beside it and its online activation still gives its code. The
/// plain one (v0) is sealed on open. Tested forever.
#[test]
fn golden_provider_databases_of_every_format_open() {
    use std::os::unix::fs::PermissionsExt;
    for (version, sealed) in [("v0-plain", false), ("v1-sealed", true)] {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/provider").join(version);
        let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture.join("expected.json")).unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.db");
        let mut files = vec!["state.db"];
        if sealed {
            files.push("state.db.kek");
        }
        for f in files {
            std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
            // git keeps no 0600: the copy is made private as an operator's would be.
            std::fs::set_permissions(dir.path().join(f), std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let seed_hex = expected["completed"]["seed_hex"].as_str().unwrap();
        let seed: Vec<u8> = (0..seed_hex.len()).step_by(2).map(|i| u8::from_str_radix(&seed_hex[i..i + 2], 16).unwrap()).collect();
        assert_eq!(contains(&on_disk(&state), &seed), !sealed, "{version}: the seed is stored as the format says");
        let p = Provider::open(&state).unwrap();
        let serial = expected["completed"]["serial"].as_str().unwrap();
        assert!(p.verify(serial, &code(&seed), now(), 1).unwrap().valid, "{version}");
        let link = expected["pending"]["link"].as_str().unwrap();
        let token = link.rsplit("token=").next().unwrap();
        let a = p.link_activation(token, now()).unwrap();
        assert_eq!(a.serial, expected["pending"]["serial"].as_str().unwrap());
        assert_eq!(a.activation_code, expected["pending"]["activation_code"].as_str().unwrap(), "{version}");
        drop(p);
        assert!(!contains(&on_disk(&state), &seed), "{version}: sealed once opened");
    }
}
