//! otpauth:// and steam:// URIs: never a panic; whatever parses formats and parses back equal.
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::uri::OtpAuth;

fuzz_target!(|text: &str| {
    for u in [OtpAuth::parse(text), OtpAuth::parse_steam_uri(text)].into_iter().flatten() {
        let back = OtpAuth::parse(&u.to_uri()).expect("a formatted URI parses");
        assert_eq!(back, u);
    }
});
