//! What can go wrong before a scan starts; a frame with no QR code is not an error.

/// Why a frame or an image could not be scanned.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    /// The frame's width, height, stride or byte count do not fit together.
    #[error("invalid luma frame: {0}")]
    InvalidFrame(String),
    /// The image is larger than the scanner accepts (decoded dimensions are capped).
    #[error("image too large: {width}x{height} pixels (at most {max} per side and {max_pixels} pixels)")]
    TooLarge { width: u64, height: u64, max: u32, max_pixels: u64 },
    /// The bytes are not an image in a format the scanner reads (PNG, JPEG, WebP, GIF).
    #[error("not an image in a supported format (PNG, JPEG, WebP, GIF)")]
    UnknownFormat,
    /// The image is truncated or corrupt.
    #[error("unreadable image: {0}")]
    Corrupt(String),
}
