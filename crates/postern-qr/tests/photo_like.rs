//! QR round trip through photo-like pictures: a fixed corpus (a checked-in card, a fixed seed)
//! of 200 pictures — photographs of the code (scaled, turned, blurred, noisy, low contrast, on a
//! busy background), the same as a dark-themed screen shows it (light on dark), and small codes
//! (2 pixels per module, slightly blurred) — half read as JPEG files, half as camera frames. The
//! goal is every one. The same pictures are tried on every run: their hash is printed.
//! `qr-bench` runs the same kinds of picture on a new payload each time.

use std::collections::BTreeMap;

use image::{GrayImage, Luma};
use postern_card::ContactCard;
use postern_qr::corpus::{variants, Kind, Medium};
use postern_qr::{scan_frame, scan_image};
use sha2::{Digest, Sha256};

const CARD: &str = include_str!("fixtures/card.txt");
const INVITE: &str = include_str!("fixtures/invite.txt");
const SEED: u64 = 0x5EED_1234_ABCD_0001;
const KINDS: &[Kind] = &[
    Kind::Photo,
    Kind::LightOnDark,
    Kind::Photo,
    Kind::Small,
    Kind::Photo,
];

#[test]
fn photo_like_corpus_decodes() {
    let text = CARD.trim();
    let corpus = variants(text, SEED, 200, KINDS).expect("corpus");
    let mut hash = Sha256::new();
    let mut per_kind: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for v in &corpus {
        hash.update(v.image.width().to_be_bytes());
        hash.update(v.image.as_raw());
        hash.update(match v.medium {
            Medium::Jpeg(q) => [1, q],
            Medium::Frame => [0, 0],
        });
        let entry = per_kind.entry(v.kind).or_default();
        entry.1 += 1;
        match v.scan() {
            Ok(texts) if texts.iter().any(|t| t == text) => entry.0 += 1,
            other => {
                if let Ok(dir) = std::env::var("POSTERN_QR_FAILURES") {
                    let _ = v.image.save(format!("{dir}/variant-{}.png", v.index));
                }
                failures.push((v.index, v.kind.name(), format!("{other:?}")));
            }
        }
    }
    let digest: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    eprintln!("photo-like QR corpus sha256 {digest}");
    for (kind, (ok, n)) in &per_kind {
        eprintln!("  {:<14} {ok} of {n} decoded", kind.name());
    }
    assert_eq!(per_kind.values().map(|(_, n)| n).sum::<usize>(), 200);
    assert!(failures.is_empty(), "failed variants: {failures:?}");
}

#[test]
fn the_corpus_is_the_same_on_every_run() {
    let a = variants(CARD.trim(), SEED, 10, KINDS).expect("a");
    let b = variants(CARD.trim(), SEED, 10, KINDS).expect("b");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.image.as_raw(), y.image.as_raw());
        assert_eq!(x.medium, y.medium);
    }
    let c = variants(CARD.trim(), SEED + 1, 10, KINDS).expect("c");
    assert_ne!(a[0].image.as_raw(), c[0].image.as_raw());
}

#[test]
fn an_invite_reads_light_on_dark_and_small() {
    let text = INVITE.trim();
    for v in variants(text, SEED ^ 0xFF, 12, &[Kind::LightOnDark, Kind::Small]).expect("corpus") {
        let found = v.scan().unwrap_or_default();
        assert!(
            found.iter().any(|t| t == text),
            "{} {:?} not read",
            v.kind.name(),
            v.medium
        );
    }
}

#[test]
fn round_trip_png_svg_and_card() {
    let text = CARD.trim().to_owned();
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
