//! JPEG segments and markers a decoder does not need, or that libjpeg-turbo stops at: never
//! copied into a stripped image. Text in an extension or reserved segment, a second SOI, a second
//! image after the first scan: the file is refused as malformed, so nothing is published. The
//! stripped files that are kept decode (with the `image` crate) to the input's pixels, and
//! exiftool finds nothing identifying in them.
#![cfg(feature = "transform")]

#[path = "support/exiftool.rs"]
mod exiftool;
#[path = "support/images.rs"]
mod images;

use edge_signer::transform::{Outcome, TransformError, strip_metadata};
use images::{after_soi, before_sos, find, jpeg, jpeg_segment};

const TEXT: &[u8] = b"Jane Doe, 48.8582 N 2.2945 E";

fn refused(input: &[u8]) -> String {
    match strip_metadata(input) {
        Err(error @ TransformError::MalformedImage { .. }) => error.to_string(),
        Ok(Outcome::Stripped { bytes, .. }) => panic!(
            "stripped instead of refused; the text is {}in the output",
            if find(&bytes, TEXT).is_some() { "" } else { "not " }
        ),
        other => panic!("{other:?}"),
    }
}

fn stripped(input: &[u8]) -> Vec<u8> {
    match strip_metadata(input) {
        Ok(Outcome::Stripped { bytes, .. }) => bytes,
        other => panic!("{other:?}"),
    }
}

#[test]
fn text_in_extension_and_hierarchical_segments_is_never_copied() {
    // JPG (C8), DHP (DE), EXP (DF), JPGn (F0..FD), each holding a text, before the first scan
    // and after it (before the EOI).
    for marker in [0xC8, 0xDE, 0xDF, 0xF0, 0xF7, 0xFD] {
        let segment = jpeg_segment(marker, TEXT);
        let error = refused(&before_sos(&jpeg(0), &segment));
        assert!(
            error.contains(&format!("(FF {marker:02X}) before the first scan")),
            "{error}"
        );
        let clean = jpeg(0);
        let mut after = clean[..clean.len() - 2].to_vec();
        after.extend_from_slice(&segment);
        after.extend_from_slice(b"\xFF\xD9");
        let error = refused(&after);
        assert!(
            error.contains(&format!("(FF {marker:02X}) after the first scan")),
            "{error}"
        );
    }
}

#[test]
fn reserved_markers_and_a_second_soi_before_the_first_scan_are_refused() {
    for code in [0x02_u8, 0x4A, 0xBF] {
        let error = refused(&after_soi(&jpeg(0), &[0xFF, code]));
        assert!(error.contains("a reserved marker"), "{error}");
    }
    let error = refused(&after_soi(&jpeg(0), b"\xFF\xD8"));
    assert!(error.contains("second SOI"), "{error}");
    // Two frame headers: libjpeg-turbo's "two SOF markers".
    let picture = jpeg(0);
    let sof_at = find(&picture, b"\xFF\xC0").expect("an SOF0");
    let sof_len = usize::from(u16::from_be_bytes([picture[sof_at + 2], picture[sof_at + 3]]));
    let sof = picture[sof_at..sof_at + 2 + sof_len].to_vec();
    let error = refused(&before_sos(&picture, &sof));
    assert!(error.contains("second frame header"), "{error}");
}

#[test]
fn a_stray_soi_in_the_scan_data_or_a_second_image_after_the_first_scan_is_refused() {
    // Picture A's data, then a whole picture B where A's EOI was: decoders that stop at B's SOI
    // show a broken A, others show B; stripping must not pick one of them.
    let a = jpeg(0);
    let b = jpeg(0x5A);
    let mut two = a[..a.len() - 2].to_vec();
    two.extend_from_slice(&b);
    let error = refused(&two);
    assert!(
        error.contains("an SOI marker (FF D8) after the first scan"),
        "{error}"
    );

    // An SOI in the middle of the entropy-coded data.
    let sos = find(&a, b"\xFF\xDA").expect("an SOS");
    let middle = sos + (a.len() - sos) / 2;
    let mut stray = a[..middle].to_vec();
    stray.extend_from_slice(b"\xFF\xD8");
    stray.extend_from_slice(&a[middle..]);
    let error = refused(&stray);
    assert!(error.contains("SOI"), "{error}");
}

#[test]
fn what_decoders_need_is_kept_and_the_rest_goes() {
    // An Adobe APP14 with a text after its 12 bytes: the output holds no text, decodes to the
    // same pixels, and exiftool reads the same Adobe colour transform.
    let mut adobe = b"Adobe\x00\x64\x00\x00\x00\x00\x01".to_vec();
    adobe.extend_from_slice(TEXT);
    let mut extra = b"\xFF\x01\xFF\xD3".to_vec();
    extra.extend_from_slice(&jpeg_segment(0xDC, b"\x00\x10"));
    extra.extend_from_slice(&jpeg_segment(0xEE, &adobe));
    let input = before_sos(&jpeg(0), &extra);
    let output = stripped(&input);
    assert!(find(&output, TEXT).is_none());
    assert!(
        find(&output, b"\xFF\xDC").is_none(),
        "DNL before the first scan was kept"
    );
    // zune-jpeg (the `image` crate's decoder) misreads an APP14 longer than 12 bytes, so the
    // pixels are compared with the same file with a 12-byte APP14, which it reads.
    let clean = before_sos(&jpeg(0), &jpeg_segment(0xEE, &adobe[..12]));
    let before = image::load_from_memory(&clean).expect("the input decodes");
    let after = image::load_from_memory(&output).expect("the output decodes");
    assert!(before.to_rgb8() == after.to_rgb8(), "pixels differ");
    let tags = exiftool::read(&output);
    assert_eq!(
        tags.get("Adobe:ColorTransform"),
        exiftool::read(&input).get("Adobe:ColorTransform"),
        "{tags:#?}"
    );
    assert!(tags.contains_key("Adobe:ColorTransform"), "{tags:#?}");
    assert_eq!(exiftool::identifying(&tags), Vec::<String>::new(), "{tags:#?}");

    // A DNL segment before the first scan (where it means nothing, T.81 B.2.5) is dropped.
    let input = before_sos(&jpeg(0), &jpeg_segment(0xDC, b"\x00\x10"));
    let output = stripped(&input);
    assert!(find(&output, b"\xFF\xDC").is_none(), "DNL was kept");
    assert!(output == stripped(&jpeg(0)));
}
