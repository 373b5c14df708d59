//! WebP: keep the image, animation and ICC chunks; drop EXIF, XMP and unknown chunks.

use img_parts::riff::{RiffChunk, RiffContent};
use img_parts::webp::{
    CHUNK_ALPH, CHUNK_ANIM, CHUNK_ANMF, CHUNK_EXIF, CHUNK_ICCP, CHUNK_VP8, CHUNK_VP8L, CHUNK_VP8X, WebP,
};
use img_parts::{Bytes, ImageEXIF};

use super::orientation::{minimal_exif, orientation, read_exif};
use super::{ImageFormat, TransformError};

const FORMAT: ImageFormat = ImageFormat::WebP;
const KEPT: [[u8; 4]; 7] = [
    CHUNK_VP8X, CHUNK_ICCP, CHUNK_ANIM, CHUNK_ANMF, CHUNK_ALPH, CHUNK_VP8, CHUNK_VP8L,
];
/// VP8X flag bits (WebP container specification): EXIF and XMP metadata present.
const FLAG_EXIF: u8 = 0b0000_1000;
const FLAG_XMP: u8 = 0b0000_0100;

/// Parses the RIFF container in `input` and writes back the [`KEPT`] chunks, plus an `EXIF` chunk
/// holding only the orientation when it was not 1, with the VP8X flags made to match. Frames
/// (`ANMF`) and bitstreams are copied byte for byte; anything after the RIFF chunk is dropped.
pub(super) fn strip(input: Bytes) -> Result<Vec<u8>, TransformError> {
    let mut webp = WebP::from_bytes(input).map_err(|error| TransformError::malformed(FORMAT, error))?;
    if ![CHUNK_VP8, CHUNK_VP8L, CHUNK_ANMF]
        .into_iter()
        .any(|id| webp.has_chunk(id))
    {
        return Err(TransformError::malformed(
            FORMAT,
            "no image data (VP8, VP8L or ANMF chunk)",
        ));
    }
    let orientation = match exif_of(&webp)? {
        Some(tiff) => orientation(&read_exif(&tiff, FORMAT)?),
        None => None,
    };

    webp.chunks_mut().retain(|chunk| KEPT.contains(&chunk.id()));
    if let Some(orientation) = orientation {
        // An EXIF chunk came in, so the file is in the extended format: VP8X exists.
        let chunk = RiffContent::Data(Bytes::copy_from_slice(&minimal_exif(orientation)));
        webp.chunks_mut().push(RiffChunk::new(CHUNK_EXIF, chunk));
    }
    set_metadata_flags(&mut webp, orientation.is_some())?;
    Ok(webp.encoder().bytes().into())
}

/// Clears the XMP flag and sets the EXIF flag to `exif` in the VP8X chunk, when there is one.
fn set_metadata_flags(webp: &mut WebP, exif: bool) -> Result<(), TransformError> {
    let Some(vp8x) = webp.chunks_mut().iter_mut().find(|c| c.id() == CHUNK_VP8X) else {
        return match exif {
            true => Err(TransformError::malformed(
                FORMAT,
                "an EXIF chunk without a VP8X chunk",
            )),
            false => Ok(()),
        };
    };
    let mut data = match vp8x.content().data() {
        Some(data) if !data.is_empty() => data.to_vec(),
        _ => return Err(TransformError::malformed(FORMAT, "empty VP8X chunk")),
    };
    data[0] &= !(FLAG_EXIF | FLAG_XMP);
    if exif {
        data[0] |= FLAG_EXIF;
    }
    *vp8x = RiffChunk::new(CHUNK_VP8X, RiffContent::Data(Bytes::from(data)));
    Ok(())
}

/// The EXIF block of the `EXIF` chunk (with or without an `Exif\0\0` prefix), if any.
pub(super) fn exif_block(input: Bytes) -> Result<Option<Bytes>, TransformError> {
    let webp = WebP::from_bytes(input).map_err(|error| TransformError::malformed(FORMAT, error))?;
    exif_of(&webp)
}

fn exif_of(webp: &WebP) -> Result<Option<Bytes>, TransformError> {
    match webp.exif() {
        None if webp.has_chunk(CHUNK_EXIF) => Err(TransformError::MalformedExif {
            format: FORMAT,
            reason: "the EXIF chunk does not start with a TIFF header".into(),
        }),
        block => Ok(block),
    }
}
