//! The one EXIF field display needs: the orientation, read from the input and written back alone.

use exif::{Exif, In, Reader, Tag};

use super::{ImageFormat, TransformError};

/// The largest EXIF block read: what a JPEG APP1 segment holds (65,535 bytes less its length and
/// the `Exif\0\0` prefix). PNG and WebP have no such limit of their own; without one a block could
/// hold millions of IFD entries, each kept in memory by kamadak-exif (`exif_budget.rs`).
pub(super) const MAX_EXIF_BLOCK: usize = 65_535 - 2 - 6;

/// Parses an EXIF block (a TIFF structure, without the JPEG `Exif\0\0` prefix) with kamadak-exif.
///
/// A block with damaged parts still yields the fields that could be read (kamadak-exif's
/// `continue_on_error`); one with no readable TIFF header or IFD0 is an error, since its
/// orientation cannot be known, and so is one larger than [`MAX_EXIF_BLOCK`].
pub(super) fn read_exif(tiff: &[u8], format: ImageFormat) -> Result<Exif, TransformError> {
    if tiff.len() > MAX_EXIF_BLOCK {
        return Err(TransformError::MalformedExif {
            format,
            reason: format!(
                "an EXIF block of {} bytes; at most {MAX_EXIF_BLOCK} are read (a JPEG segment's limit)",
                tiff.len()
            ),
        });
    }
    Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
        .or_else(|error| error.distill_partial_result(|_ignored| {}))
        .map_err(|error| TransformError::MalformedExif {
            format,
            reason: error.to_string(),
        })
}

/// The EXIF orientation of the primary image when it is one of the seven that change the display
/// (2..=8); `None` for 1 (normal), a missing tag, or a value outside the specification (which
/// viewers ignore too).
pub(super) fn orientation(exif: &Exif) -> Option<u16> {
    let value = exif.get_field(Tag::Orientation, In::PRIMARY)?.value.get_uint(0)?;
    u16::try_from(value).ok().filter(|v| (2..=8).contains(v))
}

/// The smallest EXIF block holding only `Orientation`: a big-endian TIFF header, an IFD0 with
/// one entry (tag 0x0112, type SHORT, count 1, the value left-justified in the 4-byte field)
/// and no next IFD. 26 bytes; the container adds its own prefix (`Exif\0\0` in JPEG).
pub(super) fn minimal_exif(orientation: u16) -> [u8; 26] {
    let [hi, lo] = orientation.to_be_bytes();
    [
        b'M', b'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // TIFF header, IFD0 at offset 8
        0x00, 0x01, // one entry
        0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, hi, lo, 0x00, 0x00, // Orientation
        0x00, 0x00, 0x00, 0x00, // no IFD1 (no thumbnail)
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_exif_reads_back_as_only_the_orientation() {
        for value in 2..=8 {
            let exif = read_exif(&minimal_exif(value), ImageFormat::Jpeg).unwrap();
            assert_eq!(orientation(&exif), Some(value));
            assert_eq!(exif.fields().count(), 1);
        }
    }

    #[test]
    fn normal_orientation_needs_no_exif() {
        let exif = read_exif(&minimal_exif(1), ImageFormat::Jpeg).unwrap();
        assert_eq!(orientation(&exif), None);
    }

    #[test]
    fn a_block_larger_than_a_jpeg_segment_is_an_error() {
        let mut block = minimal_exif(6).to_vec();
        block.resize(MAX_EXIF_BLOCK, 0);
        assert!(read_exif(&block, ImageFormat::Png).is_ok());
        block.push(0);
        let Err(error) = read_exif(&block, ImageFormat::Png) else {
            panic!("a block of {} bytes was read", block.len());
        };
        assert!(error.to_string().contains("at most 65527"), "{error}");
    }

    #[test]
    fn garbage_exif_is_an_error() {
        let result = read_exif(b"not a TIFF header", ImageFormat::Png);
        assert!(matches!(result, Err(TransformError::MalformedExif { .. })));
    }
}
