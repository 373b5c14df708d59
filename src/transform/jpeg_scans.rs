//! The part of a JPEG after its first scan header: entropy-coded data, and for progressive or
//! multi-scan images further tables and scans, up to the EOI marker.
//!
//! img-parts keeps all of it as one opaque "entropy" block, which would carry along APPn and COM
//! segments placed between scans and whatever follows EOI (MPF secondary images with their own
//! EXIF, vendor trailers, appended files). This walks the markers — in entropy-coded data only
//! `FF 00` (stuffing), `FF D0`..`FF D7` (restart) and fill bytes can follow `FF` — keeps the data
//! and the segments decoding needs, drops APPn and COM, and refuses what [`role`] refuses, a
//! second SOI or a second frame (a second image, which decoders show instead of the first or not
//! at all).

use memchr::memchr;

use super::jpeg_markers::{Role, has_length, role};

/// Why the data after the first scan header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScanError {
    /// The file ends before its EOI marker.
    MissingEoi,
    /// A segment's length runs past the end of the file, or is below its own 2 bytes.
    BadSegmentLength(u8),
    /// An SOI marker: a second image starts (or the scan data is damaged).
    SecondImage,
    /// A frame header (SOFn): a second frame in one image.
    SecondFrame(u8),
    /// A marker [`role`] refuses, with its description.
    Refused(&'static str, u8),
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingEoi => f.write_str("truncated: no EOI marker after the image data"),
            Self::BadSegmentLength(marker) => {
                write!(
                    f,
                    "segment FF {marker:02X} after the first scan has an invalid length"
                )
            }
            Self::SecondImage => {
                f.write_str("an SOI marker (FF D8) after the first scan: a second image or damaged data")
            }
            Self::SecondFrame(marker) => {
                write!(f, "a second frame header (FF {marker:02X}) after the first scan")
            }
            Self::Refused(what, marker) => {
                write!(f, "{what} (FF {marker:02X}) after the first scan")
            }
        }
    }
}

/// Whether a marker a decoder resumes at (EOI, or a segment with a length) starts at `at`, after
/// any fill bytes: not stuffing (`FF 00`), a restart marker or image data.
fn marker_follows(tail: &[u8], at: usize) -> bool {
    if tail.get(at) != Some(&0xFF) {
        return false;
    }
    let code = tail[at..].iter().find(|&&b| b != 0xFF);
    code.is_some_and(|&code| role(code) == Role::EndOfImage || has_length(code))
}

