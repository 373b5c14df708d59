//! The pure core of a `GetObject`: what fetching the original gave → what to answer.

use crate::transform::{self, ExifReport, ImageFormat, JSON_CONTENT_TYPE, TransformError};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use std::panic::AssertUnwindSafe;

/// What fetching `inputS3Url` gave.
#[derive(Clone, Debug)]
pub enum Fetched {
    /// The supporting access point answered (any status); `body` is complete.
    Response {
        /// The HTTP status.
        status: u16,
        /// The response headers.
        headers: HeaderMap,
        /// The whole body (empty for a HEAD).
        body: Bytes,
    },
    /// The original is larger than the limit (by its `Content-Length`, or while reading it).
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// No complete answer: invalid URL, connection, TLS, timeout or a broken body. The reason is
    /// shown to the caller, so it must not hold the URL (it carries a presigned signature).
    Failed {
        /// What went wrong, in words.
        reason: String,
    },
}

/// An error answer: the `x-amz-fwd-error-code` and `x-amz-fwd-error-message` headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorReply {
    /// An S3-style error code (`NoSuchKey`, `AccessDenied`, `MalformedImage`…).
    pub code: &'static str,
    /// A message for the caller: printable ASCII, at most [`MAX_MESSAGE_BYTES`].
    pub message: String,
}

/// The longest `x-amz-fwd-error-message` we send.
pub const MAX_MESSAGE_BYTES: usize = 512;

/// What the answer holds, for logs and the Lambda result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// The image without its identifying metadata.
    Stripped(ImageFormat),
    /// The EXIF report (`showExif=true`).
    ExifJson,
    /// Not an image by its magic bytes: the original bytes.
    Unchanged,
    /// An error status with a code.
    Error,
}

