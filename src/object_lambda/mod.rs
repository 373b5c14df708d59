//! The S3 Object Lambda function: fetch the original through its presigned URL, strip its metadata
//! (or report its EXIF), and answer with `WriteGetObjectResponse`, signed by our signer.
//!
//! A pure core and a thin shell:
//!
//! - [`decide`] (pure): what the fetch gave (status, headers, body, or a failure or a size-cap
//!   overflow) and `showExif` → the [`Reply`] (status, error code and message, forwarded headers,
//!   body). Its table is in its docs.
//! - [`write_get_object_response`] (pure): the [`Reply`] → the signed `POST /WriteGetObjectResponse`
//!   as an `http::Request`, for credentials, a time and a key cache given as arguments.
//! - [`head_reply`] (pure): a HEAD of the original → the [`HeadObjectResponse`] JSON.
//! - [`handle`], [`handle_in`] (I/O): one event, through [`Client`] (the S3 client's transport),
//!   with [`Settings`]. The Lambda bootstrap (`src/bin/object-lambda.rs`) and `edge-signer local`
//!   both call it.
//!
//! ```no_run
//! use edge_signer::object_lambda::{handle, parse_event, Client, Settings};
//! use edge_signer::sigv4::SigningKeyCache;
//! # async fn run(json: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
//! // Once, at start:
//! let client = Client::new();
//! let settings = Settings::from_env()?; // AWS_REGION, EDGE_SIGNER_S3OL_ENDPOINT, …_MAX_OBJECT_BYTES
//! let credentials = edge_signer::credentials::from_env()?;
//! let keys = SigningKeyCache::new();
//! // Per event:
//! let event = parse_event(json)?;
//! let handled = handle(&event, &client, &settings, &credentials, std::time::SystemTime::now(), &keys).await?;
//! println!("{}", handled.lambda_result());
//! # Ok(()) }
//! ```
//!
//! # What the function answers
//!
//! - **GetObject** (`getObjectContext`): GET `inputS3Url`, then `WriteGetObjectResponse` on **every**
//!   path, failures included (404 → 404 `NoSuchKey`, 403 → 403 `AccessDenied`, anything else →
//!   500 with a code; see [`decide`]). An image that cannot be stripped safely is an error, never
//!   its original bytes; a file that is not an image by its magic bytes is served unchanged. The
//!   only events answered without it are those it cannot be sent for: a malformed event, a route
//!   that is not a DNS label, a token that is not a header value ([`Error`]); the function then
//!   fails, and S3 Object Lambda answers the caller 500 at once.
//! - **HeadObject** (`headObjectContext`): HEAD `inputS3Url`; the function's result is the JSON of
//!   [`head_reply`], without `Content-Length` (unknown without the body).
//! - **ListObjects**, ListObjectsV2: not transformed ([`Error::UnsupportedEvent`]).
//!
//! **Range and partNumber.** An access point passes them to the function only when its
//! `AllowedFeatures` enable them (otherwise it answers 501 itself). The function then still answers
//! with the **whole transformed object**, 200, and no `Accept-Ranges`: byte offsets of the original
//! mean nothing in the stripped image, a range of the stripped image needs the whole of it anyway,
//! and HTTP lets a server ignore `Range` (RFC 9110, 14.2). CloudFront caches the whole object and
//! serves ranges from it. Conditional headers (`If-None-Match`…) are not forwarded to the original
//! either: every answer is a full 200 or an error.
//!
//! **The request.** `POST https://<outputRoute>.s3-object-lambda.<region>.amazonaws.com/WriteGetObjectResponse`
//! (or the endpoint override), signed for `s3-object-lambda` in `AWS_REGION` with
//! `UNSIGNED-PAYLOAD` (why: [`write_get_object_response`]); headers `x-amz-request-route`,
//! `x-amz-request-token`, `x-amz-fwd-status`, `x-amz-fwd-error-code`, `x-amz-fwd-error-message`,
//! `x-amz-fwd-header-Content-Type` and the other forwarded headers, all signed. It is sent once:
//! the token is single-use.
//!
//! **Settings** ([`Settings::from_env`]): `AWS_REGION` (required), `EDGE_SIGNER_S3OL_ENDPOINT`
//! (`http://127.0.0.1:9000`: send `WriteGetObjectResponse` there, with that `host`),
//! `EDGE_SIGNER_S3OL_MAX_OBJECT_BYTES` (default 32 MiB). Errors and results never hold the
//! presigned URL, the token or a signature, so they can be logged.

