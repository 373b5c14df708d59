//! Image bytes -> stripped image and EXIF report: `edge_signer::transform::{strip_metadata,
//! exif_json}` on arbitrary bytes.
//!
//! Beyond "no panic" (and libFuzzer's memory limit, which catches a report that grows without
//! bound), each outcome is checked (see fuzz/README.md): a stripped image is a fixed point (stripping
//! it again gives the same bytes, in the same format) and is never larger than its input plus the
//! minimal EXIF block the transform may add; the report of a stripped image holds at most the
//! orientation; an error has a message.

#![no_main]

use edge_signer::transform::{ExifReport, Outcome, exif_json, strip_metadata};
use libfuzzer_sys::fuzz_target;

/// What stripping may add to an image: a minimal EXIF block (26 bytes) in its container (a JPEG
/// APP1 header and `Exif\0\0`, a PNG chunk header and CRC, a WebP chunk header).
const MAX_ADDED: usize = 26 + 12;

fuzz_target!(|input: &[u8]| {
    match exif_json(input) {
        Ok(ExifReport::Json(json)) => assert!(json.is_object()),
        Ok(ExifReport::NotAnImage) => {}
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    match strip_metadata(input) {
        Ok(Outcome::Stripped { format, bytes }) => {
            assert!(
                bytes.len() <= input.len() + MAX_ADDED,
                "the output grew: {} -> {} bytes",
                input.len(),
                bytes.len()
            );
            match strip_metadata(&bytes) {
                Ok(Outcome::Stripped { format: again, bytes: twice }) => {
                    assert_eq!(again, format);
                    assert!(twice == bytes, "stripping the output again changed it");
                }
                other => panic!("the stripped output is not a stripped image again: {other:?}"),
            }
            match exif_json(&bytes) {
                Ok(ExifReport::Json(json)) => {
                    for group in ["exif", "gps", "interop"] {
                        assert_eq!(json[group], serde_json::json!({}), "{json}");
                    }
                    let image = json["image"].as_object().expect("an image group");
                    assert!(
                        image.keys().all(|key| key == "Orientation"),
                        "more than the orientation is left: {json}"
                    );
                    assert!(json.get("thumbnail").is_none(), "{json}");
                }
                other => panic!("the stripped output has no report: {other:?}"),
            }
        }
        Ok(Outcome::NotAnImage) => {}
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
