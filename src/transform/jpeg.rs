//! JPEG: keep the segments decoding needs, the ICC profile and the orientation; drop the rest.

use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::{Bytes, ImageEXIF};
use memchr::memchr;

use super::jpeg_markers::{Role, has_length, role};
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
/// The Adobe APP14 fields decoders read (identifier, version, two flag words, colour transform);
/// anything after them is no one's and could hold any text.
const ADOBE_LEN: usize = 12;

/// Parses the JPEG in `input` and writes it back with only these segments before the first scan:
/// the frame and table segments (SOFn, DHT, DQT, DRI, DAC; see `jpeg_markers.rs`), JFIF APP0 (its
/// thumbnail removed), the ICC profile (APP2 `ICC_PROFILE`), Adobe APP14 (it tells decoders the
/// colour transform; its first 12 bytes), and a minimal EXIF APP1 with the orientation when it was
/// not 1. After the first scan header, see [`clean_tail`]. The entropy-coded data is copied byte
/// for byte. A file with a marker decoders refuse is refused (see [`check_markers_before_scan`]).
pub(super) fn strip(input: &[u8]) -> Result<Vec<u8>, TransformError> {
    let mut jpeg = parse(input)?;
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
            markers::APP14 if contents.starts_with(ADOBE) && contents.len() >= ADOBE_LEN => {
                kept.push(JpegSegment::new_with_contents(
                    markers::APP14,
                    contents.slice(..ADOBE_LEN),
                ));
            }
            // DNL means something only after the first scan (T.81 B.2.5); decoders skip it here.
            markers::DNL => {}
            marker => match role(marker) {
                Role::Frame | Role::Decoding => kept.push(segment.clone()),
                // APPn and COM; the other roles were refused by `check_markers_before_scan` or
                // carry no segment.
                _ => {}
            },
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
    role(marker) == Role::Frame
}

/// img-parts' reading of `input`, after [`check_markers_before_scan`].
fn parse(input: &[u8]) -> Result<Jpeg, TransformError> {
    check_markers_before_scan(input).map_err(|reason| TransformError::malformed(FORMAT, reason))?;
    Jpeg::from_bytes(Bytes::copy_from_slice(input)).map_err(|error| TransformError::malformed(FORMAT, error))
}

/// Refuses, before the first scan, what img-parts steps over without a word but decoders stop at
/// (libjpeg-turbo: "two SOI markers", "unsupported marker type", "two SOF markers"): a second SOI,
/// the markers `jpeg_markers.rs` refuses, and a second frame header. Stripping such a file would
/// make it decode where it did not, or show another picture. The walk is img-parts' own (bytes
/// that are not `FF` and standalone markers skipped, segments stepped over by their length), so
/// that both see the same segments; a truncated segment is left to img-parts to report.
fn check_markers_before_scan(input: &[u8]) -> Result<(), String> {
    let mut at = 2;
    let mut frames = 0;
    loop {
        let Some(ff) = input.get(at..).and_then(|rest| memchr(0xFF, rest)) else {
            return Ok(());
        };
        let mut code_at = at + ff + 1;
        while input.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let Some(&code) = input.get(code_at) else {
            return Ok(());
        };
        at = code_at + 1;
        if code == 0x00 {
            // `FF 00` outside scan data: junk, which decoders skip as img-parts does.
            continue;
        }
        match role(code) {
            Role::Standalone => {}
            Role::EndOfImage => return Ok(()),
            Role::StartOfImage => {
                return Err("a second SOI marker (FF D8) before the first scan".into());
            }
            Role::Refused(what) => return Err(format!("{what} (FF {code:02X}) before the first scan")),
            Role::Decoding if code == markers::SOS => return Ok(()),
            Role::Frame | Role::Decoding | Role::Metadata => {
                if role(code) == Role::Frame {
                    frames += 1;
                    if frames > 1 {
                        return Err(format!(
                            "a second frame header (FF {code:02X}) before the first scan"
                        ));
                    }
                }
                debug_assert!(has_length(code));
                let Some(length) = input.get(at..at + 2) else {
                    return Ok(());
                };
                at += usize::from(u16::from_be_bytes([length[0], length[1]]));
            }
        }
    }
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
    Ok(parse(input)?.exif())
}
