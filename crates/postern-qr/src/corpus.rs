//! Photo-like pictures of QR codes, for measuring the scanner (tests and `qr-bench`), not for the
//! product's path. Every picture is drawn from a seed, so the same seed and payload give the same
//! pictures on every machine.
//!
//! Kinds of picture, as a phone or webcam sees them:
//! - `Photo`: dark modules on a light code, scaled 0.75–2×, turned up to ±8°, blurred, noisy, low
//!   contrast, on a busy background;
//! - `LightOnDark`: the same, as a dark-themed screen shows a code (light modules, dark quiet
//!   zone), on a dark background;
//! - `Small`: 2 pixels per module, slightly blurred, a little noise.
//!
//! Half of the pictures are read as JPEG files (quality 60–90), half as raw camera frames.

use image::{imageops, GrayImage, Luma};

use crate::QrError;

/// What a picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Dark modules on light, photographed.
    Photo,
    /// Light modules on dark (a dark-themed screen), photographed.
    LightOnDark,
    /// A small code: 2 pixels per module, slightly blurred.
    Small,
}

impl Kind {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Photo => "photo",
            Kind::LightOnDark => "light-on-dark",
            Kind::Small => "small",
        }
    }
}

/// How the scanner receives a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// A JPEG file of this quality.
    Jpeg(u8),
    /// A raw 8-bit grayscale camera frame.
    Frame,
}

/// One picture of the corpus.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Index in the corpus.
    pub index: usize,
    /// What it shows.
    pub kind: Kind,
    /// How it reaches the scanner.
    pub medium: Medium,
    /// The picture.
    pub image: GrayImage,
    /// How it was drawn (scale, angle, blur, lighting), for reports.
    pub drawn: String,
}

impl Variant {
    /// Scan the picture the way it reaches the scanner (through a JPEG file, or as a frame).
    pub fn scan(&self) -> Result<Vec<String>, QrError> {
        match self.medium {
            Medium::Jpeg(q) => crate::scan_image(&self.jpeg(q)?),
            Medium::Frame => {
                crate::scan_frame(self.image.width(), self.image.height(), self.image.as_raw())
            }
        }
    }

    /// The picture as the scanner sees it (after the JPEG round trip, if any).
    pub fn as_seen(&self) -> Result<GrayImage, QrError> {
        match self.medium {
            Medium::Jpeg(q) => image::load_from_memory(&self.jpeg(q)?)
                .map(|i| i.to_luma8())
                .map_err(|e| QrError::NotAnImage(e.to_string())),
            Medium::Frame => Ok(self.image.clone()),
        }
    }

    fn jpeg(&self, quality: u8) -> Result<Vec<u8>, QrError> {
        let mut out = std::io::Cursor::new(Vec::new());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&self.image)
            .map_err(|e| QrError::Png(e.to_string()))?;
        Ok(out.into_inner())
    }
}

/// A small deterministic generator (xorshift64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// From a seed (0 is replaced, xorshift needs a non-zero state).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next_u64() % 1_000_000) as f32 / 1_000_000.0
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
}

/// `n` pictures of `payload`'s QR code drawn from `seed`: `kinds` in turn (index `i` has kind
/// `kinds[i % kinds.len()]`), media alternating JPEG / frame.
pub fn variants(
    payload: &str,
    seed: u64,
    n: usize,
    kinds: &[Kind],
) -> Result<Vec<Variant>, QrError> {
    let base = crate::image(payload, 4)?;
    let small = crate::image(payload, 2)?;
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    for index in 0..n {
        let kind = kinds[index % kinds.len().max(1)];
        let (image, drawn) = match kind {
            Kind::Photo => photo(&base, &mut rng, false),
            Kind::LightOnDark => photo(&base, &mut rng, true),
            Kind::Small => small_code(&small, &mut rng),
        };
        let medium = if index % 2 == 0 {
            Medium::Jpeg(60 + (rng.next_u64() % 31) as u8)
        } else {
            Medium::Frame
        };
        out.push(Variant {
            index,
            kind,
            medium,
            image,
            drawn,
        });
    }
    Ok(out)
}

/// A busy background: a gradient with scattered blocks. `dark` keeps it in the dark range.
fn background(w: u32, h: u32, rng: &mut Rng, dark: bool) -> GrayImage {
    let (lo, hi) = if dark { (10.0, 90.0) } else { (60.0, 200.0) };
    let (g0, g1) = (rng.range(lo, hi), rng.range(lo, hi));
    let mut img = GrayImage::from_fn(w, h, |x, y| {
        let t = (x + y) as f32 / (w + h) as f32;
        Luma([(g0 + (g1 - g0) * t) as u8])
    });
    for _ in 0..40 {
        let (x0, y0) = (
            (rng.next_u64() % u64::from(w)) as u32,
            (rng.next_u64() % u64::from(h)) as u32,
        );
        let (bw, bh) = (rng.range(4.0, 60.0) as u32, rng.range(2.0, 40.0) as u32);
        let v = rng.range(0.0, 255.0) as u8;
        for y in y0..(y0 + bh).min(h) {
            for x in x0..(x0 + bw).min(w) {
                img.put_pixel(x, y, Luma([v]));
            }
        }
    }
    img
}

