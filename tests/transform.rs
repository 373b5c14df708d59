//! The transform checked by independent readers: exiftool for what metadata is left, the `image`
//! crate for the pixels, exiftool again for the JSON report's values.
#![cfg(feature = "transform")]

#[path = "support/exiftool.rs"]
mod exiftool;

use edge_signer::transform::{ExifReport, ImageFormat, Outcome, TransformError, exif_json, strip_metadata};
use serde_json::Value;

const JPEG: &[u8] = include_bytes!("../samples/images/sample.jpg");
const PNG: &[u8] = include_bytes!("../samples/images/sample.png");
const WEBP: &[u8] = include_bytes!("../samples/images/sample.webp");
const TEXT: &[u8] = include_bytes!("../samples/images/readme.txt");

/// Each sample, its format and the orientation exiftool must still find after stripping.
const SAMPLES: [(&str, &[u8], ImageFormat, Option<u64>); 3] = [
    ("sample.jpg", JPEG, ImageFormat::Jpeg, Some(6)),
    ("sample.png", PNG, ImageFormat::Png, Some(3)),
    ("sample.webp", WEBP, ImageFormat::WebP, None),
];

fn stripped(input: &[u8]) -> (ImageFormat, Vec<u8>) {
    match strip_metadata(input) {
        Ok(Outcome::Stripped { format, bytes }) => (format, bytes),
        other => panic!("expected a stripped image, got {other:?}"),
    }
}

#[test]
fn the_identifying_check_catches_gps_names_and_text_in_the_samples() {
    // The check below must be able to fail: on the originals it finds what the samples carry.
    for (name, bytes, ..) in SAMPLES {
        let found = exiftool::identifying(&exiftool::read(bytes));
        for expected in [
            "GPS:GPSLatitude",
            "IFD0:Artist",
            "ExifIFD:SerialNumber",
            "XMP-dc:Creator",
        ] {
            assert!(
                found.iter().any(|t| t == expected),
                "{name}: {expected} not caught in {found:?}"
            );
        }
    }
    let jpeg = exiftool::identifying(&exiftool::read(JPEG));
    for expected in ["IPTC:By-line", "File:Comment", "IFD1:ThumbnailLength"] {
        assert!(
            jpeg.iter().any(|t| t == expected),
            "{expected} not caught in {jpeg:?}"
        );
    }
    let png = exiftool::identifying(&exiftool::read(PNG));
    for expected in ["PNG:Author", "PNG:Comment", "PNG:ModifyDate"] {
        assert!(
            png.iter().any(|t| t == expected),
            "{expected} not caught in {png:?}"
        );
    }
}

#[test]
fn exiftool_finds_nothing_identifying_after_stripping_but_the_icc_profile_and_orientation() {
    for (name, bytes, format, orientation) in SAMPLES {
        let (got_format, out) = stripped(bytes);
        assert_eq!(got_format, format, "{name}");
        let tags = exiftool::read(&out);
        assert_eq!(
            exiftool::identifying(&tags),
            Vec::<String>::new(),
            "{name}: {tags:#?}"
        );
        assert!(!tags.contains_key("ExifTool:Warning"), "{name}: {tags:#?}");
        assert!(!tags.contains_key("ExifTool:Error"), "{name}: {tags:#?}");
        assert_eq!(
            tags.get("ICC_Profile:ProfileDescription").and_then(Value::as_str),
            Some("sRGB built-in"),
            "{name}: the ICC profile must survive"
        );
        assert_eq!(
            tags.get("IFD0:Orientation").and_then(Value::as_u64),
            orientation,
            "{name}"
        );
    }
}

#[test]
fn decoded_pixels_are_identical_before_and_after() {
    for (name, bytes, ..) in SAMPLES {
        let (_, out) = stripped(bytes);
        let before = image::load_from_memory(bytes).expect("the sample decodes");
        let after = image::load_from_memory(&out).expect("the stripped image decodes");
        assert_eq!(before.color(), after.color(), "{name}");
        assert_eq!(before.to_rgba8(), after.to_rgba8(), "{name}: pixels differ");
        assert!(out.len() < bytes.len(), "{name}: nothing was removed");
    }
}

