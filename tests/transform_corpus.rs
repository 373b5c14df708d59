//! The transform over real images other projects ship as test data: every JPEG, PNG and WebP of
//! the Pillow source distribution's `Tests/images` (fetched by `scripts/fetch-corpus`, which
//! `scripts/test` runs first). For each file: no panic; either a transform error, or a stripped
//! image that is stable when stripped again, decodes (with the `image` crate, when it decodes the
//! input) to the input's pixels, and in which exiftool finds nothing identifying. All failures are
//! reported together, with a summary of what was stripped and refused.
//!
//! Without the corpus the test fails under `CI=true`, and otherwise prints how to fetch it.
#![cfg(feature = "transform")]

#[path = "support/exiftool.rs"]
mod exiftool;

use edge_signer::transform::{
    ExifReport, Outcome, Sniffed, TransformError, exif_json, sniff, strip_metadata,
};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The folders `scripts/fetch-corpus` unpacks, under `target/corpus/`.
fn corpus_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/corpus");
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|entry| Some(entry.ok()?.path().join("Tests/images")))
        .filter(|dir| dir.is_dir())
        .collect();
    dirs.sort();
    dirs
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

/// The first words of an error, without the numbers: what the summary groups refusals by.
fn reason_kind(error: &TransformError) -> String {
    let text = error.to_string();
    let text: String = text.chars().filter(|c| !c.is_ascii_digit()).collect();
    text.split(':').take(2).collect::<Vec<_>>().join(":")
}

#[test]
fn real_images_never_panic_and_strip_to_the_same_pixels_without_metadata() {
    let dirs = corpus_dirs();
    if dirs.is_empty() {
        let note = "no corpus under target/corpus/: run scripts/fetch-corpus (scripts/test does)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{note}");
        eprintln!("skipped locally: {note}");
        return;
    }
    let mut files = Vec::new();
    for dir in &dirs {
        files_under(dir, &mut files);
    }
    files.sort();

    // Under target/ (cargo's temporary directory for tests), away from whatever cleans /tmp.
    let temporary = || tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("a directory");
    let (inputs, outputs) = (temporary(), temporary());
    let mut failures = Vec::new();
    let mut refused: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stripped: BTreeMap<String, PathBuf> = BTreeMap::new();
    let (mut images, mut pixels_compared) = (0, 0);
    for path in &files {
        let name = path.strip_prefix(&dirs[0]).unwrap_or(path).display().to_string();
        let Ok(input) = std::fs::read(path) else {
            continue;
        };
        if !matches!(sniff(&input), Sniffed::Supported(_)) {
            continue;
        }
        images += 1;
        let result = catch_unwind(AssertUnwindSafe(|| (strip_metadata(&input), exif_json(&input))));
        let (strip, report) = match result {
            Ok(results) => results,
            Err(payload) => {
                failures.push(format!(
                    "{name}: panicked: {}",
                    edge_signer::panic::message(&*payload)
                ));
                continue;
            }
        };
        if let Ok(ExifReport::NotAnImage) = report {
            failures.push(format!("{name}: an image to strip_metadata, not to exif_json"));
        }
        let (format, bytes) = match strip {
            Ok(Outcome::Stripped { format, bytes }) => (format, bytes),
            Ok(Outcome::NotAnImage) => {
                failures.push(format!("{name}: sniffed as an image, stripped as not one"));
                continue;
            }
            Err(error) => {
                refused.entry(reason_kind(&error)).or_default().push(name);
                continue;
            }
        };
        match strip_metadata(&bytes) {
            Ok(Outcome::Stripped { bytes: twice, .. }) if twice == bytes => {}
            other => failures.push(format!("{name}: stripping again gave {other:?}")),
        }
        if let Ok(before) = image::load_from_memory(&input) {
            match image::load_from_memory(&bytes) {
                Ok(after) if after.to_rgba8() == before.to_rgba8() => pixels_compared += 1,
                Ok(_) => failures.push(format!("{name}: pixels differ after stripping")),
                Err(error) => failures.push(format!("{name}: the output does not decode: {error}")),
            }
        }
        let extension = match format.content_type() {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            _ => "webp",
        };
        let file = format!("{:04}.{extension}", stripped.len());
        std::fs::write(outputs.path().join(&file), &bytes).expect("write a stripped image");
        std::fs::write(inputs.path().join(&file), &input).expect("write an input image");
        stripped.insert(file, PathBuf::from(name));
    }

    let names: Vec<&String> = stripped.keys().collect();
    let tags = exiftool::read_files(&names.iter().map(|n| outputs.path().join(n)).collect::<Vec<_>>());
    let tags_before = exiftool::read_files(&names.iter().map(|n| inputs.path().join(n)).collect::<Vec<_>>());
    let mut orientations = 0;
    for (file, name) in &stripped {
        let Some(tags) = tags.get(file) else {
            failures.push(format!("{}: exiftool did not read the output", name.display()));
            continue;
        };
        // The orientation exiftool reads (from EXIF, or a PNG raw profile) is the one kept.
        let orientation = |tags: Option<&serde_json::Map<String, serde_json::Value>>| {
            tags?
                .get("IFD0:Orientation")?
                .as_u64()
                .filter(|v| (2..=8).contains(v))
        };
        let before = orientation(tags_before.get(file));
        if before != orientation(Some(tags)) {
            failures.push(format!(
                "{}: orientation {before:?} became {:?}",
                name.display(),
                orientation(Some(tags))
            ));
        }
        orientations += usize::from(before.is_some());
        let found: Vec<String> = exiftool::identifying(tags)
            .into_iter()
            .filter(|tag| tag != "ExifTool:Warning")
            .collect();
        if !found.is_empty() {
            failures.push(format!("{}: exiftool finds {found:?}", name.display()));
        }
    }

    eprintln!(
        "corpus: {} files, {images} JPEG/PNG/WebP: {} stripped ({pixels_compared} pixel-compared, \
         {orientations} with an orientation kept), {} refused",
        files.len(),
        stripped.len(),
        refused.values().map(Vec::len).sum::<usize>()
    );
    for (reason, names) in &refused {
        eprintln!("  refused {}x: {reason}: {}", names.len(), names.join(", "));
    }
    assert!(images > 0, "no image in {dirs:?}");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
