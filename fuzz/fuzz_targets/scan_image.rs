//! Image files (PNG, JPEG, WebP, GIF) handed to the scanner: never a panic; sizes capped.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = softtoken_scan::scan_image(data, &softtoken_scan::ScanOptions::file());
});
