//! Aegis Authenticator's vault export (`docs/vault.md` in the Aegis repository):
//! `{"version":1,"header":{"slots":…,"params":…},"db":…}`. Plain exports have `slots` and
//! `params` null and `db` an object; encrypted ones have `db` a base64 string, AES-256-GCM under a
//! random master key that each password slot (type 1) wraps with AES-256-GCM under
//! scrypt(password, salt, N, r, p). Nonces and tags are hex. The database lists `entries`
//! (`type` totp/hotp/steam/yandex, `name`, `issuer`, `note`, `info` with a base32 `secret`,
//! `algo`, `digits`, `period` or `counter`) and, from database version 3, `groups`.
//!
//! [`export`] writes the same format, plain or encrypted, so a user can move back to Aegis.

use super::{array_of, crypto, label, num_of, str_of, Cx, Entry, Kind};
use crate::error::{Error, Result};
use crate::identity::{Identity, IdentityKind};
use crate::secret::{hex_decode, hex_encode};
use crate::uri::otpauth::{decode_base32, encode_base32};
use crate::uri::{OtpAuth, OtpKind};
use base64::Engine;
use ring::rand::SecureRandom;
use serde_json::{json, Value};
use std::collections::HashMap;
use zeroize::Zeroizing;

const APP: &str = "Aegis";
/// The newest database version Aegis writes (and softtoken reads).
pub const DB_VERSION: u64 = 3;
/// Most key slots read from one file.
const MAX_SLOTS: usize = 64;
/// The scrypt parameters Aegis uses for password slots, used for softtoken's encrypted exports.
pub const SCRYPT_N: u64 = 1 << 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

pub(super) fn read(v: &Value, cx: &mut Cx) -> Result<()> {
    if v["version"].as_u64() != Some(1) {
        return Err(Error::UnsupportedExport { format: APP, reason: format!("file version {} (softtoken reads version 1)", v["version"]) });
    }
    let db = match &v["db"] {
        Value::String(ciphertext) => decrypt(&v["header"], ciphertext, cx)?,
        Value::Object(_) => v["db"].clone(),
        _ => return Err(cx.malformed("db is neither an object nor an encrypted string")),
    };
    read_db(&db, cx)
}

