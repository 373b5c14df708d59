//! The one S3 client of the crate: GetObject, HeadObject and PutObject over hyper + rustls,
//! signed by our signer ([`crate::sigv4`]).
//!
//! A pure core and a thin shell:
//!
//! - [`Config::locate`] (pure): bucket + key → scheme, host and path. The endpoint is
//!   `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (path-style), else S3's regional endpoint.
//!   Keys are encoded once, in S3's canonical form.
//! - [`build_request`] (pure): an [`Operation`] + configuration, credentials, time and key cache →
//!   the signed `http::Request`, with `X-Amzn-Trace-Id` (unsigned) when a trace id is given.
//! - [`ServiceError::parse`] and [`ObjectHead::from_headers`] (pure): S3's answer → typed values.
//! - [`Transport`] (I/O): one hyper client, one connection pool, one TLS configuration, shared by
//!   this client, `object-lambda`'s presigned fetch and its `WriteGetObjectResponse`.
//! - [`Client`] (I/O): the three operations (GetObject whole or by [`ByteRange`]), each bounded
//!   by the [`RequestContext`]'s deadline.
//!
//! The client does not retry by itself (hyper resends only a request that a pooled connection
//! closed before it was written): each [`Error`] says whether a retry may help
//! ([`Error::is_retryable`]), and the caller, which knows its deadline and its duty (a Lambda
//! retry, a Batch Operations `TemporaryFailure`), decides.
//!
//! ```no_run
//! use edge_signer::s3::{Client, Config, ObjectRef, RequestContext, Transport};
//! use std::time::{Duration, Instant};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // Once, at start (inside the Tokio runtime):
//! let client = Client::from_env(Transport::new())?; // AWS_REGION, AWS_ENDPOINT_URL_S3…, AWS_ACCESS_KEY_ID…
//! // Per invocation: its deadline less the time needed to answer, and its trace id.
//! let deadline = Instant::now() + Duration::from_secs(10);
//! let context = RequestContext::new(deadline).with_trace_id(std::env::var("_X_AMZN_TRACE_ID").ok());
//! match client.get_object(&ObjectRef::new("photos", "in/red flower.jpg"), 32 << 20, &context).await {
//!     Ok(object) => println!("{} bytes, ETag {:?}", object.body.len(), object.head.etag),
//!     Err(e) if e.is_not_found() => println!("gone"),
//!     Err(e) if e.is_retryable() => return Err(e.into()), // let Lambda retry
//!     Err(e) => println!("permanent: {e}"),
//! }
//! # Ok(()) }
//! ```

mod endpoint;
mod error;
mod request;
mod response;
mod transport;

pub use endpoint::{
    Config, ENDPOINT_URL_S3_VAR, ENDPOINT_URL_VAR, Endpoint, LocateError, Location, MAX_KEY_BYTES,
    REGION_VAR, Scheme, is_region,
};
pub use error::{Error, ServiceError};
pub use request::{
    ByteRange, CHECKSUM_CRC32_HEADER, ContentHeaders, METADATA_PREFIX, Metadata, ObjectRef, Operation,
    PutObject, SERVICE, Signer, TRACE_ID_HEADER, WriteCondition, build_request, crc32_checksum,
    trace_header_value,
};
pub use response::{Object, ObjectHead, ObjectRange, PutOutput, parse_content_range};
pub use transport::{RawResponse, Transport};

use crate::sigv4::SigningKeyCache;
use aws_credential_types::Credentials;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The most of a PutObject's 2xx body read (S3 sends none).
const PUT_BODY_LIMIT: u64 = 64 * 1024;

/// What one invocation gives each of its requests: a deadline and a trace id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestContext {
    /// Each request must be answered (body read) by then, or it is cut short with
    /// [`Error::Timeout`]. Give the invocation's deadline less the time the function needs to
    /// answer after a failed request.
    pub deadline: Instant,
    /// The invocation's trace id (lambda_runtime's `Context::xray_trace_id`, or
    /// `_X_AMZN_TRACE_ID`), sent verbatim as `X-Amzn-Trace-Id`, so that Lambda's recursive-loop
    /// detection sees the requests
    /// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html>).
    pub trace_id: Option<String>,
}

