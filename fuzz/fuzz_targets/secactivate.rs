//! Entrust activation URIs: parse, then decrypt with a fixed password (the MAC fails for random
//! input; structure-aware inputs come from the seeded corpus).
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::entrust::secactivate;

fuzz_target!(|text: &str| {
    if let Ok(u) = secactivate::SecActivateUri::parse(text) {
        let _ = u.decrypt("12345678");
    }
    let _ = secactivate::normalize_password(text);
});
