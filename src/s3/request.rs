//! The pure part of the client: an operation → the signed `http::Request`, for a configuration,
//! credentials, a time and a key cache given as arguments.

use super::endpoint::{Config, Scheme};
use super::error::Error;
use crate::sigv4::{
    SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings, sign, uri_encode,
};
use aws_credential_types::Credentials;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// The signing name of S3.
pub const SERVICE: &str = "s3";
/// The header Lambda's recursive-loop detection reads (sent, never signed: proxies may rewrite it,
/// and aws-sigv4 leaves it out of signatures too).
pub const TRACE_ID_HEADER: &str = "x-amzn-trace-id";
/// The checksum header a PUT over HTTPS sends ([`crc32_checksum`]).
pub const CHECKSUM_CRC32_HEADER: &str = "x-amz-checksum-crc32";
/// The prefix of user metadata headers.
pub const METADATA_PREFIX: &str = "x-amz-meta-";

/// User metadata: names in lowercase, without [`METADATA_PREFIX`]. S3 stores them as given over
/// REST, so names are HTTP tokens and values printable ASCII.
pub type Metadata = BTreeMap<String, String>;

/// One object, and what a read of it requires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjectRef<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The key, as stored (decoded; the client encodes it).
    pub key: &'a str,
    /// A version to read instead of the current one (`versionId`).
    pub version_id: Option<&'a str>,
    /// Read only if the object's ETag is this one (`If-Match`), else 412.
    pub if_match: Option<&'a str>,
}

impl<'a> ObjectRef<'a> {
    /// The current version of `key` in `bucket`, unconditionally.
    pub fn new(bucket: &'a str, key: &'a str) -> Self {
        Self {
            bucket,
            key,
            version_id: None,
            if_match: None,
        }
    }
}

/// The content headers S3 stores with an object and returns on GET and HEAD.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentHeaders {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Expires`, as S3 gives it (an HTTP date).
    pub expires: Option<String>,
}

impl ContentHeaders {
    /// The header names and values that are set, in this order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("content-type", &self.content_type),
            ("cache-control", &self.cache_control),
            ("content-disposition", &self.content_disposition),
            ("content-encoding", &self.content_encoding),
            ("content-language", &self.content_language),
            ("expires", &self.expires),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
    }
}

/// A condition on a write ([conditional writes](https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteCondition {
    /// `If-Match: <etag>`: replace only the object with this ETag (quoted, as S3 gives it).
    IfMatch(String),
    /// `If-None-Match: *`: write only if no object has this key.
    IfNoneMatch,
}

/// A `PutObject`.
#[derive(Clone, Debug, Default)]
pub struct PutObject<'a> {
    /// The bucket.
    pub bucket: &'a str,
    /// The key, as stored.
    pub key: &'a str,
    /// The whole body.
    pub body: Bytes,
    /// The content headers to store.
    pub content: ContentHeaders,
    /// The user metadata to store.
    pub metadata: Metadata,
    /// A condition S3 checks before writing, or `None` to write unconditionally.
    pub condition: Option<WriteCondition>,
}

/// A byte range of an object, both ends included, as HTTP writes it (`Range: bytes=first-last`,
/// [RFC 9110 section 14.1.2](https://www.rfc-editor.org/rfc/rfc9110#section-14.1.2)). S3 serves one
/// range per GetObject
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax>).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte's offset.
    pub first: u64,
    /// The last byte's offset (included); at least `first`.
    pub last: u64,
}

impl ByteRange {
    /// The bytes `first..end` (`end` excluded, as Rust writes ranges); `None` when empty.
    ///
    /// ```
    /// use edge_signer::s3::ByteRange;
    /// let range = ByteRange::from_to(0, 65_536).unwrap();
    /// assert_eq!((range.first, range.last, range.len()), (0, 65_535, 65_536));
    /// assert_eq!(range.header_value(), "bytes=0-65535");
    /// assert!(ByteRange::from_to(5, 5).is_none());
    /// ```
    pub fn from_to(first: u64, end: u64) -> Option<Self> {
        (end > first).then(|| Self { first, last: end - 1 })
    }

    /// The number of bytes asked for.
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> u64 {
        self.last.saturating_sub(self.first).saturating_add(1)
    }

    /// The `Range` header's value.
    pub fn header_value(&self) -> String {
        format!("bytes={}-{}", self.first, self.last)
    }
}

