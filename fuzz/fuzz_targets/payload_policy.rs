//! The decrypted activation payload (JSON) and its policy string: never a panic; a policy that
//! does not read fails closed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::entrust::{secactivate::ActivationPayload, Policy};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = ActivationPayload::from_json(data) {
        let _ = p.parsed_policy();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Policy::parse(Some(text));
    }
});
