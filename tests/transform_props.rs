//! The transform never panics, on random bytes behind each magic number and on samples damaged by
//! random edits (bytes overwritten, cut, removed, inserted); what it strips is stable when stripped
//! again, and decodes (with the `image` crate) to the input's pixels whenever the input decodes.
//!
//! 256 cases a property (proptest's default; more with `PROPTEST_CASES`); failures are shrunk and saved to
//! `tests/transform_props.proptest-regressions`.
#![cfg(feature = "transform")]

use edge_signer::transform::{Outcome, exif_json, strip_metadata};
use proptest::prelude::*;
use proptest::sample::select;

const SAMPLES: [&[u8]; 3] = [
    include_bytes!("../samples/images/sample.jpg"),
    include_bytes!("../samples/images/sample.png"),
    include_bytes!("../samples/images/sample.webp"),
];
const MAGIC: [&[u8]; 6] = [
    b"\xFF\xD8",
    b"\xFF\xD8\xFF\xE1\x00\x20Exif\0\0MM\0*\0\0\0\x08",
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR",
    b"RIFF\x40\0\0\0WEBPVP8X",
    b"II*\0",
];

#[derive(Debug, Clone)]
enum Edit {
    Overwrite(usize, u8),
    Cut(usize),
    Remove(usize, usize),
    Insert(usize, Vec<u8>),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Edit::Overwrite(at, b)),
        1 => any::<usize>().prop_map(Edit::Cut),
        2 => (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Remove(at, n)),
        2 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            Edit::Overwrite(at, b) => {
                if let Some(byte) = bytes.get_mut(at % len) {
                    *byte = *b;
                }
            }
            Edit::Cut(at) => bytes.truncate(at % len),
            Edit::Remove(at, n) => {
                let start = (at % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                bytes.drain(start..end);
            }
            Edit::Insert(at, new) => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, new.iter().copied());
            }
        }
    }
    bytes
}

fn check(input: &[u8]) -> Result<(), TestCaseError> {
    let _ = exif_json(input);
    if let Ok(Outcome::Stripped { bytes, .. }) = strip_metadata(input) {
        let again = strip_metadata(&bytes);
        prop_assert!(
            matches!(&again, Ok(Outcome::Stripped { bytes: b, .. }) if *b == bytes),
            "stripping the output again changed it: {again:?}"
        );
        if let Ok(before) = image::load_from_memory(input) {
            let after = image::load_from_memory(&bytes);
            prop_assert!(after.is_ok(), "the input decodes, the output does not: {after:?}");
            if let Ok(after) = after {
                prop_assert!(before.to_rgba8() == after.to_rgba8(), "pixels differ");
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn random_bytes_behind_a_magic_number_never_panic(
        magic in select(&MAGIC[..]),
        rest in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut input = magic.to_vec();
        input.extend_from_slice(&rest);
        check(&input)?;
    }

    #[test]
    fn damaged_samples_never_panic_and_never_change_pixels(
        sample in select(&SAMPLES[..]),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        check(&apply(sample.to_vec(), &edits))?;
    }
}
