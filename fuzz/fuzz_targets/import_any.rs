//! Every import format, detected or forced, without a password (everything up to the key
//! derivation): never a panic, a typed error for every refusal, and every identity it yields
//! valid and equal to itself after an otpauth round trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::import::{self, Format};
use softtoken_core::uri::OtpAuth;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let format = Format::ALL.get(selector as usize % (Format::ALL.len() + 1)).copied();
    let rng = ring::rand::SystemRandom::new();
    match import::read(bytes, format, None, 1_700_000_000, &rng, &mut Vec::new()) {
        Ok(parsed) => {
            assert!(parsed.items.len() <= import::MAX_ITEMS);
            for (_, item) in parsed.items {
                if let Ok(identity) = item {
                    identity.validate().expect("an imported identity is valid");
                    let back = OtpAuth::parse(&identity.to_otpauth().to_uri()).expect("its otpauth URI parses");
                    assert_eq!(back, identity.to_otpauth());
                }
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
