//! `mode=report`: what an object holds, from as few of its bytes as the format allows
//! ([`summarize_prefix`]: a JPEG's head, a non-image's first bytes), read by byte ranges; writes
//! nothing. The first range is [`FIRST_READ`] bytes: one GET, as a whole-object read was, for a
//! typical photo. Later ranges are pinned to the first answer's ETag, so that all the bytes are of
//! one version of the object.
//!
//! PNG and WebP are read whole (see `summary.rs` for why); a key whose extension says so is read
//! whole by its first GET, so that it costs one request, not a first range and then the rest.
//! The extension only chooses the request: what the object is, its magic bytes tell.

use super::task::result;
use super::{ResultCode, TaskResult};
use crate::s3::{ByteRange, Client, Error, ObjectRef, RequestContext};
use crate::transform::TransformError;
use crate::transform::summary::{FIRST_READ, Step, Summary, summarize, summarize_prefix};
use crate::triggers::object::{ObjectOutcome, failure};
use crate::triggers::plan::SourceObject;

/// Reads `source` as far as its summary needs, and says what it holds. An object over `limit`
/// bytes (its size from the first answer) is refused as in `strip` mode.
pub(super) async fn report(
    client: &Client,
    source: &SourceObject,
    limit: Option<u64>,
    context: &RequestContext,
) -> TaskResult {
    let mut object = ObjectRef {
        bucket: &source.bucket,
        key: &source.key,
        version_id: source.version_id.as_deref(),
        if_match: None,
    };
    if read_whole(&source.key) {
        return match client
            .get_object(&object, limit.unwrap_or(u64::MAX), context)
            .await
        {
            Ok(whole) => described(summarize(&whole.body)),
            Err(Error::TooLarge { limit }) => result(ObjectOutcome::TooLarge { limit }),
            Err(e) => result(failure("GET", &source.key, e, true)),
        };
    }
    let first = ByteRange {
        first: 0,
        last: FIRST_READ - 1,
    };
    let part = match client.get_object_range(&object, first, context).await {
        Ok(part) => part,
        // No byte at offset 0: an empty object.
        Err(Error::RangeNotSatisfiable { .. }) => return described(summarize(&[])),
        Err(e) => return result(failure("GET", &source.key, e, true)),
    };
    let size = part.object_size;
    if let Some(limit) = limit.filter(|&limit| size > limit) {
        return result(ObjectOutcome::TooLarge { limit });
    }
    let etag = part.head.etag;
    object.if_match = etag.as_deref();
    let mut read = part.body.to_vec();
    loop {
        let up_to = match summarize_prefix(&read, size) {
            Step::Done(summary) => return described(summary),
            Step::Read(up_to) => up_to,
        };
        let Some(range) = ByteRange::from_to(read.len() as u64, up_to) else {
            // summarize_prefix asked for no byte past those it has: a defect, not the object's.
            return TaskResult::new(
                ResultCode::PermanentFailure,
                "report: nothing more to read, and no summary",
            );
        };
        match client.get_object_range(&object, range, context).await {
            Ok(part) if part.object_size == size => read.extend_from_slice(&part.body),
            // Another size, a 412 to the ETag, or a 416 (the object got shorter): replaced.
            Ok(_) => return changed(),
            Err(e) if e.is_precondition_failed() => return changed(),
            Err(Error::RangeNotSatisfiable { .. }) => return changed(),
            Err(e) => return result(failure("GET", &source.key, e, true)),
        }
    }
}

/// Whether `key`'s extension names a format whose report reads the whole object (PNG, WebP).
fn read_whole(key: &str) -> bool {
    let extension = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(extension.as_deref(), Some("png" | "apng" | "webp"))
}

/// The object was replaced between two reads: a redrive reads the new one.
fn changed() -> TaskResult {
    TaskResult::new(
        ResultCode::TemporaryFailure,
        "the object changed while it was read",
    )
}

/// The `resultString` of a summary, `Succeeded` unless the image was refused.
fn described(summary: Result<Summary, TransformError>) -> TaskResult {
    let summary = match summary {
        Ok(Summary::NotAnImage) => return TaskResult::new(ResultCode::Succeeded, "not an image"),
        Ok(Summary::Image(summary)) => summary,
        Err(e) => return TaskResult::new(ResultCode::PermanentFailure, format!("refused: {e}")),
    };
    let text = |name: Option<String>| name.map_or("none".to_owned(), |n| format!("{n:?}"));
    let metadata = match summary.unread_bytes {
        0 => format!("{} bytes", summary.metadata_bytes),
        unread => format!(
            "{} bytes before the image data ({unread} bytes after it not read)",
            summary.metadata_bytes
        ),
    };
    TaskResult::new(
        ResultCode::Succeeded,
        format!(
            "{}; GPS: {}; make: {}; model: {}; metadata: {metadata}",
            summary.format,
            if summary.has_gps { "yes" } else { "no" },
            text(summary.make),
            text(summary.model),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::ImageFormat;
    use crate::transform::summary::ImageSummary;

    #[test]
    fn png_and_webp_keys_are_read_whole() {
        for key in ["a.png", "in/B.PNG", "x.y/photo.webp", "anim.apng"] {
            assert!(read_whole(key), "{key}");
        }
        for key in ["a.jpg", "png", "in/png/photo", "a.png.jpg", "a.webp.txt", ""] {
            assert!(!read_whole(key), "{key}");
        }
    }

    #[test]
    fn result_strings_say_what_was_not_read() {
        let mut summary = ImageSummary {
            format: ImageFormat::Jpeg,
            has_gps: true,
            make: Some("ExampleCam".into()),
            model: None,
            metadata_bytes: 100,
            unread_bytes: 0,
        };
        assert_eq!(
            described(Ok(Summary::Image(summary.clone()))).result_string,
            "JPEG; GPS: yes; make: \"ExampleCam\"; model: none; metadata: 100 bytes"
        );
        summary.unread_bytes = 4_000_000;
        assert_eq!(
            described(Ok(Summary::Image(summary))),
            TaskResult::new(
                ResultCode::Succeeded,
                "JPEG; GPS: yes; make: \"ExampleCam\"; model: none; metadata: 100 bytes before the image data (4000000 bytes after it not read)"
            )
        );
        assert_eq!(described(Ok(Summary::NotAnImage)).result_string, "not an image");
    }
}
