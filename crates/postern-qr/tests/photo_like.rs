//! QR round trip through photo-like images: a fixed corpus of generated variants (scaled,
//! rotated a few degrees, blurred, noisy, low contrast, on a busy background, half of them through
//! JPEG), each decoded from a file or from a raw camera frame. Reports the success rate; the goal
//! is every one.

use image::{imageops, GrayImage, Luma};
use postern_card::ContactCard;
use postern_crypto::IdentityKeys;
use postern_qr::{scan_frame, scan_image};
use postern_types::LocalPart;

const VARIANTS: u64 = 120;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() % 1_000_000) as f32 / 1_000_000.0
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
}

fn card_text() -> String {
    let keys =
        IdentityKeys::generate(LocalPart::new("alice").expect("lp"), "Alice Ørsted").expect("keys");
    ContactCard::for_identity(&keys, false)
        .expect("card")
        .to_text()
}

/// A busy background: a gradient with scattered grey blocks and lines.
fn background(w: u32, h: u32, rng: &mut Rng) -> GrayImage {
    let (g0, g1) = (rng.range(60.0, 200.0), rng.range(60.0, 200.0));
    let mut img = GrayImage::from_fn(w, h, |x, y| {
        let t = (x + y) as f32 / (w + h) as f32;
        Luma([(g0 + (g1 - g0) * t) as u8])
    });
    for _ in 0..40 {
        let (x0, y0) = (
            (rng.next() % w as u64) as u32,
            (rng.next() % h as u64) as u32,
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
            let p = |x: u32, y: u32| src.get_pixel(x, y).0[0] as f32;
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

fn photo(base: &GrayImage, rng: &mut Rng) -> GrayImage {
    let scale = rng.range(0.75, 2.0);
    let (w, h) = (
        (base.width() as f32 * scale) as u32,
        (base.height() as f32 * scale) as u32,
    );
    let scaled = imageops::resize(base, w, h, imageops::FilterType::Triangle);
    let deg = rng.range(-8.0, 8.0);
    let margin = rng.range(40.0, 200.0) as u32;
    let side = w.max(h) + 2 * margin;
    let mut canvas = background(side + 80, side, rng);
    let (ox, oy) = (
        rng.range(0.0, 80.0) as i64 + margin as i64 / 2,
        margin as i64 / 2,
    );
    rotate_onto(&scaled, deg, &mut canvas, ox, oy);
    let sigma = rng.range(0.0, 1.3);
    let mut img = if sigma > 0.2 {
        imageops::blur(&canvas, sigma)
    } else {
        canvas
    };
    // Lighting: lower contrast and a brightness shift, then sensor noise.
    let (gain, offset, noise) = (
        rng.range(0.6, 1.0),
        rng.range(0.0, 40.0),
        rng.range(0.0, 24.0),
    );
    for p in img.pixels_mut() {
        let n = (rng.unit() - 0.5) * 2.0 * noise;
        p.0[0] = (p.0[0] as f32 * gain + offset + n).clamp(0.0, 255.0) as u8;
    }
    img
}

#[test]
fn photo_like_corpus_decodes() {
    let text = card_text();
    let base = postern_qr::image(&text, 4).expect("qr");
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut failures = Vec::new();
    for i in 0..VARIANTS {
        let img = photo(&base, &mut rng);
        let got = if i % 2 == 0 {
            let mut jpeg = std::io::Cursor::new(Vec::new());
            let q = 60 + (rng.next() % 31) as u8;
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, q)
                .encode_image(&img)
                .expect("jpeg");
            scan_image(&jpeg.into_inner())
        } else {
            scan_frame(img.width(), img.height(), img.as_raw())
        };
        match got {
            Ok(texts) if texts.contains(&text) => {}
            other => {
                if let Ok(dir) = std::env::var("POSTERN_QR_FAILURES") {
                    let _ = img.save(format!("{dir}/variant-{i}.png"));
                }
                failures.push((i, format!("{other:?}").chars().take(80).collect::<String>()))
            }
        }
    }
    let ok = VARIANTS as usize - failures.len();
    eprintln!(
        "photo-like QR corpus: {ok} of {VARIANTS} decoded ({:.1}%)",
        100.0 * ok as f64 / VARIANTS as f64
    );
    assert!(failures.is_empty(), "failed variants: {failures:?}");
}

#[test]
fn round_trip_png_svg_and_card() {
    let text = card_text();
    let png = postern_qr::png(&text, 6).expect("png");
    let found = scan_image(&png).expect("scan");
    assert_eq!(found, vec![text.clone()]);
    let card = ContactCard::from_text(&found[0]).expect("a verified card");
    assert_eq!(card.display_name().as_str(), "Alice Ørsted");
    let svg = postern_qr::svg(&text).expect("svg");
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
}

#[test]
fn bad_images_are_clear_errors() {
    use postern_qr::QrError;
    assert!(matches!(
        scan_image(b"not an image at all"),
        Err(QrError::NotAnImage(_))
    ));
    let blank = GrayImage::from_pixel(200, 200, Luma([255]));
    let mut png = std::io::Cursor::new(Vec::new());
    blank
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    assert!(matches!(
        scan_image(&png.into_inner()),
        Err(QrError::NotFound)
    ));
    assert!(matches!(
        scan_frame(10, 10, &[0; 99]),
        Err(QrError::BadFrame { .. })
    ));
    assert!(matches!(
        scan_frame(9000, 1, &[]),
        Err(QrError::TooManyPixels(..))
    ));
    assert!(matches!(
        scan_image(&vec![0u8; postern_qr::MAX_IMAGE_BYTES + 1]),
        Err(QrError::ImageTooLarge(_))
    ));
    // A truncated PNG of a real code.
    let png = postern_qr::png("POSTERN-CARD:ABC", 4).expect("png");
    assert!(scan_image(&png[..png.len() / 2]).is_err());
    // Too much for any QR code.
    assert!(matches!(
        postern_qr::svg(&"A".repeat(8000)),
        Err(QrError::TooLong(_))
    ));
}
