//! The scanner against real photos (zxing-cpp's test images, `fixtures/qr-photos`),
//! synthetic distorted images, camera-shaped frames and bad files.

mod synth;

use softtoken_scan::{decode_image, scan_image, scan_luma, LumaFrame, ScanError, ScanOptions};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/qr-photos");
    assert!(dir.is_dir(), "the vendored photo corpus is expected at {}", dir.display());
    dir
}

fn norm(s: &str) -> String {
    s.replace("\r\n", "\n").trim().to_owned()
}

fn images_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg" | "webp" | "gif")))
        .collect();
    out.sort();
    out
}

/// Reads every positive photo; a floor, not a target: zxing-cpp reads 65 of the 71, and the
/// benchmark (`bench/scan.py`) compares the two in the same run.
#[test]
fn reads_the_photo_corpus_without_misreads() {
    let (mut positives, mut read) = (0, 0);
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.file_name().unwrap().to_str().unwrap().starts_with("qrcode-") {
            continue;
        }
        for path in images_in(&dir) {
            positives += 1;
            let codes = scan_image(&std::fs::read(&path).unwrap(), &ScanOptions::file()).unwrap();
            match std::fs::read(path.with_extension("txt")) {
                Ok(expected) => {
                    let expected = norm(&String::from_utf8_lossy(&expected));
                    if codes.iter().any(|c| norm(&c.text) == expected) {
                        read += 1;
                    } else {
                        assert!(codes.is_empty(), "{}: misread as {:?}", path.display(), codes);
                    }
                }
                Err(_) => read += usize::from(!codes.is_empty()), // multi-part symbols: any decode
            }
        }
    }
    assert_eq!(positives, 71);
    assert!(read >= 63, "read {read} of {positives} photos");
}

#[test]
fn finds_nothing_in_images_without_qr_codes() {
    let mut checked = 0;
    for dir in ["falsepositives-1", "falsepositives-2"] {
        for path in images_in(&corpus().join(dir)) {
            let codes = scan_image(&std::fs::read(&path).unwrap(), &ScanOptions::file()).unwrap();
            assert!(codes.is_empty(), "{}: false positive {:?}", path.display(), codes);
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

/// Distorted secactivate and otpauth codes (the benchmark's generator, another seed).
#[test]
fn reads_synthetic_distorted_codes() {
    let mut rng = synth::Rng(20261123);
    let n = 40;
    let mut read = 0;
    for i in 0..n {
        let s = synth::sample(&mut rng, i);
        let codes = scan_image(&s.bytes, &ScanOptions::file()).unwrap();
        if codes.iter().any(|c| c.text == s.text) {
            read += 1;
        } else {
            assert!(codes.is_empty(), "{}: misread {:?}", s.stem, codes);
        }
    }
    assert!(read >= 34, "read {read} of {n} synthetic images");
}

fn clean_qr(text: &str, module: u32) -> image::GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
    code.render::<image::Luma<u8>>().module_dimensions(module, module).build()
}

/// A camera Y plane: rows padded to a stride, the padding full of junk.
#[test]
fn reads_a_strided_camera_frame() {
    let text = "otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bank";
    let img = clean_qr(text, 4);
    let (w, h) = img.dimensions();
    let stride = w + 37;
    let mut plane = vec![0u8; (stride * h) as usize];
    for y in 0..h {
        for x in 0..stride {
            plane[(y * stride + x) as usize] = if x < w { img.get_pixel(x, y)[0] } else { (x * 31 + y * 7) as u8 };
        }
    }
    let frame = LumaFrame::new(w, h, stride, &plane).unwrap();
    let codes = scan_luma(&frame, &ScanOptions::camera());
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].text, text);
}

