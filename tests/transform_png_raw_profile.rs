//! PNGs written by ImageMagick keep EXIF in a `Raw profile type exif` text chunk (hex, with a
//! header line). Its orientation survives stripping (as an `eXIf` chunk), the rest of it does not,
//! and the JSON report reads it; exiftool, which reads such chunks too, is the reference.
#![cfg(feature = "transform")]

#[path = "support/exiftool.rs"]
mod exiftool;
#[path = "support/images.rs"]
mod images;

use edge_signer::transform::{ExifReport, Outcome, exif_json, strip_metadata};
use images::{find, png, png_chunk, png_with, tiff, tiff_values_at};

/// An EXIF block with Orientation 6 and an Artist, as JPEG's APP1 holds it (`Exif\0\0` first).
fn exif_with_artist() -> Vec<u8> {
    let artist = b"Jane Doe\0";
    let fields = [
        (0x0112, 3, 1, 6 << 16),
        (0x013B, 2, artist.len() as u32, tiff_values_at(2)),
    ];
    let mut block = b"Exif\0\0".to_vec();
    block.extend_from_slice(&tiff(&fields, artist));
    block
}

/// ImageMagick's text: a newline, the profile name, the length right-aligned in 8 columns, then
/// the hex in lines of 72 digits.
fn raw_profile(data: &[u8]) -> Vec<u8> {
    let mut text = format!("\nexif\n{:8}\n", data.len());
    for line in hex::encode(data).as_bytes().chunks(72) {
        text.push_str(std::str::from_utf8(line).expect("hex"));
        text.push('\n');
    }
    text.into_bytes()
}

/// The same profile in each text chunk type: tEXt, zTXt, and an iTXt compressed or not.
fn profile_chunks() -> Vec<(&'static str, Vec<u8>)> {
    let text = raw_profile(&exif_with_artist());
    let keyword = b"Raw profile type exif\0";
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&text, 6);
    let with = |middle: &[u8], body: &[u8]| [&keyword[..], middle, body].concat();
    vec![
        ("tEXt", png_chunk(b"tEXt", &with(b"", &text))),
        ("zTXt", png_chunk(b"zTXt", &with(b"\0", &compressed))),
        ("iTXt", png_chunk(b"iTXt", &with(b"\0\0\0\0", &text))),
        (
            "iTXt compressed",
            png_chunk(b"iTXt", &with(b"\x01\0\0\0", &compressed)),
        ),
    ]
}

#[test]
fn the_orientation_of_a_raw_profile_survives_stripping_and_nothing_else_does() {
    for (name, chunk) in profile_chunks() {
        let input = png_with(&png(0), &chunk);
        // exiftool reads the crafted chunk as EXIF: it is what ImageMagick writes.
        let before = exiftool::read(&input);
        assert_eq!(
            before.get("IFD0:Orientation"),
            Some(&6.into()),
            "{name}: {before:#?}"
        );
        assert_eq!(before.get("IFD0:Artist"), Some(&"Jane Doe".into()), "{name}");

        let Ok(Outcome::Stripped { bytes, .. }) = strip_metadata(&input) else {
            panic!("{name}: not stripped")
        };
        let after = exiftool::read(&bytes);
        assert_eq!(
            after.get("IFD0:Orientation"),
            Some(&6.into()),
            "{name}: {after:#?}"
        );
        assert_eq!(exiftool::identifying(&after), Vec::<String>::new(), "{name}");
        assert!(find(&bytes, b"Raw profile").is_none(), "{name}");
        let pixels = |bytes: &[u8]| image::load_from_memory(bytes).expect("decodes").to_rgba8();
        assert!(pixels(&input) == pixels(&bytes), "{name}: pixels differ");
    }
}

#[test]
fn the_json_report_reads_a_raw_profile_when_there_is_no_exif_chunk() {
    for (name, chunk) in profile_chunks() {
        let input = png_with(&png(0), &chunk);
        let Ok(ExifReport::Json(json)) = exif_json(&input) else {
            panic!("{name}: no report")
        };
        assert_eq!(json["image"]["Orientation"], 6, "{name}: {json}");
        assert_eq!(json["image"]["Artist"], "Jane Doe", "{name}: {json}");
    }
    // An eXIf chunk comes first, as for exiftool.
    let (_, chunk) = &profile_chunks()[0];
    let exif = png_chunk(b"eXIf", &images::orientation_tiff(3));
    let input = png_with(&png_with(&png(0), chunk), &exif);
    let Ok(ExifReport::Json(json)) = exif_json(&input) else {
        panic!("no report")
    };
    assert_eq!(json["image"]["Orientation"], 3, "{json}");
    assert_eq!(exiftool::read(&input).get("IFD0:Orientation"), Some(&3.into()));
}

#[test]
fn a_damaged_raw_profile_is_an_error_never_a_lost_orientation() {
    let keyword = b"Raw profile type exif\0";
    for text in [
        &b"\nexif\n      26\n4d4d002a"[..],    // shorter than announced
        b"\nexif\n      4\n4d4d00zz",          // not hex
        b"\nexif\n      4\n3c3f786d",          // not TIFF
        b"\nexif\n  999999\n4d4d002a00000008", // too large
    ] {
        let input = png_with(&png(0), &png_chunk(b"tEXt", &[&keyword[..], text].concat()));
        let result = strip_metadata(&input);
        assert!(
            matches!(
                result,
                Err(edge_signer::transform::TransformError::MalformedExif { .. })
            ),
            "{:?}: {result:?}",
            String::from_utf8_lossy(text)
        );
    }
}
