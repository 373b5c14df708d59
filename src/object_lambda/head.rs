//! The pure core of a `HeadObject`: the JSON the function returns (no `WriteGetObjectResponse`).

use super::reply::{self, Fetched, Reply, forwardable};
use crate::transform::JSON_CONTENT_TYPE;
use http::{HeaderValue, header};
use serde::Serialize;
use std::collections::BTreeMap;

/// The function's result for a `HeadObject` ("Working with HeadObject requests in Lambda", S3 User
/// Guide): `{"statusCode", "errorCode"?, "errorMessage"?, "headers"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadObjectResponse {
    /// The status of the caller's `HeadObject`.
    pub status_code: u16,
    /// The error code, for an error status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    /// The error message, for an error status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The response headers, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<&'static str, String>,
}

/// Decides the `HeadObject` answer from a HEAD of the original (its presigned URL is for HEAD, so
/// the body, and with it the transformed length and format, cannot be known).
///
/// Statuses map as for `GetObject` (404 → `NoSuchKey`, 403 → `AccessDenied`, else 500). On 200:
/// `Content-Type` (the original's, or `application/json` for `showExif=true`), and the headers that
/// stay true of the transformed object (`Cache-Control`, `Expires`, `Last-Modified`, and except for
/// the JSON `Content-Disposition`, `Content-Language`). No `Content-Length` and no `ETag`: the
/// original's would be false for a stripped image, and HTTP lets a HEAD answer leave out what is only
/// known once the content is generated (RFC 9110, 8.6 and 9.3.2).
pub fn head_reply(fetched: Fetched, show_exif: bool) -> HeadObjectResponse {
    let headers = match fetched {
        Fetched::Response {
            status: 200, headers, ..
        } => headers,
        Fetched::Response { status, .. } => return from_error(reply::source_error(status)),
        Fetched::TooLarge { limit } => {
            // A HEAD has no body to be too large; kept total for the shared fetch type.
            return from_error(reply::decide(Fetched::TooLarge { limit }, show_exif));
        }
        failed @ Fetched::Failed { .. } => return from_error(reply::decide(failed, show_exif)),
    };
    let content_type = if show_exif {
        Some(HeaderValue::from_static(JSON_CONTENT_TYPE))
    } else {
        forwardable(&headers, &header::CONTENT_TYPE)
    };
    let mut out = BTreeMap::new();
    let text = |v: HeaderValue| v.to_str().unwrap_or_default().to_owned();
    if let Some(value) = content_type {
        out.insert("Content-Type", text(value));
    }
    for (name, value) in reply::descriptive(&headers, !show_exif) {
        out.insert(name, text(value));
    }
    HeadObjectResponse {
        status_code: 200,
        error_code: None,
        error_message: None,
        headers: out,
    }
}

fn from_error(reply: Reply) -> HeadObjectResponse {
    let error = reply.error;
    HeadObjectResponse {
        status_code: reply.status,
        error_code: error.as_ref().map(|e| e.code),
        error_message: error.map(|e| e.message),
        headers: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http::HeaderMap;
    use serde_json::json;

    fn fetched(status: u16) -> Fetched {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CONTENT_LENGTH, "31090"),
            (header::ETAG, "\"abc\""),
            (header::LAST_MODIFIED, "Wed, 21 Oct 2026 07:28:00 GMT"),
            (header::CONTENT_DISPOSITION, "inline"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        Fetched::Response {
            status,
            headers,
            body: Bytes::new(),
        }
    }

    #[test]
    fn success_without_length_or_etag() {
        let image = serde_json::to_value(head_reply(fetched(200), false)).unwrap();
        assert_eq!(
            image,
            json!({"statusCode": 200, "headers": {
                "Content-Type": "image/jpeg",
                "Content-Disposition": "inline",
                "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT"
            }})
        );
        let report = serde_json::to_value(head_reply(fetched(200), true)).unwrap();
        assert_eq!(
            report,
            json!({"statusCode": 200, "headers": {
                "Content-Type": "application/json",
                "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT"
            }})
        );
    }

    #[test]
    fn errors_map_as_for_get() {
        let missing = serde_json::to_value(head_reply(fetched(404), false)).unwrap();
        assert_eq!(
            missing,
            json!({"statusCode": 404, "errorCode": "NoSuchKey", "errorMessage": "The specified key does not exist."})
        );
        assert_eq!(head_reply(fetched(403), false).error_code, Some("AccessDenied"));
        assert_eq!(head_reply(fetched(502), false).status_code, 500);
    }
}
