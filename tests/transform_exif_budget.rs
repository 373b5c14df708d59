//! The EXIF report stays small whatever the block: entries sharing their value bytes (a few KB
//! naming gigabytes) are refused with a clear error before they are read, and PNG and WebP blocks
//! are capped at a JPEG segment's size. Memory is measured with a counting allocator (the peak of
//! live bytes while the report is made), not with time.
#![cfg(feature = "transform")]

#[path = "support/images.rs"]
mod images;

use edge_signer::transform::{ExifReport, Outcome, TransformError, exif_json, strip_metadata};
use images::{jpeg_with_exif, png, png_chunk, png_with, tiff, tiff_values_at};
use peak_alloc::PeakAlloc;
use std::sync::Mutex;

/// The system allocator, counting the live bytes and their peak (peak_alloc).
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;
/// One measurement at a time: the counters are the whole process's.
static MEASURE: Mutex<()> = Mutex::new(());

/// Runs `f` and returns its result with the peak of bytes allocated above what was live before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let _one = MEASURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = ALLOCATOR.current_usage();
    ALLOCATOR.reset_peak_usage();
    let result = f();
    let peak = ALLOCATOR.peak_usage().saturating_sub(before);
    (result, peak)
}

const MB: usize = 1024 * 1024;
const BYTE: u16 = 1;
const ASCII: u16 = 2;

/// An IFD0 of `entries` fields of `kind`, `count` values each, all at the same offset: about
/// 64 KB that name `entries * count` values.
fn sharing(entries: u16, kind: u16, count: u32) -> Vec<u8> {
    let at = tiff_values_at(usize::from(entries));
    let fields: Vec<_> = (0..entries).map(|i| (0xC000 + i, kind, count, at)).collect();
    tiff(&fields, &vec![0; count as usize])
}

#[test]
fn entries_sharing_their_value_bytes_are_refused_and_memory_stays_small() {
    // 2,700 × 32,000 BYTEs = 86 M numbers; 2,700 × 32,000 empty ASCII strings (24 bytes each
    // once read) = 2 GB. Each block is under 64 KB, so it fits in a JPEG.
    for (name, block) in [
        ("BYTE", sharing(2_700, BYTE, 32_000)),
        ("ASCII", sharing(2_700, ASCII, 32_000)),
    ] {
        assert!(block.len() < 65_527, "{name}: {} bytes", block.len());
        let input = jpeg_with_exif(&block);
        assert!(input.len() < 70_000);
        let (report, peak) = peak_of(|| exif_json(&input));
        let error = match report {
            Err(error @ TransformError::MalformedExif { .. }) => error,
            other => panic!("{name}: {other:?}"),
        };
        assert!(error.to_string().contains("bytes of values"), "{name}: {error}");
        eprintln!("{name}: exif_json refused it at a peak of {} KB", peak / 1024);
        assert!(peak < 16 * MB, "{name}: {} MB at the peak", peak / MB);

        // Stripping reads only the orientation: the image is served, without the block.
        let (stripped, peak) = peak_of(|| strip_metadata(&input));
        assert!(
            matches!(stripped, Ok(Outcome::Stripped { .. })),
            "{name}: {stripped:?}"
        );
        eprintln!(
            "{name}: strip_metadata stripped it at a peak of {} KB",
            peak / 1024
        );
        assert!(peak < 4 * MB, "{name}: {} MB at the peak", peak / MB);
    }
}

#[test]
fn a_large_block_whose_values_do_not_share_bytes_is_reported_whole() {
    // One 60,000-byte UNDEFINED value (a maker note's size) and 60 BYTE fields of 40 bytes each.
    let entries = 61_u16;
    let at = tiff_values_at(usize::from(entries));
    let mut fields = vec![(0x927C, 7, 60_000, at)];
    for i in 0..60_u16 {
        fields.push((0xC000 + i, BYTE, 40, at + 60_000 + 40 * u32::from(i)));
    }
    let values: Vec<u8> = (0..62_400_u32).map(|i| (i % 251) as u8).collect();
    let input = jpeg_with_exif(&tiff(&fields, &values));
    let (report, peak) = peak_of(|| exif_json(&input));
    let Ok(ExifReport::Json(json)) = report else {
        panic!("{report:?}")
    };
    assert_eq!(json["image"].as_object().map(|o| o.len()), Some(61));
    assert!(json["image"]["0x927C"]["base64"].is_string());
    assert_eq!(json["image"]["0xC03B"].as_array().map(Vec::len), Some(40));
    let text = serde_json::to_string(&json).expect("JSON");
    assert!(text.len() < 200_000, "{} bytes", text.len());
    assert!(peak < 8 * MB, "{} MB at the peak", peak / MB);
}

#[test]
fn a_png_exif_block_larger_than_a_jpeg_segment_is_refused() {
    // A valid block padded past 65,527 bytes: JPEG cannot hold it, PNG's eXIf could.
    let mut block = images::orientation_tiff(6);
    block.resize(65_528, 0);
    let input = png_with(&png(0), &png_chunk(b"eXIf", &block));
    for result in [exif_json(&input).map(|_| ()), strip_metadata(&input).map(|_| ())] {
        let Err(error) = result else {
            panic!("a {}-byte block was read", block.len())
        };
        assert!(matches!(error, TransformError::MalformedExif { .. }), "{error}");
        assert!(error.to_string().contains("65528 bytes"), "{error}");
    }
    // At the limit, it is read (and its orientation kept).
    block.truncate(65_527);
    let input = png_with(&png(0), &png_chunk(b"eXIf", &block));
    let Ok(ExifReport::Json(json)) = exif_json(&input) else {
        panic!("the block at the limit was refused")
    };
    assert_eq!(json["image"]["Orientation"], 6);
}