/// The operations of the client.
#[derive(Clone, Copy, Debug)]
pub enum Operation<'r, 'a> {
    /// `GET /<key>`.
    GetObject(&'r ObjectRef<'a>),
    /// `GET /<key>` with `Range: bytes=first-last` (signed, as the AWS SDKs sign it).
    GetObjectRange(&'r ObjectRef<'a>, ByteRange),
    /// `HEAD /<key>`.
    HeadObject(&'r ObjectRef<'a>),
    /// `PUT /<key>`.
    PutObject(&'r PutObject<'a>),
}

impl Operation<'_, '_> {
    /// `GetObject`, `HeadObject` or `PutObject`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::GetObject(_) | Self::GetObjectRange(..) => "GetObject",
            Self::HeadObject(_) => "HeadObject",
            Self::PutObject(_) => "PutObject",
        }
    }
}

/// Who signs, for which region and endpoint, at what time: the inputs of [`build_request`] that
/// are not the operation.
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    /// Region and endpoint.
    pub config: &'a Config,
    /// The credentials.
    pub credentials: &'a Credentials,
    /// The signing time.
    pub time: SystemTime,
    /// Signing keys, kept between requests.
    pub keys: &'a SigningKeyCache,
}

/// Builds the signed request of `operation`, with `X-Amzn-Trace-Id: <trace_id>` when given.
///
/// - Signed with our signer for `s3` in the configured region ([`SigningSettings::s3`]: the path
///   as sent, no normalisation, `x-amz-content-sha256`). Every header but the trace id is signed.
/// - Payload: GET and HEAD sign the empty body. A PUT over `https://` signs `UNSIGNED-PAYLOAD`
///   and sends the body's CRC32 as `x-amz-checksum-crc32` (signed), which S3 checks before it
///   stores the object (`BadDigest`), as the AWS SDKs do by default: TLS protects the body on the
///   way, the checksum guards against a corrupted buffer, and the CRC32 costs a fraction of a
///   SHA-256 of the body. A PUT over plain `http://` (a local endpoint) signs the body's SHA-256,
///   so that a body changed on the way is refused (`XAmzContentSHA256Mismatch`).
///   - Unsigned payload: <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>
///   - `x-amz-checksum-crc32`, base64 of the big-endian CRC32:
///     <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>,
///     <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity-upload.html>
///   - The SDKs' default CRC32 on uploads: <https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html>
///
/// # Errors
/// [`Error::Locate`] for a bucket or key that cannot be addressed, [`Error::InvalidInput`] for a
/// header value that cannot be sent, [`Error::Signing`] when the signer refuses.
pub fn build_request(
    operation: Operation<'_, '_>,
    signer: &Signer<'_>,
    trace_id: Option<&str>,
) -> Result<Request<Bytes>, Error> {
    let (method, object, body, range) = match operation {
        Operation::GetObject(o) => (Method::GET, *o, None, None),
        Operation::GetObjectRange(o, range) => (Method::GET, *o, None, Some(range.header_value())),
        Operation::HeadObject(o) => (Method::HEAD, *o, None, None),
        Operation::PutObject(p) => (Method::PUT, ObjectRef::new(p.bucket, p.key), Some(p), None),
    };
    let location = signer.config.locate(object.bucket, object.key)?;
    let query = object
        .version_id
        .map(|v| format!("versionId={}", uri_encode(v.as_bytes())))
        .unwrap_or_default();

    let (length, checksum);
    let mut headers: Vec<(String, &str)> = vec![("host".into(), &location.authority)];
    if let Some(etag) = object.if_match {
        headers.push(("if-match".into(), checked("If-Match", etag)?));
    }
    if let Some(range) = &range {
        headers.push(("range".into(), range));
    }
    if let Some(put) = body {
        length = put.body.len().to_string();
        headers.push(("content-length".into(), &length));
        for (name, value) in put.content.iter() {
            headers.push((name.into(), checked(name, value)?));
        }
        match &put.condition {
            Some(WriteCondition::IfMatch(etag)) => {
                headers.push(("if-match".into(), checked("If-Match", etag)?))
            }
            Some(WriteCondition::IfNoneMatch) => headers.push(("if-none-match".into(), "*")),
            None => {}
        }
        for (name, value) in &put.metadata {
            let header = format!("{METADATA_PREFIX}{}", name.to_ascii_lowercase());
            if name.is_empty() || HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(invalid(&header, "not an HTTP token"));
            }
            // HTTP names are case-insensitive: `A` and `a` would be one header with two values.
            if headers.iter().any(|(n, _)| *n == header) {
                return Err(invalid(&header, "given twice, in different cases"));
            }
            let value = checked(&header, value)?;
            headers.push((header, value));
        }
    }
    let unsigned_payload = body.is_some() && location.scheme == Scheme::Https;
    if let Some(put) = body.filter(|_| unsigned_payload) {
        checksum = crc32_checksum(&put.body);
        headers.push((CHECKSUM_CRC32_HEADER.into(), &checksum));
    }

    let settings = SigningSettings::s3();
    let params = SigningParams {
        credentials: signer.credentials,
        region: &signer.config.region,
        service: SERVICE,
        time: signer.time,
        settings: &settings,
    };
    let signable: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let request = SignableRequest {
        method: method.as_str(),
        path: &location.path,
        query: &query,
        headers: &signable,
        body: match body {
            None => SignableBody::Empty,
            Some(_) if unsigned_payload => SignableBody::UnsignedPayload,
            Some(put) => SignableBody::Bytes(&put.body),
        },
    };
    let signed = sign(&request, &params, signer.keys)?;

    let mut uri = location.uri();
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query);
    }
    let mut builder = Request::builder().method(method.clone()).uri(uri);
    let added = signed.headers().map(|(name, value)| (name as &str, value));
    for (name, value) in signable.iter().copied().chain(added) {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid(name, "not an HTTP token"))?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid(name.as_str(), "not a header value"))?;
        builder = builder.header(name, value);
    }
    if let Some(trace_id) = trace_id {
        builder = builder.header(TRACE_ID_HEADER, trace_header_value(trace_id)?);
    }
    let body = body.map(|p| p.body.clone()).unwrap_or_default();
    builder
        .body(body)
        .map_err(|_| invalid("request", "the http crate refused it"))
}

