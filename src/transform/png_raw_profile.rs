//! ImageMagick's way to keep EXIF in a PNG written before the `eXIf` chunk existed: a text chunk
//! (tEXt, zTXt or iTXt) with the keyword `Raw profile type exif` (older versions: `Raw profile
//! type APP1`) whose text is `\n<name>\n<spaces><length>\n<hex digits, in lines>`, the hex
//! being the EXIF block, often with JPEG's `Exif\0\0` prefix. exiftool reads it as EXIF, viewers
//! built on ImageMagick apply its orientation. Text chunks are stripped, so the orientation is
//! read here and kept in an `eXIf` chunk, like any other.

use img_parts::Bytes;
use img_parts::png::PngChunk;

use super::orientation::MAX_EXIF_BLOCK;
use super::{ImageFormat, TransformError};

const KEYWORDS: [&[u8]; 2] = [b"Raw profile type exif", b"Raw profile type APP1"];
const EXIF_PREFIX: &[u8] = b"Exif\0\0";
/// The longest profile text inflated: the hex of the largest block read (two digits a byte), a
/// newline every 72 digits, the header line; an inflated text stops growing there.
const MAX_TEXT: usize = 2 * (MAX_EXIF_BLOCK + EXIF_PREFIX.len()) * 73 / 72 + 256;

fn error(reason: impl Into<String>) -> TransformError {
    TransformError::MalformedExif {
        format: ImageFormat::Png,
        reason: format!("Raw profile text chunk: {}", reason.into()),
    }
}

/// The EXIF block (TIFF structure) of the first raw profile chunk, if any. A `Raw profile type
/// APP1` that does not hold EXIF (ImageMagick stored XMP that way too) is not one.
pub(super) fn exif_block(chunks: &[PngChunk]) -> Result<Option<Bytes>, TransformError> {
    for chunk in chunks {
        let Some((keyword, text)) = profile_text(chunk)? else {
            continue;
        };
        let data = decode(&text)?;
        let tiff = data.strip_prefix(EXIF_PREFIX).unwrap_or(&data);
        if tiff.starts_with(b"MM\0*") || tiff.starts_with(b"II*\0") {
            return Ok(Some(Bytes::copy_from_slice(tiff)));
        }
        if keyword == KEYWORDS[0] {
            return Err(error("the profile is not an EXIF block"));
        }
    }
    Ok(None)
}

/// A raw profile chunk's keyword (one of [`KEYWORDS`]) and its text, inflated.
type ProfileText = (&'static [u8], Vec<u8>);

/// The keyword and the (inflated) text of a raw profile chunk; `None` for any other chunk.
fn profile_text(chunk: &PngChunk) -> Result<Option<ProfileText>, TransformError> {
    let contents = chunk.contents();
    let Some(nul) = contents.iter().position(|&b| b == 0) else {
        return Ok(None);
    };
    let Some(&keyword) = KEYWORDS.iter().find(|k| **k == &contents[..nul]) else {
        return Ok(None);
    };
    let rest = &contents[nul + 1..];
    let text = match &chunk.kind() {
        b"tEXt" => rest.to_vec(),
        // Compression method 0 (zlib) is the only one defined.
        b"zTXt" => match rest.split_first() {
            Some((0, compressed)) => inflate(compressed)?,
            _ => return Err(error("zTXt with an unknown compression method")),
        },
        b"iTXt" => {
            // Compression flag and method, then a language tag and a translated keyword.
            let [flag, method, after @ ..] = rest else {
                return Err(error("truncated iTXt"));
            };
            let text = after
                .splitn(3, |&b| b == 0)
                .nth(2)
                .ok_or_else(|| error("truncated iTXt"))?;
            match (flag, method) {
                (0, _) => text.to_vec(),
                (1, 0) => inflate(text)?,
                _ => return Err(error("iTXt with an unknown compression")),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some((keyword, text)))
}

/// Inflates zlib data, stopping at [`MAX_TEXT`] bytes.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, TransformError> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, MAX_TEXT).map_err(|e| {
        match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                error(format!("more than {MAX_TEXT} bytes once inflated"))
            }
            _ => error("bad zlib data"),
        }
    })
}

/// The bytes of `\n<name>\n<length>\n<hex>`: the hex digits (whitespace between them ignored,
/// as exiftool does), which must give the announced length.
fn decode(text: &[u8]) -> Result<Vec<u8>, TransformError> {
    if text.len() > MAX_TEXT {
        return Err(error(format!("longer than {MAX_TEXT} bytes")));
    }
    let mut lines = text
        .strip_prefix(b"\n")
        .unwrap_or(text)
        .splitn(2, |&b| b == b'\n');
    let _name = lines.next();
    let rest = lines.next().ok_or_else(|| error("no length line"))?;
    let rest = rest.trim_ascii_start();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let length: usize = std::str::from_utf8(&rest[..digits])
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| error("no length"))?;
    if length > MAX_EXIF_BLOCK + EXIF_PREFIX.len() {
        return Err(error(format!(
            "a profile of {length} bytes; at most {MAX_EXIF_BLOCK} are read"
        )));
    }
    let hex: Vec<u8> = rest[digits..]
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let data = hex::decode(&hex).map_err(|e| error(format!("bad hex: {e}")))?;
    if data.len() != length {
        return Err(error(format!(
            "{} bytes of hex where the header announces {length}",
            data.len()
        )));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], contents: &[u8]) -> PngChunk {
        PngChunk::new(*kind, Bytes::copy_from_slice(contents))
    }

    #[test]
    fn the_hex_text_is_decoded_and_its_length_checked() {
        let text = b"\nexif\n      10\n457869660000\n4d4d002a\n";
        assert_eq!(decode(text).unwrap(), b"Exif\0\0MM\0*");
        assert!(decode(b"\nexif\n      11\n457869660000\n4d4d002a\n").is_err());
        assert!(decode(b"\nexif\n 4\n4d4d00zz").is_err());
        assert!(decode(b"\nexif\n").is_err());
    }

    #[test]
    fn other_text_chunks_and_keywords_are_not_profiles() {
        let chunks = [
            chunk(b"tEXt", b"Comment\0\nexif\n 4\n4d4d002a"),
            chunk(b"tEXt", b"Raw profile type iptc\0\niptc\n 4\n4d4d002a"),
            chunk(b"IDAT", b"Raw profile type exif\0\nexif\n 4\n4d4d002a"),
            chunk(b"tEXt", b"Raw profile type APP1\0\nAPP1\n 4\n3c3f7870"),
        ];
        assert_eq!(exif_block(&chunks).unwrap(), None);
    }

    #[test]
    fn a_zlib_bomb_stops_at_the_limit() {
        let text = vec![b'0'; 10 * MAX_TEXT];
        let mut contents = b"Raw profile type exif\0\0".to_vec();
        contents.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(&text, 9));
        let error = exif_block(&[chunk(b"zTXt", &contents)]).unwrap_err();
        assert!(error.to_string().contains("once inflated"), "{error}");
    }
}
