//! Luma frames: the Y plane of a camera frame, and the working images the passes make of it.

use crate::ScanError;
use std::borrow::Cow;

/// Largest accepted side of a frame or decoded image, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Largest accepted number of pixels of a frame or decoded image (64 megapixels).
pub const MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// A borrowed 8-bit luma frame: `height` rows of `width` pixels, `stride` bytes apart.
#[derive(Clone, Copy)]
pub struct LumaFrame<'a> {
    width: usize,
    height: usize,
    stride: usize,
    bytes: &'a [u8],
}

impl std::fmt::Debug for LumaFrame<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LumaFrame({}x{}, stride {})", self.width, self.height, self.stride)
    }
}

impl<'a> LumaFrame<'a> {
    /// Checks that `bytes` holds `height` rows of `width` pixels, `stride` bytes apart.
    pub fn new(width: u32, height: u32, stride: u32, bytes: &'a [u8]) -> Result<Self, ScanError> {
        if width == 0 || height == 0 {
            return Err(ScanError::InvalidFrame(format!("empty frame {width}x{height}")));
        }
        check_size(width as u64, height as u64)?;
        if stride < width {
            return Err(ScanError::InvalidFrame(format!("row stride {stride} is less than the width {width}")));
        }
        let needed = stride as u64 * (height as u64 - 1) + width as u64;
        if (bytes.len() as u64) < needed {
            return Err(ScanError::InvalidFrame(format!("{} bytes for {width}x{height} with stride {stride}, at least {needed} needed", bytes.len())));
        }
        Ok(Self { width: width as usize, height: height as usize, stride: stride as usize, bytes })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width as u32
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height as u32
    }
}

/// Refuses dimensions above [`MAX_SIDE`] or [`MAX_PIXELS`].
pub(crate) fn check_size(width: u64, height: u64) -> Result<(), ScanError> {
    if width > MAX_SIDE as u64 || height > MAX_SIDE as u64 || width * height > MAX_PIXELS {
        return Err(ScanError::TooLarge { width, height, max: MAX_SIDE, max_pixels: MAX_PIXELS });
    }
    Ok(())
}

/// A tightly packed luma image that the passes transform (borrowed from a tightly packed frame,
/// else owned).
#[derive(Clone)]
pub(crate) struct Gray<'a> {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) px: Cow<'a, [u8]>,
}

impl<'a> Gray<'a> {
    /// Copies a frame, shrinking it by an integer box filter until its longer side is at most
    /// `max_side` (a 4K camera frame holds no QR detail a 1600-pixel copy loses, and costs 6× more).
    pub(crate) fn from_frame(frame: &LumaFrame<'a>, max_side: usize) -> Self {
        let factor = frame.width.max(frame.height).div_ceil(max_side.max(1)).max(1);
        if factor == 1 && frame.stride == frame.width {
            let px = Cow::Borrowed(&frame.bytes[..frame.width * frame.height]);
            return Self { width: frame.width, height: frame.height, px };
        }
        if factor == 1 {
            let mut px = Vec::with_capacity(frame.width * frame.height);
            for row in frame.bytes.chunks(frame.stride).take(frame.height) {
                px.extend_from_slice(&row[..frame.width]);
            }
            return Self { width: frame.width, height: frame.height, px: Cow::Owned(px) };
        }
        box_shrink(frame.bytes, frame.width, frame.height, frame.stride, factor)
    }

    /// The image shrunk by an integer factor (box filter: averages noise and halftone dots).
    pub(crate) fn shrink(&self, factor: usize) -> Gray<'static> {
        box_shrink(&self.px, self.width, self.height, self.width, factor)
    }

    /// The image enlarged 2× (nearest neighbour): tiny symbols get enough pixels per module.
    pub(crate) fn enlarge2(&self) -> Gray<'static> {
        let (w, h) = (self.width * 2, self.height * 2);
        let mut px = vec![0u8; w * h];
        for (y, out) in px.chunks_exact_mut(w).enumerate() {
            let src = &self.px[(y / 2) * self.width..][..self.width];
            for (x, o) in out.iter_mut().enumerate() {
                *o = src[x / 2];
            }
        }
        Gray { width: w, height: h, px: Cow::Owned(px) }
    }

    /// The image on a white border (an eighth of its longer side, at least 8 pixels), enlarged
    /// so its longer side reaches 200 pixels: a screenshot cropped to the symbol has no quiet zone,
    /// and finder patterns touching the edge are not found without one.
    pub(crate) fn padded(&self) -> Gray<'static> {
        let scale = 200usize.div_ceil(self.width.max(self.height)).clamp(1, 8);
        let (sw, sh) = (self.width * scale, self.height * scale);
        let border = (sw.max(sh) / 8).max(8);
        let (w, h) = (sw + 2 * border, sh + 2 * border);
        let white = self.px.iter().copied().max().unwrap_or(255);
        let mut px = vec![white; w * h];
        for y in 0..sh {
            let src = &self.px[(y / scale) * self.width..][..self.width];
            let out = &mut px[(y + border) * w + border..][..sw];
            for (x, o) in out.iter_mut().enumerate() {
                *o = src[x / scale];
            }
        }
        Gray { width: w, height: h, px: Cow::Owned(px) }
    }

    /// Dark for light: for light-on-dark symbols (dark mode screens, inverted prints).
    pub(crate) fn inverted(&self) -> Gray<'static> {
        Gray { width: self.width, height: self.height, px: self.px.iter().map(|v| 255 - v).collect() }
    }

    /// A 3×3 box blur: closes salt-and-pepper noise and JPEG ringing before binarisation.
    pub(crate) fn smoothed(&self) -> Gray<'static> {
        let (w, h) = (self.width, self.height);
        let mut px = vec![0u8; w * h];
        for y in 0..h {
            let ys = [y.saturating_sub(1), y, (y + 1).min(h - 1)];
            for x in 0..w {
                let xs = [x.saturating_sub(1), x, (x + 1).min(w - 1)];
                let mut sum = 0u32;
                for yy in ys {
                    for xx in xs {
                        sum += self.px[yy * w + xx] as u32;
                    }
                }
                px[y * w + x] = (sum / 9) as u8;
            }
        }
        Gray { width: w, height: h, px: Cow::Owned(px) }
    }

    /// Stretches the histogram so its 1st and 99th percentiles become black and white: low-contrast
    /// prints and glare-washed screens get full range before the decoders' own thresholds.
    pub(crate) fn stretched(&self) -> Option<Gray<'static>> {
        let mut hist = [0usize; 256];
        for &v in self.px.iter() {
            hist[v as usize] += 1;
        }
        let n = self.px.len();
        let cut = n / 100;
        let (mut lo, mut acc) = (0usize, 0usize);
        while lo < 255 && acc + hist[lo] <= cut {
            acc += hist[lo];
            lo += 1;
        }
        let (mut hi, mut acc) = (255usize, 0usize);
        while hi > 0 && acc + hist[hi] <= cut {
            acc += hist[hi];
            hi -= 1;
        }
        if hi <= lo || hi - lo > 160 {
            return None; // already has contrast; a stretch would change little
        }
        let span = (hi - lo) as u32;
        let lut: Vec<u8> = (0..256u32).map(|v| ((v.saturating_sub(lo as u32)).min(span) * 255 / span) as u8).collect();
        Some(Gray { width: self.width, height: self.height, px: self.px.iter().map(|&v| lut[v as usize]).collect() })
    }
}

