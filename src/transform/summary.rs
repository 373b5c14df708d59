//! What an image holds, in a few facts, for an audit before a backfill (`mode=report`): its
//! format, whether it has a GPS block, the camera, and how many bytes a strip would remove.
//! Read with the same parsers as [`super::strip_metadata`] and [`super::exif_json`]: an image
//! those refuse is refused here too, so a report foretells the strip.
//!
//! [`summarize`] reads a whole object; [`summarize_prefix`] says how much of an object it needs
//! and summarises from a prefix when the format allows, so that a report reads only the metadata:
//!
//! - **JPEG**: every segment a strip keeps or drops before the image data precedes the first scan
//!   header (SOS), so the markers up to it (walked with `jpeg_markers.rs`'s rule) tell how many
//!   bytes are needed: [`FIRST_READ`] holds a typical photo's EXIF (with its thumbnail), ICC
//!   profile and XMP, and a longer head is read in further, doubling reads. The head is summarised
//!   as the JPEG it would be with the image data cut off (head + EOI), by the same strip. What
//!   lies after the scan header is not read ([`ImageSummary::unread_bytes`]): the entropy-coded
//!   data, and there a strip also drops APPn/COM segments between progressive scans and anything
//!   after EOI, and refuses damaged data. A report from a prefix leaves those out and says so,
//!   except for the common cases it can see coming, which are read whole: a head that announces
//!   data after EOI, by an MPF segment (APP2 `MPF\0`, CIPA DC-007: the second images of cameras'
//!   MPO files, phones' gain maps and depth maps) or by XMP naming a container or a motion photo
//!   (`Container:Directory`, `MotionPhoto`, `MicroVideo`: Android's motion photos, whose video
//!   follows EOI, <https://developer.android.com/media/platform/motion-photo-format>, and Ultra
//!   HDR gain maps, <https://developer.android.com/media/platform/hdr-image-format>).
//! - **PNG and WebP: the whole object.** Their metadata chunks (`eXIf`, `tEXt`/`iTXt` with XMP,
//!   `EXIF`, `XMP `) may follow the image data, and a chunk is only found through the header of
//!   every chunk before it. Encoders split PNG image data into IDAT chunks of 8 KiB (libpng) to
//!   64 KiB, so walking a 4 MB PNG by ranged reads is about 500 GETs, each a round trip: S3 charges
//!   GETs per request ($0.0004 per 1,000 in us-east-1, <https://aws.amazon.com/s3/pricing/>), so
//!   about $0.0002 per object against $0.0000004 for one GET of the whole, and slower. A still
//!   WebP has one bitstream chunk and could be read in two GETs (the first bytes, then what
//!   follows the bitstream), but an animation has one chunk per frame, PNG's case again, and WebP
//!   photos are small: one GET of the whole keeps the request count of a whole-object report
//!   (when the caller knows the format beforehand; from a first read of [`FIRST_READ`] bytes, the
//!   rest is a second GET).
//! - **Not an image, or an unsupported one**: the first bytes tell (by magic bytes), whatever the
//!   object's size.

use exif::{Context, Exif, In, Tag, Value};
use memchr::memchr;

use super::jpeg_markers::{Role, role};
use super::{ImageFormat, Outcome, TransformError, image_format, jpeg, orientation, png, webp};

/// The longest camera make or model kept, in characters.
const MAX_NAME_CHARS: usize = 64;
/// The first read of a report: the first 64 KiB hold a typical photo's metadata (a JPEG's EXIF
/// segment, thumbnail included, is at most 64 KiB) in one request.
pub const FIRST_READ: u64 = 64 * 1024;
/// The longest signature [`super::sniff`] reads (RIFF…WEBP, ISO BMFF `ftyp` brands, JPEG XL and
/// JPEG 2000 boxes): fewer bytes than this, unless they are the whole object, tell nothing.
const MAGIC_LEN: u64 = 12;
/// The SOS marker: the first scan header ends a JPEG's head.
const SOS: u8 = 0xDA;
/// The APP1 marker, and the identifier of its XMP segment.
const APP1: u8 = 0xE1;
const XMP: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The words of XMP that announce data after EOI: a GContainer directory (motion photos, Ultra
/// HDR), or the older motion photo properties (`GCamera:MotionPhoto`, `GCamera:MicroVideo…`).
const XMP_TRAILERS: [&[u8]; 3] = [b"Container:Directory", b"MotionPhoto", b"MicroVideo"];
/// The APP2 marker, and the identifier of its MPF segment (CIPA DC-007 Multi-Picture Format).
const APP2: u8 = 0xE2;
const MPF: &[u8] = b"MPF\0";

/// What [`summarize`] made of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    Image(ImageSummary),
    /// Not an image by its magic bytes: there is nothing to strip.
    NotAnImage,
}

