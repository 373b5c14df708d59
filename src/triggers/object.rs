//! One planned record, done: HEAD the destination, GET the source, strip or copy, PUT with the
//! output marker. The shell around the pure [`plan()`](super::plan()) and the transform.
//!
//! Loop and duplicate safety live in the marker metadata every write carries
//! ([`OUTPUT_MARKER`], [`SOURCE_ETAG`]): a destination that already holds the output of this
//! source's ETag is skipped without a GET (S3 delivers at least once), and in place the
//! function's own write, coming back as an event, is recognised and left alone. Writes are
//! conditional ([`WriteCondition`]) so that a newer upload of the same key is never replaced
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).

use super::plan::{Destination, SourceObject};
use super::settings::Settings;
use crate::s3::{
    self, Client, ContentHeaders, Metadata, ObjectHead, ObjectRef, PutObject, RequestContext, WriteCondition,
};
use crate::transform::{self, ExifReport, ImageFormat, JSON_CONTENT_TYPE, Outcome};
use bytes::Bytes;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// User metadata on every object this function writes: it is an output, not an upload.
pub const OUTPUT_MARKER: &str = "edge-signer-output";
/// The value of [`OUTPUT_MARKER`].
pub const OUTPUT_MARKER_VALUE: &str = "1";
/// User metadata on every output: the ETag (unquoted) of the source it was made from.
pub const SOURCE_ETAG: &str = "edge-signer-source-etag";

/// How one record ended, for its log line and for the invocation's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectOutcome {
    /// An image, stripped and written (with its EXIF JSON when `exif_report_bytes` is set).
    Stripped {
        format: ImageFormat,
        bytes_in: u64,
        bytes_out: u64,
        exif_report_bytes: Option<u64>,
    },
    /// Not an image: written unchanged.
    Copied { bytes: u64 },
    /// The destination already holds the output of this source (a duplicate delivery).
    AlreadyDone,
    /// The source is this function's own output (in place, its write came back as an event).
    OwnOutput,
    /// A newer object won: the source changed since the event, or the destination since the HEAD.
    Superseded { bytes_in: u64 },
    /// The version named is no longer the key's current one (a newer upload, or a delete): its
    /// output would replace the newer one's, so nothing is written.
    NotCurrent,
    /// The source is gone (deleted since the event).
    Missing,
    /// The source is larger than `EDGE_SIGNER_MAX_OBJECT_BYTES`.
    TooLarge { limit: u64 },
    /// The transform refused the object (a damaged or unsupported image): nothing written.
    Refused { reason: String, bytes_in: u64 },
    /// Any other failure a retry cannot help (access denied, an invalid header…).
    Failed { reason: String },
    /// A failure a retry may help (5xx, `SlowDown`, a timeout, a refused connection).
    Transient { reason: String },
}

impl ObjectOutcome {
    /// Whether the invocation should fail so that Lambda retries this record.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient { .. })
    }

    /// The bytes read from the source.
    pub fn bytes_in(&self) -> u64 {
        match self {
            Self::Stripped { bytes_in, .. }
            | Self::Superseded { bytes_in }
            | Self::Refused { bytes_in, .. } => *bytes_in,
            Self::Copied { bytes } => *bytes,
            _ => 0,
        }
    }

    /// The bytes written (the output and its EXIF JSON).
    pub fn bytes_out(&self) -> u64 {
        match self {
            Self::Stripped {
                bytes_out,
                exif_report_bytes,
                ..
            } => bytes_out + exif_report_bytes.unwrap_or(0),
            Self::Copied { bytes } => *bytes,
            _ => 0,
        }
    }
}

impl fmt::Display for ObjectOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stripped {
                format,
                exif_report_bytes,
                ..
            } => {
                write!(f, "stripped ({format})")?;
                if exif_report_bytes.is_some() {
                    f.write_str(", EXIF JSON written")?;
                }
                Ok(())
            }
            Self::Copied { .. } => f.write_str("not an image: copied unchanged"),
            Self::AlreadyDone => f.write_str("already done: the destination holds this source's output"),
            Self::OwnOutput => f.write_str("skipped: the object is this function's own output"),
            Self::Superseded { .. } => f.write_str("superseded: a newer object won, nothing replaced"),
            Self::NotCurrent => {
                f.write_str("not the current version: a newer upload supersedes it, nothing written")
            }
            Self::Missing => f.write_str("missing: the object no longer exists"),
            Self::TooLarge { limit } => write!(f, "too large: over {limit} bytes"),
            Self::Refused { reason, .. } => write!(f, "refused, nothing written: {reason}"),
            Self::Failed { reason } => write!(f, "failed: {reason}"),
            Self::Transient { reason } => write!(f, "transient failure: {reason}"),
        }
    }
}

