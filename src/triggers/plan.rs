//! The decision for one record, before any request: skip it (and why), or process it from where to
//! where. The first layer of loop safety lives here: a key that is this function's own output in
//! another place is skipped by name. In place, the bootstrap recognises its own writes by their
//! metadata instead, since the names alone cannot tell them apart.

use super::key::{KeyError, decode_key};
use super::s3_event::EventRecord;
use super::settings::Settings;
use std::fmt;

/// What to do with one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do; `reason` is for the log line.
    Skip { reason: SkipReason },
    /// Read `source`, write the result at `destination`.
    Process {
        source: SourceObject,
        destination: Destination,
    },
}

/// The object an event names, with the key decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceObject {
    pub bucket: String,
    pub key: String,
    /// Read this version when present, so a newer upload is not processed under this event.
    pub version_id: Option<String>,
    /// What the output's metadata records, and what the write is conditional on.
    pub etag: Option<String>,
}

/// Where the output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub bucket: String,
    pub key: String,
}

/// Why a record is skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Only `ObjectCreated:*` events carry a new object.
    NotObjectCreated(String),
    /// The key cannot be decoded: no object could be named by it.
    InvalidKey(KeyError),
    /// The key is not under `EDGE_SIGNER_SOURCE_PREFIX`.
    OutsideSourcePrefix,
    /// The key is where this function writes, in another place than its source.
    OwnOutput,
    /// The destination is the source's own bucket and its prefix holds the source prefix: every
    /// key would look like an output (a setting to fix, not an object to skip quietly).
    OutputsHoldSources,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotObjectCreated(name) => write!(f, "{name} is not an ObjectCreated event"),
            SkipReason::InvalidKey(error) => error.fmt(f),
            SkipReason::OutsideSourcePrefix => f.write_str("the key is outside the source prefix"),
            SkipReason::OwnOutput => f.write_str("the key is a destination of this function"),
            SkipReason::OutputsHoldSources => f.write_str(
                "the destination bucket is the source's and its prefix holds the source prefix: every key would look like an output; set EDGE_SIGNER_DEST_PREFIX (destPrefix) apart from the source prefix",
            ),
        }
    }
}

/// Decides what to do with `record` under `settings`. The destination key is the destination
/// prefix followed by the key without the source prefix.
pub fn plan(record: &EventRecord, settings: &Settings) -> Action {
    let skip = |reason| Action::Skip { reason };
    if !record.event_name.starts_with("ObjectCreated:") {
        return skip(SkipReason::NotObjectCreated(record.event_name.clone()));
    }
    let object = &record.s3.object;
    let key = match decode_key(&object.key) {
        Ok(key) => key,
        Err(error) => return skip(SkipReason::InvalidKey(error)),
    };
    let source = SourceObject {
        bucket: record.s3.bucket.name.clone(),
        key,
        version_id: object.version_id.clone(),
        etag: object.e_tag.clone(),
    };
    plan_object(source, settings)
}

/// The same decision for an object already named by its decoded key (the batch trigger's
/// tasks): skip it as an output or outside the source prefix, or process it into the destination.
pub fn plan_object(source: SourceObject, settings: &Settings) -> Action {
    let skip = |reason| Action::Skip { reason };
    let (bucket, key) = (&source.bucket, &source.key);
    let dest_bucket = settings.dest_bucket.as_deref().unwrap_or(bucket);
    let in_place = dest_bucket == bucket && settings.dest_prefix == settings.source_prefix;
    // The settings refuse this at start when the destination bucket is left unset; named
    // explicitly as the source's bucket, it can only be seen here.
    if settings.outputs_hold_sources(dest_bucket == bucket) {
        return skip(SkipReason::OutputsHoldSources);
    }
    // Checked before the source prefix: with outputs under the source prefix (`` to `out/`),
    // the more telling reason is that the key is an output.
    if !in_place && dest_bucket == bucket && key.starts_with(&settings.dest_prefix) {
        return skip(SkipReason::OwnOutput);
    }
    let Some(rest) = key.strip_prefix(&settings.source_prefix) else {
        return skip(SkipReason::OutsideSourcePrefix);
    };
    let destination = Destination {
        bucket: dest_bucket.to_owned(),
        key: format!("{}{rest}", settings.dest_prefix),
    };
    Action::Process { source, destination }
}

