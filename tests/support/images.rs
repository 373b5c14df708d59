//! Small images built in the tests, with the `image` crate's encoders, and the containers' pieces
//! to put crafted metadata into them: a JPEG APP segment, a PNG chunk (with its CRC), a WebP chunk.
#![allow(dead_code)] // each test file uses some of these

use image::{ImageEncoder, RgbImage};

/// A 16×16 picture with a distinct value in every pixel (so that a wrong decode shows).
pub fn picture(seed: u8) -> RgbImage {
    RgbImage::from_fn(16, 16, |x, y| {
        let (x, y) = (x as u8, y as u8);
        image::Rgb([(x * 16) ^ seed, y * 16, x.wrapping_mul(y) ^ seed])
    })
}

/// `picture` as a baseline JPEG (SOI, JFIF APP0, tables, SOF0, one scan, EOI).
pub fn jpeg(seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&picture(seed))
        .expect("encode a JPEG");
    out
}

/// `picture` as a PNG (IHDR, IDAT, IEND).
pub fn png(seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let picture = picture(seed);
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&picture, 16, 16, image::ExtendedColorType::Rgb8)
        .expect("encode a PNG");
    out
}

/// A JPEG segment: `FF marker`, its length, `contents`.
pub fn jpeg_segment(marker: u8, contents: &[u8]) -> Vec<u8> {
    let length = u16::try_from(contents.len() + 2).expect("a segment under 64 KB");
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(contents);
    out
}

/// `jpeg` with `bytes` inserted right after its SOI marker.
pub fn after_soi(jpeg: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(bytes);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// `jpeg` with `bytes` inserted just before its first SOS marker.
pub fn before_sos(jpeg: &[u8], bytes: &[u8]) -> Vec<u8> {
    let at = find(jpeg, b"\xFF\xDA").expect("an SOS marker");
    let mut out = jpeg[..at].to_vec();
    out.extend_from_slice(bytes);
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// A JPEG with an EXIF APP1 segment holding `tiff`.
pub fn jpeg_with_exif(tiff: &[u8]) -> Vec<u8> {
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(tiff);
    // After JFIF APP0 (20 bytes from the start), as JFIF wants APP0 first.
    let jpeg = jpeg(0);
    let mut out = jpeg[..20].to_vec();
    out.extend_from_slice(&jpeg_segment(0xE1, &app1));
    out.extend_from_slice(&jpeg[20..]);
    out
}

/// A PNG chunk: length, type, data, CRC.
pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len())
        .expect("a small chunk")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

/// `png` with `chunk` inserted after IHDR (8-byte signature, 25-byte IHDR chunk).
pub fn png_with(png: &[u8], chunk: &[u8]) -> Vec<u8> {
    let mut out = png[..33].to_vec();
    out.extend_from_slice(chunk);
    out.extend_from_slice(&png[33..]);
    out
}

/// A big-endian TIFF block with one IFD0 holding `entries` (tag, type, count, value or offset)
/// followed by `values`, which start at [`tiff_values_at`]`(entries.len())`.
pub fn tiff(entries: &[(u16, u16, u32, u32)], values: &[u8]) -> Vec<u8> {
    let mut out = b"MM\0*\0\0\0\x08".to_vec();
    out.extend_from_slice(&u16::try_from(entries.len()).expect("an IFD").to_be_bytes());
    for &(tag, kind, count, value) in entries {
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&value.to_be_bytes());
    }
    out.extend_from_slice(&[0; 4]); // no next IFD
    out.extend_from_slice(values);
    out
}

/// Where [`tiff`] puts its values for an IFD of `entries` entries.
pub fn tiff_values_at(entries: usize) -> u32 {
    u32::try_from(8 + 2 + 12 * entries + 4).expect("a small block")
}

/// A TIFF block whose only field is Orientation = `value`.
pub fn orientation_tiff(value: u16) -> Vec<u8> {
    tiff(&[(0x0112, 3, 1, u32::from(value) << 16)], &[])
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
