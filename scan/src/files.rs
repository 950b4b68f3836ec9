//! Image files (PNG, JPEG, WebP, GIF) to luma, with decoded dimensions and memory capped.

use crate::frame::{check_size, MAX_PIXELS, MAX_SIDE};
use crate::{scan_luma, LumaFrame, ScanError, ScanOptions, ScannedCode};
use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// An image file decoded to 8-bit luma, transparent parts composited over white.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `height` rows of `width` luma bytes.
    pub luma: Vec<u8>,
}

impl DecodedImage {
    /// The image as a luma frame.
    pub fn frame(&self) -> LumaFrame<'_> {
        LumaFrame::new(self.width, self.height, self.width, &self.luma).expect("decoded image geometry is consistent")
    }
}

/// Decodes an image file's bytes to luma; refuses unknown formats, corrupt data and huge images.
pub fn decode_image(bytes: &[u8]) -> Result<DecodedImage, ScanError> {
    let format = image::guess_format(bytes).map_err(|_| ScanError::UnknownFormat)?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) {
        return Err(ScanError::UnknownFormat);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // RGBA at 8 bits per channel, plus the decoder's own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let (width, height) = reader.into_dimensions().map_err(|e| image_error(e, bytes))?;
    check_size(width as u64, height as u64)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let img = reader.decode().map_err(|e| image_error(e, bytes))?;
    let luma = if img.color().has_alpha() {
        // A QR code drawn on a transparent background has black "transparent" pixels; put it on white.
        img.to_rgba8()
            .pixels()
            .map(|p| {
                let y = (299 * p[0] as u32 + 587 * p[1] as u32 + 114 * p[2] as u32) / 1000;
                let a = p[3] as u32;
                ((y * a + 255 * (255 - a)) / 255) as u8
            })
            .collect()
    } else {
        img.to_luma8().into_raw()
    };
    Ok(DecodedImage { width, height, luma })
}

/// Every QR text in an image file's bytes.
pub fn scan_image(bytes: &[u8], options: &ScanOptions) -> Result<Vec<ScannedCode>, ScanError> {
    let image = decode_image(bytes)?;
    Ok(scan_luma(&image.frame(), options))
}

fn image_error(e: image::ImageError, bytes: &[u8]) -> ScanError {
    match e {
        image::ImageError::Limits(_) => match image::ImageReader::new(Cursor::new(bytes)).with_guessed_format().ok().and_then(|r| r.into_dimensions().ok()) {
            Some((w, h)) => ScanError::TooLarge { width: w as u64, height: h as u64, max: MAX_SIDE, max_pixels: MAX_PIXELS },
            None => ScanError::Corrupt(e.to_string()),
        },
        image::ImageError::Unsupported(_) => ScanError::UnknownFormat,
        other => ScanError::Corrupt(other.to_string()),
    }
}
