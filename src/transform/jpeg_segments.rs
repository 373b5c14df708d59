//! The segments of a JPEG before its first scan, as slices of the input: the one walk that both
//! the strip and the EXIF report read, so that neither copies the file.
//!
//! The walk is the one decoders and img-parts make: bytes that are not `FF` and standalone markers
//! are skipped, fill bytes (`FF FF…`) before a marker too, and a segment with a length is stepped
//! over by it. Before the first scan it refuses what libjpeg-turbo stops at ("two SOI markers",
//! "unsupported marker type", "two SOF markers"): a second SOI, the markers `jpeg_markers.rs`
//! refuses, and a second frame header. Stripping such a file would make it decode where it did
//! not, or show another picture. The part after the first scan header is `jpeg_scans.rs`'s.

use memchr::memchr;

use super::jpeg_markers::{Role, has_length, role};

/// SOS, the start of a scan.
pub(super) const SOS: u8 = 0xDA;

/// One segment with a length: its marker code and its contents (after the 2 length bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment<'a> {
    pub marker: u8,
    pub contents: &'a [u8],
}

/// What precedes the first scan, and the scan.
#[derive(Debug, Default)]
pub(super) struct Header<'a> {
    /// The segments before the first SOS, in file order.
    pub segments: Vec<Segment<'a>>,
    /// The first scan: its header's contents and everything after that header (entropy-coded
    /// data, further tables and scans, EOI and whatever follows it). `None` when EOI came first.
    pub scan: Option<(&'a [u8], &'a [u8])>,
}

/// Walks `input` (which starts with SOI) up to its first scan header.
///
/// # Errors
/// A refused marker (see the module docs), or a file that ends, or a segment whose length runs
/// past the end or below its own 2 bytes, before the first scan or EOI.
pub(super) fn read(input: &[u8]) -> Result<Header<'_>, String> {
    const TRUNCATED: &str = "truncated before the first scan";
    if !input.starts_with(b"\xFF\xD8") {
        return Err("no SOI marker (FF D8) at the start".into());
    }
    let mut header = Header::default();
    let mut at = 2;
    let mut frames = 0;
    loop {
        let ff = at
            + input
                .get(at..)
                .and_then(|rest| memchr(0xFF, rest))
                .ok_or(TRUNCATED)?;
        let mut code_at = ff + 1;
        while input.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let &code = input.get(code_at).ok_or(TRUNCATED)?;
        at = code_at + 1;
        if code == 0x00 {
            // `FF 00` outside scan data: junk, which decoders skip.
            continue;
        }
        match role(code) {
            Role::Standalone => continue,
            Role::EndOfImage => return Ok(header),
            Role::StartOfImage => return Err("a second SOI marker (FF D8) before the first scan".into()),
            Role::Refused(what) => return Err(format!("{what} (FF {code:02X}) before the first scan")),
            Role::Frame => {
                frames += 1;
                if frames > 1 {
                    return Err(format!(
                        "a second frame header (FF {code:02X}) before the first scan"
                    ));
                }
            }
            Role::Decoding | Role::Metadata => {}
        }
        debug_assert!(has_length(code));
        let length = input
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(TRUNCATED)?;
        let contents = length
            .checked_sub(2)
            .and_then(|size| input.get(at + 2..at + 2 + size))
            .ok_or_else(|| format!("segment FF {code:02X} has an invalid length (truncated?)"))?;
        at += length;
        if code == SOS {
            header.scan = Some((contents, &input[at..]));
            return Ok(header);
        }
        header.segments.push(Segment {
            marker: code,
            contents,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_the_scan_are_slices_of_the_input() {
        let input = b"\xFF\xD8\x00junk\xFF\xFF\xE1\x00\x04ab\xFF\xD0\xFF\x00\xFF\xDB\x00\x03q\xFF\xDA\x00\x03s\x12\xFF\xD9";
        let header = read(input).unwrap();
        assert_eq!(
            header.segments,
            [
                Segment {
                    marker: 0xE1,
                    contents: b"ab"
                },
                Segment {
                    marker: 0xDB,
                    contents: b"q"
                },
            ]
        );
        assert_eq!(header.scan, Some((&b"s"[..], &b"\x12\xFF\xD9"[..])));
    }

    #[test]
    fn eoi_before_a_scan_ends_the_walk_without_one() {
        let header = read(b"\xFF\xD8\xFF\xC0\x00\x02\xFF\xD9").unwrap();
        assert_eq!(header.segments.len(), 1);
        assert_eq!(header.scan, None);
    }

    #[test]
    fn truncation_and_refused_markers_are_errors() {
        for input in [
            &b"\xFF\xD8"[..],
            b"\xFF\xD8\xFF",
            b"\xFF\xD8\xFF\xE1\x00",
            b"\xFF\xD8\xFF\xE1\x00\x01",
            b"\xFF\xD8\xFF\xE1\x00\x09abc",
        ] {
            assert!(read(input).is_err(), "{input:02X?}");
        }
        let second_soi = read(b"\xFF\xD8\xFF\xD8").unwrap_err();
        assert!(second_soi.contains("second SOI"), "{second_soi}");
        let two_frames = read(b"\xFF\xD8\xFF\xC0\x00\x02\xFF\xC2\x00\x02").unwrap_err();
        assert!(two_frames.contains("second frame header"), "{two_frames}");
        let reserved = read(b"\xFF\xD8\xFF\x02").unwrap_err();
        assert!(reserved.contains("a reserved marker"), "{reserved}");
    }
}