/// The facts of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    pub format: ImageFormat,
    /// The EXIF block has a GPS field (a position, or any other).
    pub has_gps: bool,
    /// EXIF `Make`, trimmed, without control characters.
    pub make: Option<String>,
    /// EXIF `Model`, the same.
    pub model: Option<String>,
    /// The bytes [`super::strip_metadata`] removes (EXIF, XMP, IPTC, comments, text chunks…,
    /// less the minimal orientation block it may add), in the bytes read: the whole object, or
    /// a JPEG's head up to its first scan header.
    pub metadata_bytes: u64,
    /// The bytes the summary does not cover: 0 for a whole object; for a JPEG summarised from its
    /// head, those after the first scan header (image data, where a strip may remove more and may
    /// find damage), whether or not they were fetched with the head.
    pub unread_bytes: u64,
}

/// What [`summarize_prefix`] makes of the first bytes of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Read the object's bytes up to this length (more than those given, at most the object's
    /// size), then ask again with all of them.
    Read(u64),
    /// The summary: of the whole object when it was all given, else of the bytes needed.
    Done(Result<Summary, TransformError>),
}

/// Summarises a JPEG, PNG or WebP image.
///
/// # Errors
/// As [`super::strip_metadata`]: unsupported image formats, damaged containers, unreadable EXIF.
pub fn summarize(input: &[u8]) -> Result<Summary, TransformError> {
    let Some(format) = image_format(input)? else {
        return Ok(Summary::NotAnImage);
    };
    let stripped = match super::strip_metadata(input)? {
        Outcome::Stripped { bytes, .. } => bytes.len(),
        Outcome::NotAnImage => return Ok(Summary::NotAnImage),
    };
    let block = match format {
        // A JPEG's block is borrowed, then copied (a few KB); PNG and WebP parse a copy.
        ImageFormat::Jpeg => jpeg::exif_block(input)?.map(bytes::Bytes::copy_from_slice),
        ImageFormat::Png => png::exif_block(bytes::Bytes::copy_from_slice(input))?,
        ImageFormat::WebP => webp::exif_block(bytes::Bytes::copy_from_slice(input))?,
    };
    let exif = match block {
        Some(tiff) => Some(orientation::read_exif(&tiff, format)?),
        None => None,
    };
    let exif = exif.as_ref();
    Ok(Summary::Image(ImageSummary {
        format,
        has_gps: exif.is_some_and(|e| e.fields().any(|f| f.tag.context() == Context::Gps)),
        make: exif.and_then(|e| name(e, Tag::Make)),
        model: exif.and_then(|e| name(e, Tag::Model)),
        metadata_bytes: input.len().saturating_sub(stripped) as u64,
        unread_bytes: 0,
    }))
}

/// Summarises an object of `object_size` bytes from its first bytes `read` (start with
/// [`FIRST_READ`] of them), or says up to where to read first; see the [module](self) docs for
/// what each format needs. With the whole object it is [`summarize`]. The summary from a JPEG's
/// head equals the whole object's but for what lies after the first scan header, which it does
/// not read (`unread_bytes`).
///
/// ```
/// use edge_signer::transform::summary::{FIRST_READ, Step, Summary, summarize_prefix};
/// // A 5 MB text file is told from its first 64 KiB; a PNG is read whole.
/// let text = vec![b'a'; 5 << 20];
/// let first = &text[..FIRST_READ as usize];
/// assert_eq!(summarize_prefix(first, 5 << 20), Step::Done(Ok(Summary::NotAnImage)));
/// assert_eq!(summarize_prefix(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 5 << 20), Step::Read(5 << 20));
/// // A JPEG: read on while a segment before its first scan header runs past what was read.
/// let sample = std::fs::read("samples/images/sample.jpg").unwrap();
/// assert!(matches!(summarize_prefix(&sample[..100], 5 << 20), Step::Read(n) if n > 200));
/// ```
pub fn summarize_prefix(read: &[u8], object_size: u64) -> Step {
    let have = read.len() as u64;
    if have >= object_size {
        return Step::Done(summarize(read));
    }
    if have < MAGIC_LEN {
        return Step::Read(MAGIC_LEN.max(FIRST_READ).min(object_size));
    }
    let format = match image_format(read) {
        Ok(Some(format)) => format,
        Ok(None) => return Step::Done(Ok(Summary::NotAnImage)),
        Err(unsupported) => return Step::Done(Err(unsupported)),
    };
    match format {
        ImageFormat::Png | ImageFormat::WebP => Step::Read(object_size),
        ImageFormat::Jpeg => match jpeg_head(read) {
            Head::EndsAt(end) => Step::Done(summarize_head(&read[..end], object_size)),
            Head::Needs(length) => Step::Read(next_read(have, length, object_size)),
            Head::Whole => Step::Read(object_size),
        },
    }
}