/// Processes one record that [`plan()`](super::plan()) said to process. Never panics on what S3
/// or the object holds: a panic of the transform is that record's [`ObjectOutcome::Refused`].
pub async fn process(
    client: &Client,
    source: &SourceObject,
    destination: &Destination,
    settings: &Settings,
    context: &RequestContext,
) -> ObjectOutcome {
    match run(client, source, destination, settings, context).await {
        Ok(outcome) | Err(outcome) => outcome,
    }
}

async fn run(
    client: &Client,
    source: &SourceObject,
    destination: &Destination,
    settings: &Settings,
    context: &RequestContext,
) -> Result<ObjectOutcome, ObjectOutcome> {
    let in_place = source.bucket == destination.bucket && source.key == destination.key;
    let dest_ref = ObjectRef::new(&destination.bucket, &destination.key);
    let dest_head = head_if_any(client, &dest_ref, context).await?;

    // The source's ETag: the event's, else (an emulator's event) the current one.
    let event_etag = match (&source.etag, in_place) {
        (Some(etag), _) => Some(bare(etag).to_owned()),
        (None, true) => dest_head
            .as_ref()
            .and_then(|h| h.etag.as_deref())
            .map(|e| bare(e).to_owned()),
        (None, false) => {
            let head = client
                .head_object(&source_ref(source, None), context)
                .await
                .map_err(|e| failure("HEAD", &source.key, e, true))?;
            head.etag.as_deref().map(|e| bare(e).to_owned())
        }
    };
    if let Some(head) = &dest_head {
        let done_for = head.metadata.get(SOURCE_ETAG).map(|e| bare(e));
        if is_output(&head.metadata) && event_etag.is_some() && done_for == event_etag.as_deref() {
            return Ok(ObjectOutcome::AlreadyDone);
        }
        if in_place && is_output(&head.metadata) {
            return Ok(ObjectOutcome::OwnOutput);
        }
    }

    // A read pinned to a version succeeds whatever came after it, so elsewhere than in place
    // (where the write is conditional on the object read) a version that is no longer the
    // current one must not be written over the newer upload's output.
    if let (Some(version), false) = (&source.version_id, in_place) {
        let current = head_if_any(client, &ObjectRef::new(&source.bucket, &source.key), context).await?;
        let is_current = current.is_some_and(|head| match &head.version_id {
            Some(current) => current == version,
            None => head.etag.as_deref().map(bare) == event_etag.as_deref(),
        });
        if !is_current {
            return Ok(ObjectOutcome::NotCurrent);
        }
    }

    let if_match = event_etag.as_ref().map(|e| format!("\"{e}\""));
    let limit = settings.max_object_bytes.unwrap_or(u64::MAX);
    let object = match client
        .get_object(&source_ref(source, if_match.as_deref()), limit, context)
        .await
    {
        Ok(object) => object,
        Err(s3::Error::TooLarge { limit }) => return Ok(ObjectOutcome::TooLarge { limit }),
        Err(e) if e.is_precondition_failed() => return Ok(ObjectOutcome::Superseded { bytes_in: 0 }),
        Err(e) => return Err(failure("GET", &source.key, e, true)),
    };
    let bytes_in = object.body.len() as u64;
    if is_output(&object.head.metadata) {
        return Ok(ObjectOutcome::OwnOutput);
    }
    let read_etag = object
        .head
        .etag
        .as_deref()
        .map(bare)
        .or(event_etag.as_deref())
        .unwrap_or_default()
        .to_owned();

    let Prepared {
        body,
        content,
        format,
        report,
    } = prepare(&object, settings.exif_suffix.as_deref(), &destination.key)
        .map_err(|reason| ObjectOutcome::Refused { reason, bytes_in })?;
    // The source's bytes are not needed past the transform: the writes hold only the output.
    let s3::Object {
        head: source_head,
        body: source_body,
    } = object;
    drop(source_body);

    let mut metadata = source_head.metadata.clone();
    metadata.insert(OUTPUT_MARKER.to_owned(), OUTPUT_MARKER_VALUE.to_owned());
    metadata.insert(SOURCE_ETAG.to_owned(), read_etag.clone());
    let superseded = ObjectOutcome::Superseded { bytes_in };

    // The report first: the image's marker is what makes a retry skip the record, so once the
    // image is written, everything is.
    let mut exif_report_bytes = None;
    if let Some((key, json)) = report {
        let report_ref = ObjectRef::new(&destination.bucket, &key);
        let existing = head_if_any(client, &report_ref, context).await?;
        let already = existing.as_ref().is_some_and(|h| {
            is_output(&h.metadata) && h.metadata.get(SOURCE_ETAG).map(|e| bare(e)) == Some(&read_etag)
        });
        if !already {
            let put = PutObject {
                bucket: &destination.bucket,
                key: &key,
                body: json.clone(),
                content: ContentHeaders {
                    content_type: Some(JSON_CONTENT_TYPE.to_owned()),
                    ..ContentHeaders::default()
                },
                metadata: marker(&read_etag),
                condition: Some(condition(existing.as_ref().and_then(|h| h.etag.clone()))),
            };
            match client.put_object(&put, context).await {
                Ok(_) => {}
                Err(e) if e.is_precondition_failed() => return Ok(superseded),
                Err(e) => return Err(failure("PUT", &key, e, false)),
            }
        }
        exif_report_bytes = Some(json.len() as u64);
    }

    // In place the object replaced is the one read; elsewhere, the destination seen at HEAD.
    let replaced = if in_place {
        source_head.etag.clone()
    } else {
        dest_head.and_then(|h| h.etag)
    };
    let bytes_out = body.len() as u64;
    let put = PutObject {
        bucket: &destination.bucket,
        key: &destination.key,
        body,
        content,
        metadata,
        condition: Some(condition(replaced)),
    };
    match client.put_object(&put, context).await {
        Ok(_) => {}
        Err(e) if e.is_precondition_failed() => return Ok(superseded),
        Err(e) => return Err(failure("PUT", &destination.key, e, false)),
    }
    Ok(match format {
        Some(format) => ObjectOutcome::Stripped {
            format,
            bytes_in,
            bytes_out,
            exif_report_bytes,
        },
        None => ObjectOutcome::Copied { bytes: bytes_out },
    })
}