/// What to send with `WriteGetObjectResponse`.
#[derive(Clone, Debug)]
pub struct Reply {
    /// `x-amz-fwd-status`.
    pub status: u16,
    /// The error code and message, for an error status.
    pub error: Option<ErrorReply>,
    /// Headers to forward as `x-amz-fwd-header-<name>`, with their `<name>` as S3 spells it.
    pub headers: Vec<(&'static str, HeaderValue)>,
    /// The body (empty for an error).
    pub body: Bytes,
    /// What the body is.
    pub kind: ReplyKind,
}

impl Reply {
    /// An error answer with no body and no forwarded header.
    pub fn error(status: u16, code: &'static str, message: impl AsRef<str>) -> Self {
        Self {
            status,
            error: Some(ErrorReply {
                code,
                message: header_safe(message.as_ref()),
            }),
            headers: Vec::new(),
            body: Bytes::new(),
            kind: ReplyKind::Error,
        }
    }
}

/// The object's headers that stay true of a transformed body, in the spelling of the
/// `x-amz-fwd-header-*` names. `ETag`, `Content-Length`, `Content-Range`, `Accept-Ranges` and the
/// checksums describe the original bytes, so they are forwarded only with the original bytes
/// (`ETag`) or never (the length is the body's; ranges are not served, see the module docs).
const DESCRIPTIVE: [(&str, header::HeaderName); 5] = [
    ("Cache-Control", header::CACHE_CONTROL),
    ("Content-Disposition", header::CONTENT_DISPOSITION),
    ("Content-Language", header::CONTENT_LANGUAGE),
    ("Expires", header::EXPIRES),
    ("Last-Modified", header::LAST_MODIFIED),
];

/// Decides the answer to a `GetObject` from what the fetch gave and whether the caller asked for
/// the EXIF (`showExif=true` in `userRequest.url`).
///
/// | fetch | answer |
/// |---|---|
/// | 200, JPEG/PNG/WebP | 200, stripped, `Content-Type` of the format |
/// | 200, JPEG/PNG/WebP, `showExif` | 200, the EXIF JSON, `application/json` |
/// | 200, not an image (magic bytes) | 200, the original bytes, its `Content-Type`, `Content-Encoding`, `ETag` |
/// | 200, other image format | 500 `UnsupportedImage` |
/// | 200, damaged image or EXIF | 500 `MalformedImage` / `MalformedExif` |
/// | 200, the transform panics | 500 `TransformFailed` |
/// | 404 | 404 `NoSuchKey` |
/// | 403 | 403 `AccessDenied` |
/// | any other status, or no answer | 500 `SourceFetchFailed` |
/// | larger than the limit | 500 `ObjectTooLarge` |
///
/// Every success also forwards `Cache-Control`, `Expires` and `Last-Modified`, and (except the
/// JSON) `Content-Disposition` and `Content-Language`. An error never carries the original bytes.
pub fn decide(fetched: Fetched, show_exif: bool) -> Reply {
    decide_with(fetched, show_exif, transformed)
}

/// What a transform gave: the answer's kind, `Content-Type` and body; `None` for not an image.
type Transformed = Result<Option<(ReplyKind, &'static str, Bytes)>, TransformError>;

/// [`decide`], with the transform as a parameter (a test passes one that panics).
fn decide_with(
    fetched: Fetched,
    show_exif: bool,
    transform: impl FnOnce(&Bytes, bool) -> Transformed,
) -> Reply {
    let (headers, body) = match fetched {
        Fetched::Response {
            status: 200,
            headers,
            body,
        } => (headers, body),
        Fetched::Response { status, .. } => return source_error(status),
        Fetched::TooLarge { limit } => {
            return Reply::error(
                500,
                "ObjectTooLarge",
                format!("The original object is larger than the transform's limit of {limit} bytes."),
            );
        }
        Fetched::Failed { reason } => {
            return Reply::error(
                500,
                "SourceFetchFailed",
                format!("The original object could not be read: {reason}."),
            );
        }
    };
    // A panic in the transform (a parser's bug, on an untrusted image) is this object's 500, not
    // a lost answer. Unwind safety: the transform only reads the body, and what it built is dropped.
    let result = match std::panic::catch_unwind(AssertUnwindSafe(|| transform(&body, show_exif))) {
        Ok(result) => result,
        Err(_) => {
            return Reply::error(
                500,
                "TransformFailed",
                "The transform failed on this object; nothing of it is returned.",
            );
        }
    };
    match result {
        Err(e) => transform_error(&e),
        Ok(Some((kind, content_type, bytes))) => {
            let mut forwarded = vec![("Content-Type", HeaderValue::from_static(content_type))];
            forwarded.extend(descriptive(&headers, kind != ReplyKind::ExifJson));
            Reply {
                status: 200,
                error: None,
                headers: forwarded,
                body: bytes,
                kind,
            }
        }
        Ok(None) => {
            let mut forwarded: Vec<_> = [
                ("Content-Type", header::CONTENT_TYPE),
                ("Content-Encoding", header::CONTENT_ENCODING),
                ("ETag", header::ETAG),
            ]
            .into_iter()
            .filter_map(|(name, key)| Some((name, forwardable(&headers, &key)?)))
            .collect();
            forwarded.extend(descriptive(&headers, true));
            Reply {
                status: 200,
                error: None,
                headers: forwarded,
                body,
                kind: ReplyKind::Unchanged,
            }
        }
    }
}

/// The image stripped of its metadata, or its EXIF report when `show_exif`.
fn transformed(body: &Bytes, show_exif: bool) -> Transformed {
    if show_exif {
        transform::exif_json(body).map(|report| match report {
            ExifReport::Json(json) => Some((
                ReplyKind::ExifJson,
                JSON_CONTENT_TYPE,
                Bytes::from(json.to_string()),
            )),
            ExifReport::NotAnImage => None,
        })
    } else {
        transform::strip_metadata(body).map(|outcome| match outcome {
            transform::Outcome::Stripped { format, bytes } => Some((
                ReplyKind::Stripped(format),
                format.content_type(),
                Bytes::from(bytes),
            )),
            transform::Outcome::NotAnImage => None,
        })
    }
}

/// The answer to a source status other than 200 (GET and HEAD alike).
pub(crate) fn source_error(status: u16) -> Reply {
    match status {
        404 => Reply::error(404, "NoSuchKey", "The specified key does not exist."),
        403 => Reply::error(403, "AccessDenied", "Access Denied"),
        _ => Reply::error(
            500,
            "SourceFetchFailed",
            format!("The original object could not be read: the supporting access point answered {status}."),
        ),
    }
}

fn transform_error(error: &TransformError) -> Reply {
    let code = match error {
        TransformError::UnsupportedImage(_) => "UnsupportedImage",
        TransformError::MalformedImage { .. } => "MalformedImage",
        TransformError::MalformedExif { .. } => "MalformedExif",
    };
    Reply::error(500, code, error.to_string())
}

/// `Cache-Control`, `Expires`, `Last-Modified`, and with `about_the_object`, `Content-Disposition`
/// and `Content-Language` (which describe the object, not a JSON report about it).
pub(crate) fn descriptive(
    headers: &HeaderMap,
    about_the_object: bool,
) -> impl Iterator<Item = (&'static str, HeaderValue)> + '_ {
    DESCRIPTIVE.iter().filter_map(move |(name, key)| {
        let describes_object = matches!(*name, "Content-Disposition" | "Content-Language");
        if describes_object && !about_the_object {
            return None;
        }
        Some((*name, forwardable(headers, key)?))
    })
}

/// The header's single value, when it is printable ASCII (what a signed header can carry as text).
pub(crate) fn forwardable(headers: &HeaderMap, name: &header::HeaderName) -> Option<HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    (values.next().is_none() && value.to_str().is_ok()).then(|| value.clone())
}

/// Printable ASCII only (anything else becomes `?`), at most [`MAX_MESSAGE_BYTES`].
pub(crate) fn header_safe(message: &str) -> String {
    message
        .chars()
        .map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' })
        .take(MAX_MESSAGE_BYTES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &'static [u8], headers: &[(header::HeaderName, &'static str)]) -> Fetched {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        Fetched::Response {
            status: 200,
            headers: map,
            body: Bytes::from_static(body),
        }
    }

