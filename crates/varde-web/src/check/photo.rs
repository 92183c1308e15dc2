//! Photos lose all metadata on upload (privacy rule 1): the image is decoded and encoded anew as JPEG, which carries
//! no EXIF (so no GPS position, camera serial or time), no XMP and no comments. The orientation the camera recorded
//! is applied first, so the picture still stands the right way up.

use crate::config::check::PHOTO_MAX_SIDE as MAX_SIDE;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader};
use std::io::Cursor;

/// A JPEG or PNG in, a clean JPEG and its size out.
pub fn strip(bytes: &[u8]) -> Result<(Vec<u8>, (u32, u32)), String> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    match reader.format() {
        Some(image::ImageFormat::Jpeg | image::ImageFormat::Png) => {}
        _ => return Err("send a JPEG or PNG photo".into()),
    }
    let mut decoder = reader.into_decoder().map_err(|e| format!("the photo cannot be read: {e}"))?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| format!("the photo cannot be read: {e}"))?;
    img.apply_orientation(orientation);
    if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        img = img.thumbnail(MAX_SIDE, MAX_SIDE);
    }
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85).encode_image(&rgb).map_err(|e| e.to_string())?;
    Ok((out, (rgb.width(), rgb.height())))
}

/// A JPEG with an EXIF segment holding a GPS position, as a phone camera writes it: for tests of the stripping.
#[doc(hidden)]
pub fn example_jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 128]));
    let mut plain = Vec::new();
    JpegEncoder::new_with_quality(&mut plain, 90).encode_image(&img).unwrap();
    // TIFF (big-endian): IFD0 with one entry, GPSInfo (0x8825) → a GPS IFD with GPSLatitudeRef = "N".
    let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend([
        0x00, 0x01, 0x88, 0x25, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00,
    ]);
    tiff.extend([
        0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, b'N', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(len.to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gps_exif_is_gone_and_the_picture_stays() {
        let with_gps = example_jpeg_with_gps();
        assert!(with_gps.windows(4).any(|w| w == b"Exif"));
        let (clean, size) = strip(&with_gps).unwrap();
        assert!(!clean.windows(4).any(|w| w == b"Exif"), "no EXIF");
        assert!(!clean.windows(2).any(|w| w == [0xFF, 0xE1]), "no APP1 segment of any kind");
        assert_eq!(size, (64, 48));
        assert_eq!(image::load_from_memory(&clean).unwrap().width(), 64);
    }

    #[test]
    fn not_an_image_is_refused() {
        assert!(strip(b"%PDF-1.7 not a photo").is_err());
    }
}
