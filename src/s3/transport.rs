//! The I/O shell: one hyper client (one connection pool, one TLS configuration) that sends a built
//! request before a deadline and reads a bounded body. Every HTTP exchange of the crate's Lambda
//! functions goes through it.

use super::error::Error;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{self, connect::HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::{Duration, Instant};

/// How long an idle connection is kept for the next request. Short: Lambda freezes the process
/// between invocations, and a server closes idle connections after a while; a connection found
/// closed before the request was written is retried by hyper, one closed later is not.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest error body read (for its code and message); the rest is not read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The most allocated for a 2xx body before its bytes arrive; a longer body grows the buffer.
const PREALLOCATE_LIMIT: u64 = 64 << 20;

/// An HTTP/1.1 client for `https://` (rustls with the ring provider and the Mozilla root
/// certificates compiled in: no OpenSSL, no certificate files read at start) and plain `http://`
/// (a local endpoint). Build it once, inside the Tokio runtime, and share it (cloning shares the
/// pool): the S3 client, the presigned fetch and `WriteGetObjectResponse` all use it.
#[derive(Clone, Debug)]
pub struct Transport {
    http: legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Default for Transport {
    fn default() -> Self {
        Self::new()
    }
}

/// An answer with its body read: the whole 2xx body (within the caller's limit), up to 64 KiB of
/// an error body, nothing for a HEAD.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Transport {
    /// A client with rustls' safe default protocol versions (TLS 1.2 and 1.3).
    pub fn new() -> Self {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            // ring implements cipher suites for both default versions, so this cannot fail.
            .expect("the ring provider supports TLS 1.2 and 1.3")
            .https_or_http()
            .enable_http1()
            .build();
        Self {
            http: legacy::Client::builder(TokioExecutor::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(IDLE_TIMEOUT)
                .build(connector),
        }
    }

    /// Sends `request` and reads its answer, all before `deadline`. A 2xx body longer than
    /// `max_body` is [`Error::TooLarge`], detected by `Content-Length` before reading or while
    /// reading, and the rest is never read (the connection is dropped).
    ///
    /// # Errors
    /// [`Error::Timeout`], [`Error::Connect`], [`Error::Interrupted`], [`Error::TooLarge`]. An
    /// error status is not an error here: the caller reads it.
    pub async fn send(
        &self,
        request: Request<Bytes>,
        deadline: Instant,
        max_body: u64,
    ) -> Result<RawResponse, Error> {
        let allowed = deadline.saturating_duration_since(Instant::now());
        let head = request.method() == Method::HEAD;
        let exchange = self.exchange(request.map(Full::new), head, max_body);
        tokio::time::timeout_at(deadline.into(), exchange)
            .await
            .unwrap_or(Err(Error::Timeout(whole_millis(allowed))))
    }

    async fn exchange(
        &self,
        request: Request<Full<Bytes>>,
        head: bool,
        max_body: u64,
    ) -> Result<RawResponse, Error> {
        let response = self.http.request(request).await.map_err(|e| {
            if e.is_connect() {
                Error::Connect
            } else {
                Error::Interrupted
            }
        })?;
        let (parts, body) = response.into_parts();
        let status = parts.status.as_u16();
        let body = if head {
            // A HEAD answer has no body; its Content-Length is the object's.
            Bytes::new()
        } else if parts.status.is_success() {
            let declared = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            if declared.is_some_and(|length| length > max_body) {
                return Err(Error::TooLarge { limit: max_body });
            }
            read_bounded(body, declared, max_body).await?
        } else {
            // An error document is small; one cut short or broken is read as far as it came.
            Limited::new(body, ERROR_BODY_LIMIT)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default()
        };
        Ok(RawResponse {
            status,
            headers: parts.headers,
            body,
        })
    }
}

/// Reads a 2xx body of at most `max_body` bytes into one buffer, allocated once at its declared
/// length (at most [`PREALLOCATE_LIMIT`]: a length is a claim, not yet bytes), each frame copied
/// in and released as it comes, so hyper reuses its read buffer. [`Error::TooLarge`] as soon as
/// the bytes pass `max_body`, the rest unread; [`Error::Interrupted`] when the body breaks off.
async fn read_bounded(body: Incoming, declared: Option<u64>, max_body: u64) -> Result<Bytes, Error> {
    let too_large = Error::TooLarge { limit: max_body };
    let capacity = declared.unwrap_or(0).min(max_body).min(PREALLOCATE_LIMIT);
    let mut buffer = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(|_| Error::Interrupted)?.into_data() else {
            continue; // trailers
        };
        let total = buffer.len() as u64 + data.len() as u64;
        if total > max_body {
            return Err(too_large);
        }
        if buffer.is_empty() && declared == Some(data.len() as u64) {
            // The whole body in one frame: kept without a copy.
            return Ok(data);
        }
        buffer.extend_from_slice(&data);
    }
    Ok(Bytes::from(buffer))
}

/// `allowed` rounded up to whole milliseconds, for a message that reads as the limit that was set.
fn whole_millis(allowed: Duration) -> Duration {
    Duration::from_millis(u64::try_from(allowed.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
}