/// Unwraps the master key with the first password slot the password opens, then decrypts `db`.
fn decrypt(header: &Value, ciphertext: &str, cx: &mut Cx) -> Result<Value> {
    let slots = array_of(cx, header, "slots")?;
    if slots.len() > MAX_SLOTS {
        return Err(Error::TooLarge { what: "Aegis key slots", found: slots.len() as u64, limit: MAX_SLOTS as u64 });
    }
    let password_slots: Vec<&Value> = slots.iter().filter(|s| s["type"].as_u64() == Some(1)).collect();
    if password_slots.is_empty() {
        return Err(Error::UnsupportedExport { format: APP, reason: "no password slot: export again from Aegis with a password".into() });
    }
    let password = cx.password()?.to_string();
    let mut master = None;
    for slot in password_slots {
        let salt = hex(cx, slot, "salt")?;
        let n = num_of(slot, "n").ok_or_else(|| cx.malformed("a slot has no scrypt n"))?;
        let r = num_of(slot, "r").and_then(|r| u32::try_from(r).ok()).ok_or_else(|| cx.malformed("a slot has no scrypt r"))?;
        let p = num_of(slot, "p").and_then(|p| u32::try_from(p).ok()).ok_or_else(|| cx.malformed("a slot has no scrypt p"))?;
        let key = crypto::scrypt(&password, &salt, n, r, p)?;
        let mut wrapped = hex(cx, slot, "key")?;
        wrapped.extend_from_slice(&hex(cx, &slot["key_params"], "tag")?);
        match crypto::aes_gcm_open(&key[..], &hex(cx, &slot["key_params"], "nonce")?, &wrapped, APP) {
            Ok(k) => {
                master = Some(k);
                break;
            }
            Err(Error::WrongExportPassword { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    let master = master.ok_or(Error::WrongExportPassword { format: APP })?;
    let mut sealed = base64::engine::general_purpose::STANDARD.decode(ciphertext.trim()).map_err(|_| cx.malformed("db is not base64"))?;
    sealed.extend_from_slice(&hex(cx, &header["params"], "tag")?);
    // The master key opened: a failing tag now means a damaged file, not a wrong password.
    let plain = crypto::aes_gcm_open(&master, &hex(cx, &header["params"], "nonce")?, &sealed, APP)
        .map_err(|_| cx.malformed("the database fails its authentication tag (the file is damaged)"))?;
    serde_json::from_slice(&plain).map_err(|e| cx.malformed(format!("the decrypted database is not JSON: {e}")))
}

fn hex(cx: &Cx, v: &Value, key: &str) -> Result<Vec<u8>> {
    hex_decode(str_of(v, key)).ok_or_else(|| cx.malformed(format!("{key} is not hex")))
}

fn read_db(db: &Value, cx: &mut Cx) -> Result<()> {
    match db["version"].as_u64() {
        Some(1..=DB_VERSION) => {}
        other => return Err(Error::UnsupportedExport { format: APP, reason: format!("database version {other:?} (softtoken reads 1 to {DB_VERSION})") }),
    }
    let groups: HashMap<&str, &str> = db["groups"].as_array().map(|g| g.iter().map(|g| (str_of(g, "uuid"), str_of(g, "name"))).collect()).unwrap_or_default();
    for e in array_of(cx, db, "entries")? {
        let name = str_of(e, "name");
        let issuer = str_of(e, "issuer");
        let label = label(issuer, name);
        let token = entry(e, name, issuer);
        if token.is_ok() {
            cx.note(&label, e["note"].as_str());
            let mut in_groups: Vec<&str> =
                e["groups"].as_array().map(|g| g.iter().filter_map(|u| groups.get(u.as_str().unwrap_or("")).copied()).collect()).unwrap_or_default();
            if let Some(old) = e["group"].as_str().filter(|g| !g.is_empty()) {
                in_groups.push(old);
            }
            if !in_groups.is_empty() {
                cx.notice(&label, format!("its groups ({}) are not kept: softtoken has no groups", in_groups.join(", ")));
            }
        }
        cx.token(label, token)?;
    }
    Ok(())
}

fn entry(e: &Value, name: &str, issuer: &str) -> Result<OtpAuth> {
    let info = &e["info"];
    let secret = decode_base32(str_of(info, "secret"))?;
    let kind = match str_of(e, "type") {
        "totp" => Kind::Totp,
        "hotp" => Kind::Hotp,
        "steam" => Kind::Steam,
        "yandex" => return Err(Error::UnsupportedExport { format: APP, reason: "Yandex tokens (their PIN-based algorithm) are not supported".into() }),
        "motp" => return Err(Error::UnsupportedExport { format: APP, reason: "mOTP tokens are not supported".into() }),
        other => return Err(Error::UnsupportedExport { format: APP, reason: format!("{other:?} tokens are not supported") }),
    };
    let algorithm = info["algo"].as_str();
    Entry { kind, issuer, account: name, algorithm, digits: num_of(info, "digits"), period: num_of(info, "period"), counter: num_of(info, "counter") }
        .token(secret)
}

/// A random UUID (version 4), as Aegis gives every entry and slot.
fn uuid(rng: &dyn SecureRandom) -> Result<String> {
    let mut b = [0u8; 16];
    crate::secret::fill_random(rng, &mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex_encode(&b);
    Ok(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]))
}

fn random<const N: usize>(rng: &dyn SecureRandom) -> Result<Zeroizing<[u8; N]>> {
    let mut b = Zeroizing::new([0u8; N]);
    crate::secret::fill_random(rng, &mut b[..])?;
    Ok(b)
}

/// The Aegis database JSON of `identities` (every kind Aegis holds: Entrust tokens are TOTP-SHA256).
fn database(identities: &[Identity], rng: &dyn SecureRandom) -> Result<Value> {
    let mut entries = Vec::with_capacity(identities.len());
    // Push tokens are bound to their server (their key answers only its challenges): Aegis holds
    // codes only, so they stay out (the encrypted backup carries them).
    for i in identities.iter().filter(|i| i.has_codes()) {
        let t = i.to_otpauth();
        let (kind, info) = match t.kind {
            OtpKind::Hotp { counter } => {
                ("hotp", json!({"secret": encode_base32(&t.secret), "algo": t.algorithm.name(), "digits": t.digits, "counter": counter}))
            }
            OtpKind::Steam => ("steam", json!({"secret": encode_base32(&t.secret), "algo": "SHA1", "digits": 5, "period": 30})),
            OtpKind::Totp { period } => ("totp", json!({"secret": encode_base32(&t.secret), "algo": t.algorithm.name(), "digits": t.digits, "period": period})),
        };
        // Aegis shows name and issuer apart; softtoken's name already reads "issuer: account".
        let name = match (&i.provider, i.kind) {
            (Some(p), IdentityKind::Totp | IdentityKind::Hotp | IdentityKind::Steam) => i.name.strip_prefix(&format!("{p}: ")).unwrap_or(&i.name).to_string(),
            _ => i.name.clone(),
        };
        entries.push(json!({
            "type": kind,
            "uuid": uuid(rng)?,
            "name": name,
            "issuer": t.issuer.clone().unwrap_or_default(),
            "note": "",
            "favorite": false,
            "icon": null,
            "info": info,
            "groups": [],
        }));
    }
    Ok(json!({"version": DB_VERSION, "entries": entries, "groups": [], "icons_optimized": true}))
}

/// `identities` as an Aegis export: plain JSON without `password`, else encrypted with one
/// password slot (scrypt N = 2^15, r = 8, p = 1, as Aegis itself writes).
pub fn export(identities: &[Identity], password: Option<&str>, rng: &dyn SecureRandom) -> Result<Zeroizing<String>> {
    let db = database(identities, rng)?;
    let file = match password {
        None => json!({"version": 1, "header": {"slots": null, "params": null}, "db": db}),
        Some(password) => {
            let db = Zeroizing::new(serde_json::to_string(&db).map_err(|e| Error::Encoding(e.to_string()))?);
            crate::vault::backup::check_password(password)?;
            let master = random::<32>(rng)?;
            let salt = random::<32>(rng)?;
            let slot_nonce = random::<12>(rng)?;
            let db_nonce = random::<12>(rng)?;
            let key = crypto::scrypt(password, &salt[..], SCRYPT_N, SCRYPT_R, SCRYPT_P)?;
            let wrapped = crypto::aes_gcm_seal(&key[..], &slot_nonce, &master[..])?;
            let sealed = crypto::aes_gcm_seal(&master[..], &db_nonce, db.as_bytes())?;
            let (wrapped_key, slot_tag) = wrapped.split_at(32);
            let (ciphertext, db_tag) = sealed.split_at(sealed.len() - 16);
            json!({
                "version": 1,
                "header": {
                    "slots": [{
                        "type": 1,
                        "uuid": uuid(rng)?,
                        "key": hex_encode(wrapped_key),
                        "key_params": {"nonce": hex_encode(&slot_nonce[..]), "tag": hex_encode(slot_tag)},
                        "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                        "salt": hex_encode(&salt[..]),
                        "repaired": true,
                        "is_backup": false,
                    }],
                    "params": {"nonce": hex_encode(&db_nonce[..]), "tag": hex_encode(db_tag)},
                },
                "db": base64::engine::general_purpose::STANDARD.encode(ciphertext),
            })
        }
    };
    Ok(Zeroizing::new(serde_json::to_string_pretty(&file).map_err(|e| Error::Encoding(e.to_string()))?))
}

#[cfg(test)]
mod tests {
    use super::super::{read as read_input, Format};
    use super::*;
    use crate::otp::Algorithm;
    use ring::rand::SystemRandom;

    const EXPORT: &str = r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":3,"groups":[{"uuid":"g1","name":"Work"}],"entries":[
        {"type":"totp","uuid":"1","name":"alice","issuer":"Example","note":"recovery codes in the safe","icon":null,"groups":["g1"],"info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA256","digits":8,"period":60}},
        {"type":"hotp","uuid":"2","name":"bob","issuer":"","info":{"secret":"GEZDGNBVGY3TQOJQ","algo":"SHA1","digits":6,"counter":5}},
        {"type":"steam","uuid":"3","name":"gaben","issuer":"Steam","info":{"secret":"JBSWY3DP","algo":"SHA1","digits":5,"period":30}},
        {"type":"yandex","uuid":"5","name":"y","issuer":"Yandex","info":{"secret":"JBSWY3DP","algo":"SHA256","digits":8,"period":30,"pin":"1234"}},
        {"type":"totp","uuid":"4","name":"broken","issuer":"X","info":{"secret":"not base32!","algo":"SHA1","digits":6,"period":30}}
    ]}}"#;

    fn parse(bytes: &[u8], password: Option<&str>) -> Result<super::super::Parsed> {
        read_input(bytes, None, password, 0, &SystemRandom::new(), &mut Vec::new())
    }

    #[test]
    fn reads_entries_and_reports_each_problem() {
        let p = parse(EXPORT.as_bytes(), None).unwrap();
        assert_eq!(p.format, Format::Aegis);
        assert_eq!(p.items.len(), 5);
        let a = p.items[0].1.as_ref().unwrap();
        assert_eq!((a.provider.as_deref(), a.name.as_str(), a.algorithm, a.digits, a.period), (Some("Example"), "Example: alice", Algorithm::Sha256, 8, 60));
        assert_eq!(p.items[1].1.as_ref().unwrap().counter, 5);
        assert_eq!(p.items[2].1.as_ref().unwrap().kind, IdentityKind::Steam);
        assert!(p.items[3].1.as_ref().unwrap_err().to_string().contains("Yandex tokens"));
        assert!(p.items[4].1.as_ref().unwrap_err().to_string().starts_with("secret: is not valid base32"));
        assert_eq!(p.items[4].0, "X: broken");
        assert_eq!(p.notices.len(), 2, "{:?}", p.notices);
        assert!(p.notices[0].1.contains("note"));
        assert!(p.notices[1].1.contains("groups (Work)"));
    }

    #[test]
    fn encrypted_export_round_trip_and_wrong_password() {
        let rng = SystemRandom::new();
        let plain = parse(EXPORT.as_bytes(), None).unwrap();
        let ids: Vec<Identity> = plain.items.into_iter().filter_map(|(_, i)| i.ok()).collect();
        let file = export(&ids, Some("correct horse"), &rng).unwrap();
        assert_eq!(parse(file.as_bytes(), None).unwrap_err(), Error::ExportPasswordNeeded { format: APP });
        assert_eq!(parse(file.as_bytes(), Some("wrong horse")).unwrap_err(), Error::WrongExportPassword { format: APP });
        let back = parse(file.as_bytes(), Some("correct horse")).unwrap();
        assert_eq!(back.items.len(), ids.len());
        for ((_, b), a) in back.items.iter().zip(&ids) {
            let b = b.as_ref().unwrap();
            assert_eq!(
                (b.kind, b.seed == a.seed, b.algorithm, b.digits, b.period, b.counter, &b.name),
                (a.kind, true, a.algorithm, a.digits, a.period, a.counter, &a.name)
            );
        }
        let plain_file = export(&ids, None, &rng).unwrap();
        assert_eq!(parse(plain_file.as_bytes(), None).unwrap().items.len(), ids.len());
    }

    #[test]
    fn hostile_and_foreign_files() {
        let no_slot = r#"{"version":1,"header":{"slots":[{"type":2}],"params":{}},"db":"AAAA"}"#;
        assert!(matches!(parse(no_slot.as_bytes(), Some("pw")), Err(Error::UnsupportedExport { .. })));
        // The attack: an encrypted export whose slot asks scrypt for 128 GiB.
        let costly = r#"{"version":1,"header":{"slots":[{"type":1,"key":"00","key_params":{"nonce":"00","tag":"00"},"n":1073741824,"r":128,"p":1,"salt":"00"}],"params":{}},"db":"AAAA"}"#;
        assert!(matches!(parse(costly.as_bytes(), Some("pw")), Err(Error::KdfTooCostly { kdf: "scrypt", .. })));
        let future = r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":9,"entries":[]}}"#;
        assert!(matches!(parse(future.as_bytes(), None), Err(Error::UnsupportedExport { .. })));
        assert!(read_input(b"[]", Some(Format::Aegis), None, 0, &SystemRandom::new(), &mut Vec::new()).is_err());
    }
}
