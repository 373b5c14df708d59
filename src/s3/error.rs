//! What can go wrong with an S3 request, as values: S3's error answers, and the failures that get
//! no answer. Each says whether a retry may help.

use super::endpoint::LocateError;
use crate::sigv4::SigningError;
use quick_xml::events::Event;
use std::time::Duration;

/// The longest error message kept from an answer, in characters.
const MAX_MESSAGE_CHARS: usize = 512;

/// An S3 request that failed. `Display` never shows a credential, a signature or a presigned URL:
/// S3's error documents are reduced to their code, message and request id (a
/// `SignatureDoesNotMatch` answer also holds the canonical request, which holds the session token).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// S3 answered with an error status.
    #[error("{0}")]
    Service(#[from] ServiceError),
    /// No complete answer before the deadline (the time left, or the caller's cap).
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made: refused, DNS, TLS handshake.
    #[error("could not connect (connection or TLS handshake failed)")]
    Connect,
    /// The connection broke before the answer was complete (reset, closed mid-body).
    #[error("the connection failed before a complete answer")]
    Interrupted,
    /// The body is larger than the caller's limit (by its `Content-Length`, or while reading it;
    /// the rest is not read).
    #[error("the object is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// 416 `InvalidRange`: a ranged GET's first byte is at or past the object's end (an empty
    /// object has no satisfiable range). The object's size, when the answer tells it
    /// (`Content-Range: bytes */SIZE`, or S3's `<ActualObjectSize>`).
    #[error("S3 answered 416 InvalidRange: the range starts past the object's end{}", object_size.map(|n| format!(" (the object has {n} bytes)")).unwrap_or_default())]
    RangeNotSatisfiable {
        /// The object's size.
        object_size: Option<u64>,
    },
    /// A 2xx answer that does not fit the request (a ranged GET answered with other bytes than
    /// those asked for, or without a valid `Content-Range`).
    #[error("S3's answer does not fit the request: {0}")]
    InvalidAnswer(&'static str),
    /// The bucket or key cannot be addressed.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// A header value the request cannot carry (metadata, content header, ETag, trace id).
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// What was given.
        field: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signer refused the request (a control character in the credentials).
    #[error("cannot sign the request: {0}")]
    Signing(#[from] SigningError),
}

impl Error {
    /// Whether the same request may succeed later: a 5xx, `SlowDown`, `RequestTimeout` and the
    /// like, a timeout, a refused or broken connection. A 4xx such as `NoSuchKey`,
    /// `AccessDenied`, 412 `PreconditionFailed` or 409 `ConditionalRequestConflict` is not: the
    /// request itself must change.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Service(e) => e.is_retryable(),
            Self::Timeout(_) | Self::Connect | Self::Interrupted => true,
            Self::TooLarge { .. }
            | Self::RangeNotSatisfiable { .. }
            | Self::InvalidAnswer(_)
            | Self::Locate(_)
            | Self::InvalidInput { .. }
            | Self::Signing(_) => false,
        }
    }

    /// S3's answer, when it answered with an error.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Self::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of S3's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::RangeNotSatisfiable { .. } => Some(416),
            _ => self.service().map(|e| e.status),
        }
    }

    /// S3's error code (`NoSuchKey`…), when it answered with one.
    pub fn code(&self) -> Option<&str> {
        self.service().map(|e| e.code.as_str())
    }

    /// No such key or bucket (404: `NoSuchKey`, `NoSuchBucket`, or a HEAD's bodiless 404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A condition (`If-Match`, `If-None-Match`) did not hold: 412 `PreconditionFailed`.
    pub fn is_precondition_failed(&self) -> bool {
        self.status() == Some(412)
    }

    /// A concurrent conditional write won the race: 409 `ConditionalRequestConflict`.
    pub fn is_conditional_conflict(&self) -> bool {
        self.code() == Some("ConditionalRequestConflict")
    }

    /// 403: `AccessDenied`, `SignatureDoesNotMatch`, `InvalidAccessKeyId`…
    pub fn is_access_denied(&self) -> bool {
        self.status() == Some(403)
    }
}

/// S3's error answer: the status and the `<Error>` document's code, message and request id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("S3 answered {status} {code}: {message}{}", request_id.as_deref().map(|id| format!(" (request id {id})")).unwrap_or_default())]
pub struct ServiceError {
    /// The HTTP status.
    pub status: u16,
    /// `<Code>`, or for an answer without a document (a HEAD) a code named after the status
    /// (`NotFound`, `PreconditionFailed`, `Forbidden`…), as the AWS SDKs do.
    pub code: String,
    /// `<Message>` (printable, at most 512 characters), or empty.
    pub message: String,
    /// `<RequestId>`, else the `x-amz-request-id` header.
    pub request_id: Option<String>,
}