/// What will be written, decided from the object alone (no I/O).
struct Prepared {
    body: Bytes,
    content: ContentHeaders,
    /// `None`: not an image, copied unchanged.
    format: Option<ImageFormat>,
    /// The EXIF JSON's key and bytes.
    report: Option<(String, Bytes)>,
}

/// Strips (or copies) `object` and makes its EXIF JSON when `exif_suffix` is set and it is an
/// image. An error (the transform's, or its panic) means that nothing may be written.
fn prepare(object: &s3::Object, exif_suffix: Option<&str>, dest_key: &str) -> Result<Prepared, String> {
    let mut content = object.head.content.clone();
    let (body, format) =
        match guarded(|| transform::strip_metadata(&object.body))?.map_err(|e| e.to_string())? {
            Outcome::Stripped { format, bytes } => {
                content.content_type = Some(format.content_type().to_owned());
                (Bytes::from(bytes), Some(format))
            }
            Outcome::NotAnImage => (object.body.clone(), None),
        };
    let report = match (exif_suffix, format) {
        (Some(suffix), Some(_)) => {
            let json = match guarded(|| transform::exif_json(&object.body))? {
                Ok(ExifReport::Json(json)) => json,
                Ok(ExifReport::NotAnImage) => return Err("the image has no EXIF report".into()),
                Err(e) => return Err(e.to_string()),
            };
            let json = serde_json::to_vec(&json).map_err(|e| e.to_string())?;
            Some((format!("{dest_key}{suffix}"), Bytes::from(json)))
        }
        _ => None,
    };
    Ok(Prepared {
        body,
        content,
        format,
        report,
    })
}

fn source_ref<'a>(source: &'a SourceObject, if_match: Option<&'a str>) -> ObjectRef<'a> {
    ObjectRef {
        bucket: &source.bucket,
        key: &source.key,
        version_id: source.version_id.as_deref(),
        if_match,
    }
}

