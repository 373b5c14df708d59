//! JPEG: keep the segments decoding needs, the ICC profile and the orientation; drop the rest.

use super::jpeg_markers::{Role, role};
use super::jpeg_scans::clean_tail;
use super::jpeg_segments::{self, Header, SOS, Segment};
use super::orientation::{minimal_exif, orientation, read_exif};
use super::{ImageFormat, TransformError};

const FORMAT: ImageFormat = ImageFormat::Jpeg;
const JFIF: &[u8] = b"JFIF\0";
const ICC_PROFILE: &[u8] = b"ICC_PROFILE\0";
const ADOBE: &[u8] = b"Adobe";
const EXIF_PREFIX: &[u8] = b"Exif\0\0";
/// The JFIF APP0 fields before the thumbnail: identifier, version, units, densities, thumbnail size.
const JFIF_HEADER_LEN: usize = 14;
/// The Adobe APP14 fields decoders read (identifier, version, two flag words, colour transform);
/// anything after them is no one's and could hold any text.
const ADOBE_LEN: usize = 12;

const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP2: u8 = 0xE2;
const APP14: u8 = 0xEE;
/// DNL, the number of lines.
const DNL: u8 = 0xDC;
/// The minimal EXIF APP1 segment: marker, length, `Exif\0\0`, the 26-byte block.
const MINIMAL_EXIF_SEGMENT_LEN: usize = 2 + 2 + 6 + 26;

/// Walks the JPEG in `input` and writes, in one pass from slices of it, only these segments
/// before the first scan: the frame and table segments (SOFn, DHT, DQT, DRI, DAC; see
/// `jpeg_markers.rs`), JFIF APP0 (its thumbnail removed), the ICC profile (APP2 `ICC_PROFILE`),
/// Adobe APP14 (it tells decoders the colour transform; its first 12 bytes), and a minimal EXIF
/// APP1 with the orientation when it was not 1. After the first scan header, see [`clean_tail`].
/// The entropy-coded data is copied byte for byte. A file with a marker decoders refuse is
/// refused (see `jpeg_segments.rs`). The output never outgrows the input by more than the
/// orientation's segment, so it is allocated once: the input and the output are all the memory a
/// strip holds.
pub(super) fn strip(input: &[u8]) -> Result<Vec<u8>, TransformError> {
    let header = read(input)?;
    let orientation = match exif_of(&header) {
        Some(tiff) => orientation(&read_exif(tiff, FORMAT)?),
        None => None,
    };
    if !header.segments.iter().any(|s| role(s.marker) == Role::Frame) {
        return Err(TransformError::malformed(
            FORMAT,
            "no frame header (SOFn) before the first scan",
        ));
    }
    let Some((scan_header, tail)) = header.scan else {
        return Err(TransformError::malformed(
            FORMAT,
            "truncated: no scan (SOS) segment",
        ));
    };

    let mut out = Vec::with_capacity(input.len() + MINIMAL_EXIF_SEGMENT_LEN);
    out.extend_from_slice(b"\xFF\xD8");
    let mut exif_written = false;
    let kept = header.segments.iter().filter_map(kept);
    for (marker, contents) in kept.chain([(SOS, Contents::Same(scan_header))]) {
        // After JFIF APP0 when there is one (JFIF requires APP0 first), else first.
        if !exif_written && marker != APP0 {
            if let Some(orientation) = orientation {
                write_segment(&mut out, APP1, &[EXIF_PREFIX, &minimal_exif(orientation)]);
            }
            exif_written = true;
        }
        match contents {
            Contents::Same(bytes) => write_segment(&mut out, marker, &[bytes]),
            Contents::Jfif(header) => write_segment(&mut out, marker, &[&header]),
        }
    }
    clean_tail(tail, &mut out).map_err(|error| TransformError::malformed(FORMAT, error))?;
    Ok(out)
}

/// What a kept segment holds in the output.
enum Contents<'a> {
    /// Its contents as they were (or their first bytes).
    Same(&'a [u8]),
    /// A JFIF header, its thumbnail removed.
    Jfif([u8; JFIF_HEADER_LEN]),
}

/// Whether `segment` is kept before the first scan, and with what.
fn kept<'a>(segment: &Segment<'a>) -> Option<(u8, Contents<'a>)> {
    let &Segment { marker, contents } = segment;
    let kept = match marker {
        APP0 if contents.starts_with(JFIF) && contents.len() >= JFIF_HEADER_LEN => {
            Contents::Jfif(jfif_without_thumbnail(contents))
        }
        APP2 if contents.starts_with(ICC_PROFILE) => Contents::Same(contents),
        APP14 if contents.starts_with(ADOBE) && contents.len() >= ADOBE_LEN => {
            Contents::Same(&contents[..ADOBE_LEN])
        }
        // DNL means something only after the first scan (T.81 B.2.5); decoders skip it here.
        DNL => return None,
        // APPn and COM go; the other roles were refused by the walk or carry no segment.
        _ => match role(marker) {
            Role::Frame | Role::Decoding => Contents::Same(contents),
            _ => return None,
        },
    };
    Some((marker, kept))
}

/// Appends the segment `FF marker`, its length, and `parts` (at most 65,533 bytes in all: each
/// comes from a segment of the input, or is the minimal EXIF).
fn write_segment(out: &mut Vec<u8>, marker: u8, parts: &[&[u8]]) {
    let size: usize = parts.iter().map(|part| part.len()).sum();
    let length = u16::try_from(size + 2).unwrap_or(u16::MAX);
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&length.to_be_bytes());
    for part in parts {
        out.extend_from_slice(part);
    }
}

/// [`jpeg_segments::read`], its error as this format's.
fn read(input: &[u8]) -> Result<Header<'_>, TransformError> {
    jpeg_segments::read(input).map_err(|reason| TransformError::malformed(FORMAT, reason))
}

/// The JFIF header with the thumbnail size set to 0×0 and the thumbnail pixels cut off.
fn jfif_without_thumbnail(contents: &[u8]) -> [u8; JFIF_HEADER_LEN] {
    let mut header = [0; JFIF_HEADER_LEN];
    header.copy_from_slice(&contents[..JFIF_HEADER_LEN]);
    header[12] = 0;
    header[13] = 0;
    header
}

/// The EXIF block (TIFF structure) of the first EXIF APP1 segment, if any.
fn exif_of<'a>(header: &Header<'a>) -> Option<&'a [u8]> {
    header
        .segments
        .iter()
        .find(|s| s.marker == APP1 && s.contents.starts_with(EXIF_PREFIX))
        .map(|s| &s.contents[EXIF_PREFIX.len()..])
}

/// The EXIF block of `input`, a slice of it: nothing is copied.
pub(super) fn exif_block(input: &[u8]) -> Result<Option<&[u8]>, TransformError> {
    Ok(exif_of(&read(input)?))
}