/// `x-amz-checksum-crc32`'s value: the base64 of the big-endian CRC32 (IEEE) of `body`.
///
/// ```
/// // The CRC32 check value: 0xCBF43926.
/// assert_eq!(edge_signer::s3::crc32_checksum(b"123456789"), "y/Q5Jg==");
/// ```
pub fn crc32_checksum(body: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(body).to_be_bytes())
}

/// The trace id as a header value: as given (Lambda's `Root=…;Parent=…;Sampled=…;Lineage=…`),
/// with any byte that cannot be in a header percent-encoded, as the AWS SDKs' recursion
/// detection does.
///
/// # Errors
/// Never in practice (the encoded value is printable ASCII); typed for the http crate's check.
pub fn trace_header_value(trace_id: &str) -> Result<HeaderValue, Error> {
    let clean = trace_id.bytes().all(|b| (0x20..0x7f).contains(&b));
    let value = if clean {
        HeaderValue::from_str(trace_id)
    } else {
        let mut encoded = String::with_capacity(trace_id.len());
        for b in trace_id.bytes() {
            if (0x20..0x7f).contains(&b) {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        HeaderValue::from_str(&encoded)
    };
    value.map_err(|_| invalid(TRACE_ID_HEADER, "not a header value"))
}

/// `value` when it can be sent as a header value over S3's REST API: printable ASCII (S3 stores
/// metadata bytes as given, and the SDKs refuse what is not ASCII).
fn checked<'v>(field: &str, value: &'v str) -> Result<&'v str, Error> {
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Ok(value)
    } else {
        Err(invalid(field, "not printable ASCII"))
    }
}