/// Whether an object of `size` bytes (the record's, when it has one) is above
/// `EDGE_SIGNER_MAX_OBJECT_BYTES`. Without a size the limit is the reader's to enforce.
pub fn too_large(size: Option<u64>, settings: &Settings) -> bool {
    matches!((size, settings.max_object_bytes), (Some(size), Some(max)) if size > max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::parse_event;

    fn record(bucket: &str, name: &str, key: &str) -> EventRecord {
        let json = serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "1970-01-01T00:00:00.000Z", "eventName": name,
            "s3": {"bucket": {"name": bucket},
                   "object": {"key": key, "size": 10, "eTag": "e1", "versionId": "v1"}}
        }]});
        let mut event = parse_event(json.to_string().as_bytes()).unwrap();
        event.records.remove(0)
    }

    fn settings(source: &str, dest_bucket: Option<&str>, dest: &str) -> Settings {
        Settings {
            source_prefix: source.into(),
            dest_bucket: dest_bucket.map(Into::into),
            dest_prefix: dest.into(),
            ..Settings::default()
        }
    }

    fn destination(action: Action) -> (String, String) {
        match action {
            Action::Process { destination, .. } => (destination.bucket, destination.key),
            Action::Skip { reason } => panic!("skipped: {reason}"),
        }
    }

    fn reason(action: Action) -> SkipReason {
        match action {
            Action::Skip { reason } => reason,
            Action::Process { .. } => panic!("processed"),
        }
    }

    #[test]
    fn a_put_in_place_is_processed_with_the_decoded_key_version_and_etag() {
        let action = plan(
            &record("b", "ObjectCreated:Put", "red+flower.jpg"),
            &Settings::default(),
        );
        let expected = Action::Process {
            source: SourceObject {
                bucket: "b".into(),
                key: "red flower.jpg".into(),
                version_id: Some("v1".into()),
                etag: Some("e1".into()),
            },
            destination: Destination {
                bucket: "b".into(),
                key: "red flower.jpg".into(),
            },
        };
        assert_eq!(action, expected);
    }

    #[test]
    fn every_object_created_event_is_processed_and_nothing_else() {
        for name in [
            "ObjectCreated:Put",
            "ObjectCreated:Post",
            "ObjectCreated:Copy",
            "ObjectCreated:CompleteMultipartUpload",
        ] {
            assert!(matches!(
                plan(&record("b", name, "k"), &Settings::default()),
                Action::Process { .. }
            ));
        }
        for name in [
            "ObjectRemoved:Delete",
            "ObjectRestore:Completed",
            "ObjectTagging:Put",
            "ObjectCreated",
        ] {
            let got = reason(plan(&record("b", name, "k"), &Settings::default()));
            assert_eq!(got, SkipReason::NotObjectCreated(name.into()));
        }
    }

    #[test]
    fn the_destination_key_replaces_the_source_prefix() {
        let s = settings("uploads/", Some("public"), "images/");
        let got = destination(plan(
            &record("in", "ObjectCreated:Put", "uploads/a%2Fb+c.jpg"),
            &s,
        ));
        assert_eq!(got, ("public".into(), "images/a/b c.jpg".into()));
    }

    #[test]
    fn keys_outside_the_source_prefix_are_skipped_after_decoding() {
        let s = settings("up loads/", None, "up loads/");
        assert_eq!(
            destination(plan(&record("b", "ObjectCreated:Put", "up+loads/x"), &s)).1,
            "up loads/x"
        );
        let got = reason(plan(&record("b", "ObjectCreated:Put", "other/x"), &s));
        assert_eq!(got, SkipReason::OutsideSourcePrefix);
    }

    #[test]
    fn outputs_in_the_same_bucket_under_another_prefix_are_skipped() {
        let s = settings("", None, "stripped/");
        let got = reason(plan(&record("b", "ObjectCreated:Put", "stripped/x.jpg"), &s));
        assert_eq!(got, SkipReason::OwnOutput);
        assert_eq!(
            destination(plan(&record("b", "ObjectCreated:Put", "x.jpg"), &s)).1,
            "stripped/x.jpg"
        );
    }

    #[test]
    fn the_source_bucket_named_as_destination_with_a_prefix_holding_the_sources_is_refused() {
        // Left unset, the destination bucket is refused at start (settings.rs); named, only here.
        let s = settings("uploads/", Some("b"), "");
        let got = reason(plan(&record("b", "ObjectCreated:Put", "uploads/x.jpg"), &s));
        assert_eq!(got, SkipReason::OutputsHoldSources);
        assert!(
            SkipReason::OutputsHoldSources
                .to_string()
                .contains("EDGE_SIGNER_DEST_PREFIX")
        );
        // In another bucket the same prefixes are fine.
        let got = plan(&record("other", "ObjectCreated:Put", "uploads/x.jpg"), &s);
        assert!(matches!(got, Action::Process { .. }), "{got:?}");
    }

    #[test]
    fn outputs_in_another_destination_bucket_are_skipped() {
        let s = settings("", Some("public"), "stripped/");
        let got = reason(plan(&record("public", "ObjectCreated:Put", "stripped/x.jpg"), &s));
        assert_eq!(got, SkipReason::OwnOutput);
        let got = destination(plan(
            &record("uploads", "ObjectCreated:Put", "stripped/x.jpg"),
            &s,
        ));
        assert_eq!(got, ("public".into(), "stripped/stripped/x.jpg".into()));
    }

    #[test]
    fn in_place_is_not_skipped_by_name() {
        // Same bucket (the record's, named or not), same prefix: the bootstrap tells its own
        // writes by their metadata.
        for s in [
            settings("", None, ""),
            settings("img/", None, "img/"),
            settings("img/", Some("b"), "img/"),
        ] {
            let got = destination(plan(&record("b", "ObjectCreated:Put", "img/x.jpg"), &s));
            assert_eq!(got, ("b".into(), "img/x.jpg".into()));
        }
    }

    #[test]
    fn an_undecodable_key_is_skipped_with_its_error() {
        let got = reason(plan(
            &record("b", "ObjectCreated:Put", "100%.jpg"),
            &Settings::default(),
        ));
        assert_eq!(
            got,
            SkipReason::InvalidKey(KeyError::BadEscape("100%.jpg".into()))
        );
        assert!(got.to_string().contains("100%.jpg"));
    }

    #[test]
    fn too_large_uses_the_size_when_there_is_one() {
        let s = Settings {
            max_object_bytes: Some(100),
            ..Settings::default()
        };
        assert!(!too_large(Some(100), &s));
        assert!(too_large(Some(101), &s));
        assert!(!too_large(None, &s));
        assert!(!too_large(Some(u64::MAX), &Settings::default()));
    }
}