/// Up to where to read when `needed` bytes are (more than the `have` read): at least twice as
/// many, so that a long head costs few requests, and the whole object when less than a first
/// read would be left.
fn next_read(have: u64, needed: u64, object_size: u64) -> u64 {
    let up_to = needed.max(have.saturating_mul(2)).min(object_size);
    if object_size - up_to < FIRST_READ {
        object_size
    } else {
        up_to
    }
}

/// How far a JPEG's head (everything before its first scan's data) reaches, as far as the bytes
/// given tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// It ends here: the first scan header's last byte is the one before.
    EndsAt(usize),
    /// At least this many bytes are needed to know.
    Needs(u64),
    /// A marker a strip refuses or an end before the first scan (EOI, a second SOI, a segment
    /// length below 2): the whole object's summary says what it makes of it. Or a segment that
    /// announces data after EOI ([`announces_trailer`]), which a strip removes.
    Whole,
}

/// Walks the markers of `bytes` (a JPEG's first bytes) as `jpeg.rs` walks them before its first
/// scan (bytes that are not `FF`, fill bytes, stuffing and standalone markers skipped, segments
/// stepped over by their length), with `jpeg_markers.rs`'s roles, to the end of the first SOS
/// segment.
fn jpeg_head(bytes: &[u8]) -> Head {
    let mut at = 2;
    loop {
        if at >= bytes.len() {
            // A marker and its length.
            return Head::Needs(at as u64 + 4);
        }
        let Some(ff) = memchr(0xFF, &bytes[at..]) else {
            return Head::Needs(bytes.len() as u64 + 1);
        };
        let mut code_at = at + ff + 1;
        while bytes.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let Some(&code) = bytes.get(code_at) else {
            return Head::Needs(code_at as u64 + 3);
        };
        at = code_at + 1;
        if code == 0x00 {
            continue;
        }
        match role(code) {
            Role::Standalone => {}
            Role::Frame | Role::Decoding | Role::Metadata => {
                let Some(length) = bytes.get(at..at + 2) else {
                    return Head::Needs(at as u64 + 2);
                };
                let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
                if length < 2 {
                    return Head::Whole;
                }
                let end = at + length;
                // The whole head is read anyway: each segment is looked at whole.
                let Some(contents) = bytes.get(at + 2..end) else {
                    return Head::Needs(end as u64);
                };
                if code == SOS {
                    return Head::EndsAt(end);
                }
                if announces_trailer(code, contents) {
                    return Head::Whole;
                }
                at = end;
            }
            Role::StartOfImage | Role::EndOfImage | Role::Refused(_) => return Head::Whole,
        }
    }
}

/// Whether a segment before the first scan announces data after EOI: an MPF segment, or XMP
/// with one of [`XMP_TRAILERS`].
fn announces_trailer(code: u8, contents: &[u8]) -> bool {
    match code {
        APP2 => contents.starts_with(MPF),
        APP1 if contents.starts_with(XMP) => XMP_TRAILERS
            .iter()
            .any(|word| memchr::memmem::find(contents, word).is_some()),
        _ => false,
    }
}

/// The summary of a JPEG's `head` (up to its first scan header), of an object of `object_size`
/// bytes: the JPEG it would be with its image data cut off, the head and an EOI marker, read by
/// [`summarize`] (and so by the strip).
fn summarize_head(head: &[u8], object_size: u64) -> Result<Summary, TransformError> {
    let mut cut = Vec::with_capacity(head.len() + 2);
    cut.extend_from_slice(head);
    cut.extend_from_slice(&[0xFF, 0xD9]);
    Ok(match summarize(&cut)? {
        Summary::Image(summary) => Summary::Image(ImageSummary {
            unread_bytes: object_size.saturating_sub(head.len() as u64),
            ..summary
        }),
        Summary::NotAnImage => Summary::NotAnImage,
    })
}

