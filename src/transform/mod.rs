//! The S3 Object Lambda transform, pure bytes → bytes: strip identifying metadata from an image, or
//! report its EXIF as JSON (`?showExif=true`).
//!
//! - [`strip_metadata`]: JPEG, PNG and WebP come back with only what display needs — the pixels
//!   (never re-encoded: the compressed data is copied byte for byte), the ICC profile and the
//!   orientation (a minimal EXIF block holding only `Orientation`, when it was not 1). EXIF (GPS,
//!   maker notes, serial numbers, names, dates, thumbnails), XMP, IPTC, comments and PNG text
//!   chunks are removed. Other files are [`Outcome::NotAnImage`] (serve them unchanged); other image
//!   formats and damaged images are errors (never serve the original).
//! - [`exif_json`]: every EXIF field as JSON, grouped by IFD.
//! - [`show_exif`]: whether a query string asks for the JSON.
//!
//! JPEG segments are walked in place (`jpeg_segments.rs`), PNG and WebP containers parsed with
//! img-parts, EXIF with kamadak-exif. No I/O, no panics on any input.

mod error;
mod exif_budget;
mod exif_json;
mod format;
mod jpeg;
mod jpeg_markers;
mod jpeg_scans;
mod jpeg_segments;
mod orientation;
mod png;
mod png_raw_profile;
mod query;
pub mod summary;
mod webp;

pub use error::TransformError;
pub use exif_json::JSON_CONTENT_TYPE;
pub use format::{ImageFormat, Sniffed, sniff};
pub use query::{SHOW_EXIF, show_exif};

use img_parts::Bytes;

/// The bytes of an image as the transform takes them: a slice, or [`Bytes`] (what the S3 client
/// reads) that img-parts parses in place. JPEG is never copied; PNG and WebP from a slice are, as
/// img-parts keeps its own `Bytes`, and from `Bytes` are not.
pub trait ImageBytes {
    /// The bytes.
    fn as_slice(&self) -> &[u8];
    /// The bytes as `Bytes`: shared when they are, else a copy.
    fn to_shared(&self) -> Bytes;
}

impl ImageBytes for [u8] {
    fn as_slice(&self) -> &[u8] {
        self
    }

