//! The function's two exchanges, over the S3 client's transport ([`crate::s3::Transport`]: one
//! connection pool, one TLS configuration): GET or HEAD of the presigned `inputS3Url` (signed by
//! S3 Object Lambda, not by us), and the `WriteGetObjectResponse` POST. Everything they decide is
//! in [`super::reply`], [`super::head`] and [`super::write`].

use super::Error;
use super::reply::Fetched;
use crate::s3::{self, ServiceError, Transport};
use bytes::Bytes;
use http::{Method, Request, Uri};
use std::time::{Duration, Instant};

/// The most of a 2xx `WriteGetObjectResponse` answer read (it has none).
const ANSWER_BODY_LIMIT: u64 = 64 * 1024;

/// The function's HTTP client: the S3 client's [`Transport`]. Build it once, inside the Tokio
/// runtime, and keep it: it pools connections between invocations.
pub type Client = Transport;

/// `method` on the presigned `url`, reading at most `limit` bytes of a 200 body, for at most
/// `allowed`; never an error: every failure is a [`Fetched`] the caller answers.
pub(crate) async fn fetch(
    client: &Client,
    method: Method,
    url: &str,
    limit: u64,
    allowed: Duration,
    trace_id: Option<&str>,
) -> Fetched {
    let deadline = Instant::now() + allowed;
    let uri = match url.parse::<Uri>() {
        Ok(uri) if matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some() => uri,
        // Never echo the URL: it carries a presigned signature and a session token.
        _ => return failed("the event's inputS3Url is not an http(s) URL".into()),
    };
    let Ok(mut request) = Request::builder().method(method).uri(uri).body(Bytes::new()) else {
        return failed("the event's inputS3Url cannot be requested".into());
    };
    add_trace_id(&mut request, trace_id);
    match client.send(request, deadline, limit).await {
        Ok(response) => Fetched::Response {
            status: response.status,
            headers: response.headers,
            // Only the status and headers of an error matter: its document is not forwarded.
            body: if response.status == 200 {
                response.body
            } else {
                Bytes::new()
            },
        },
        Err(s3::Error::TooLarge { limit }) => Fetched::TooLarge { limit },
        // The limit as set, not the few microseconds less that were left when the request left.
        Err(s3::Error::Timeout(_)) => failed(format!("no complete answer within {allowed:?}")),
        // Transport errors never hold the URL.
        Err(e) => failed(e.to_string()),
    }
}

/// Sends a built `WriteGetObjectResponse`; `Ok` when S3 Object Lambda accepted it (2xx).
pub(crate) async fn post(
    client: &Client,
    mut request: Request<Bytes>,
    allowed: Duration,
    trace_id: Option<&str>,
) -> Result<(), Error> {
    add_trace_id(&mut request, trace_id);
    let response = client
        .send(request, Instant::now() + allowed, ANSWER_BODY_LIMIT)
        .await
        .map_err(|e| Error::WriteFailed(e.to_string()))?;
    if (200..300).contains(&response.status) {
        return Ok(());
    }
    let request_id = response
        .headers
        .get("x-amz-request-id")
        .and_then(|v| v.to_str().ok());
    let refused = ServiceError::parse(response.status, &response.body, request_id);
    Err(Error::WriteRefused {
        status: refused.status,
        code: refused.code,
        message: if refused.message.is_empty() {
            "-".into()
        } else {
            refused.message
        },
    })
}

/// `X-Amzn-Trace-Id`, unsigned (the presigned URL and our signature leave it out).
fn add_trace_id(request: &mut Request<Bytes>, trace_id: Option<&str>) {
    if let Some(value) = trace_id.and_then(|id| s3::trace_header_value(id).ok()) {
        request.headers_mut().insert(s3::TRACE_ID_HEADER, value);
    }
}

fn failed(reason: String) -> Fetched {
    Fetched::Failed { reason }
}
