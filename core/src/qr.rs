//! Rendering QR codes (feature `render`): PNG bytes and terminal text. Used by the reference
//! provider, exports to other authenticators and the demo; the phone apps only read QR codes.

use crate::error::{Error, Result};
use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

fn code(text: &str) -> Result<QrCode> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| Error::Encoding(format!("cannot make a QR code: {e}")))
}

/// A PNG of the QR code, `module_px` pixels per module, with the standard quiet zone.
pub fn png(text: &str, module_px: u32) -> Result<Vec<u8>> {
    let img = code(text)?.render::<image::Luma<u8>>().module_dimensions(module_px, module_px).build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).map_err(|e| Error::Encoding(format!("cannot encode PNG: {e}")))?;
    Ok(out.into_inner())
}

/// The QR code drawn with half-block characters, two modules per character row (dark on light).
pub fn terminal(text: &str) -> Result<String> {
    Ok(code(text)?.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders() {
        let png = super::png("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP", 4).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let t = super::terminal("hello").unwrap();
        assert!(t.lines().count() > 10);
    }
}