mod client;
mod event;
mod head;
mod reply;
mod settings;
mod write;

pub use client::Client;
pub use event::{S3ObjectLambdaEvent, parse_event, wants_exif};
pub use head::{HeadObjectResponse, head_reply};
pub use reply::{ErrorReply, Fetched, MAX_MESSAGE_BYTES, Reply, ReplyKind, decide};
pub use settings::{ENDPOINT_VAR, Endpoint, MAX_OBJECT_BYTES_VAR, REGION_VAR, Scheme, Settings};
pub use write::{FORWARDED_HEADER_PREFIX, PATH, SERVICE, write_get_object_response};

use crate::s3::RequestContext;
use crate::sigv4::{SigningError, SigningKeyCache};
use aws_credential_types::Credentials;
use event::Operation;
use http::Method;
use std::time::{Instant, SystemTime};

/// Why an event was not answered. [`Error::kind`] is the Lambda `errorType`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The event is not an S3 Object Lambda event (wrong types, missing fields); the message names
    /// the JSON path.
    #[error("malformed S3 Object Lambda event {0}")]
    MalformedEvent(String),
    /// An S3 Object Lambda event for an operation this function does not answer.
    #[error("unsupported S3 Object Lambda event: {0}")]
    UnsupportedEvent(&'static str),
    /// A field that goes into the `WriteGetObjectResponse` request cannot go there safely.
    #[error("invalid {field} in the event: {reason}")]
    InvalidEvent {
        /// The event field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The signer refused the request (a control character in the credentials).
    #[error("cannot sign WriteGetObjectResponse: {0}")]
    Signing(#[from] SigningError),
    /// `WriteGetObjectResponse` got no answer (connection, TLS, timeout).
    #[error("WriteGetObjectResponse failed: {0}")]
    WriteFailed(String),
    /// `WriteGetObjectResponse` was answered with an error status.
    #[error("WriteGetObjectResponse was refused: {status} {code}: {message}")]
    WriteRefused {
        /// The HTTP status.
        status: u16,
        /// The S3 error code from the answer's XML, or `-`.
        code: String,
        /// The S3 error message from the answer's XML, or `-`.
        message: String,
    },
}

impl Error {
    /// The Lambda `errorType`: `MalformedEvent`, `UnsupportedEvent`, `InvalidEvent`,
    /// `SigningFailed`, `WriteGetObjectResponseFailed` or `WriteGetObjectResponseRefused`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MalformedEvent(_) => "MalformedEvent",
            Self::UnsupportedEvent(_) => "UnsupportedEvent",
            Self::InvalidEvent { .. } => "InvalidEvent",
            Self::Signing(_) => "SigningFailed",
            Self::WriteFailed(_) => "WriteGetObjectResponseFailed",
            Self::WriteRefused { .. } => "WriteGetObjectResponseRefused",
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl ToString) -> Self {
        Self::InvalidEvent {
            field,
            reason: reason.to_string(),
        }
    }
}

/// What [`handle`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    /// GetObject: `WriteGetObjectResponse` was sent and accepted.
    Written(Written),
    /// HeadObject: return this as the function's result.
    Head(HeadObjectResponse),
}

/// The `WriteGetObjectResponse` that was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// `x-amz-fwd-status`.
    pub status: u16,
    /// `x-amz-fwd-error-code`, for an error.
    pub error_code: Option<&'static str>,
    /// What the body was.
    pub kind: ReplyKind,
    /// The body's length.
    pub body_bytes: usize,
}

