//! JPEG: keep the segments decoding needs, the ICC profile and the orientation; drop the rest.

use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::{Bytes, ImageEXIF};

use super::jpeg_scans::clean_tail;
use super::orientation::{minimal_exif, orientation, read_exif};
use super::{ImageFormat, TransformError};

const FORMAT: ImageFormat = ImageFormat::Jpeg;
const JFIF: &[u8] = b"JFIF\0";
const ICC_PROFILE: &[u8] = b"ICC_PROFILE\0";
const ADOBE: &[u8] = b"Adobe";
const EXIF_PREFIX: &[u8] = b"Exif\0\0";
/// The JFIF APP0 fields before the thumbnail: identifier, version, units, densities, thumbnail size.
const JFIF_HEADER_LEN: usize = 14;

/// Parses the JPEG in `input` and writes it back with only these segments before the first scan:
/// frame and table segments (SOFn, DHT, DQT, DRI, DAC…), JFIF APP0 (its thumbnail removed), the
/// ICC profile (APP2 `ICC_PROFILE`), Adobe APP14 (it tells decoders the colour transform), and a
/// minimal EXIF APP1 with the orientation when it was not 1. After the first scan header, see
/// [`clean_tail`]. The entropy-coded data is copied byte for byte.
pub(super) fn strip(input: &[u8]) -> Result<Vec<u8>, TransformError> {
    let mut jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(input))
        .map_err(|error| TransformError::malformed(FORMAT, error))?;
    let orientation = match jpeg.exif() {
        Some(tiff) => orientation(&read_exif(&tiff, FORMAT)?),
        None => None,
    };
    if !jpeg.segments().iter().any(|s| is_frame_header(s.marker())) {
        return Err(TransformError::malformed(
            FORMAT,
            "no frame header (SOFn) before the first scan",
        ));
    }

    let mut kept: Vec<JpegSegment> = Vec::with_capacity(jpeg.segments().len());
    let mut scan_seen = false;
    for segment in jpeg.segments() {
        let contents = segment.contents();
        match segment.marker() {
            markers::SOS => {
                // The entropy img-parts holds is the rest of the input after this header.
                let tail_len = segment.len_with_entropy() - segment.len();
                let tail = input
                    .len()
                    .checked_sub(tail_len)
                    .and_then(|start| input.get(start..))
                    .ok_or_else(|| TransformError::malformed(FORMAT, "scan data out of bounds"))?;
                let tail = clean_tail(tail).map_err(|error| TransformError::malformed(FORMAT, error))?;
                kept.push(JpegSegment::new_with_entropy(
                    markers::SOS,
                    contents.clone(),
                    Bytes::from(tail),
                ));
                scan_seen = true;
            }
            markers::APP0 if contents.starts_with(JFIF) && contents.len() >= JFIF_HEADER_LEN => {
                kept.push(JpegSegment::new_with_contents(
                    markers::APP0,
                    jfif_without_thumbnail(contents),
                ));
            }
            markers::APP2 if contents.starts_with(ICC_PROFILE) => kept.push(segment.clone()),
            markers::APP14 if contents.starts_with(ADOBE) => kept.push(segment.clone()),
            markers::APP0..=markers::APP15 | markers::COM => {}
            _ => kept.push(segment.clone()),
        }
    }
    if !scan_seen {
        return Err(TransformError::malformed(
            FORMAT,
            "truncated: no scan (SOS) segment",
        ));
    }
    if let Some(orientation) = orientation {
        let mut contents = EXIF_PREFIX.to_vec();
        contents.extend_from_slice(&minimal_exif(orientation));
        // After JFIF APP0 when there is one (JFIF requires APP0 first), else first.
        let at = kept.iter().take_while(|s| s.marker() == markers::APP0).count();
        kept.insert(
            at,
            JpegSegment::new_with_contents(markers::APP1, Bytes::from(contents)),
        );
    }
    *jpeg.segments_mut() = kept;
    Ok(jpeg.encoder().bytes().into())
}

fn is_frame_header(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF)
}

/// The JFIF header with the thumbnail size set to 0×0 and the thumbnail pixels cut off.
fn jfif_without_thumbnail(contents: &Bytes) -> Bytes {
    let mut header = contents.slice(..JFIF_HEADER_LEN).to_vec();
    header[12] = 0;
    header[13] = 0;
    Bytes::from(header)
}

/// The EXIF block (TIFF structure) of the first EXIF APP1 segment, if any.
pub(super) fn exif_block(input: &[u8]) -> Result<Option<Bytes>, TransformError> {
    let jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(input))
        .map_err(|error| TransformError::malformed(FORMAT, error))?;
    Ok(jpeg.exif())
}