/// HEAD `object`: `None` when it does not exist.
async fn head_if_any(
    client: &Client,
    object: &ObjectRef<'_>,
    context: &RequestContext,
) -> Result<Option<ObjectHead>, ObjectOutcome> {
    match client.head_object(object, context).await {
        Ok(head) => Ok(Some(head)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(failure("HEAD", object.key, e, false)),
    }
}

fn condition(etag: Option<String>) -> WriteCondition {
    match etag {
        Some(etag) => WriteCondition::IfMatch(etag),
        None => WriteCondition::IfNoneMatch,
    }
}

fn marker(source_etag: &str) -> Metadata {
    Metadata::from([
        (OUTPUT_MARKER.to_owned(), OUTPUT_MARKER_VALUE.to_owned()),
        (SOURCE_ETAG.to_owned(), source_etag.to_owned()),
    ])
}

fn is_output(metadata: &Metadata) -> bool {
    metadata.get(OUTPUT_MARKER).map(String::as_str) == Some(OUTPUT_MARKER_VALUE)
}

/// An ETag without its quotes (S3 quotes them in headers, not in events).
fn bare(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

/// A failed request as an outcome. `source_read`: a 404 means the source is gone.
pub(crate) fn failure(operation: &str, key: &str, error: s3::Error, source_read: bool) -> ObjectOutcome {
    let reason = format!("{operation} {key:?}: {error}");
    if source_read && error.is_not_found() {
        ObjectOutcome::Missing
    } else if error.is_retryable()
        || error.is_conditional_conflict()
        || (!source_read && error.code() == Some("NoSuchKey"))
    {
        // A lost race of conditional writes (a 409, or a 404 when the object the write was
        // conditional on was deleted since the HEAD): the retry HEADs again and sees who won.
        ObjectOutcome::Transient { reason }
    } else {
        ObjectOutcome::Failed { reason }
    }
}

/// Runs the transform, a panic becoming that object's error.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|panic| format!("the transform panicked: {}", crate::panic::message(&*panic)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(body: &'static [u8], content_type: &str) -> s3::Object {
        let mut head = ObjectHead::default();
        head.content.content_type = Some(content_type.into());
        head.content.cache_control = Some("no-cache".into());
        s3::Object {
            head,
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn prepare_strips_images_copies_the_rest_and_refuses_damage() {
        let text = prepare(&object(b"plain text", "text/plain"), Some(".json"), "k").unwrap();
        assert_eq!(
            (text.body.as_ref(), text.format, text.report),
            (&b"plain text"[..], None, None)
        );
        assert_eq!(text.content.content_type.as_deref(), Some("text/plain"));

        let minimal = b"\xFF\xD8\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x00\xFF\xD9";
        let damaged = prepare(&object(&minimal[..6], "image/jpeg"), None, "k");
        assert!(damaged.is_err_and(|e| e.contains("JPEG")));
        let tiff = prepare(&object(b"II*\x00\x08\x00\x00\x00", "image/tiff"), None, "k");
        assert!(tiff.is_err_and(|e| e.contains("unsupported")));
    }

    #[test]
    fn outcomes_say_whether_to_retry_and_what_moved() {
        let transient = ObjectOutcome::Transient { reason: "503".into() };
        assert!(transient.is_transient());
        for outcome in [
            ObjectOutcome::Missing,
            ObjectOutcome::AlreadyDone,
            ObjectOutcome::OwnOutput,
            ObjectOutcome::TooLarge { limit: 1 },
        ] {
            assert!(!outcome.is_transient(), "{outcome}");
            assert_eq!((outcome.bytes_in(), outcome.bytes_out()), (0, 0));
        }
        let stripped = ObjectOutcome::Stripped {
            format: ImageFormat::Jpeg,
            bytes_in: 100,
            bytes_out: 60,
            exif_report_bytes: Some(5),
        };
        assert_eq!((stripped.bytes_in(), stripped.bytes_out()), (100, 65));
    }

    #[test]
    fn etags_compare_without_quotes_and_panics_become_errors() {
        assert_eq!(bare("\"abc\""), "abc");
        assert_eq!(bare("abc"), "abc");
        let caught = guarded(|| -> u8 { panic!("boom") });
        assert_eq!(caught, Err("the transform panicked: boom".into()));
        assert!(is_output(&marker("e")));
        assert!(!is_output(&Metadata::new()));
    }
}
