//! Deterministic generator of distorted QR images of secactivate and otpauth URIs, shared by the
//! scanner tests (`tests/scan.rs`) and the `synth` example that writes a set for the benchmark.
//!
//! Distortions, each drawn per image: module size 1.5–12 px, rotation, perspective, blur, noise,
//! low contrast, uneven light, inversion, JPEG artefacts.
#![allow(dead_code)]

use image::{codecs::jpeg::JpegEncoder, GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

/// SplitMix64: small, fast, deterministic; good enough for picking distortions.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

pub fn payload(rng: &mut Rng, i: usize) -> String {
    if i.is_multiple_of(2) {
        let serial = format!("{:010}", rng.next() % 10_000_000_000);
        let ac = format!("{:016}", rng.next() % 10_000_000_000_000_000);
        let json = format!(r#"{{"sn":"{serial}","ac":"{ac}","policy":"{{\"allowUnsecured\":\"false\",\"trustedExecution\":\"NOT_ALLOWED\"}}"}}"#);
        let password = format!("{:08}", rng.next() % 100_000_000);
        let salt = rng.next().to_le_bytes();
        softtoken_core::entrust::encrypt_uri("igmobileotp", &json, &password, salt).expect("encrypt")
    } else {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let secret: String = (0..32).map(|_| alphabet[(rng.next() % 32) as usize] as char).collect();
        format!("otpauth://totp/Example%20Bank:user{i}%40example.com?secret={secret}&issuer=Example%20Bank&digits=8&period=30")
    }
}

/// Solves the 8×8 system for the homography mapping the unit square's corners to `dst`.
fn homography(dst: [(f64, f64); 4]) -> [f64; 9] {
    let src = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
    let mut a = [[0.0f64; 9]; 8];
    for k in 0..4 {
        let ((x, y), (u, v)) = (src[k], dst[k]);
        a[2 * k] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * k + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    for c in 0..8 {
        let p = (c..8).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
        a.swap(c, p);
        for r in 0..8 {
            if r != c {
                let f = a[r][c] / a[c][c];
                for k in c..9 {
                    a[r][k] -= f * a[c][k];
                }
            }
        }
    }
    let h: Vec<f64> = (0..8).map(|i| a[i][8] / a[i][i]).collect();
    [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0]
}

fn invert3(m: [f64; 9]) -> [f64; 9] {
    let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
    let c = |a: usize, b: usize, c: usize, d: usize| (m[a] * m[b] - m[c] * m[d]) / det;
    [c(4, 8, 5, 7), c(2, 7, 1, 8), c(1, 5, 2, 4), c(5, 6, 3, 8), c(0, 8, 2, 6), c(2, 3, 0, 5), c(3, 7, 4, 6), c(1, 6, 0, 7), c(0, 4, 1, 3)]
}

pub fn render(rng: &mut Rng, text: &str, tags: &mut Vec<String>) -> GrayImage {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).expect("qr");
    let n = code.width();
    let quiet = 4.0;
    let modules = n as f64 + 2.0 * quiet;
    let module_px = if rng.chance(0.2) {
        rng.range(1.5, 2.5)
    } else if rng.chance(0.2) {
        rng.range(7.0, 12.0)
    } else {
        rng.range(2.5, 7.0)
    };
    let side = modules * module_px;
    tags.push(format!("m{module_px:.1}"));
    let margin = side * rng.range(0.15, 0.6);
    let canvas = (side + 2.0 * margin).ceil() as u32;
    let c = canvas as f64 / 2.0;
    // Corners of the symbol (with quiet zone): rotated, then each jittered for perspective.
    let angle = if rng.chance(0.7) { rng.range(0.0, 360.0) } else { 0.0 };
    if angle != 0.0 {
        tags.push(format!("rot{angle:.0}"));
    }
    let persp = if rng.chance(0.5) { rng.range(0.02, 0.12) } else { 0.0 };
    if persp > 0.0 {
        tags.push(format!("persp{:.0}", persp * 100.0));
    }
    let (s, co) = angle.to_radians().sin_cos();
    let mut dst = [(0.0, 0.0); 4];
    for (k, (ux, uy)) in [(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)].into_iter().enumerate() {
        let (x, y) = (ux * side, uy * side);
        let (jx, jy) = (rng.range(-persp, persp) * side, rng.range(-persp, persp) * side);
        dst[k] = (c + x * co - y * s + jx, c + x * s + y * co + jy);
    }
    let inv = invert3(homography(dst));
    let (dark, light) = if rng.chance(0.25) {
        let d = rng.range(60.0, 110.0);
        tags.push("lowcontrast".into());
        (d, d + rng.range(45.0, 80.0))
    } else {
        (rng.range(0.0, 50.0), rng.range(190.0, 255.0))
    };
    let module_at = |u: f64, v: f64| -> bool {
        let (mx, my) = (u * modules - quiet, v * modules - quiet);
        if mx < 0.0 || my < 0.0 || mx >= n as f64 || my >= n as f64 {
            return false;
        }
        code[(mx as usize, my as usize)] == qrcode::Color::Dark
    };
    // 3×3 supersampling per pixel.
    let mut img = vec![0.0f64; (canvas * canvas) as usize];
    for py in 0..canvas {
        for px in 0..canvas {
            let mut acc = 0.0;
            for sy in 0..3 {
                for sx in 0..3 {
                    let (x, y) = (px as f64 + (sx as f64 + 0.5) / 3.0, py as f64 + (sy as f64 + 0.5) / 3.0);
                    let w = inv[6] * x + inv[7] * y + inv[8];
                    let (u, v) = ((inv[0] * x + inv[1] * y + inv[2]) / w, (inv[3] * x + inv[4] * y + inv[5]) / w);
                    acc += if module_at(u, v) { dark } else { light };
                }
            }
            img[(py * canvas + px) as usize] = acc / 9.0;
        }
    }
    let w = canvas as usize;
    let blur = if rng.chance(0.35) { (module_px * rng.range(0.15, 0.4)).round() as usize } else { 0 };
    for _ in 0..blur.min(4) {
        img = box_blur(&img, w);
    }
    if blur > 0 {
        tags.push(format!("blur{blur}"));
    }
    if rng.chance(0.35) {
        // Uneven light: a linear gradient across the image, from full light to 45–80 %.
        let floor = rng.range(0.45, 0.8);
        let (gx, gy) = (rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
        for (i, p) in img.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f64 / w as f64 - 0.5, (i / w) as f64 / w as f64 - 0.5);
            let t = ((x * gx + y * gy) + 1.0) / 2.0;
            *p *= floor + (1.0 - floor) * t;
        }
        tags.push("light".into());
    }
    if rng.chance(0.4) {
        let sigma = rng.range(4.0, 18.0);
        for p in img.iter_mut() {
            *p += sigma * rng.gauss();
        }
        tags.push(format!("noise{sigma:.0}"));
    }
    if rng.chance(0.15) {
        img.iter_mut().for_each(|p| *p = 255.0 - *p);
        tags.push("inverted".into());
    }
    GrayImage::from_fn(canvas, canvas, |x, y| Luma([img[(y * canvas + x) as usize].round().clamp(0.0, 255.0) as u8]))
}

fn box_blur(img: &[f64], w: usize) -> Vec<f64> {
    let h = img.len() / w;
    let mut out = vec![0.0; img.len()];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for (dx, dy) in [(0i64, 0i64), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)] {
                let (xx, yy) = ((x as i64 + dx).clamp(0, w as i64 - 1), (y as i64 + dy).clamp(0, h as i64 - 1));
                acc += img[yy as usize * w + xx as usize];
            }
            out[y * w + x] = acc / 9.0;
        }
    }
    out
}

/// One synthetic image: the file's bytes, its extension, its tag list and the expected text.
pub struct Sample {
    pub bytes: Vec<u8>,
    pub ext: &'static str,
    pub stem: String,
    pub text: String,
}

/// The `i`-th image of the set made from `rng` (call in order 0, 1, 2… for a reproducible set).
pub fn sample(rng: &mut Rng, i: usize) -> Sample {
    let text = payload(rng, i);
    let mut tags = Vec::new();
    let img = render(rng, &text, &mut tags);
    let jpeg = rng.chance(0.35);
    let quality = rng.range(35.0, 85.0) as u8;
    let mut bytes = Vec::new();
    let stem = format!("{i:03}-{}", tags.join("-"));
    if jpeg {
        JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(&img).expect("jpeg");
        Sample { bytes, ext: "jpg", stem: format!("{stem}-q{quality}"), text }
    } else {
        img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).expect("png");
        Sample { bytes, ext: "png", stem, text }
    }
}