impl Handled {
    /// The function's result: for GetObject S3 Object Lambda ignores it (`{"statusCode": N}`); for
    /// HeadObject it is the answer.
    pub fn lambda_result(&self) -> serde_json::Value {
        match self {
            Self::Written(written) => serde_json::json!({ "statusCode": written.status }),
            Self::Head(head) => serde_json::to_value(head).unwrap_or_default(),
        }
    }
}

/// Answers one event: see the [module](self) docs. Each exchange takes at most
/// [`Settings::timeout`]; [`handle_in`] also keeps to the invocation's deadline.
///
/// `now` is the signing time; `credentials` and `keys` are the caller's, kept between events.
///
/// # Errors
/// See [`Error`]: for a GetObject, only when `WriteGetObjectResponse` could not be built, sent or
/// was refused.
pub async fn handle(
    event: &S3ObjectLambdaEvent,
    client: &Client,
    settings: &Settings,
    credentials: &Credentials,
    now: SystemTime,
    keys: &SigningKeyCache,
) -> Result<Handled, Error> {
    answer(event, client, settings, credentials, now, keys, None, None).await
}

/// [`handle`] within an invocation: each exchange takes at most [`Settings::timeout`] and ends
/// by `context.deadline` (give the invocation's deadline less the time to answer; the fetch
/// leaves half of what is left for `WriteGetObjectResponse`), and carries `X-Amzn-Trace-Id` when
/// `context` has a trace id.
///
/// # Errors
/// As [`handle`].
pub async fn handle_in(
    event: &S3ObjectLambdaEvent,
    client: &Client,
    settings: &Settings,
    credentials: &Credentials,
    now: SystemTime,
    keys: &SigningKeyCache,
    context: &RequestContext,
) -> Result<Handled, Error> {
    let trace_id = context.trace_id.as_deref();
    answer(
        event,
        client,
        settings,
        credentials,
        now,
        keys,
        Some(context.deadline),
        trace_id,
    )
    .await
}

#[allow(clippy::too_many_arguments)] // the arguments of `handle_in`, its context taken apart
async fn answer(
    event: &S3ObjectLambdaEvent,
    client: &Client,
    settings: &Settings,
    credentials: &Credentials,
    now: SystemTime,
    keys: &SigningKeyCache,
    deadline: Option<Instant>,
    trace_id: Option<&str>,
) -> Result<Handled, Error> {
    // The time an exchange may take: the setting, within a share of what is left before the deadline.
    let allowed = |share: u32| match deadline {
        Some(deadline) => settings
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()) / share),
        None => settings.timeout,
    };
    let show_exif = wants_exif(event);
    match event::operation(event)? {
        Operation::Get {
            input_s3_url,
            route,
            token,
        } => {
            // Refuse what cannot be answered before fetching anything.
            write::check_context(route, token)?;
            // The fetch may use half of the time left, so that its failure can still be answered.
            let fetched = client::fetch(
                client,
                Method::GET,
                input_s3_url,
                settings.max_object_bytes,
                allowed(2),
                trace_id,
            )
            .await;
            let reply = decide(fetched, show_exif);
            let request = write_get_object_response(route, token, &reply, settings, credentials, now, keys)?;
            client::post(client, request, allowed(1), trace_id).await?;
            Ok(Handled::Written(Written {
                status: reply.status,
                error_code: reply.error.as_ref().map(|e| e.code),
                kind: reply.kind,
                body_bytes: reply.body.len(),
            }))
        }
        Operation::Head { input_s3_url } => {
            let fetched = client::fetch(
                client,
                Method::HEAD,
                input_s3_url,
                settings.max_object_bytes,
                allowed(1),
                trace_id,
            )
            .await;
            Ok(Handled::Head(head_reply(fetched, show_exif)))
        }
    }
}