impl RequestContext {
    /// Requests cut short at `deadline`, without a trace id.
    pub fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            trace_id: None,
        }
    }

    /// Requests cut short `reserve` before the invocation's `deadline` (at once if that has
    /// passed), so that the function still has `reserve` to answer.
    ///
    /// ```
    /// use edge_signer::s3::RequestContext;
    /// use std::time::{Duration, Instant};
    /// let end = Instant::now() + Duration::from_secs(30);
    /// assert_eq!(RequestContext::before(end, Duration::from_secs(2)).deadline, end - Duration::from_secs(2));
    /// ```
    pub fn before(deadline: Instant, reserve: Duration) -> Self {
        Self::new(deadline.checked_sub(reserve).unwrap_or(deadline))
    }

    /// The same, with this trace id (none when `None` or empty).
    pub fn with_trace_id(self, trace_id: Option<impl Into<String>>) -> Self {
        Self {
            trace_id: trace_id.map(Into::into).filter(|t| !t.is_empty()),
            ..self
        }
    }

    /// The time left before the deadline.
    pub fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// The S3 client: a [`Transport`], a [`Config`], credentials and a signing-key cache. Cloning it
/// shares all four.
#[derive(Clone, Debug)]
pub struct Client {
    transport: Transport,
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    credentials: Credentials,
    keys: SigningKeyCache,
}

impl Client {
    /// A client over `transport` (share one per process).
    pub fn new(transport: Transport, config: Config, credentials: Credentials) -> Self {
        Self {
            transport,
            inner: Arc::new(Inner {
                config,
                credentials,
                keys: SigningKeyCache::new(),
            }),
        }
    }

    /// A client over `transport` for the Lambda environment: [`Config::from_env`] and
    /// [`crate::credentials::from_env`]. The error names the variable at fault.
    pub fn from_env(transport: Transport) -> Result<Self, String> {
        Ok(Self::new(
            transport,
            Config::from_env()?,
            crate::credentials::from_env()?,
        ))
    }

    /// The transport, for requests that are not S3 operations (a presigned URL).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The region and endpoint.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// GetObject: the object's head and body, at most `max_bytes` (else [`Error::TooLarge`],
    /// unread).
    ///
    /// # Errors
    /// See [`Error`]: S3's error answer (`NoSuchKey`, 412 for `If-Match`…), a timeout, a
    /// connection failure, a body too large, an object that cannot be addressed.
    pub async fn get_object(
        &self,
        object: &ObjectRef<'_>,
        max_bytes: u64,
        context: &RequestContext,
    ) -> Result<Object, Error> {
        let response = self
            .send(Operation::GetObject(object), max_bytes, context)
            .await?;
        Ok(Object {
            head: ObjectHead::from_headers(response.status, &response.headers),
            body: response.body,
        })
    }

    /// GetObject of one byte range (`Range: bytes=first-last`): the object's head, the part (206
    /// Partial Content; shorter than asked when the object ends first) and the object's size
    /// from `Content-Range`. Reading a file's first bytes, then more only when they are needed,
    /// costs one request each (S3 charges GETs per request, whatever their length).
    ///
    /// # Errors
    /// As [`Client::get_object`]; a range that starts at or past the object's end (any range of
    /// an empty object) is [`Error::RangeNotSatisfiable`], an answer with other bytes than
    /// asked for [`Error::InvalidAnswer`]. A server that ignores `Range` and answers 200 with a
    /// whole object that fits the range is taken at its word (RFC 9110 allows it).
    pub async fn get_object_range(
        &self,
        object: &ObjectRef<'_>,
        range: ByteRange,
        context: &RequestContext,
    ) -> Result<ObjectRange, Error> {
        let response = match self
            .send(Operation::GetObjectRange(object, range), range.len(), context)
            .await
        {
            Err(Error::TooLarge { .. }) => {
                return Err(Error::InvalidAnswer("more bytes than the range holds"));
            }
            other => other?,
        };
        let head = ObjectHead::from_headers(response.status, &response.headers);
        let body = response.body;
        if response.status != 206 {
            if range.first != 0 {
                return Err(Error::InvalidAnswer(
                    "the whole object where a part of it was asked for",
                ));
            }
            return Ok(ObjectRange {
                head,
                first: 0,
                object_size: body.len() as u64,
                body,
            });
        }
        let (first, last, object_size) = response
            .headers
            .get(http::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_content_range)
            .ok_or(Error::InvalidAnswer("a 206 answer without a valid Content-Range"))?;
        if first != range.first || last > range.last || body.len() as u64 != last - first + 1 {
            return Err(Error::InvalidAnswer("the bytes served are not those asked for"));
        }
        Ok(ObjectRange {
            head,
            first,
            body,
            object_size,
        })
    }

