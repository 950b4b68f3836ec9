//! Deep links of every kind and provider addresses: never a panic; an accepted base URL is
//! accepted again as it was returned.
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::link;

fuzz_target!(|text: &str| {
    let _ = link::classify(text);
    if let Ok(url) = link::check_base_url(text) {
        assert_eq!(link::check_base_url(&url).as_deref(), Ok(url.as_str()));
    }
});
