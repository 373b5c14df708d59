//! The part of a JPEG after its first scan header: entropy-coded data, and for progressive or
//! multi-scan images further tables and scans, up to the EOI marker.
//!
//! img-parts keeps all of it as one opaque "entropy" block, which would carry along APPn and COM
//! segments placed between scans and whatever follows EOI (MPF secondary images with their own
//! EXIF, vendor trailers, appended files). This walks the markers — in entropy-coded data only
//! `FF 00` (stuffing), `FF D0`..`FF D7` (restart) and fill bytes can follow `FF` — and keeps
//! everything but those.

use img_parts::jpeg::markers::{COM, EOI};
use memchr::memchr;

/// Why the data after the first scan header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScanError {
    /// The file ends before its EOI marker.
    MissingEoi,
    /// A segment's length runs past the end of the file, or is below its own 2 bytes.
    BadSegmentLength(u8),
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
        }
    }
}

/// Markers followed by a 2-byte length (ITU T.81 B.1.1.4; the same set img-parts uses).
fn has_length(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF | 0xDA..=0xDF | 0xE0..=0xEF | 0xF0..=0xFD | COM)
}

/// Whether a marker a decoder resumes at (EOI, or a segment with a length) starts at `at`, after
/// any fill bytes: not stuffing (`FF 00`), a restart marker or image data.
fn marker_follows(tail: &[u8], at: usize) -> bool {
    if tail.get(at) != Some(&0xFF) {
        return false;
    }
    let code = tail[at..].iter().find(|&&b| b != 0xFF);
    code.is_some_and(|&code| code == EOI || has_length(code))
}

/// Copies `tail` (everything after the first SOS header) without APPn/COM segments and without
/// anything after EOI; the result ends with `FF D9`. A segment that no marker follows (only in a
/// damaged file) is emptied instead of removed, so that a decoder reads what follows it as before.
pub(super) fn clean_tail(tail: &[u8]) -> Result<Vec<u8>, ScanError> {
    let mut out = Vec::with_capacity(tail.len());
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
        match marker {
            EOI => {
                out.extend_from_slice(&tail[copy_from..at]);
                return Ok(out);
            }
            m if has_length(m) => {
                let length = tail
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .filter(|&length| length >= 2)
                    .ok_or(ScanError::BadSegmentLength(m))?;
                let end = at + length;
                if end > tail.len() {
                    return Err(ScanError::BadSegmentLength(m));
                }
                if matches!(m, 0xE0..=0xEF | COM) {
                    out.extend_from_slice(&tail[copy_from..ff]);
                    if !marker_follows(tail, end) {
                        // No marker follows: the bytes after the segment are not where a decoder
                        // expects them (a damaged file). The marker stays, emptied, so that they
                        // are read as before, not as part of the data before the segment.
                        out.extend_from_slice(&[0xFF, m, 0x00, 0x02]);
                    }
                    copy_from = end;
                }
                at = end;
            }
            // Stuffing, restart markers, TEM and reserved codes: part of the image data.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_data_with_stuffing_and_restarts_is_kept() {
        let tail = b"\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xFF\xD9";
        assert_eq!(clean_tail(tail).unwrap(), tail);
    }

    #[test]
    fn anything_after_eoi_is_dropped() {
        let tail = b"\x12\x34\xFF\xD9\xFF\xD8\xFF\xE1\x00\x04GPS!\xFF\xD9";
        assert_eq!(clean_tail(tail).unwrap(), b"\x12\x34\xFF\xD9");
    }

    #[test]
    fn app_and_comment_segments_between_scans_are_dropped() {
        let tail =
            b"\x12\xFF\xE1\x00\x06Exif\xFF\xC4\x00\x03\x01\xFF\xDA\x00\x03\x01\x99\xFF\xFE\x00\x03x\xFF\xD9";
        assert_eq!(
            clean_tail(tail).unwrap(),
            b"\x12\xFF\xC4\x00\x03\x01\xFF\xDA\x00\x03\x01\x99\xFF\xD9"
        );
    }

    #[test]
    fn a_segment_no_marker_follows_is_emptied_not_removed() {
        // Bytes a decoder skips after the segment would otherwise join the scan's data before it.
        let tail = b"\x12\xFF\xE0\x00\x04ab\x34\x56\xFF\xD9";
        assert_eq!(clean_tail(tail).unwrap(), b"\x12\xFF\xE0\x00\x02\x34\x56\xFF\xD9");
        // Stripping again changes nothing.
        let once = clean_tail(tail).unwrap();
        assert_eq!(clean_tail(&once).unwrap(), once);
        // Stuffing or a restart marker after the segment is image data too, not a marker.
        for next in [b"\xFF\x00\x34", b"\xFF\xD0\x34"] {
            let mut tail = b"\x12\xFF\xE0\x00\x04ab".to_vec();
            tail.extend_from_slice(next);
            tail.extend_from_slice(b"\xFF\xD9");
            let mut expected = b"\x12\xFF\xE0\x00\x02".to_vec();
            expected.extend_from_slice(next);
            expected.extend_from_slice(b"\xFF\xD9");
            assert_eq!(clean_tail(&tail).unwrap(), expected);
            assert_eq!(clean_tail(&expected).unwrap(), expected);
        }
        // A segment a marker follows (after fill bytes) is removed whole.
        let tail = b"\x12\xFF\xE0\x00\x04ab\xFF\xFF\xC4\x00\x02\xFF\xD9";
        assert_eq!(clean_tail(tail).unwrap(), b"\x12\xFF\xFF\xC4\x00\x02\xFF\xD9");
    }

    #[test]
    fn truncated_data_is_an_error() {
        assert_eq!(clean_tail(b"\x12\x34"), Err(ScanError::MissingEoi));
        assert_eq!(clean_tail(b"\x12\xFF"), Err(ScanError::MissingEoi));
        assert_eq!(
            clean_tail(b"\xFF\xE1\x00\x10ab"),
            Err(ScanError::BadSegmentLength(0xE1))
        );
        assert_eq!(
            clean_tail(b"\xFF\xC4\x00"),
            Err(ScanError::BadSegmentLength(0xC4))
        );
        assert_eq!(
            clean_tail(b"\xFF\xC4\x00\x01"),
            Err(ScanError::BadSegmentLength(0xC4))
        );
    }
}