/// The `<ActualObjectSize>` of S3's 416 `InvalidRange` document, the object's size.
pub(super) fn actual_object_size(body: &[u8]) -> Option<u64> {
    parse_document(body)?.actual_object_size?.trim().parse().ok()
}

impl ServiceError {
    /// Reads S3's error document `body` (`<Error><Code>…</Code><Message>…</Message>…</Error>`),
    /// with the `x-amz-request-id` header's value as a fallback request id. A body that is not
    /// such a document gives a code named after the status and an empty message.
    ///
    /// ```
    /// use edge_signer::s3::ServiceError;
    /// let body = b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key><RequestId>R1</RequestId></Error>";
    /// let e = ServiceError::parse(404, body, None);
    /// assert_eq!((e.code.as_str(), e.message.as_str()), ("NoSuchKey", "The specified key does not exist."));
    /// assert_eq!(e.request_id.as_deref(), Some("R1"));
    /// assert!(!e.is_retryable());
    /// assert_eq!(ServiceError::parse(503, b"", None).code, "ServiceUnavailable");
    /// ```
    pub fn parse(status: u16, body: &[u8], request_id_header: Option<&str>) -> Self {
        let document = parse_document(body).unwrap_or_default();
        Self {
            status,
            code: document
                .code
                .filter(|c| !c.is_empty())
                .map(|c| printable(&c, 64))
                .unwrap_or_else(|| code_for_status(status).to_owned()),
            message: document
                .message
                .map(|m| printable(&m, MAX_MESSAGE_CHARS))
                .unwrap_or_default(),
            request_id: document
                .request_id
                .or_else(|| request_id_header.map(str::to_owned))
                .map(|id| printable(&id, 128)),
        }
    }

    /// Whether the same request may succeed later: any 5xx, 429, and the codes S3 documents as
    /// transient (`SlowDown`, `RequestTimeout`, `InternalError`, `ServiceUnavailable`,
    /// `OperationAborted`, throttling), whatever their status.
    pub fn is_retryable(&self) -> bool {
        self.status >= 500
            || self.status == 429
            || matches!(
                self.code.as_str(),
                "SlowDown"
                    | "RequestTimeout"
                    | "InternalError"
                    | "ServiceUnavailable"
                    | "OperationAborted"
                    | "Throttling"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
            )
    }
}

/// The code an SDK gives an answer without a document (HEAD has no body).
fn code_for_status(status: u16) -> &'static str {
    match status {
        301 => "PermanentRedirect",
        304 => "NotModified",
        400 => "BadRequest",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        412 => "PreconditionFailed",
        416 => "InvalidRange",
        500 => "InternalError",
        501 => "NotImplemented",
        503 => "ServiceUnavailable",
        _ => "UnknownError",
    }
}

/// Control characters become `?`, and the text is cut at `max` characters: a message may be
/// logged or put in a header.
fn printable(text: &str, max: usize) -> String {
    text.trim()
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(max)
        .collect()
}

#[derive(Default)]
struct Document {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    actual_object_size: Option<String>,
}

