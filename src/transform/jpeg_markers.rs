//! What each JPEG marker code is to the transform: decoding data to keep, metadata to drop, or a
//! sign of a file decoders disagree on, to refuse. The one place this is decided, for the segments
//! before the first scan (`jpeg.rs`) and after it (`jpeg_scans.rs`).
//!
//! The codes are ITU T.81 Table B.1's. Only the non-hierarchical processes (baseline, extended,
//! progressive, lossless; Huffman or arithmetic) are kept: they are all a decoder in use reads.
//! Everything libjpeg-turbo (what browsers, Pillow and ImageMagick decode with) refuses as a fatal
//! error is refused here too, never dropped: a file one decoder refuses and another reads can show
//! a different picture once the refused part is gone, and a segment we do not understand can hold
//! anything (text survives stripping when such a segment is copied).

/// The role of one marker code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A frame header (SOFn) of a non-hierarchical process: exactly one per image, before the
    /// first scan.
    Frame,
    /// A segment decoding needs: DHT, DAC, DQT, DRI, SOS (the scan header) and DNL (the number of
    /// lines, only after the first scan: T.81 B.2.5).
    Decoding,
    /// APPn and COM: application data and comments, which decoding never needs (the few kept
    /// ones, JFIF, ICC and Adobe, are chosen in `jpeg.rs` by their identifier).
    Metadata,
    /// No segment follows (no length): RST0–7 and TEM, which decoders skip.
    Standalone,
    /// SOI: the start of an image. Only the file's first two bytes; anywhere else it is a second
    /// image or damage (libjpeg-turbo: "two SOI markers").
    StartOfImage,
    /// EOI: the end of the image.
    EndOfImage,
    /// Refused, with the reason: hierarchical mode (DHP, EXP, differential frames), extensions
    /// (JPG, JPGn) and reserved codes (RES). libjpeg-turbo stops with an error on each.
    Refused(&'static str),
}

/// The role of marker `code` (the byte after `FF`; `FF 00` is stuffing, never asked about).
pub(super) fn role(code: u8) -> Role {
    match code {
        0xC0..=0xC3 | 0xC9..=0xCB => Role::Frame,
        0xC5..=0xC7 | 0xCD..=0xCF => Role::Refused("a differential frame (hierarchical JPEG)"),
        0xDE => Role::Refused("a DHP segment (hierarchical JPEG)"),
        0xDF => Role::Refused("an EXP segment (hierarchical JPEG)"),
        0xC8 => Role::Refused("a JPG segment (reserved for extensions)"),
        0xF0..=0xFD => Role::Refused("a JPGn segment (reserved for extensions)"),
        0xC4 | 0xCC | 0xDA..=0xDD => Role::Decoding,
        0xE0..=0xEF | 0xFE => Role::Metadata,
        0x01 | 0xD0..=0xD7 => Role::Standalone,
        0xD8 => Role::StartOfImage,
        0xD9 => Role::EndOfImage,
        _ => Role::Refused("a reserved marker"),
    }
}

/// Whether a 2-byte length follows the marker (T.81 B.1.1.4), so that a reader can step over the
/// segment. Refused codes with a length (JPGn, DHP, EXP) are counted, so that the segment is
/// skipped whole when it is named in an error.
pub(super) fn has_length(code: u8) -> bool {
    matches!(code, 0xC0..=0xCF | 0xDA..=0xDF | 0xE0..=0xEF | 0xF0..=0xFE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_role_and_only_standalone_ones_lack_a_length() {
        for code in 0x01..=0xFE_u8 {
            let role = role(code);
            if has_length(code) {
                assert!(
                    matches!(
                        role,
                        Role::Frame | Role::Decoding | Role::Metadata | Role::Refused(_)
                    ),
                    "{code:02X}"
                );
            } else {
                assert!(
                    matches!(
                        role,
                        Role::Standalone | Role::StartOfImage | Role::EndOfImage | Role::Refused(_)
                    ),
                    "{code:02X}"
                );
            }
        }
    }

    #[test]
    fn the_issue_s_segments_are_refused() {
        for code in [0xF0, 0xF7, 0xFD, 0xDE, 0xDF, 0xC8, 0x02, 0xBF] {
            assert!(matches!(role(code), Role::Refused(_)), "{code:02X}");
        }
        for code in [0xC0, 0xC2, 0xC4, 0xCC, 0xDA, 0xDB, 0xDC, 0xDD] {
            assert!(!matches!(role(code), Role::Refused(_)), "{code:02X}");
        }
    }
}