#[test]
fn stripping_is_idempotent() {
    for (name, bytes, ..) in SAMPLES {
        let (_, once) = stripped(bytes);
        let (_, twice) = stripped(&once);
        assert!(once == twice, "{name}: stripping again changed the output");
    }
}

#[test]
fn identifying_strings_are_gone_from_the_bytes() {
    for (name, bytes, ..) in SAMPLES {
        let (_, out) = stripped(bytes);
        for needle in [&b"Jane"[..], b"ExampleCam", b"0042", b"2026:05"] {
            assert!(contains(bytes, needle), "{name}: the sample lacks {needle:?}");
            assert!(
                !contains(&out, needle),
                "{name}: {:?} left in the output",
                String::from_utf8_lossy(needle)
            );
        }
    }
}

#[test]
fn data_after_the_jpeg_end_is_dropped() {
    // A second JPEG with its own EXIF appended, as MPF and motion photos do.
    let mut with_trailer = JPEG.to_vec();
    with_trailer.extend_from_slice(JPEG);
    assert!(
        stripped(&with_trailer).1 == stripped(JPEG).1,
        "the trailer was kept"
    );
}

#[test]
fn comment_segments_after_the_first_scan_are_dropped() {
    // A COM segment after the first scan (as between progressive scans), before the EOI.
    let (_, clean) = stripped(JPEG);
    let mut with_comment = clean[..clean.len() - 2].to_vec();
    with_comment.extend_from_slice(b"\xFF\xFE\x00\x0CJane Doe!!");
    with_comment.extend_from_slice(b"\xFF\xD9");
    assert!(stripped(&with_comment).1 == clean, "the comment was kept");
}

#[test]
fn text_is_not_an_image_and_is_left_alone() {
    assert_eq!(strip_metadata(TEXT), Ok(Outcome::NotAnImage));
    assert_eq!(exif_json(TEXT), Ok(ExifReport::NotAnImage));
    assert_eq!(strip_metadata(b""), Ok(Outcome::NotAnImage));
}

#[test]
fn truncated_images_are_errors_never_the_original() {
    for (name, bytes, ..) in SAMPLES {
        let lengths = (12..bytes.len())
            .step_by(211)
            .chain(bytes.len() - 16..bytes.len());
        for len in lengths {
            let result = strip_metadata(&bytes[..len]);
            assert!(
                matches!(result, Err(TransformError::MalformedImage { .. })),
                "{name} cut at {len}: {result:?}"
            );
        }
    }
}

#[test]
fn corrupt_images_are_errors() {
    // A flipped bit in the PNG's image data: its CRC no longer matches.
    let mut png = PNG.to_vec();
    let idat = find(&png, b"IDAT").expect("an IDAT chunk");
    png[idat + 8] ^= 0x01;
    assert!(matches!(
        strip_metadata(&png),
        Err(TransformError::MalformedImage { .. })
    ));

    // A JPEG whose EXIF block is not TIFF: its orientation cannot be known.
    let mut jpeg = b"\xFF\xD8\xFF\xE1\x00\x0EExif\0\0garbage".to_vec();
    jpeg.extend_from_slice(&JPEG[2..]);
    let error = strip_metadata(&jpeg).unwrap_err();
    assert!(matches!(error, TransformError::MalformedExif { .. }), "{error}");

    // Headers and no image data.
    let error = strip_metadata(b"\xFF\xD8\xFF\xD9").unwrap_err();
    assert!(matches!(error, TransformError::MalformedImage { .. }), "{error}");
}

#[test]
fn other_image_formats_are_unsupported_with_a_clear_error() {
    let error = strip_metadata(b"II*\0\x08\0\0\0\0\0").unwrap_err();
    assert_eq!(error, TransformError::UnsupportedImage("TIFF"));
    assert!(error.to_string().contains("only JPEG, PNG and WebP"), "{error}");
    let error = exif_json(b"\0\0\0\x1cftypheic\0\0\0\0mif1heic").unwrap_err();
    assert_eq!(error, TransformError::UnsupportedImage("HEIF"));
}