/// Appends `tail` (everything after the first SOS header) to `out` without APPn/COM segments and
/// without anything after EOI, ending with `FF D9`; at most `tail.len()` bytes. A segment that no marker follows (only in a
/// damaged file) is emptied instead of removed, so that a decoder reads what follows it as before.
pub(super) fn clean_tail(tail: &[u8], out: &mut Vec<u8>) -> Result<(), ScanError> {
    let mut copy_from = 0;
    let mut at = 0;
    loop {
        let ff = at + memchr(0xFF, &tail[at..]).ok_or(ScanError::MissingEoi)?;
        // Any number of fill bytes may precede a marker.
        let mut code_at = ff + 1;
        while tail.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let marker = *tail.get(code_at).ok_or(ScanError::MissingEoi)?;
        at = code_at + 1;
        if marker == 0x00 {
            // Stuffing: a data byte FF.
            continue;
        }
        match role(marker) {
            Role::EndOfImage => {
                out.extend_from_slice(&tail[copy_from..at]);
                return Ok(());
            }
            // Restart markers and TEM: part of the image data.
            Role::Standalone => {}
            Role::StartOfImage => return Err(ScanError::SecondImage),
            Role::Frame => return Err(ScanError::SecondFrame(marker)),
            Role::Refused(what) => return Err(ScanError::Refused(what, marker)),
            Role::Decoding | Role::Metadata => {
                let length = tail
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .filter(|&length| length >= 2)
                    .ok_or(ScanError::BadSegmentLength(marker))?;
                let end = at + length;
                if end > tail.len() {
                    return Err(ScanError::BadSegmentLength(marker));
                }
                if role(marker) == Role::Metadata {
                    out.extend_from_slice(&tail[copy_from..ff]);
                    if !marker_follows(tail, end) {
                        // No marker follows: the bytes after the segment are not where a decoder
                        // expects them (a damaged file). The marker stays, emptied, so that they
                        // are read as before, not as part of the data before the segment.
                        out.extend_from_slice(&[0xFF, marker, 0x00, 0x02]);
                    }
                    copy_from = end;
                }
                at = end;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(tail: &[u8]) -> Result<Vec<u8>, ScanError> {
        let mut out = Vec::new();
        clean_tail(tail, &mut out).map(|()| out)
    }

    #[test]
    fn entropy_data_with_stuffing_and_restarts_is_kept() {
        let tail = b"\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xFF\xD9";
        assert_eq!(clean(tail).unwrap(), tail);
    }

    #[test]
    fn anything_after_eoi_is_dropped() {
        let tail = b"\x12\x34\xFF\xD9\xFF\xD8\xFF\xE1\x00\x04GPS!\xFF\xD9";
        assert_eq!(clean(tail).unwrap(), b"\x12\x34\xFF\xD9");
    }

    #[test]
    fn app_and_comment_segments_between_scans_are_dropped() {
        let tail =
            b"\x12\xFF\xE1\x00\x06Exif\xFF\xC4\x00\x03\x01\xFF\xDA\x00\x03\x01\x99\xFF\xFE\x00\x03x\xFF\xD9";
        assert_eq!(
            clean(tail).unwrap(),
            b"\x12\xFF\xC4\x00\x03\x01\xFF\xDA\x00\x03\x01\x99\xFF\xD9"
        );
    }

    #[test]
    fn a_segment_no_marker_follows_is_emptied_not_removed() {
        // Bytes a decoder skips after the segment would otherwise join the scan's data before it.
        let tail = b"\x12\xFF\xE0\x00\x04ab\x34\x56\xFF\xD9";
        assert_eq!(clean(tail).unwrap(), b"\x12\xFF\xE0\x00\x02\x34\x56\xFF\xD9");
        // Stripping again changes nothing.
        let once = clean(tail).unwrap();
        assert_eq!(clean(&once).unwrap(), once);
        // Stuffing or a restart marker after the segment is image data too, not a marker.
        for next in [b"\xFF\x00\x34", b"\xFF\xD0\x34"] {
            let mut tail = b"\x12\xFF\xE0\x00\x04ab".to_vec();
            tail.extend_from_slice(next);
            tail.extend_from_slice(b"\xFF\xD9");
            let mut expected = b"\x12\xFF\xE0\x00\x02".to_vec();
            expected.extend_from_slice(next);
            expected.extend_from_slice(b"\xFF\xD9");
            assert_eq!(clean(&tail).unwrap(), expected);
            assert_eq!(clean(&expected).unwrap(), expected);
        }
        // A segment a marker follows (after fill bytes) is removed whole.
        let tail = b"\x12\xFF\xE0\x00\x04ab\xFF\xFF\xC4\x00\x02\xFF\xD9";
        assert_eq!(clean(tail).unwrap(), b"\x12\xFF\xFF\xC4\x00\x02\xFF\xD9");
    }

    #[test]
    fn a_second_image_or_frame_and_unknown_markers_are_refused() {
        // A stray SOI inside the scan data, and a whole second image before the EOI.
        assert_eq!(clean(b"\x12\xFF\xD8\x34\xFF\xD9"), Err(ScanError::SecondImage));
        assert_eq!(
            clean(b"\x12\xFF\xC0\x00\x02\xFF\xD9"),
            Err(ScanError::SecondFrame(0xC0))
        );
        // Reserved codes (no length), JPGn and hierarchical segments: refused, never copied.
        for tail in [
            &b"\x12\xFF\x02\x34\xFF\xD9"[..],
            b"\x12\xFF\xBF\x34\xFF\xD9",
            b"\x12\xFF\xF0\x00\x06Jane\xFF\xD9",
            b"\x12\xFF\xDE\x00\x02\xFF\xD9",
            b"\x12\xFF\xC8\x00\x02\xFF\xD9",
        ] {
            assert!(matches!(clean(tail), Err(ScanError::Refused(..))), "{tail:02X?}");
        }
        // TEM and DNL are kept: a decoder skips the first and reads the second.
        let tail = b"\x12\xFF\x01\x34\xFF\xDC\x00\x04\x00\x10\xFF\xD9";
        assert_eq!(clean(tail).unwrap(), tail);
    }

    #[test]
    fn truncated_data_is_an_error() {
        assert_eq!(clean(b"\x12\x34"), Err(ScanError::MissingEoi));
        assert_eq!(clean(b"\x12\xFF"), Err(ScanError::MissingEoi));
        assert_eq!(
            clean(b"\xFF\xE1\x00\x10ab"),
            Err(ScanError::BadSegmentLength(0xE1))
        );
        assert_eq!(clean(b"\xFF\xC4\x00"), Err(ScanError::BadSegmentLength(0xC4)));
        assert_eq!(clean(b"\xFF\xC4\x00\x01"), Err(ScanError::BadSegmentLength(0xC4)));
    }
}