/// Rotate by `deg` degrees about the centre, bilinear, onto `bg` at (ox, oy).
fn rotate_onto(src: &GrayImage, deg: f32, bg: &mut GrayImage, ox: i64, oy: i64) {
    let (sw, sh) = (src.width() as f32, src.height() as f32);
    let (cx, cy) = (sw / 2.0, sh / 2.0);
    let (s, c) = deg.to_radians().sin_cos();
    let diag = (sw * sw + sh * sh).sqrt() as i64;
    for dy in -diag / 2..diag / 2 {
        for dx in -diag / 2..diag / 2 {
            let (fx, fy) = (dx as f32, dy as f32);
            let sx = c * fx + s * fy + cx;
            let sy = -s * fx + c * fy + cy;
            if sx < 0.0 || sy < 0.0 || sx >= sw - 1.0 || sy >= sh - 1.0 {
                continue;
            }
            let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
            let (ax, ay) = (sx - x0 as f32, sy - y0 as f32);
            let p = |x: u32, y: u32| f32::from(src.get_pixel(x, y).0[0]);
            let v = p(x0, y0) * (1.0 - ax) * (1.0 - ay)
                + p(x0 + 1, y0) * ax * (1.0 - ay)
                + p(x0, y0 + 1) * (1.0 - ax) * ay
                + p(x0 + 1, y0 + 1) * ax * ay;
            let (tx, ty) = (ox + diag / 2 + dx, oy + diag / 2 + dy);
            if tx >= 0 && ty >= 0 && (tx as u32) < bg.width() && (ty as u32) < bg.height() {
                bg.put_pixel(tx as u32, ty as u32, Luma([v as u8]));
            }
        }
    }
}

/// Lower contrast, shift brightness, add sensor noise.
fn lighting(img: &mut GrayImage, rng: &mut Rng, noise_max: f32) -> String {
    let (gain, offset, noise) = (
        rng.range(0.6, 1.0),
        rng.range(0.0, 40.0),
        rng.range(0.0, noise_max),
    );
    for p in img.pixels_mut() {
        let n = (rng.unit() - 0.5) * 2.0 * noise;
        p.0[0] = (f32::from(p.0[0]) * gain + offset + n).clamp(0.0, 255.0) as u8;
    }
    format!("gain {gain:.2} offset {offset:.0} noise {noise:.0}")
}

fn photo(base: &GrayImage, rng: &mut Rng, light_on_dark: bool) -> (GrayImage, String) {
    let scale = rng.range(0.75, 2.0);
    let (w, h) = (
        (base.width() as f32 * scale) as u32,
        (base.height() as f32 * scale) as u32,
    );
    let mut scaled = imageops::resize(base, w, h, imageops::FilterType::Triangle);
    if light_on_dark {
        // A dark theme: light grey modules on a near-black panel.
        let (panel, module) = (rng.range(0.0, 40.0), rng.range(190.0, 255.0));
        for p in scaled.pixels_mut() {
            let t = f32::from(p.0[0]) / 255.0;
            p.0[0] = (module + (panel - module) * t) as u8;
        }
    }
    let deg = rng.range(-8.0, 8.0);
    let margin = rng.range(40.0, 200.0) as u32;
    // Room for the code turned any way: the whole code is in the picture, as when someone aims
    // a camera at it.
    let diag = f64::from(w * w + h * h).sqrt() as u32 + 2;
    let side = diag + 2 * margin;
    let mut canvas = background(side + 80, side, rng, light_on_dark);
    let (ox, oy) = (
        rng.range(0.0, 80.0) as i64 + i64::from(margin) / 2,
        i64::from(margin) / 2,
    );
    rotate_onto(&scaled, deg, &mut canvas, ox, oy);
    let sigma = rng.range(0.0, 1.3);
    let mut img = if sigma > 0.2 {
        imageops::blur(&canvas, sigma)
    } else {
        canvas
    };
    let light = lighting(&mut img, rng, 24.0);
    (
        img,
        format!("scale {scale:.2} turn {deg:.1}° blur {sigma:.2} {light}"),
    )
}

fn small_code(base: &GrayImage, rng: &mut Rng) -> (GrayImage, String) {
    let margin = rng.range(8.0, 40.0) as u32;
    let mut canvas = GrayImage::from_pixel(
        base.width() + 2 * margin,
        base.height() + 2 * margin,
        Luma([255]),
    );
    imageops::overlay(&mut canvas, base, i64::from(margin), i64::from(margin));
    let sigma = rng.range(0.3, 0.7);
    let mut img = imageops::blur(&canvas, sigma);
    let light = lighting(&mut img, rng, 8.0);
    (img, format!("2 px/module blur {sigma:.2} {light}"))
}