    /// HeadObject: what S3 says about the object, without its body.
    ///
    /// # Errors
    /// As [`Client::get_object`]; a missing object is a 404 `NotFound` (a HEAD has no document).
    pub async fn head_object(
        &self,
        object: &ObjectRef<'_>,
        context: &RequestContext,
    ) -> Result<ObjectHead, Error> {
        let response = self.send(Operation::HeadObject(object), 0, context).await?;
        Ok(ObjectHead::from_headers(response.status, &response.headers))
    }

    /// PutObject, with its content headers, metadata and condition.
    ///
    /// # Errors
    /// As [`Client::get_object`]; a condition that does not hold is 412 `PreconditionFailed`
    /// ([`Error::is_precondition_failed`]), a lost race 409 `ConditionalRequestConflict`.
    pub async fn put_object(
        &self,
        put: &PutObject<'_>,
        context: &RequestContext,
    ) -> Result<PutOutput, Error> {
        let response = self
            .send(Operation::PutObject(put), PUT_BODY_LIMIT, context)
            .await?;
        Ok(PutOutput::from_headers(response.status, &response.headers))
    }

    async fn send(
        &self,
        operation: Operation<'_, '_>,
        max_body: u64,
        context: &RequestContext,
    ) -> Result<RawResponse, Error> {
        let signer = Signer {
            config: &self.inner.config,
            credentials: &self.inner.credentials,
            time: SystemTime::now(),
            keys: &self.inner.keys,
        };
        let request = build_request(operation, &signer, context.trace_id.as_deref())?;
        let response = self.transport.send(request, context.deadline, max_body).await?;
        if (200..300).contains(&response.status) {
            Ok(response)
        } else if response.status == 416 {
            let object_size = response
                .headers
                .get(http::header::CONTENT_RANGE)
                .and_then(|v| response::unsatisfied_range_size(v.to_str().ok()?))
                .or_else(|| error::actual_object_size(&response.body));
            Err(Error::RangeNotSatisfiable { object_size })
        } else {
            let request_id = response
                .headers
                .get("x-amz-request-id")
                .and_then(|v| v.to_str().ok());
            Err(ServiceError::parse(response.status, &response.body, request_id).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debug_never_shows_a_secret() {
        let credentials =
            Credentials::new("AKIDEXAMPLE", "SECRETKEY", Some("SESSIONTOKEN".into()), None, "t");
        let client = Client::new(Transport::new(), Config::new("us-east-1"), credentials);
        let shown = format!("{client:?}");
        assert!(shown.contains("us-east-1"), "{shown}");
        assert!(
            !shown.contains("SECRETKEY") && !shown.contains("SESSIONTOKEN"),
            "{shown}"
        );
    }

    #[test]
    fn contexts() {
        let end = Instant::now() + Duration::from_secs(5);
        let context = RequestContext::before(end, Duration::from_secs(1)).with_trace_id(Some(""));
        assert_eq!(
            (context.deadline, context.trace_id),
            (end - Duration::from_secs(1), None)
        );
        let past = RequestContext::before(Instant::now(), Duration::from_secs(1));
        assert_eq!(past.time_left(), Duration::ZERO);
    }
}
