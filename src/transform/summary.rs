//! What an image holds, in a few facts, for an audit before a backfill (`mode=report`): its
//! format, whether it has a GPS block, the camera, and how many bytes a strip would remove.
//! Read with the same parsers as [`super::strip_metadata`] and [`super::exif_json`]: an image
//! those refuse is refused here too, so a report foretells the strip.

use exif::{Context, Exif, In, Tag, Value};

use super::{ImageFormat, Outcome, TransformError, image_format, jpeg, orientation, png, webp};

/// The longest camera make or model kept, in characters.
const MAX_NAME_CHARS: usize = 64;

/// What [`summarize`] made of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    Image(ImageSummary),
    /// Not an image by its magic bytes: there is nothing to strip.
    NotAnImage,
}

/// The facts of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    pub format: ImageFormat,
    /// The EXIF block has a GPS field (a position, or any other).
    pub has_gps: bool,
    /// EXIF `Make`, trimmed, without control characters.
    pub make: Option<String>,
    /// EXIF `Model`, the same.
    pub model: Option<String>,
    /// The bytes [`super::strip_metadata`] removes (EXIF, XMP, IPTC, comments, text chunks…,
    /// less the minimal orientation block it may add).
    pub metadata_bytes: u64,
}

/// Summarises a JPEG, PNG or WebP image.
///
/// # Errors
/// As [`super::strip_metadata`]: unsupported image formats, damaged containers, unreadable EXIF.
pub fn summarize(input: &[u8]) -> Result<Summary, TransformError> {
    let Some(format) = image_format(input)? else {
        return Ok(Summary::NotAnImage);
    };
    let stripped = match super::strip_metadata(input)? {
        Outcome::Stripped { bytes, .. } => bytes.len(),
        Outcome::NotAnImage => return Ok(Summary::NotAnImage),
    };
    let block = match format {
        // A JPEG's block is borrowed, then copied (a few KB); PNG and WebP parse a copy.
        ImageFormat::Jpeg => jpeg::exif_block(input)?.map(bytes::Bytes::copy_from_slice),
        ImageFormat::Png => png::exif_block(bytes::Bytes::copy_from_slice(input))?,
        ImageFormat::WebP => webp::exif_block(bytes::Bytes::copy_from_slice(input))?,
    };
    let exif = match block {
        Some(tiff) => Some(orientation::read_exif(&tiff, format)?),
        None => None,
    };
    let exif = exif.as_ref();
    Ok(Summary::Image(ImageSummary {
        format,
        has_gps: exif.is_some_and(|e| e.fields().any(|f| f.tag.context() == Context::Gps)),
        make: exif.and_then(|e| name(e, Tag::Make)),
        model: exif.and_then(|e| name(e, Tag::Model)),
        metadata_bytes: input.len().saturating_sub(stripped) as u64,
    }))
}

/// An ASCII field of IFD0 as a short printable name.
fn name(exif: &Exif, tag: Tag) -> Option<String> {
    let Value::Ascii(values) = &exif.get_field(tag, In::PRIMARY)?.value else {
        return None;
    };
    let text = String::from_utf8_lossy(values.first()?);
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = include_bytes!("../../samples/images/sample.jpg");
    const MINIMAL: &[u8] = b"\xFF\xD8\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x00\xFF\xD9";

    #[test]
    fn the_sample_has_gps_a_camera_and_metadata() {
        let Summary::Image(summary) = summarize(SAMPLE).unwrap() else {
            panic!("not an image");
        };
        assert_eq!(summary.format, ImageFormat::Jpeg);
        assert!(summary.has_gps);
        assert_eq!(summary.make.as_deref(), Some("ExampleCam"));
        assert_eq!(summary.model.as_deref(), Some("EC-1 Mark II"));
        let Outcome::Stripped { bytes, .. } = super::super::strip_metadata(SAMPLE).unwrap() else {
            panic!("not stripped");
        };
        assert_eq!(summary.metadata_bytes, (SAMPLE.len() - bytes.len()) as u64);
        assert!(summary.metadata_bytes > 0);
    }

    #[test]
    fn an_image_without_metadata_says_so() {
        use image::ImageEncoder;
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&[7; 4 * 4 * 3], 4, 4, image::ExtendedColorType::Rgb8)
            .unwrap();
        let expected = ImageSummary {
            format: ImageFormat::Png,
            has_gps: false,
            make: None,
            model: None,
            metadata_bytes: 0,
        };
        assert_eq!(summarize(&png).unwrap(), Summary::Image(expected));
    }

    #[test]
    fn non_images_damaged_and_unsupported_images_are_told_apart() {
        assert_eq!(summarize(b"plain text").unwrap(), Summary::NotAnImage);
        assert!(matches!(
            summarize(&MINIMAL[..6]),
            Err(TransformError::MalformedImage { .. })
        ));
        assert!(matches!(
            summarize(b"II*\x00\x08\x00\x00\x00"),
            Err(TransformError::UnsupportedImage(_))
        ));
    }
}
