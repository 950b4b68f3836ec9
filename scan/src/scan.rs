//! The scanning pipeline: passes over one frame, two decoders each, within a time budget.

use crate::binarize::local_threshold;
use crate::decoders;
use crate::frame::{Gray, LumaFrame};
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// Which decoder read a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoder {
    /// rxing's port of zxing-cpp's QR reader.
    Rxing,
    /// rqrr, a port of quirc.
    Rqrr,
}

impl Decoder {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Decoder::Rxing => "rxing",
            Decoder::Rqrr => "rqrr",
        }
    }
}

/// Which transformation of the frame a code was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pass {
    /// The frame as given (shrunk if larger than the working size).
    Plain,
    /// Dark and light swapped.
    Inverted,
    /// Histogram stretched to full range.
    Stretched,
    /// 3×3 box blur.
    Smoothed,
    /// Shrunk by half.
    Half,
    /// Enlarged 2× (small images).
    Double,
    /// On a white border (symbols cropped without a quiet zone), enlarged when small.
    Padded,
}

impl Pass {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Pass::Plain => "plain",
            Pass::Inverted => "inverted",
            Pass::Stretched => "stretched",
            Pass::Smoothed => "smoothed",
            Pass::Half => "half",
            Pass::Double => "double",
            Pass::Padded => "padded",
        }
    }
}

/// One QR symbol's text, with the decoder and pass that read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedCode {
    /// The symbol's text.
    pub text: String,
    /// The decoder that read it.
    pub decoder: Decoder,
    /// The transformation of the frame it was read in.
    pub pass: Pass,
}

/// How hard to try on one frame.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// No new pass starts after this much time (a pass that started runs to its end).
    pub budget: Duration,
    /// Frames whose longer side exceeds this are shrunk first.
    pub max_side: usize,
}

impl ScanOptions {
    /// For a camera loop at 30 fps: a missed frame is followed by another 33 ms later.
    pub fn camera() -> Self {
        Self { budget: Duration::from_millis(25), max_side: 1280 }
    }

    /// For a file or a screenshot: there is no next frame, so every pass may run.
    pub fn file() -> Self {
        Self { budget: Duration::from_secs(2), max_side: 2048 }
    }
}

/// Every QR text found in `frame`, at most once each, from the first attempt that reads anything.
///
/// Attempts run cheapest and likeliest first: rxing on the frame, then on its inverse, on a white border, at half size (large frames), contrast-stretched, smoothed
/// and doubled (small frames); then rqrr on the frame, and doubled (small frames). Measured on the corpus, rxing's
/// first attempt reads about 80 % of what is read at all.
pub fn scan_luma(frame: &LumaFrame<'_>, options: &ScanOptions) -> Vec<ScannedCode> {
    let start = Instant::now();
    let base = Gray::from_frame(frame, options.max_side);
    let long_side = base.width.max(base.height);
    let mut attempts = vec![(Pass::Plain, Decoder::Rxing), (Pass::Inverted, Decoder::Rxing), (Pass::Padded, Decoder::Rxing)];
    if long_side >= 480 {
        attempts.push((Pass::Half, Decoder::Rxing));
    }
    attempts.extend([(Pass::Stretched, Decoder::Rxing), (Pass::Smoothed, Decoder::Rxing)]);
    if long_side <= 800 {
        attempts.push((Pass::Double, Decoder::Rxing));
    }
    // rqrr costs ~10 ns a pixel, 10× rxing: once on the frame, and doubled only for small frames.
    if cfg!(feature = "rqrr") {
        attempts.push((Pass::Plain, Decoder::Rqrr));
        if long_side <= 400 {
            attempts.push((Pass::Double, Decoder::Rqrr));
        }
    }
    let mut plain_local = None;
    for (i, (pass, decoder)) in attempts.into_iter().enumerate() {
        if pass != Pass::Plain && start.elapsed() >= options.budget {
            break;
        }
        // After the frame and its inverse: go on only where rxing's detector sees finder-pattern
        // candidates (a dark one, or two light ones). On the corpus every code read by a later pass
        // had them, and most photos without a code have none — they end here, in about the time
        // of one read, instead of paying for every pass.
        // The plain attempt's matrix is reused, not binarised again (frames under 40 pixels a side
        // have none and go on).
        if i == 2 {
            if let Some(matrix) = plain_local.take() {
                let (dark, light) = decoders::finder_candidates(matrix);
                if dark == 0 && light < 2 {
                    break;
                }
            }
        }
        let img: Cow<'_, Gray> = match pass {
            Pass::Plain => Cow::Borrowed(&base),
            // Inverting pixels, not the bit matrix: the local threshold is not symmetric.
            Pass::Inverted => Cow::Owned(base.inverted()),
            Pass::Stretched => match base.stretched() {
                Some(g) => Cow::Owned(g),
                None => continue,
            },
            Pass::Smoothed => Cow::Owned(base.smoothed()),
            Pass::Half => Cow::Owned(base.shrink(2)),
            Pass::Double => Cow::Owned(base.enlarge2()),
            Pass::Padded => Cow::Owned(base.padded()),
        };
        let texts = match decoder {
            Decoder::Rxing if pass == Pass::Plain => {
                plain_local = local_threshold(&img);
                decoders::rxing_binarized(&img, plain_local.as_ref())
            }
            Decoder::Rxing => decoders::rxing(&img),
            Decoder::Rqrr => decoders::rqrr(&img),
        };
        if !texts.is_empty() {
            let mut found: Vec<ScannedCode> = Vec::new();
            for text in texts {
                if !found.iter().any(|c| c.text == text) {
                    found.push(ScannedCode { text, decoder, pass });
                }
            }
            return found;
        }
    }
    Vec::new()
}
