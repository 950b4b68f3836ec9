//! QR codes from camera frames (luma planes) and image files.

use crate::SofttokenError;

/// One QR symbol read from a camera frame or an image.
#[derive(uniffi::Record)]
pub struct ScannedCode {
    /// The symbol's text (an activation URI, an otpauth URI, anything else).
    pub text: String,
    /// Which decoder read it ("rxing" or "rqrr").
    pub decoder: String,
    /// Which transformation of the frame it was read in ("plain", "inverted", …).
    pub pass: String,
}

impl From<softtoken_scan::ScannedCode> for ScannedCode {
    fn from(c: softtoken_scan::ScannedCode) -> Self {
        ScannedCode { text: c.text, decoder: c.decoder.as_str().into(), pass: c.pass.as_str().into() }
    }
}

/// Every QR code in a camera frame's luma (Y) plane — CameraX `ImageProxy.planes[0]`, the Y plane of
/// a `CVPixelBuffer` — with a time budget for a 30 fps loop. An empty list: try the next frame.
#[uniffi::export]
pub fn scan_luma(width: u32, height: u32, stride: u32, bytes: Vec<u8>) -> Result<Vec<ScannedCode>, SofttokenError> {
    let frame = softtoken_scan::LumaFrame::new(width, height, stride, &bytes)?;
    Ok(softtoken_scan::scan_luma(&frame, &softtoken_scan::ScanOptions::camera()).into_iter().map(Into::into).collect())
}

/// Every QR code in an image file's bytes (PNG, JPEG, WebP, GIF): a picked screenshot or photo.
#[uniffi::export]
pub fn scan_image(bytes: Vec<u8>) -> Result<Vec<ScannedCode>, SofttokenError> {
    #[cfg(feature = "image-files")]
    {
        Ok(softtoken_scan::scan_image(&bytes, &softtoken_scan::ScanOptions::file())?.into_iter().map(Into::into).collect())
    }
    #[cfg(not(feature = "image-files"))]
    {
        let _ = bytes;
        Err(SofttokenError::Unsupported { detail: "this build reads no image files: decode the image to luma and call scan_luma".into() })
    }
}