/// An ASCII field of IFD0 as a short printable name.
fn name(exif: &Exif, tag: Tag) -> Option<String> {
    let Value::Ascii(values) = &exif.get_field(tag, In::PRIMARY)?.value else {
        return None;
    };
    let text = String::from_utf8_lossy(values.first()?);
    let clean: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = include_bytes!("../../samples/images/sample.jpg");
    const MINIMAL: &[u8] = b"\xFF\xD8\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x00\xFF\xD9";

    #[test]
    fn the_sample_has_gps_a_camera_and_metadata() {
        let Summary::Image(summary) = summarize(SAMPLE).unwrap() else {
            panic!("not an image");
        };
        assert_eq!(summary.format, ImageFormat::Jpeg);
        assert!(summary.has_gps);
        assert_eq!(summary.make.as_deref(), Some("ExampleCam"));
        assert_eq!(summary.model.as_deref(), Some("EC-1 Mark II"));
        let Outcome::Stripped { bytes, .. } = super::super::strip_metadata(SAMPLE).unwrap() else {
            panic!("not stripped");
        };
        assert_eq!(summary.metadata_bytes, (SAMPLE.len() - bytes.len()) as u64);
        assert!(summary.metadata_bytes > 0);
    }

    #[test]
    fn an_image_without_metadata_says_so() {
        use image::ImageEncoder;
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&[7; 4 * 4 * 3], 4, 4, image::ExtendedColorType::Rgb8)
            .unwrap();
        let expected = ImageSummary {
            format: ImageFormat::Png,
            has_gps: false,
            make: None,
            model: None,
            metadata_bytes: 0,
            unread_bytes: 0,
        };
        assert_eq!(summarize(&png).unwrap(), Summary::Image(expected));
    }

    /// Drives [`summarize_prefix`] over `object`, starting with `first` bytes: the summary and
    /// the bytes read.
    fn from_prefix(object: &[u8], first: usize) -> (Result<Summary, TransformError>, usize) {
        let mut read = object[..first.min(object.len())].to_vec();
        loop {
            match summarize_prefix(&read, object.len() as u64) {
                Step::Read(up_to) => {
                    let up_to = up_to as usize;
                    assert!(up_to > read.len() && up_to <= object.len(), "{up_to}");
                    read.extend_from_slice(&object[read.len()..up_to]);
                }
                Step::Done(summary) => return (summary, read.len()),
            }
        }
    }

    /// The sample's head with 300 kB of image data after it (zeros: the strip copies entropy-coded
    /// data without decoding it), so that most of it is left unread.
    fn long_sample() -> (Vec<u8>, usize) {
        let Head::EndsAt(head_end) = jpeg_head(SAMPLE) else {
            panic!("the sample has a scan");
        };
        let mut long = SAMPLE[..head_end].to_vec();
        long.resize(head_end + 300_000, 0);
        long.extend_from_slice(b"\xFF\xD9");
        (long, head_end)
    }

    #[test]
    fn a_jpeg_head_is_enough_and_says_what_was_not_read() {
        let (long, head_end) = long_sample();
        // The head ends with a scan header (the sample's EXIF thumbnail has its own before).
        assert!((0..head_end).any(|sos| long[sos..].starts_with(b"\xFF\xDA")
            && sos + 2 + usize::from(u16::from_be_bytes([long[sos + 2], long[sos + 3]])) == head_end));
        let Summary::Image(whole) = summarize(&long).unwrap() else {
            panic!("not an image");
        };
        assert_eq!(
            Summary::Image(whole.clone()),
            summarize(SAMPLE).unwrap(),
            "the same metadata"
        );
        for first in [12, 100, 4096, head_end - 1, head_end, FIRST_READ as usize] {
            let (summary, read) = from_prefix(&long, first);
            let Summary::Image(prefix) = summary.unwrap() else {
                panic!("not an image");
            };
            assert_eq!(
                ImageSummary {
                    unread_bytes: 0,
                    ..prefix.clone()
                },
                whole,
                "first read {first}"
            );
            assert_eq!(prefix.unread_bytes, (long.len() - head_end) as u64);
            assert!(
                read >= head_end && read <= head_end.max(first) * 2,
                "{first}: {read}"
            );
        }
        // Fewer bytes than a signature: a first read follows.
        assert_eq!(from_prefix(&long, 1).1, FIRST_READ as usize);
        // A small object is read whole.
        assert_eq!(from_prefix(SAMPLE, 100).1, SAMPLE.len());
    }

    #[test]
    fn what_a_prefix_cannot_tell_reads_the_whole_object() {
        // Metadata after the image data, in a JPEG trailer: not read, not counted.
        let mut trailer = SAMPLE.to_vec();
        trailer.extend_from_slice(&[0xAB; 100_000]);
        let (summary, read) = from_prefix(&trailer, FIRST_READ as usize);
        let Summary::Image(prefix) = summary.unwrap() else {
            panic!("not an image");
        };
        assert_eq!(read, FIRST_READ as usize);
        let Summary::Image(whole) = summarize(&trailer).unwrap() else {
            panic!("not an image");
        };
        assert_eq!(whole.metadata_bytes, prefix.metadata_bytes + 100_000);
        // PNG and WebP: the whole object.
        let mut png = include_bytes!("../../samples/images/sample.png").to_vec();
        png.extend_from_slice(&[0; 200_000]);
        let (summary, read) = from_prefix(&png, FIRST_READ as usize);
        assert_eq!(read, png.len());
        assert_eq!(summary, summarize(&png));
        // An MPF segment: images follow the first one's EOI.
        let mut mpo = SAMPLE[..2].to_vec();
        mpo.extend_from_slice(b"\xFF\xE2\x00\x0AMPF\0MM\0*");
        mpo.extend_from_slice(&SAMPLE[2..]);
        mpo.extend_from_slice(&trailer[SAMPLE.len()..]);
        assert_eq!(jpeg_head(&mpo[..9]), Head::Needs(14));
        let (summary, read) = from_prefix(&mpo, FIRST_READ as usize);
        assert_eq!((summary, read), (summarize(&mpo), mpo.len()));
        // XMP naming a motion photo's container: its video follows EOI. Other XMP does not count.
        for (words, whole) in [
            (&b"<Container:Directory><rdf:Seq>"[..], true),
            (b"GCamera:MotionPhoto=\"1\"", true),
            (b"GCamera:MicroVideoOffset=\"200000\"", true),
            (b"dc:title=\"holiday\"", false),
        ] {
            let mut xmp = XMP.to_vec();
            xmp.extend_from_slice(words);
            let length = u16::try_from(xmp.len() + 2).unwrap().to_be_bytes();
            let mut motion = SAMPLE[..2].to_vec();
            motion.extend_from_slice(&[0xFF, APP1, length[0], length[1]]);
            motion.extend_from_slice(&xmp);
            motion.extend_from_slice(&SAMPLE[2..]);
            motion.extend_from_slice(&[0x5A; 200_000]);
            let (summary, read) = from_prefix(&motion, FIRST_READ as usize);
            let Ok(Summary::Image(summary)) = summary else {
                panic!("{summary:?}");
            };
            assert_eq!(read == motion.len(), whole, "{words:?}");
            assert_eq!(summary.unread_bytes == 0, whole, "{words:?}");
        }
        // A refused marker before the first scan: the whole object says why.
        let mut refused = SAMPLE[..2].to_vec();
        refused.extend_from_slice(b"\xFF\xF0\x00\x04ab");
        refused.extend_from_slice(&SAMPLE[2..]);
        refused.extend_from_slice(&[0; 100_000]);
        let (summary, read) = from_prefix(&refused, FIRST_READ as usize);
        assert_eq!((summary, read), (summarize(&refused), refused.len()));
    }

    #[test]
    fn the_first_bytes_tell_a_non_image_and_an_unsupported_one() {
        let text = vec![b'a'; 10_000_000];
        assert_eq!(from_prefix(&text, 65_536), (Ok(Summary::NotAnImage), 65_536));
        let mut tiff = b"II*\x00\x08\x00\x00\x00".to_vec();
        tiff.resize(1_000_000, 0);
        let (summary, read) = from_prefix(&tiff, 65_536);
        assert_eq!((summary, read), (summarize(&tiff), 65_536));
        // Fewer bytes than a signature: more are read first.
        assert_eq!(summarize_prefix(b"RIFF", 1000), Step::Read(1000));
        assert_eq!(summarize_prefix(b"RIFF", 1 << 20), Step::Read(FIRST_READ));
        assert_eq!(summarize_prefix(b"", 0), Step::Done(Ok(Summary::NotAnImage)));
    }

    #[test]
    fn reads_grow_by_doubling_and_take_a_short_rest_whole() {
        assert_eq!(next_read(65_536, 65_540, 10_000_000), 131_072);
        assert_eq!(next_read(65_536, 300_000, 10_000_000), 300_000);
        assert_eq!(next_read(65_536, 65_540, 150_000), 150_000);
        assert_eq!(next_read(65_536, 20_000_000, 10_000_000), 10_000_000);
    }

    #[test]
    fn non_images_damaged_and_unsupported_images_are_told_apart() {
        assert_eq!(summarize(b"plain text").unwrap(), Summary::NotAnImage);
        assert!(matches!(
            summarize(&MINIMAL[..6]),
            Err(TransformError::MalformedImage { .. })
        ));
        assert!(matches!(
            summarize(b"II*\x00\x08\x00\x00\x00"),
            Err(TransformError::UnsupportedImage(_))
        ));
    }
}
