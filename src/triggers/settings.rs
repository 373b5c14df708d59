//! The function's settings, read once at start from the environment (regional Lambda has
//! environment variables). A bad value fails the start with a message naming the variable, rather
//! than every invocation later.

use thiserror::Error;

pub const SOURCE_PREFIX: &str = "EDGE_SIGNER_SOURCE_PREFIX";
pub const DEST_BUCKET: &str = "EDGE_SIGNER_DEST_BUCKET";
pub const DEST_PREFIX: &str = "EDGE_SIGNER_DEST_PREFIX";
pub const EXIF_SUFFIX: &str = "EDGE_SIGNER_EXIF_SUFFIX";
pub const MAX_OBJECT_BYTES: &str = "EDGE_SIGNER_MAX_OBJECT_BYTES";

/// What the trigger processes and where it writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Only keys under it are processed (empty: every key).
    pub source_prefix: String,
    /// Where outputs go; `None`: the record's own bucket.
    pub dest_bucket: Option<String>,
    /// Replaces `source_prefix` in the destination key.
    pub dest_prefix: String,
    /// When set, each image's EXIF JSON is also written at destination key + suffix.
    pub exif_suffix: Option<String>,
    /// Larger objects are skipped (a permanent failure), before any read.
    pub max_object_bytes: Option<u64>,
}

/// A setting with a value the function cannot run with.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("invalid {variable}: {reason}")]
pub struct SettingsError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong, and what is expected.
    pub reason: String,
}

impl Settings {
    /// Reads the settings through `lookup` (`std::env::var(name).ok()` in Lambda; a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let invalid = |variable, reason: &str| SettingsError {
            variable,
            reason: reason.to_owned(),
        };
        let dest_bucket = match lookup(DEST_BUCKET) {
            Some(bucket) if bucket.is_empty() || bucket.contains('/') => {
                return Err(invalid(DEST_BUCKET, "expected a bucket name, or leave it unset"));
            }
            bucket => bucket,
        };
        let exif_suffix = match lookup(EXIF_SUFFIX) {
            Some(suffix) if suffix.is_empty() => {
                return Err(invalid(
                    EXIF_SUFFIX,
                    "empty: the report would replace the image; leave it unset, or use a suffix such as .exif.json",
                ));
            }
            suffix => suffix,
        };
        let max_object_bytes = match lookup(MAX_OBJECT_BYTES) {
            None => None,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(bytes) if bytes > 0 => Some(bytes),
                _ => {
                    return Err(SettingsError {
                        variable: MAX_OBJECT_BYTES,
                        reason: format!("{text:?} is not a positive whole number of bytes"),
                    });
                }
            },
        };
        let settings = Settings {
            source_prefix: lookup(SOURCE_PREFIX).unwrap_or_default(),
            dest_bucket,
            dest_prefix: lookup(DEST_PREFIX).unwrap_or_default(),
            exif_suffix,
            max_object_bytes,
        };
        // Writing to the source bucket under a prefix that holds the whole source prefix (say
        // `in/` to ``) makes every source key look like an output: nothing would ever be processed.
        if settings.outputs_hold_sources(settings.dest_bucket.is_none()) {
            return Err(invalid(
                DEST_PREFIX,
                "in the source bucket it must not contain the source prefix: every upload would look like an output",
            ));
        }
        Ok(settings)
    }
}

impl Settings {
    /// Whether, writing into the source's own bucket (`same_bucket`), every key under the source
    /// prefix is also under the destination prefix without being in place (`in/` to ``): every
    /// upload would look like an output, and nothing would ever be processed.
    pub fn outputs_hold_sources(&self, same_bucket: bool) -> bool {
        same_bucket
            && self.dest_prefix != self.source_prefix
            && self.source_prefix.starts_with(&self.dest_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn nothing_set_gives_the_defaults() {
        assert_eq!(read(&[]), Ok(Settings::default()));
    }

    #[test]
    fn every_variable_is_read() {
        let settings = read(&[
            (SOURCE_PREFIX, "uploads/"),
            (DEST_BUCKET, "public"),
            (DEST_PREFIX, "images/"),
            (EXIF_SUFFIX, ".exif.json"),
            (MAX_OBJECT_BYTES, "52428800"),
        ])
        .unwrap();
        assert_eq!(
            settings,
            Settings {
                source_prefix: "uploads/".into(),
                dest_bucket: Some("public".into()),
                dest_prefix: "images/".into(),
                exif_suffix: Some(".exif.json".into()),
                max_object_bytes: Some(52_428_800),
            }
        );
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[(EXIF_SUFFIX, "")], EXIF_SUFFIX),
            (&[(DEST_BUCKET, "")], DEST_BUCKET),
            (&[(DEST_BUCKET, "a/b")], DEST_BUCKET),
            (&[(MAX_OBJECT_BYTES, "0")], MAX_OBJECT_BYTES),
            (&[(MAX_OBJECT_BYTES, "-1")], MAX_OBJECT_BYTES),
            (&[(MAX_OBJECT_BYTES, "10MB")], MAX_OBJECT_BYTES),
            (&[(MAX_OBJECT_BYTES, "")], MAX_OBJECT_BYTES),
            (&[(SOURCE_PREFIX, "in/")], DEST_PREFIX),
            (&[(SOURCE_PREFIX, "in/x/"), (DEST_PREFIX, "in/")], DEST_PREFIX),
        ];
        for (vars, variable) in cases {
            let error = read(vars).unwrap_err();
            assert_eq!(error.variable, *variable, "{vars:?}");
            assert!(error.to_string().contains(variable), "{error}");
        }
    }

    #[test]
    fn source_prefix_into_the_root_of_another_bucket_is_fine() {
        let settings = read(&[(SOURCE_PREFIX, "in/"), (DEST_BUCKET, "out")]).unwrap();
        assert_eq!(settings.dest_prefix, "");
    }
}
