//! Which kind of file the bytes are, by their magic bytes (never by a content type).

use std::fmt;

/// The image formats the transform strips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (JFIF or EXIF): starts with the SOI marker `FF D8`.
    Jpeg,
    /// PNG: the 8-byte signature `89 50 4E 47 0D 0A 1A 0A`.
    Png,
    /// WebP: a RIFF container of form type `WEBP`.
    WebP,
}

impl ImageFormat {
    /// The media type to answer with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::WebP => "WebP",
        })
    }
}

/// What the magic bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// An image the transform handles.
    Supported(ImageFormat),
    /// An image format that can carry metadata the transform cannot remove (named for the error).
    Unsupported(&'static str),
    /// Nothing we recognise as an image: passed through unchanged.
    NotAnImage,
}

/// Classifies `bytes` by their first bytes.
///
/// Formats that can carry EXIF, XMP or comments but are not handled (TIFF and the camera raw
/// formats built on it, HEIF/HEIC, AVIF, JPEG XL, GIF, JPEG 2000) are `Unsupported`, so that they
/// are refused instead of served with their metadata. BMP and other formats without a metadata
/// container are not recognised, and pass through.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    const JXL_BOX: &[u8] = b"\0\0\0\x0cJXL \r\n\x87\n";
    const JP2_BOX: &[u8] = b"\0\0\0\x0cjP  \r\n\x87\n";
    // Two bytes are enough: no text starts with them (not UTF-8), and a JPEG cut short right after
    // its SOI marker is a truncated image, not a non-image.
    if bytes.starts_with(b"\xFF\xD8") {
        return Sniffed::Supported(ImageFormat::Jpeg);
    }
    if bytes.starts_with(PNG) {
        return Sniffed::Supported(ImageFormat::Png);
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes[8..12] == *b"WEBP" {
        return Sniffed::Supported(ImageFormat::WebP);
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Sniffed::Unsupported("TIFF");
    }
    if bytes.starts_with(b"II+\0") || bytes.starts_with(b"MM\0+") {
        return Sniffed::Unsupported("BigTIFF");
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Sniffed::Unsupported("GIF");
    }
    if bytes.starts_with(b"\xFF\x0A") || bytes.starts_with(JXL_BOX) {
        return Sniffed::Unsupported("JPEG XL");
    }
    if bytes.starts_with(JP2_BOX) {
        return Sniffed::Unsupported("JPEG 2000");
    }
    if let Some(kind) = iso_bmff_image(bytes) {
        return Sniffed::Unsupported(kind);
    }
    Sniffed::NotAnImage
}

/// HEIF-family images (HEIC, AVIF): an ISO BMFF `ftyp` box whose major brand is an image brand.
fn iso_bmff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8)? != b"ftyp" {
        return None;
    }
    match bytes.get(8..12)? {
        b"avif" | b"avis" => Some("AVIF"),
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => Some("HEIF"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_formats_are_recognised_by_magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0"), Sniffed::Supported(ImageFormat::Jpeg));
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0"),
            Sniffed::Supported(ImageFormat::Png)
        );
        assert_eq!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Sniffed::Supported(ImageFormat::WebP)
        );
    }

    #[test]
    fn other_images_with_metadata_are_unsupported() {
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Sniffed::Unsupported("TIFF"));
        assert_eq!(sniff(b"GIF89a"), Sniffed::Unsupported("GIF"));
        assert_eq!(sniff(b"\0\0\0\x1cftypheic\0\0"), Sniffed::Unsupported("HEIF"));
        assert_eq!(sniff(b"\0\0\0\x1cftypavif\0\0"), Sniffed::Unsupported("AVIF"));
    }

    #[test]
    fn text_and_short_inputs_are_not_images() {
        assert_eq!(sniff(b""), Sniffed::NotAnImage);
        assert_eq!(sniff(b"\xFF"), Sniffed::NotAnImage);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), Sniffed::NotAnImage);
        assert_eq!(sniff(b"hello, world\n"), Sniffed::NotAnImage);
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Sniffed::NotAnImage);
    }
}