    #[test]
    fn statuses_map_to_s3_errors() {
        for (status, expected, code) in [
            (404, 404, "NoSuchKey"),
            (403, 403, "AccessDenied"),
            (500, 500, "SourceFetchFailed"),
            (503, 500, "SourceFetchFailed"),
            (400, 500, "SourceFetchFailed"),
            (206, 500, "SourceFetchFailed"),
        ] {
            let reply = decide(
                Fetched::Response {
                    status,
                    headers: HeaderMap::new(),
                    body: Bytes::from_static(b"<Error/>"),
                },
                false,
            );
            assert_eq!(
                (reply.status, reply.error.unwrap().code),
                (expected, code),
                "{status}"
            );
            assert!(reply.body.is_empty());
            assert!(reply.headers.is_empty());
        }
    }

    #[test]
    fn text_is_served_unchanged_with_its_headers() {
        let reply = decide(
            ok(
                b"hello",
                &[
                    (header::CONTENT_TYPE, "text/plain"),
                    (header::ETAG, "\"abc\""),
                    (header::CACHE_CONTROL, "max-age=60"),
                    (header::CONTENT_LENGTH, "5"),
                    (header::ACCEPT_RANGES, "bytes"),
                ],
            ),
            true,
        );
        assert_eq!(reply.kind, ReplyKind::Unchanged);
        assert_eq!(&reply.body[..], b"hello");
        let names: Vec<_> = reply.headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["Content-Type", "ETag", "Cache-Control"]);
    }

    #[test]
    fn a_damaged_image_is_an_error_without_the_bytes() {
        let reply = decide(ok(b"\xFF\xD8\xFF\xE1\x00\x10Exif\0\0garbage", &[]), false);
        assert_eq!(reply.status, 500);
        assert_eq!(reply.kind, ReplyKind::Error);
        assert!(reply.body.is_empty());
        let gif = decide(ok(b"GIF89a....", &[]), false);
        assert_eq!(gif.error.unwrap().code, "UnsupportedImage");
    }

    #[test]
    fn messages_are_header_safe() {
        assert_eq!(header_safe("a\r\nb\u{e9}"), "a??b?");
        assert_eq!(header_safe(&"x".repeat(2000)).len(), MAX_MESSAGE_BYTES);
    }

    #[test]
    fn repeated_or_binary_headers_are_not_forwarded() {
        let mut map = HeaderMap::new();
        map.append(header::CACHE_CONTROL, HeaderValue::from_static("a"));
        map.append(header::CACHE_CONTROL, HeaderValue::from_static("b"));
        map.append(header::EXPIRES, HeaderValue::from_bytes(b"\xE9").unwrap());
        assert_eq!(descriptive(&map, true).count(), 0);
    }

    #[test]
    fn a_panicking_transform_is_a_500_without_the_payload() {
        for show_exif in [false, true] {
            let body = b"\xFF\xD8\xFF\xE1 secret payload";
            let reply = decide_with(ok(body, &[(header::ETAG, "\"abc\"")]), show_exif, |body, _| {
                panic!("parser bug at byte {}", body.len())
            });
            assert_eq!(reply.status, 500);
            assert_eq!(reply.kind, ReplyKind::Error);
            let error = reply.error.expect("an error reply");
            assert_eq!(error.code, "TransformFailed");
            assert!(!error.message.contains("secret") && !error.message.contains("parser bug"));
            assert!(reply.body.is_empty() && reply.headers.is_empty());
        }
        // The same path serves the real transform.
        let reply = decide_with(ok(b"plain text", &[]), false, transformed);
        assert_eq!((reply.status, reply.kind), (200, ReplyKind::Unchanged));
    }
}