/// (our group, our name, exiftool's `Group:Tag`): names differ where exiftool does not use the
/// specification's (`PhotographicSensitivity` is its `ISO`).
const SAME_VALUES: &[(&str, &str, &str)] = &[
    ("image", "Make", "IFD0:Make"),
    ("image", "Model", "IFD0:Model"),
    ("image", "Orientation", "IFD0:Orientation"),
    ("image", "Artist", "IFD0:Artist"),
    ("image", "Copyright", "IFD0:Copyright"),
    ("image", "DateTime", "IFD0:ModifyDate"),
    ("exif", "ExposureTime", "ExifIFD:ExposureTime"),
    ("exif", "FNumber", "ExifIFD:FNumber"),
    ("exif", "PhotographicSensitivity", "ExifIFD:ISO"),
    ("exif", "FocalLength", "ExifIFD:FocalLength"),
    ("exif", "DateTimeOriginal", "ExifIFD:DateTimeOriginal"),
    ("exif", "BodySerialNumber", "ExifIFD:SerialNumber"),
    ("exif", "CameraOwnerName", "ExifIFD:OwnerName"),
    ("exif", "LensSerialNumber", "ExifIFD:LensSerialNumber"),
    ("gps", "GPSLatitudeRef", "GPS:GPSLatitudeRef"),
    ("gps", "GPSLongitudeRef", "GPS:GPSLongitudeRef"),
    ("gps", "GPSAltitude", "GPS:GPSAltitude"),
    ("gps", "GPSAltitudeRef", "GPS:GPSAltitudeRef"),
    ("gps", "GPSDateStamp", "GPS:GPSDateStamp"),
    ("position", "latitude", "Composite:GPSLatitude"),
    ("position", "longitude", "Composite:GPSLongitude"),
    ("position", "altitude", "Composite:GPSAltitude"),
];

#[test]
fn the_json_report_agrees_with_exiftool() {
    for (name, bytes, ..) in SAMPLES {
        let Ok(ExifReport::Json(json)) = exif_json(bytes) else {
            panic!("{name}: no JSON report");
        };
        let tags = exiftool::read(bytes);
        for &(group, tag, theirs) in SAME_VALUES {
            let ours = &json[group][tag];
            let expected = tags
                .get(theirs)
                .unwrap_or_else(|| panic!("{name}: exiftool lacks {theirs}"));
            assert!(
                same(ours, expected),
                "{name}: {group}.{tag} = {ours}, exiftool {theirs} = {expected}"
            );
        }
        // GPSLatitude stays the specification's three rationals; exiftool -n gives their sum.
        let dms = json["gps"]["GPSLatitude"].as_array().expect("three numbers");
        let sum: f64 = dms
            .iter()
            .zip([1.0, 60.0, 3600.0])
            .map(|(v, s)| v.as_f64().unwrap() / s)
            .sum();
        assert!(
            same(&Value::from(sum), &tags["GPS:GPSLatitude"]),
            "{name}: {dms:?}"
        );
        // UNDEFINED bytes that are not text: base64.
        assert!(
            json["exif"]["MakerNote"]["base64"].is_string(),
            "{name}: {}",
            json["exif"]
        );
    }
    let Ok(ExifReport::Json(json)) = exif_json(JPEG) else {
        unreachable!()
    };
    let tags = exiftool::read(JPEG);
    assert!(same(
        &json["thumbnail"]["JPEGInterchangeFormatLength"],
        &tags["IFD1:ThumbnailLength"]
    ));
}

#[test]
fn the_json_report_of_a_stripped_image_holds_only_the_orientation() {
    let Ok(ExifReport::Json(json)) = exif_json(&stripped(JPEG).1) else {
        panic!("no report")
    };
    assert_eq!(
        json,
        serde_json::json!({ "image": { "Orientation": 6 }, "exif": {}, "gps": {}, "interop": {} })
    );
}

/// Strings equal, numbers equal to 1e-9 relative (exiftool prints 15 significant digits).
fn same(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
            (a - b).abs() <= 1e-9 * a.abs().max(1.0)
        }
        // exiftool -n leaves some numbers as strings, like "35.5".
        (Value::Number(_), Value::String(s)) => s.parse::<f64>().is_ok_and(|b| same(ours, &Value::from(b))),
        _ => ours == theirs,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}
