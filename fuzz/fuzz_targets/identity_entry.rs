//! An identity as any way in carries it (a backup's or an import's JSON): never a panic, and one
//! that `Identity::validate` accepts holds only what the vault may hold: a provider address the
//! activation link's rules accept, a clock offset of at most a day, a name whose display forms
//! carry no control, format or separator character.
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::identity::{Identity, MAX_TIME_OFFSET_S};
use softtoken_core::{link, text};

fuzz_target!(|data: &[u8]| {
    let Ok(identity) = serde_json::from_slice::<Identity>(data) else { return };
    if identity.validate().is_err() {
        return;
    }
    if let Some(url) = &identity.transaction_url {
        assert!(link::check_base_url(url).is_ok(), "{url:?}");
    }
    assert!(identity.time_offset_s.abs() <= MAX_TIME_OFFSET_S);
    assert!(!text::escape(&identity.name).chars().any(text::is_hazard));
    assert!(!text::neutralise(&identity.name).chars().any(text::is_hazard));
});
