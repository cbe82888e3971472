#![doc = include_str!("../README.md")]

#[cfg(feature = "corpus")]
pub mod corpus;

use image::{GrayImage, ImageFormat, Luma};
use qrcode::{Color, EcLevel, QrCode};

/// Largest image file accepted for scanning.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// Largest width or height accepted for scanning.
pub const MAX_DIMENSION: u32 = 8192;
/// Modules of quiet zone around a code.
const QUIET: u32 = 4;

/// Why a QR code could not be made or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The payload does not fit in a QR code.
    #[error("too much data for a QR code: {0}")]
    TooLong(String),
    /// The file is larger than any photo of a QR code needs to be.
    #[error("the image is too large ({0} bytes; at most 20 MiB)")]
    ImageTooLarge(usize),
    /// The image is wider or taller than allowed.
    #[error("the image is {0}×{1} pixels; at most 8192 on each side")]
    TooManyPixels(u32, u32),
    /// Not a PNG or JPEG image (or a damaged one).
    #[error("not a readable PNG or JPEG image: {0}")]
    NotAnImage(String),
    /// A frame's pixel buffer does not match its stated size.
    #[error("the camera frame has {got} bytes, {want} expected for its size")]
    BadFrame {
        /// Bytes given.
        got: usize,
        /// Bytes expected (width × height).
        want: usize,
    },
    /// No QR code found.
    #[error("no QR code found in the image")]
    NotFound,
    /// Encoding the PNG failed.
    #[error("cannot write the PNG: {0}")]
    Png(String),
}

impl postern_types::HasKind for QrError {
    fn kind(&self) -> postern_types::ErrorKind {
        match self {
            QrError::Png(_) => postern_types::ErrorKind::Internal,
            _ => postern_types::ErrorKind::BadInput,
        }
    }
}

fn code(payload: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| QrError::TooLong(e.to_string()))
}

/// The QR code of `payload` as an SVG document.
pub fn svg(payload: &str) -> Result<String, QrError> {
    Ok(code(payload)?
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(256, 256)
        .build())
}

/// The QR code of `payload` as a grayscale image, `module_px` pixels per module.
pub fn image(payload: &str, module_px: u32) -> Result<GrayImage, QrError> {
    let code = code(payload)?;
    let width = u32::try_from(code.width()).map_err(|e| QrError::TooLong(e.to_string()))?;
    let colors = code.to_colors();
    let px = module_px.max(1);
    let side = (width + 2 * QUIET) * px;
    Ok(GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / px, y / px);
        let dark = mx >= QUIET
            && my >= QUIET
            && mx < QUIET + width
            && my < QUIET + width
            && colors[((my - QUIET) * width + (mx - QUIET)) as usize] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    }))
}

/// The QR code of `payload` as a PNG file, `module_px` pixels per module.
pub fn png(payload: &str, module_px: u32) -> Result<Vec<u8>, QrError> {
    let img = image(payload, module_px)?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| QrError::Png(e.to_string()))?;
    Ok(out.into_inner())
}

/// Every QR code found in a grayscale image (texts of those that decode).
///
/// Tries, in order, until one finds a code: rqrr, then rxing (a ZXing port) on the picture, both
/// also with light and dark swapped (a code on a dark-themed screen); the same on a 2× upscale
/// (codes with few pixels per module); last, the upscale sharpened, with rxing's global
/// threshold as well as its local one (small, blurred codes).
pub fn scan_gray(img: &GrayImage) -> Result<Vec<String>, QrError> {
    let (w, h) = img.dimensions();
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(QrError::TooManyPixels(w, h));
    }
    if let Some(found) = scan_both_ways(img, false) {
        return Ok(found);
    }
    let bigger = image::imageops::resize(img, w * 2, h * 2, image::imageops::FilterType::Triangle);
    if let Some(found) = scan_both_ways(&bigger, false) {
        return Ok(found);
    }
    let sharper = image::imageops::unsharpen(&bigger, 2.5, 0);
    scan_both_ways(&sharper, true).ok_or(QrError::NotFound)
}

/// The picture as it is, then with light and dark swapped.
fn scan_both_ways(img: &GrayImage, global_threshold: bool) -> Option<Vec<String>> {
    if let Some(found) = scan_once(img, global_threshold) {
        return Some(found);
    }
    let mut inverted = img.clone();
    image::imageops::invert(&mut inverted);
    scan_once(&inverted, global_threshold)
}

fn scan_once(img: &GrayImage, global_threshold: bool) -> Option<Vec<String>> {
    let found = scan_rqrr(img);
    if !found.is_empty() {
        return Some(found);
    }
    scan_zxing(img, false)
        .or_else(|| global_threshold.then(|| scan_zxing(img, true)).flatten())
        .map(|t| vec![t])
}

fn scan_rqrr(img: &GrayImage) -> Vec<String> {
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
    prepared
        .detect_grids()
        .iter()
        .filter_map(|g| g.decode().ok().map(|(_, text)| text))
        .collect()
}

/// rxing with its hybrid (local) threshold, or its global histogram threshold.
fn scan_zxing(img: &GrayImage, global_threshold: bool) -> Option<String> {
    use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
    use rxing::{BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiFormatReader, Reader};
    let (w, h) = img.dimensions();
    let source = Luma8LuminanceSource::new(img.as_raw().clone(), w, h).ok()?;
    let hints = DecodeHints {
        PossibleFormats: Some(std::collections::HashSet::from([
            rxing::BarcodeFormat::QR_CODE,
        ])),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    let mut reader = MultiFormatReader::default();
    let result = if global_threshold {
        reader.decode_with_hints(
            &mut BinaryBitmap::new(GlobalHistogramBinarizer::new(source)),
            &hints,
        )
    } else {
        reader.decode_with_hints(&mut BinaryBitmap::new(HybridBinarizer::new(source)), &hints)
    };
    result.ok().map(|r| r.getText().to_string())
}

/// Every QR code found in a PNG or JPEG file's bytes.
pub fn scan_image(bytes: &[u8]) -> Result<Vec<String>, QrError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(QrError::ImageTooLarge(bytes.len()));
    }
    let format = image::guess_format(bytes).map_err(|e| QrError::NotAnImage(e.to_string()))?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) {
        return Err(QrError::NotAnImage(format!("{format:?} is not supported")));
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| QrError::NotAnImage(e.to_string()))?;
    scan_gray(&img.to_luma8())
}

/// Every QR code found in a raw 8-bit grayscale camera frame (`width × height` bytes, rows top to
/// bottom).
pub fn scan_frame(width: u32, height: u32, pixels: &[u8]) -> Result<Vec<String>, QrError> {
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(QrError::TooManyPixels(width, height));
    }
    let want = width as usize * height as usize;
    if pixels.len() != want {
        return Err(QrError::BadFrame {
            got: pixels.len(),
            want,
        });
    }
    let img = GrayImage::from_raw(width, height, pixels.to_vec()).ok_or(QrError::BadFrame {
        got: pixels.len(),
        want,
    })?;
    scan_gray(&img)
}
