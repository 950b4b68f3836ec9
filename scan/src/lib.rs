//! softtoken's QR scanner: every QR text in a camera luma frame or an image file.
//!
//! The pipeline ([`scan::scan_luma`]) runs a list of passes — the frame as given, inverted, at
//! other scales, smoothed — each through two decoders, and stops at the first pass that reads
//! something or when the time budget is spent. A camera gets another frame 33 ms later, so its
//! budget is small; a file does not, so its budget is large.
//!
//! Decoders, in the order they run (measured on the zxing-cpp photo corpus, see `bench/`):
//! 1. rxing's port of zxing-cpp's QR reader (local "hybrid" binarisation, finder-pattern sets):
//!    it reads most photos, in a fraction of a millisecond.
//! 2. rqrr (a port of quirc): about 15× slower per frame on photos and it reads fewer, but it
//!    reads some images the first does not (damaged finder patterns, odd module shapes).
//!
//! The first design named rqrr as the first decoder. Running it first costs about
//! 5 ms on every 640×480 frame, 25× zxing-cpp's median, so it runs second; both decoders sit behind
//! the same API and each result says which decoder read it.
//!
//! The design put scanning in the core (`core/src/scan.rs`); it is a crate of its own so the core
//! keeps no image codecs or barcode readers: the CLI and the phone library take it, with image-file
//! decoding (`files`) left out of phone builds, and everything else builds without it.

#![forbid(unsafe_code)]

mod binarize;
pub mod decoders;
pub mod error;
#[cfg(feature = "files")]
pub mod files;
pub mod frame;
pub mod scan;
pub mod text;

pub use error::ScanError;
#[cfg(feature = "files")]
pub use files::{decode_image, scan_image};
pub use frame::LumaFrame;
pub use scan::{scan_luma, Decoder, Pass, ScanOptions, ScannedCode};
