//! softtoken backup files: never a panic; Argon2 parameters above what a phone affords are refused
//! before any memory is taken. Inputs whose header asks for more than the minimum parameters are
//! cut down to them, so each execution costs one cheap derivation (the refusal of costly ones is
//! a unit test).
#![no_main]
use libfuzzer_sys::fuzz_target;
use softtoken_core::vault::backup;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 22 && bytes.starts_with(backup::MAGIC) {
        bytes[10..14].copy_from_slice(&(19u32 * 1024).to_le_bytes());
        bytes[14..18].copy_from_slice(&2u32.to_le_bytes());
        bytes[18..22].copy_from_slice(&1u32.to_le_bytes());
    }
    let _ = backup::decrypt(&bytes, "fuzz password");
});
