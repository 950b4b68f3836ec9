//! The two QR decoders behind one call each; a panic inside a decoder is contained, never spread.

use crate::binarize::{local_threshold, Precomputed};
use crate::frame::Gray;
#[cfg(feature = "rqrr")]
use crate::text::decode_text;
use rxing::common::{BitMatrix, HybridBinarizer};
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source};
use std::borrow::Cow;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Every QR text rxing's zxing-cpp port reads in `img` (it honours ECI itself).
pub(crate) fn rxing(img: &Gray) -> Vec<String> {
    rxing_binarized(img, local_threshold(img).as_ref())
}

/// [`rxing`] with `img`'s local-threshold matrix already made (`None`: under 40 pixels a side).
pub(crate) fn rxing_binarized(img: &Gray, local: Option<&BitMatrix>) -> Vec<String> {
    contained(|| {
        let Ok(source) = Luma8Source::new_with_slice(&img.px, img.width as u32, img.height as u32) else {
            return Vec::new();
        };
        let hints = DecodeHints { TryHarder: Some(true), PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])), ..Default::default() };
        let matrix = match local {
            Some(m) => Cow::Borrowed(m),
            // Under 40 pixels a side: rxing's global-histogram threshold.
            None => match HybridBinarizer::new(source.clone()).get_black_matrix() {
                Ok(m) => Cow::Owned(m.clone()),
                Err(_) => return Vec::new(),
            },
        };
        let found = QrReader.decode_multiple_with_hints(&mut BinaryBitmap::new(Precomputed::new(source, matrix)), &hints);
        match found {
            Ok(found) => found.into_iter().map(|r| r.getText().to_owned()).collect(),
            Err(_) => Vec::new(),
        }
    })
}

/// Every QR text rqrr reads in `img`; bytes become text by [`decode_text`].
#[cfg(feature = "rqrr")]
pub(crate) fn rqrr(img: &Gray) -> Vec<String> {
    contained(|| {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(img.width, img.height, |x, y| img.px[y * img.width + x]);
        let mut out = Vec::new();
        for grid in prepared.detect_grids() {
            let mut bytes = Vec::new();
            if grid.decode_to(&mut bytes).is_ok() {
                out.push(decode_text(&bytes));
            }
        }
        out
    })
}

/// Builds without rqrr (phones) read nothing with it; `scan_luma` does not schedule it there.
#[cfg(not(feature = "rqrr"))]
pub(crate) fn rqrr(_img: &Gray) -> Vec<String> {
    Vec::new()
}

/// Runs a decoder; a panic in it (rqrr 0.11 has some on odd grids) counts as "nothing read".
fn contained(f: impl FnOnce() -> Vec<String>) -> Vec<String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_default()
}

/// Finder-pattern candidates rxing's detector sees in a local-threshold matrix (dark-on-light, and
/// light-on-dark in the flipped matrix): a cheap test of whether a symbol may be present at all.
pub(crate) fn finder_candidates(mut matrix: BitMatrix) -> (usize, usize) {
    let found = catch_unwind(AssertUnwindSafe(|| {
        let dark = rxing::qrcode::cpp_port::detector::FindFinderPatterns(&matrix, true, 0).len();
        matrix.flip_self();
        let light = rxing::qrcode::cpp_port::detector::FindFinderPatterns(&matrix, true, 0).len();
        (dark, light)
    }));
    found.unwrap_or((1, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn symbol(data: &[u8]) -> Gray<'static> {
        let img = qrcode::QrCode::new(data).unwrap().render::<image::Luma<u8>>().module_dimensions(4, 4).build();
        let (w, h) = img.dimensions();
        Gray { width: w as usize, height: h as usize, px: Cow::Owned(img.into_raw()) }
    }

    #[test]
    #[cfg(feature = "rqrr")]
    fn both_decoders_read_a_clean_symbol() {
        let img = symbol(b"otpauth://totp/a?secret=JBSWY3DPEHPK3PXP");
        assert_eq!(rxing(&img), ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"]);
        assert_eq!(rqrr(&img), ["otpauth://totp/a?secret=JBSWY3DPEHPK3PXP"]);
    }

    #[test]
    #[cfg(feature = "rqrr")]
    fn rqrr_bytes_that_are_not_utf8_fall_back_to_latin1_and_shift_jis() {
        assert_eq!(rqrr(&symbol(&[b'c', b'a', b'f', 0xE9])), ["café"]);
        assert_eq!(rqrr(&symbol(&[0x83, 0x65, 0x83, 0x58, 0x83, 0x67])), ["テスト"]);
    }

    #[test]
    fn a_blank_frame_reads_nothing() {
        let img = Gray { width: 64, height: 64, px: Cow::Owned(vec![255; 64 * 64]) };
        assert!(rxing(&img).is_empty() && rqrr(&img).is_empty());
    }
}
