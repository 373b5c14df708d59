//! What can go wrong when stripping metadata from an image or reading its EXIF.

use super::format::ImageFormat;

/// Why an image was not transformed. Every variant means "answer with an error": the original bytes
/// must never be served in place of the stripped ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// The bytes start like an image format the transform does not handle, so its metadata cannot
    /// be removed safely.
    #[error("unsupported image format {0}: only JPEG, PNG and WebP can be stripped of metadata")]
    UnsupportedImage(&'static str),

    /// The container (segments, chunks) could not be parsed: a corrupt or truncated file.
    #[error("malformed {format} image: {reason}")]
    MalformedImage {
        /// The format the magic bytes announced.
        format: ImageFormat,
        /// What was wrong, for logs and the error response.
        reason: String,
    },

    /// The EXIF block is present but cannot be read, so the orientation (or the JSON) is unknown.
    #[error("malformed EXIF in {format} image: {reason}")]
    MalformedExif {
        /// The format of the image holding the EXIF block.
        format: ImageFormat,
        /// What the EXIF reader reported.
        reason: String,
    },
}

impl TransformError {
    pub(super) fn malformed(format: ImageFormat, reason: impl ToString) -> Self {
        Self::MalformedImage {
            format,
            reason: reason.to_string(),
        }
    }
}