/// The text of `Code`, `Message` and `RequestId` directly under the root `Error` element; `None`
/// when the body is not such a document. Entities and character references are decoded.
fn parse_document(body: &[u8]) -> Option<Document> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut document = Document::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                let name = start.name().as_ref().to_owned();
                if path.is_empty() && name != "Error" {
                    return None;
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().ok()? {
                    text.push(c);
                } else {
                    let name = r.xml10_content();
                    text.push_str(quick_xml::escape::resolve_predefined_entity(&name)?);
                }
            }
            Event::CData(c) => text.push_str(&c.xml10_content()),
            Event::End(_) => {
                if path.len() == 2 {
                    let slot = match path[1].as_str() {
                        "Code" => Some(&mut document.code),
                        "Message" => Some(&mut document.message),
                        "RequestId" => Some(&mut document.request_id),
                        "ActualObjectSize" => Some(&mut document.actual_object_size),
                        _ => None,
                    };
                    if let Some(slot) = slot {
                        *slot = Some(std::mem::take(&mut text));
                    }
                }
                text.clear();
                path.pop();
                if path.is_empty() {
                    return Some(document);
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_their_escapes() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match &lt;&amp;&gt; &#233;&#x263A;</Message>
  <AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId>
  <StringToSign>AWS4-HMAC-SHA256 secret-ish</StringToSign>
  <CanonicalRequest>x-amz-security-token:TOKEN</CanonicalRequest>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>"#;
        let e = ServiceError::parse(403, body, Some("ignored"));
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert_eq!(
            e.message,
            "The request signature we calculated does not match <&> é☺"
        );
        assert_eq!(e.request_id.as_deref(), Some("4442587FB7D0A2F9"));
        let shown = Error::Service(e).to_string();
        for secret in ["AKIDEXAMPLE", "TOKEN", "AWS4-HMAC"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(
            shown,
            "S3 answered 403 SignatureDoesNotMatch: The request signature we calculated does not match <&> é☺ (request id 4442587FB7D0A2F9)"
        );
    }

    #[test]
    fn not_a_document() {
        for body in [
            &b""[..],
            b"<html><body>Bad Gateway</body></html>",
            b"<Error><Code>Truncated",
            b"plain text",
            b"<Error><Nested><Code>Inner</Code></Nested></Error>",
        ] {
            let e = ServiceError::parse(502, body, Some("RID"));
            assert_eq!(e.code, "UnknownError", "{body:?}");
            assert_eq!(e.message, "");
            assert_eq!(e.request_id.as_deref(), Some("RID"));
            assert!(e.is_retryable());
        }
        let e = ServiceError::parse(404, b"", None);
        assert_eq!(e.code, "NotFound");
        assert!(Error::Service(e).is_not_found());
    }

    #[test]
    fn control_characters_and_length() {
        let body = format!(
            "<Error><Code>X\r\nY</Code><Message>{}</Message></Error>",
            "m".repeat(2000)
        );
        let e = ServiceError::parse(400, body.as_bytes(), None);
        // XML reads CR LF as one LF (end-of-line handling), which becomes one '?'.
        assert_eq!(e.code, "X?Y");
        assert_eq!(e.message.len(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn retryable_or_not() {
        let service = |status, code: &str| {
            Error::Service(ServiceError {
                status,
                code: code.into(),
                message: String::new(),
                request_id: None,
            })
        };
        for (status, code) in [
            (500, "InternalError"),
            (503, "SlowDown"),
            (400, "RequestTimeout"),
            (409, "OperationAborted"),
            (429, "TooManyRequests"),
            (502, "UnknownError"),
        ] {
            assert!(service(status, code).is_retryable(), "{status} {code}");
        }
        for (status, code) in [
            (404, "NoSuchKey"),
            (403, "AccessDenied"),
            (403, "SignatureDoesNotMatch"),
            (412, "PreconditionFailed"),
            (409, "ConditionalRequestConflict"),
            (400, "InvalidArgument"),
        ] {
            assert!(!service(status, code).is_retryable(), "{status} {code}");
        }
        assert!(service(412, "PreconditionFailed").is_precondition_failed());
        assert!(service(409, "ConditionalRequestConflict").is_conditional_conflict());
        assert!(service(404, "NoSuchKey").is_not_found());
        assert!(service(403, "AccessDenied").is_access_denied());
        assert!(Error::Timeout(Duration::from_millis(5)).is_retryable());
        assert!(Error::Connect.is_retryable());
        assert!(Error::Interrupted.is_retryable());
        assert!(!Error::TooLarge { limit: 1 }.is_retryable());
        let unsatisfiable = Error::RangeNotSatisfiable { object_size: Some(0) };
        assert!(!unsatisfiable.is_retryable());
        assert_eq!(unsatisfiable.status(), Some(416));
        assert_eq!(
            unsatisfiable.to_string(),
            "S3 answered 416 InvalidRange: the range starts past the object's end (the object has 0 bytes)"
        );
    }

    #[test]
    fn the_size_an_invalid_range_answer_tells() {
        // S3's document for a range past the end of an empty object.
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><RangeRequested>bytes=0-65535</RangeRequested><ActualObjectSize>0</ActualObjectSize><RequestId>R</RequestId></Error>";
        assert_eq!(actual_object_size(body), Some(0));
        assert_eq!(
            actual_object_size(b"<Error><Code>InvalidRange</Code></Error>"),
            None
        );
        assert_eq!(actual_object_size(b""), None);
    }
}