fn invalid(field: &str, reason: &'static str) -> Error {
    Error::InvalidInput {
        field: field.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn signer<'a>(config: &'a Config, credentials: &'a Credentials, keys: &'a SigningKeyCache) -> Signer<'a> {
        Signer {
            config,
            credentials,
            time: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
            keys,
        }
    }

    #[test]
    fn get_with_version_and_condition() {
        let config = Config::new("us-east-1");
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
        let keys = SigningKeyCache::new();
        let object = ObjectRef {
            version_id: Some("3/L4kqtJl+cY=="),
            if_match: Some("\"abc\""),
            ..ObjectRef::new("photos", "a b.jpg")
        };
        let request = build_request(
            Operation::GetObject(&object),
            &signer(&config, &credentials, &keys),
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a87bd80c:1"),
        )
        .unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.uri().to_string(),
            "https://photos.s3.us-east-1.amazonaws.com/a%20b.jpg?versionId=3%2FL4kqtJl%2BcY%3D%3D"
        );
        let h = request.headers();
        assert_eq!(h["if-match"], "\"abc\"");
        assert_eq!(h["x-amz-security-token"], "token");
        assert_eq!(h["x-amz-content-sha256"], crate::sigv4::EMPTY_PAYLOAD_SHA256);
        assert_eq!(
            h[TRACE_ID_HEADER],
            "Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a87bd80c:1"
        );
        let authorization = h["authorization"].to_str().unwrap();
        assert!(
            authorization.contains(
                "/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;if-match;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
            ),
            "{authorization}"
        );
    }

    #[test]
    fn put_signs_its_headers_and_body() {
        let config = Config::new("us-east-1");
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let keys = SigningKeyCache::new();
        let put = PutObject {
            body: Bytes::from_static(b"hello"),
            content: ContentHeaders {
                content_type: Some("image/jpeg".into()),
                expires: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
                ..ContentHeaders::default()
            },
            metadata: Metadata::from([("Source-ETag".into(), "\"e\"".into())]),
            condition: Some(WriteCondition::IfNoneMatch),
            ..PutObject {
                bucket: "photos",
                key: "k",
                ..PutObject::default()
            }
        };
        let request = build_request(
            Operation::PutObject(&put),
            &signer(&config, &credentials, &keys),
            None,
        )
        .unwrap();
        // Over HTTPS: UNSIGNED-PAYLOAD, and the body's CRC32 (zlib.crc32(b"hello") = 0x3610a686), signed.
        let h = request.headers();
        assert_eq!(h["content-length"], "5");
        assert_eq!(h["if-none-match"], "*");
        assert_eq!(h["x-amz-meta-source-etag"], "\"e\"");
        assert!(!h.contains_key(TRACE_ID_HEADER));
        assert_eq!(h["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        assert_eq!(h[CHECKSUM_CRC32_HEADER], "NhCmhg==");
        assert!(h["authorization"].to_str().unwrap().contains(
            "SignedHeaders=content-length;content-type;expires;host;if-none-match;x-amz-checksum-crc32;x-amz-content-sha256;x-amz-date;x-amz-meta-source-etag, "
        ));
        assert_eq!(request.body().as_ref(), b"hello");

        // Over plain HTTP: the body's SHA-256 is signed, and no checksum is sent.
        let mut local = Config::new("us-east-1");
        local.endpoint = Some("http://127.0.0.1:9000".parse().unwrap());
        let request = build_request(
            Operation::PutObject(&put),
            &signer(&local, &credentials, &keys),
            None,
        )
        .unwrap();
        let h = request.headers();
        assert_eq!(
            h["x-amz-content-sha256"],
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(!h.contains_key(CHECKSUM_CRC32_HEADER));
        assert!(h["authorization"].to_str().unwrap().contains(
            "SignedHeaders=content-length;content-type;expires;host;if-none-match;x-amz-content-sha256;x-amz-date;x-amz-meta-source-etag, "
        ));
    }

    #[test]
    fn what_cannot_be_sent() {
        let config = Config::new("us-east-1");
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let keys = SigningKeyCache::new();
        let signer = signer(&config, &credentials, &keys);
        let mut put = PutObject {
            bucket: "photos",
            key: "k",
            ..PutObject::default()
        };
        put.metadata.insert("a b".into(), "v".into());
        let error = build_request(Operation::PutObject(&put), &signer, None).unwrap_err();
        assert_eq!(error.to_string(), "invalid x-amz-meta-a b: not an HTTP token");
        put.metadata = Metadata::from([("n".into(), "caf\u{e9}".into())]);
        assert!(matches!(
            build_request(Operation::PutObject(&put), &signer, None),
            Err(Error::InvalidInput { .. })
        ));
        put.metadata = Metadata::from([("Name".into(), "1".into()), ("name".into(), "2".into())]);
        let error = build_request(Operation::PutObject(&put), &signer, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid x-amz-meta-name: given twice, in different cases"
        );
        put.metadata.clear();
        put.content.content_type = Some("text/plain\r\nx-evil: 1".into());
        assert!(build_request(Operation::PutObject(&put), &signer, None).is_err());
        // A trace id with a control character or non-ASCII byte is encoded, not refused.
        let object = ObjectRef::new("photos", "k");
        let request =
            build_request(Operation::HeadObject(&object), &signer, Some("Root=1\n;x=\u{e9}")).unwrap();
        assert_eq!(request.headers()[TRACE_ID_HEADER], "Root=1%0A;x=%C3%A9");
    }
}
