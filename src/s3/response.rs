//! S3's answers, typed: what a GET, HEAD or PUT tells about the object.

use super::request::{ContentHeaders, METADATA_PREFIX, Metadata};
use bytes::Bytes;
use http::{HeaderMap, header};

/// What S3 says about an object (GET and HEAD).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectHead {
    /// The HTTP status (200).
    pub status: u16,
    /// `ETag`, quoted, as S3 gives it.
    pub etag: Option<String>,
    /// `x-amz-version-id`, in a versioned bucket.
    pub version_id: Option<String>,
    /// `Content-Length`: the object's size.
    pub content_length: Option<u64>,
    /// `Last-Modified`, as S3 gives it.
    pub last_modified: Option<String>,
    /// The stored content headers.
    pub content: ContentHeaders,
    /// The user metadata (`x-amz-meta-*`), names in lowercase without the prefix.
    pub metadata: Metadata,
}

impl ObjectHead {
    /// Reads the typed fields of an answer's headers. A value that is not UTF-8 is read lossily.
    ///
    /// ```
    /// use edge_signer::s3::ObjectHead;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("etag", "\"abc\"".parse().unwrap());
    /// headers.insert("x-amz-meta-origin", "camera".parse().unwrap());
    /// headers.insert("content-type", "image/jpeg".parse().unwrap());
    /// let head = ObjectHead::from_headers(200, &headers);
    /// assert_eq!(head.etag.as_deref(), Some("\"abc\""));
    /// assert_eq!(head.metadata["origin"], "camera");
    /// assert_eq!(head.content.content_type.as_deref(), Some("image/jpeg"));
    /// ```
    pub fn from_headers(status: u16, headers: &HeaderMap) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let metadata = headers
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().strip_prefix(METADATA_PREFIX)?;
                Some((
                    name.to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ))
            })
            .collect();
        Self {
            status,
            etag: text(header::ETAG.as_str()),
            version_id: text("x-amz-version-id"),
            content_length: text(header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse().ok()),
            last_modified: text(header::LAST_MODIFIED.as_str()),
            content: ContentHeaders {
                content_type: text(header::CONTENT_TYPE.as_str()),
                cache_control: text(header::CACHE_CONTROL.as_str()),
                content_disposition: text(header::CONTENT_DISPOSITION.as_str()),
                content_encoding: text(header::CONTENT_ENCODING.as_str()),
                content_language: text(header::CONTENT_LANGUAGE.as_str()),
                expires: text(header::EXPIRES.as_str()),
            },
            metadata,
        }
    }
}

/// A GetObject's answer: the object's head and its whole body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// What S3 says about the object.
    pub head: ObjectHead,
    /// The body, at most the caller's limit.
    pub body: Bytes,
}

/// A ranged GetObject's answer (206 Partial Content): the object's head, the bytes asked for, and
/// the object's size from `Content-Range`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRange {
    /// What S3 says about the object; its `content_length` is the part's length, not the object's.
    pub head: ObjectHead,
    /// The offset of the body's first byte in the object.
    pub first: u64,
    /// The bytes from `first`: all those asked for, or fewer when the object ends before.
    pub body: Bytes,
    /// The whole object's size.
    pub object_size: u64,
}

/// A `Content-Range` value of a 206 answer, `bytes FIRST-LAST/SIZE`
/// ([RFC 9110 section 14.4](https://www.rfc-editor.org/rfc/rfc9110#section-14.4)): the part's
/// first and last offsets and the object's size. `None` for anything else, including an unknown
/// size (`*`), which S3 never sends, and a part that does not lie inside the object.
///
/// ```
/// use edge_signer::s3::parse_content_range;
/// assert_eq!(parse_content_range("bytes 0-65535/4194304"), Some((0, 65_535, 4_194_304)));
/// assert_eq!(parse_content_range("bytes 0-65535/*"), None);
/// assert_eq!(parse_content_range("bytes 10-5/100"), None);
/// ```
pub fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let number = |s: &str| {
        // u64's FromStr takes a leading `+`; HTTP's grammar does not.
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, size) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let (first, last, size) = (number(first)?, number(last)?, number(size)?);
    (first <= last && last < size).then_some((first, last, size))
}

/// The object's size a 416 answer tells: `Content-Range: bytes */SIZE` (RFC 9110 section 15.5.17).
pub(super) fn unsatisfied_range_size(value: &str) -> Option<u64> {
    let size = value.trim().strip_prefix("bytes */")?;
    (!size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()))
        .then(|| size.parse().ok())
        .flatten()
}

/// A PutObject's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutOutput {
    /// The HTTP status (200).
    pub status: u16,
    /// The new object's `ETag`, quoted.
    pub etag: Option<String>,
    /// The new version, in a versioned bucket.
    pub version_id: Option<String>,
}

impl PutOutput {
    /// Reads the typed fields of a PUT answer's headers.
    pub fn from_headers(status: u16, headers: &HeaderMap) -> Self {
        let head = ObjectHead::from_headers(status, headers);
        Self {
            status,
            etag: head.etag,
            version_id: head.version_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("bytes 0-0/1"), Some((0, 0, 1)));
        assert_eq!(parse_content_range(" bytes 100-199/200 "), Some((100, 199, 200)));
        for bad in [
            "",
            "bytes */200",
            "bytes 0-199/200/1",
            "bytes 0-200/200",
            "bytes +0-1/2",
            "bytes 0-1/-2",
            "bytes=0-1/2",
            "items 0-1/2",
            "bytes 0-18446744073709551616/18446744073709551617",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad:?}");
        }
        assert_eq!(unsatisfied_range_size("bytes */0"), Some(0));
        assert_eq!(unsatisfied_range_size("bytes */1234"), Some(1234));
        assert_eq!(unsatisfied_range_size("bytes */"), None);
        assert_eq!(unsatisfied_range_size("bytes 0-1/2"), None);
    }
}