fn box_shrink(bytes: &[u8], width: usize, height: usize, stride: usize, factor: usize) -> Gray<'static> {
    let (w, h) = ((width / factor).max(1), (height / factor).max(1));
    let mut sums = vec![0u32; w];
    let mut px = Vec::with_capacity(w * h);
    let area = (factor * factor) as u32;
    for y in 0..h {
        sums.iter_mut().for_each(|s| *s = 0);
        for row in bytes[y * factor * stride..].chunks(stride).take(factor) {
            for (x, s) in sums.iter_mut().enumerate() {
                *s += row[x * factor..][..factor].iter().map(|&v| v as u32).sum::<u32>();
            }
        }
        px.extend(sums.iter().map(|s| (s / area) as u8));
    }
    Gray { width: w, height: h, px: Cow::Owned(px) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rejects_inconsistent_geometry() {
        let bytes = vec![0u8; 100];
        assert!(matches!(LumaFrame::new(0, 10, 10, &bytes), Err(ScanError::InvalidFrame(_))));
        assert!(matches!(LumaFrame::new(10, 10, 9, &bytes), Err(ScanError::InvalidFrame(_))));
        assert!(matches!(LumaFrame::new(10, 11, 10, &bytes), Err(ScanError::InvalidFrame(_))));
        // The last row needs only `width` bytes, not a whole stride (camera planes end that way).
        assert!(LumaFrame::new(10, 10, 10, &bytes).is_ok());
        assert!(LumaFrame::new(4, 3, 40, &bytes[..84]).is_ok());
        assert!(matches!(LumaFrame::new(20_000, 1, 20_000, &bytes), Err(ScanError::TooLarge { .. })));
    }

    #[test]
    fn strided_frames_are_copied_row_by_row() {
        let bytes: Vec<u8> = (0..12).collect(); // 3 rows of 4 bytes, 3 pixels used per row
        let g = Gray::from_frame(&LumaFrame::new(3, 3, 4, &bytes).unwrap(), 1600);
        assert_eq!(&*g.px, &[0, 1, 2, 4, 5, 6, 8, 9, 10]);
    }

    #[test]
    fn large_frames_are_shrunk_by_averaging() {
        let bytes: Vec<u8> = (0..16).map(|i| if i % 2 == 0 { 0 } else { 200 }).collect();
        let g = Gray::from_frame(&LumaFrame::new(4, 4, 4, &bytes).unwrap(), 2);
        assert_eq!((g.width, g.height), (2, 2));
        assert_eq!(&*g.px, &[100; 4]);
    }

    #[test]
    fn padding_surrounds_the_enlarged_image_with_its_lightest_value() {
        let g = Gray { width: 2, height: 1, px: Cow::Owned(vec![10, 200]) };
        let p = g.padded();
        // 2x1 enlarged 8x (longer side 16; 200/2 = 100 would be 100x, capped at 8), border 8.
        assert_eq!((p.width, p.height), (16 + 16, 8 + 16));
        assert_eq!(p.px[0], 200);
        assert_eq!(p.px[8 * p.width + 8], 10);
        assert_eq!(p.px[8 * p.width + 8 + 8], 200);
    }

    #[test]
    fn stretch_spreads_a_narrow_histogram_and_leaves_a_wide_one() {
        let narrow = Gray { width: 100, height: 1, px: (0..100).map(|i| 100 + (i % 2) as u8 * 40).collect() };
        let s = narrow.stretched().unwrap();
        assert_eq!((s.px[0], s.px[1]), (0, 255));
        let wide = Gray { width: 100, height: 1, px: (0..100).map(|i| (i % 2) as u8 * 255).collect() };
        assert!(wide.stretched().is_none());
    }
}
