//! The memory a task needs is a correctness property: a Lambda function's memory setting is chosen
//! from it, and an object that needs more is a crashed invocation. Stripping a 12-megapixel JPEG
//! must hold at most 2.5 times the object's size (the object itself included), and reporting its
//! EXIF must not depend on the object's size at all. Measured with a counting allocator (the peak
//! of live heap bytes, deterministic), not with time. Each test measures in turn (the counters
//! are the whole process's).
#![cfg(feature = "transform")]

#[path = "support/images.rs"]
mod images;

use edge_signer::transform::{ExifReport, Outcome, exif_json, strip_metadata};
use image::{ImageEncoder, RgbImage};
use images::{find, jpeg_segment, tiff, tiff_values_at};
use peak_alloc::PeakAlloc;
use std::sync::Mutex;

/// The system allocator, counting the live bytes and their peak (peak_alloc).
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;
/// One measurement at a time.
static MEASURE: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result with the peak of bytes allocated above what was live before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let _one = MEASURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let result = f();
    (result, ALLOCATOR.peak_usage().saturating_sub(before))
}

/// A camera's 12-megapixel photo: 4000×3000, smooth shading with sensor-like noise (so that it
/// compresses like a photo, to a few MB), with an EXIF block (orientation, make, GPS position),
/// an XMP packet and a comment before the frame.
fn photo_12mp() -> Vec<u8> {
    let (width, height) = (4000, 3000);
    let mut noise = 0x2545_F491_u32;
    let picture = RgbImage::from_fn(width, height, |x, y| {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        let grain = (noise % 16) as u8;
        let shade = |v: u32, scale: u32| ((v * 255 / scale) as u8).wrapping_add(grain);
        image::Rgb([shade(x, width), shade(y, height), shade(x + y, width + height)])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .write_image(&picture, width, height, image::ExtendedColorType::Rgb8)
        .expect("encode a 12 MP JPEG");

    // IFD0: Orientation 6, Make "Cam" (inline), GPS pointer; the GPS IFD: latitude N 48°51'29".
    let at = tiff_values_at(3);
    let gps_at = at;
    let mut values = Vec::new();
    values.extend_from_slice(&1_u16.to_be_bytes()); // one GPS entry
    values.extend_from_slice(&[0x00, 0x02, 0x00, 0x05, 0, 0, 0, 3]); // GPSLatitude, 3 RATIONAL
    values.extend_from_slice(&(gps_at + 2 + 12 + 4).to_be_bytes());
    values.extend_from_slice(&[0; 4]); // no next IFD
    for (num, denom) in [(48_u32, 1_u32), (51, 1), (2964, 100)] {
        values.extend_from_slice(&num.to_be_bytes());
        values.extend_from_slice(&denom.to_be_bytes());
    }
    let block = tiff(
        &[
            (0x010F, 2, 4, u32::from_be_bytes(*b"Cam\0")),
            (0x0112, 3, 1, 6 << 16),
            (0x8825, 4, 1, gps_at),
        ],
        &values,
    );
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&block);
    let mut metadata = jpeg_segment(0xE1, &app1);
    metadata.extend(jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>"));
    metadata.extend(jpeg_segment(0xFE, b"a comment"));
    let frame = find(&jpeg, b"\xFF\xC0").expect("a frame header");
    let mut out = jpeg[..frame].to_vec();
    out.extend_from_slice(&metadata);
    out.extend_from_slice(&jpeg[frame..]);
    out
}

#[test]
fn a_12_megapixel_jpeg_is_stripped_in_at_most_2_5_times_its_size() {
    let input = photo_12mp();
    let size = input.len();
    assert!(
        (2 << 20..12 << 20).contains(&size),
        "{size} bytes: not a photo's size"
    );

    let (stripped, peak) = peak_of(|| strip_metadata(&input));
    let Ok(Outcome::Stripped { bytes, .. }) = stripped else {
        panic!("{stripped:?}")
    };
    // The orientation is kept, the rest of the metadata is gone, the scan data is untouched.
    assert!(find(&bytes, b"Exif\0\0").is_some());
    assert!(find(&bytes, b"Cam\0").is_none() && find(&bytes, b"xmpmeta").is_none());
    let scan = find(&input, b"\xFF\xDA").expect("a scan");
    assert!(bytes.ends_with(&input[scan..]));
    let task = size + peak;
    eprintln!(
        "strip: object {size} bytes, peak {peak} bytes above it, task {:.2}× the object",
        task as f64 / size as f64
    );
    assert!(
        task * 2 <= size * 5,
        "strip held {task} bytes for a {size}-byte object ({:.2}×)",
        task as f64 / size as f64
    );

    // The EXIF report reads the block in place: its peak does not grow with the object.
    let (report, peak) = peak_of(|| exif_json(&input));
    let Ok(ExifReport::Json(json)) = report else {
        panic!("{report:?}")
    };
    assert_eq!(json["image"]["Make"], "Cam");
    assert_eq!(json["gps"]["GPSLatitude"], serde_json::json!([48.0, 51.0, 29.64]));
    eprintln!("exif_json: peak {peak} bytes above the object");
    assert!(peak < 256 * 1024, "exif_json held {peak} bytes");
}

#[cfg(feature = "s3")]
#[test]
fn the_exif_report_of_a_large_png_from_bytes_does_not_copy_it() {
    // An 8 MB PNG (its IDAT is not decoded: any bytes do) with an eXIf chunk before the data,
    // handed over as the S3 client reads bodies: `Bytes`, which img-parts parses in place.
    let png = images::png(0);
    let mut input = png[..33].to_vec();
    input.extend(images::png_chunk(b"eXIf", &images::orientation_tiff(6)));
    input.extend(images::png_chunk(b"IDAT", &vec![0x5A; 8 << 20]));
    input.extend_from_slice(&png[png.len() - 12..]);
    let input = bytes::Bytes::from(input);

    let (report, peak) = peak_of(|| exif_json(&input));
    let Ok(ExifReport::Json(json)) = report else {
        panic!("{report:?}")
    };
    assert_eq!(json["image"]["Orientation"], 6);
    eprintln!("exif_json of an 8 MB PNG from Bytes: peak {peak} bytes");
    assert!(peak < 256 * 1024, "exif_json held {peak} bytes");
}