/// Several codes in one frame are all returned, each once.
#[test]
fn returns_every_code_in_a_frame() {
    let (a, b) = (clean_qr("first code", 4), clean_qr("second code", 4));
    let mut canvas = image::GrayImage::from_pixel(a.width() + b.width() + 40, a.height().max(b.height()) + 20, image::Luma([255]));
    image::imageops::overlay(&mut canvas, &a, 10, 10);
    image::imageops::overlay(&mut canvas, &b, (a.width() + 30) as i64, 10);
    let (w, h) = canvas.dimensions();
    let codes = scan_luma(&LumaFrame::new(w, h, w, canvas.as_raw()).unwrap(), &ScanOptions::file());
    let mut texts: Vec<&str> = codes.iter().map(|c| c.text.as_str()).collect();
    texts.sort();
    assert_eq!(texts, ["first code", "second code"]);
}

/// A screenshot cropped to the symbol (no quiet zone) and a light-on-dark (dark mode) code.
#[test]
fn reads_codes_without_quiet_zone_and_inverted() {
    let text = "igmobileotp://?action=secactivate&enc=AAAA&v=1&mac=BBBB";
    let img = qrcode::QrCode::new(text.as_bytes()).unwrap().render::<image::Luma<u8>>().quiet_zone(false).module_dimensions(3, 3).build();
    let (w, h) = img.dimensions();
    let codes = scan_luma(&LumaFrame::new(w, h, w, img.as_raw()).unwrap(), &ScanOptions::file());
    assert_eq!(codes.first().map(|c| c.text.as_str()), Some(text));
    let inverted: Vec<u8> = clean_qr(text, 3).as_raw().iter().map(|v| 255 - v).collect();
    let (w, h) = clean_qr(text, 3).dimensions();
    let codes = scan_luma(&LumaFrame::new(w, h, w, &inverted).unwrap(), &ScanOptions::file());
    assert_eq!(codes.first().map(|c| c.text.as_str()), Some(text));
}

/// A QR code drawn on a transparent PNG (black "transparent" pixels) is put on white first.
#[test]
fn reads_a_code_on_a_transparent_background() {
    let qr = clean_qr("transparent", 4);
    let rgba =
        image::RgbaImage::from_fn(
            qr.width(),
            qr.height(),
            |x, y| {
                if qr.get_pixel(x, y)[0] < 128 {
                    image::Rgba([0, 0, 0, 255])
                } else {
                    image::Rgba([0, 0, 0, 0])
                }
            },
        );
    let mut png = Vec::new();
    rgba.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let codes = scan_image(&png, &ScanOptions::file()).unwrap();
    assert_eq!(codes.first().map(|c| c.text.as_str()), Some("transparent"));
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn bad_files_give_clear_errors() {
    assert_eq!(scan_image(b"", &ScanOptions::file()).unwrap_err(), ScanError::UnknownFormat);
    assert_eq!(scan_image(b"otpauth://totp/x?secret=AAAA", &ScanOptions::file()).unwrap_err(), ScanError::UnknownFormat);
    // BMP is an image, but not one the scanner reads.
    assert_eq!(scan_image(b"BM\x00\x00\x00\x00", &ScanOptions::file()).unwrap_err(), ScanError::UnknownFormat);

    let mut png = Vec::new();
    clean_qr("truncated", 4).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    for cut in [16, 40, png.len() / 2, png.len() - 13] {
        assert!(matches!(decode_image(&png[..cut]), Err(ScanError::Corrupt(_))), "cut at {cut}: {:?}", decode_image(&png[..cut]).err());
    }

    // A valid header claiming 100 000 × 100 000 pixels: refused before any allocation.
    let mut huge = png.clone();
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&huge[12..29]);
    huge[29..33].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(decode_image(&huge), Err(ScanError::TooLarge { width: 100_000, height: 100_000, .. })), "{:?}", decode_image(&huge).err());

    // 10 000 × 10 000 is within each side's cap but over the pixel cap (64 Mpx).
    let mut wide = png;
    wide[16..20].copy_from_slice(&10_000u32.to_be_bytes());
    wide[20..24].copy_from_slice(&10_000u32.to_be_bytes());
    let crc = crc32(&wide[12..29]);
    wide[29..33].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(decode_image(&wide), Err(ScanError::TooLarge { .. })));
}
