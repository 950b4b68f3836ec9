//! Every negative case of fixtures/vectors/negative.json gives exactly its error.

use softtoken_core::entrust::{decrypt_uri, ActivationCode, RegistrationCode, SerialNumber};
use softtoken_core::otp::{Algorithm, Totp};
use softtoken_core::Secret;

fn vectors() -> serde_json::Value {
    serde_json::from_str(include_str!("../../fixtures/vectors/negative.json")).unwrap()
}

#[test]
fn secactivate_negatives() {
    let v = vectors();
    let cases = v["secactivate"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for c in cases {
        let err = decrypt_uri(c["uri"].as_str().unwrap(), c["password"].as_str().unwrap()).unwrap_err().to_string();
        match (c["error"].as_str(), c["error_prefix"].as_str()) {
            (Some(e), _) => assert_eq!(err, e, "{}", c["name"]),
            (_, Some(p)) => assert!(err.starts_with(p), "{}: {err}", c["name"]),
            _ => panic!("case without an expected error"),
        }
    }
}

#[test]
fn number_negatives() {
    for c in vectors()["numbers"].as_array().unwrap() {
        let input = c["input"].as_str().unwrap();
        let err = match c["field"].as_str().unwrap() {
            "serial" => SerialNumber::parse(input).unwrap_err(),
            "activation" => ActivationCode::parse(input).unwrap_err(),
            "registration" => RegistrationCode::parse(input).unwrap_err(),
            other => panic!("unknown field {other}"),
        };
        assert_eq!(err.to_string(), c["error"].as_str().unwrap(), "{input}");
    }
}

#[test]
fn totp_negatives() {
    for c in vectors()["totp"].as_array().unwrap() {
        let t = Totp::new(
            Secret::from_slice(c["seed_ascii"].as_str().unwrap().as_bytes()),
            Algorithm::parse(c["algorithm"].as_str().unwrap()).unwrap(),
            c["digits"].as_u64().unwrap() as u8,
            30,
        )
        .unwrap();
        let code = t.code_at(c["time"].as_u64().unwrap()).code;
        assert_eq!(code, c["wrong_code"].as_str().unwrap());
        assert_ne!(code, c["right_code_with_32_byte_seed"].as_str().unwrap());
    }
}
