//! Google's otpauth-migration:// URIs (base64 protobuf): never a panic, never an allocation driven
//! by a count it read; what parses exports and parses back to the same tokens.
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::uri::migration;

fuzz_target!(|data: &[u8]| {
    let uri = format!("otpauth-migration://offline?data={}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, data));
    for text in [uri.as_str(), std::str::from_utf8(data).unwrap_or("")] {
        if let Ok(part) = migration::parse(text) {
            let tokens: Vec<_> = part.items.into_iter().filter_map(|(_, t)| t.ok()).filter(|t| migration::unsupported_reason(t).is_none()).collect();
            let uris = migration::format(&tokens, 10, 1);
            let back: Vec<_> = uris.iter().flat_map(|u| migration::parse(u).expect("formatted parses").items).map(|(_, t)| t.expect("formatted token")).collect();
            assert_eq!(back, tokens);
        }
    }
});
