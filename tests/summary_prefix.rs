//! A report from a prefix of an object (`summarize_prefix`, what report mode reads) against the
//! report from the whole object (`summarize`), on every image at hand: the generated ones of
//! `support/images.rs`, `samples/images/`, and the Pillow corpus under `target/corpus/` when
//! fetched (`scripts/fetch-corpus`; under `CI=true` it must be there).
//!
//! Each JPEG is also made long (200 kB of image data added before its final EOI, zeros, which the
//! strip copies without decoding), so that its head is read and the rest is not. The two reports
//! must agree on the format, GPS, make and model, and on the bytes of metadata (the corpus' MPO
//! files, whose second images follow EOI, are read whole for that). Damage after the first scan
//! header, which a prefix does not read, is counted and listed.

#[path = "support/images.rs"]
mod images;

use edge_signer::transform::TransformError;
use edge_signer::transform::summary::{FIRST_READ, ImageSummary, Step, Summary, summarize, summarize_prefix};
use std::path::{Path, PathBuf};

const ADDED: usize = 200_000;

/// The summary from `object`'s first `first` bytes and the further reads it asks for, and the
/// bytes read.
fn from_prefix(object: &[u8], first: usize) -> (Result<Summary, TransformError>, usize) {
    let mut read = object[..first.min(object.len())].to_vec();
    let mut requests = 1;
    loop {
        match summarize_prefix(&read, object.len() as u64) {
            Step::Read(up_to) => {
                let up_to = usize::try_from(up_to).unwrap();
                assert!(up_to > read.len() && up_to <= object.len(), "asked for {up_to}");
                read.extend_from_slice(&object[read.len()..up_to]);
                requests += 1;
                assert!(requests <= 64, "too many reads");
            }
            Step::Done(summary) => return (summary, read.len()),
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every image at hand, by name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut images = vec![
        ("generated jpeg".to_owned(), images::jpeg(3)),
        ("generated png".to_owned(), images::png(3)),
        (
            "generated jpeg with orientation 6".to_owned(),
            images::jpeg_with_exif(&images::orientation_tiff(6)),
        ),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    files_under(&root.join("samples/images"), &mut files);
    let pillow = root.join("target/corpus");
    files_under(&pillow, &mut files);
    let fetched = files.iter().any(|f| f.starts_with(&pillow));
    let note = "no corpus under target/corpus/: run scripts/fetch-corpus (scripts/test does)";
    assert!(fetched || std::env::var("CI").as_deref() != Ok("true"), "{note}");
    if !fetched {
        eprintln!("NOTE: {note}; the samples and generated images only");
    }
    files.sort();
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        images.push((file.strip_prefix(root).unwrap().display().to_string(), bytes));
    }
    images
}

/// `jpeg` with `ADDED` zero bytes before its final EOI, when it ends with one.
fn long(jpeg: &[u8]) -> Option<Vec<u8>> {
    let body = jpeg.strip_suffix(b"\xFF\xD9")?;
    let mut out = body.to_vec();
    out.resize(body.len() + ADDED, 0);
    out.extend_from_slice(b"\xFF\xD9");
    Some(out)
}

#[test]
fn a_report_from_a_prefix_equals_the_report_from_the_whole_object() {
    let (mut compared, mut equal, mut heads_only) = (0, 0, 0);
    let mut damaged_after_the_scan: Vec<String> = Vec::new();
    for (name, bytes) in corpus() {
        let long = long(&bytes).filter(|_| bytes.starts_with(b"\xFF\xD8"));
        let forms = [
            Some((name.clone(), bytes)),
            long.map(|l| (format!("{name} (long)"), l)),
        ];
        for (name, object) in forms.into_iter().flatten() {
            let whole = summarize(&object);
            for first in [FIRST_READ as usize, 100] {
                compared += 1;
                let (prefix, read) = from_prefix(&object, first);
                match (&prefix, &whole) {
                    (Ok(Summary::Image(prefix)), Ok(Summary::Image(whole))) if prefix.unread_bytes > 0 => {
                        heads_only += 1;
                        // What was fetched past the head is not looked at either.
                        assert!(prefix.unread_bytes >= (object.len() - read) as u64, "{name}");
                        // Reads double at most, past the head.
                        let head = object.len() - prefix.unread_bytes as usize;
                        assert!(read <= first.max(2 * head + 4), "{name}: {read} for {head}");
                        let covered = ImageSummary {
                            unread_bytes: 0,
                            ..prefix.clone()
                        };
                        assert_eq!(&covered, whole, "{name}, first read {first}");
                        equal += 1;
                    }
                    (Ok(Summary::Image(prefix)), Err(_)) if prefix.unread_bytes > 0 => {
                        damaged_after_the_scan.push(name.clone());
                    }
                    _ => {
                        assert_eq!(prefix, whole, "{name}, first read {first}");
                        equal += 1;
                    }
                }
            }
        }
    }
    damaged_after_the_scan.dedup();
    eprintln!(
        "{compared} comparisons: {equal} equal, {heads_only} of them from a JPEG's head; damage \
         after the first scan (not seen from a prefix) in {}: {damaged_after_the_scan:?}",
        damaged_after_the_scan.len()
    );
    assert_eq!(equal + damaged_after_the_scan.len(), compared);
    assert!(heads_only >= 6, "{heads_only}");
}
