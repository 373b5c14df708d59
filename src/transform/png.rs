//! PNG: keep the chunks decoding and colour need; drop text, time, EXIF and private chunks.

use img_parts::png::{Png, PngChunk};
use img_parts::{Bytes, ImageEXIF};

use super::orientation::{minimal_exif, orientation, read_exif};
use super::{ImageFormat, TransformError, png_raw_profile};

const FORMAT: ImageFormat = ImageFormat::Png;

/// Chunks kept: the critical ones, transparency, colour (gamma, chromaticities, ICC, sRGB, cICP,
/// HDR mastering and light levels), significant bits, background, physical pixel size, and APNG
/// animation. Everything else goes: tEXt, zTXt, iTXt (and the XMP inside), eXIf, tIME, sPLT, hIST,
/// and every private or unknown chunk (C2PA `caBX`, vendor chunks…).
const KEPT: [&[u8; 4]; 18] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"iCCP", b"sRGB", b"cICP", b"mDCV",
    b"cLLI", b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

/// Parses the PNG in `input` (every chunk's CRC checked) and writes back the [`KEPT`] chunks, plus
/// an `eXIf` chunk holding only the orientation when it was not 1 (before the first IDAT, as the
/// specification requires). The orientation is read from `eXIf`, or without one from
/// ImageMagick's raw profile text chunk (`png_raw_profile.rs`). Image data is copied byte for byte; anything after IEND is dropped.
pub(super) fn strip(input: Bytes) -> Result<Vec<u8>, TransformError> {
    let mut png = Png::from_bytes(input).map_err(|error| TransformError::malformed(FORMAT, error))?;
    let kinds: Vec<[u8; 4]> = png.chunks().iter().map(PngChunk::kind).collect();
    if kinds.first() != Some(b"IHDR") {
        return Err(TransformError::malformed(FORMAT, "the first chunk is not IHDR"));
    }
    if kinds.last() != Some(b"IEND") {
        return Err(TransformError::malformed(FORMAT, "truncated: no IEND chunk"));
    }
    if !kinds.contains(b"IDAT") {
        return Err(TransformError::malformed(FORMAT, "no image data (IDAT)"));
    }
    let orientation = match exif_of(&png)? {
        Some(tiff) => orientation(&read_exif(&tiff, FORMAT)?),
        None => None,
    };

    png.chunks_mut().retain(|chunk| KEPT.contains(&&chunk.kind()));
    if let Some(orientation) = orientation {
        let chunk = PngChunk::new(*b"eXIf", Bytes::copy_from_slice(&minimal_exif(orientation)));
        let at = png
            .chunks()
            .iter()
            .position(|chunk| chunk.kind() == *b"IDAT")
            .unwrap_or(1);
        png.chunks_mut().insert(at, chunk);
    }
    Ok(png.encoder().bytes().into())
}

/// The EXIF block of the `eXIf` chunk, or without one of a raw profile text chunk, if any.
pub(super) fn exif_block(input: Bytes) -> Result<Option<Bytes>, TransformError> {
    let png = Png::from_bytes(input).map_err(|error| TransformError::malformed(FORMAT, error))?;
    exif_of(&png)
}

fn exif_of(png: &Png) -> Result<Option<Bytes>, TransformError> {
    match png.exif() {
        Some(block) => Ok(Some(block)),
        None => png_raw_profile::exif_block(png.chunks()),
    }
}