    fn to_shared(&self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl<const N: usize> ImageBytes for [u8; N] {
    fn as_slice(&self) -> &[u8] {
        self
    }

    fn to_shared(&self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl ImageBytes for Vec<u8> {
    fn as_slice(&self) -> &[u8] {
        self
    }

    fn to_shared(&self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl<T: ImageBytes + ?Sized> ImageBytes for &T {
    fn as_slice(&self) -> &[u8] {
        (**self).as_slice()
    }

    fn to_shared(&self) -> Bytes {
        (**self).to_shared()
    }
}

impl ImageBytes for Bytes {
    fn as_slice(&self) -> &[u8] {
        self
    }

    fn to_shared(&self) -> Bytes {
        self.clone()
    }
}

/// What [`strip_metadata`] made of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An image, stripped: serve `bytes` with `format`'s content type.
    Stripped {
        /// The image's format (by magic bytes).
        format: ImageFormat,
        /// The image without identifying metadata.
        bytes: Vec<u8>,
    },
    /// Not an image by its magic bytes: serve the input unchanged.
    NotAnImage,
}

/// Removes identifying metadata from a JPEG, PNG or WebP image; see the [module](self) docs for
/// what is kept, and `jpeg.rs`, `png.rs`, `webp.rs` for the per-format lists.
///
/// # Errors
/// [`TransformError::UnsupportedImage`] for other image formats (TIFF, HEIF, AVIF, GIF, JPEG XL…),
/// [`TransformError::MalformedImage`] for a corrupt or truncated container,
/// [`TransformError::MalformedExif`] when the EXIF block (and so the orientation) cannot be read.
pub fn strip_metadata<I: ImageBytes + ?Sized>(input: &I) -> Result<Outcome, TransformError> {
    let Some(format) = image_format(input.as_slice())? else {
        return Ok(Outcome::NotAnImage);
    };
    let bytes = match format {
        ImageFormat::Jpeg => jpeg::strip(input.as_slice())?,
        ImageFormat::Png => png::strip(input.to_shared())?,
        ImageFormat::WebP => webp::strip(input.to_shared())?,
    };
    Ok(Outcome::Stripped { format, bytes })
}

/// What [`exif_json`] made of its input.
#[derive(Debug, Clone, PartialEq)]
pub enum ExifReport {
    /// The image's EXIF as JSON (serve with [`JSON_CONTENT_TYPE`]).
    Json(serde_json::Value),
    /// Not an image by its magic bytes: there is no EXIF to report.
    NotAnImage,
}

/// Every EXIF field of a JPEG, PNG or WebP image as a JSON object:
///
/// ```json
/// {
///   "image":    { "Make": "ExampleCam", "Orientation": 6, "XResolution": 72, … },
///   "exif":     { "ExposureTime": 0.004, "ExifVersion": "0232", "MakerNote": { "base64": "…" }, … },
///   "gps":      { "GPSLatitudeRef": "N", "GPSLatitude": [48, 51, 29.64], … },
///   "interop":  { … },
///   "thumbnail": { "Compression": 6, "JPEGInterchangeFormat": 766, … },
///   "position": { "latitude": 48.858233, "longitude": 2.2945, "altitude": 35.5 }
/// }
/// ```
///
/// `image`, `exif`, `gps` and `interop` are always there (empty without EXIF); `thumbnail` (IFD1)
/// only when the image has one; `position` only when the GPS IFD has a latitude and a longitude
/// (signed decimal degrees: south and west negative; altitude in metres, below sea level negative).
/// Tag names are the EXIF specification's (kamadak-exif's table: `PhotographicSensitivity`, not
/// exiftool's `ISO`); unknown tags are named `0x` and their hex number. Numbers stay numbers,
/// several values become an array, rationals become their quotient (`null` when divided by 0),
/// ASCII becomes a string, and UNDEFINED bytes a string when printable, else `{"base64": …}`.
///
/// # Errors
/// As [`strip_metadata`]: unsupported image formats, malformed containers, unreadable EXIF; and
/// [`TransformError::MalformedExif`] for a block whose report would pass the budget of
/// `exif_budget.rs` (fields, bytes of values, bytes of JSON): only a hostile block, whose entries
/// share their value bytes, does.
pub fn exif_json<I: ImageBytes + ?Sized>(input: &I) -> Result<ExifReport, TransformError> {
    let Some(format) = image_format(input.as_slice())? else {
        return Ok(ExifReport::NotAnImage);
    };
    // A JPEG's block is a slice of the input; PNG's and WebP's a slice of img-parts' `Bytes`.
    let owned;
    let block = match format {
        ImageFormat::Jpeg => jpeg::exif_block(input.as_slice())?,
        ImageFormat::Png => {
            owned = png::exif_block(input.to_shared())?;
            owned.as_deref()
        }
        ImageFormat::WebP => {
            owned = webp::exif_block(input.to_shared())?;
            owned.as_deref()
        }
    };
    let exif = match block {
        Some(tiff) => Some(orientation::read_exif(tiff, format)?),
        None => None,
    };
    let json = exif_json::to_json(exif.as_ref())
        .map_err(|reason| TransformError::MalformedExif { format, reason })?;
    Ok(ExifReport::Json(json))
}

/// The input's format when it is an image the transform handles; `None` when it is not an image.
fn image_format(input: &[u8]) -> Result<Option<ImageFormat>, TransformError> {
    match sniff(input) {
        Sniffed::Supported(format) => Ok(Some(format)),
        Sniffed::Unsupported(name) => Err(TransformError::UnsupportedImage(name)),
        Sniffed::NotAnImage => Ok(None),
    }
}
