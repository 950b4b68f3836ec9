//! QR scanning of raw camera frames of any size and stride: never a panic, bounded work.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Frame {
    width: u16,
    height: u16,
    stride_extra: u8,
    pixels: Vec<u8>,
}

fuzz_target!(|f: Frame| {
    let (w, h) = (f.width as u32 % 600, f.height as u32 % 600);
    let stride = w + f.stride_extra as u32 % 16;
    if let Ok(frame) = softtoken_scan::LumaFrame::new(w, h, stride, &f.pixels) {
        let _ = softtoken_scan::scan_luma(&frame, &softtoken_scan::ScanOptions::camera());
    }
});
