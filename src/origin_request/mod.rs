//! The origin-request transformation: `event + credentials + clock + config -> outcome`.
//!
//! Pure: no I/O, no clock, no environment. [`Handler`] is the façade the shells use (the Lambda
//! bootstrap, the Node.js addon, the CLI): credentials, configuration and signing keys, built once,
//! then [`Handler::handle`] per event.
//!
//! The rules (Lambda@Edge event structure and restrictions:
//! <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html>,
//! <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-function-restrictions-all.html>):
//! - only origins in the configured table are signed; any other gets a generated 502;
//! - `host` becomes the origin's domain; the viewer's `authorization` and `x-amz-*` headers go;
//! - signed: `host`, `x-amz-cf-id` (= `config.requestId`, which CloudFront adds after the function,
//!   so it is signed but not added), `x-amz-content-sha256`, `x-amz-date`, `x-amz-security-token`
//!   (and `x-amz-region-set` for SigV4A);
//! - the path is put in S3 canonical form, and the returned `uri` is exactly the one signed
//!   (after the origin path, which CloudFront puts in front of it);
//! - only allow-listed query parameters are kept, in canonical form, exactly as signed.

use crate::cloudfront::{Event, HeaderField, Headers, Request, Response, Text};
use crate::config::HandlerConfig;
use crate::origin::{Signing, recognise};
use crate::sigv4::bytes::is_token_byte;
use crate::sigv4::{self, SigV4aKeyCache, SignableBody, SignableRequest, SigningKeyCache, SigningParams};
use aws_credential_types::Credentials;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;
use thiserror::Error;

mod body;
mod path;
mod query;

use body::{decode_body, is_bodiless_method};
use path::{check_service_path, is_signable_origin_path};
use query::{QueryRule, kept_query};

/// What to do when a request with a body arrives without it; in the 502's body and in the log.
pub const INCLUDE_BODY: &str = "the origin-request function must see the body to sign it: enable \"include body\" on the function's association with the cache behaviour";

/// CloudFront's limit on the length of uri plus query string.
pub const MAX_URI_AND_QUERY: usize = 8192;

/// The origin-request handler: the execution role's credentials, the configuration and the
/// signing-key cache, kept for the life of the process; one [`Handler::handle`] per event.
///
/// ```
/// use aws_credential_types::Credentials;
/// use edge_signer::config::HandlerConfig;
/// use edge_signer::origin_request::{Handler, Outcome};
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "doc");
/// let handler = Handler::new(HandlerConfig::default(), credentials);
/// let event = br#"{"Records":[{"cf":{
///   "config":{"distributionDomainName":"d1.cloudfront.net","distributionId":"E1","eventType":"origin-request","requestId":"r1"},
///   "request":{"clientIp":"203.0.113.1","method":"GET","uri":"/cat.jpg","querystring":"","headers":{},
///     "origin":{"custom":{"domainName":"ap-111122223333.s3-object-lambda.us-west-2.amazonaws.com","path":""}}}}}]}"#;
/// let now = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
/// let outcome = handler.handle(event, now).unwrap();
/// assert!(matches!(outcome, Outcome::Forward(_)));
/// assert!(outcome.to_json().contains(r#""x-amz-date":[{"key":"X-Amz-Date","value":"20150830T123600Z"}]"#));
/// ```
pub struct Handler {
    credentials: Credentials,
    config: HandlerConfig,
    keys: SigningKeyCache,
    v4a_keys: SigV4aKeyCache,
}

impl Handler {
    /// A handler signing with `credentials` under `config`.
    pub fn new(config: HandlerConfig, credentials: Credentials) -> Self {
        Self {
            credentials,
            config,
            keys: SigningKeyCache::new(),
            v4a_keys: SigV4aKeyCache::new(),
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &HandlerConfig {
        &self.config
    }

    /// Parses an event's JSON and decides, signing at `now`. Errors name the JSON path at fault.
    ///
    /// The outcome borrows from `event` (strings without escapes and every field the handler does
    /// not model are not copied) and from the handler (the session token).
    pub fn handle<'a>(&'a self, event: &'a [u8], now: SystemTime) -> Result<Outcome<'a>, EventError> {
        handle_json(event, &self.context(now))
    }

    /// [`Handler::handle`] for an event whose `body.data` travels apart, as `body_data`: the
    /// decision is made as if `body_data` were the event's `body.data` (it is what is decoded and
    /// hashed), and the outcome keeps the event's own `body.data` (a placeholder), which the shell
    /// puts the data back in. The Node.js package sends a body this way, so that a body of up to
    /// 1 MB is not written into the event's JSON and read back out of the outcome's.
    /// `body_data` is ignored when the event has no `body`.
    pub fn handle_detached<'a>(
        &'a self,
        event: &'a [u8],
        body_data: &'a str,
        now: SystemTime,
    ) -> Result<Outcome<'a>, EventError> {
        handle_with(parse(event)?, &self.context(now), Some(body_data))
    }

    /// [`Handler::handle`], with the outcome as the JSON Lambda@Edge expects back.
    pub fn handle_to_json(&self, event: &[u8], now: SystemTime) -> Result<String, EventError> {
        self.handle(event, now).map(|outcome| outcome.to_json())
    }

    /// The [`Context`] of one event, for [`handle_json`] and [`handle`].
    pub fn context(&self, now: SystemTime) -> Context<'_> {
        Context {
            credentials: &self.credentials,
            now,
            config: &self.config,
            keys: &self.keys,
            v4a_keys: &self.v4a_keys,
        }
    }
}

/// The configuration and the access key id only: the secret and the session token never appear.
impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handler")
            .field("access_key_id", &self.credentials.access_key_id())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A malformed event or one this handler must not process. The bootstrap reports it to Lambda as
/// a function error (CloudFront answers the viewer 500), and nothing is forwarded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The JSON does not have the origin-request event's shape.
    #[error("malformed event at {path}: {message}")]
    Malformed {
        /// Where in the event, such as `Records[0].cf.request.uri`.
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// CloudFront sends one record per event.
    #[error("expected exactly one record in Records, found {0}")]
    RecordCount(usize),
    /// The function is associated with another trigger.
    #[error("expected config.eventType \"origin-request\", found {0:?}")]
    WrongEventType(String),
    /// `origin` must hold exactly one of `custom` and `s3`.
    #[error("request.origin must hold exactly one of \"custom\" and \"s3\"")]
    AmbiguousOrigin,
    /// A header name is not a lower-case HTTP token.
    #[error("invalid header name {0:?} in request.headers: expected a lower-case HTTP token")]
    HeaderName(String),
    /// The body's encoding is not one CloudFront uses, or its data does not decode.
    #[error("request.body: {0}")]
    Body(String),
    /// Signing refused the request (a bug if it happens: the event was checked before).
    #[error("cannot sign the request: {0}")]
    Signing(#[from] sigv4::SigningError),
    /// The signer gave no `Authorization` value (a bug if it happens: header signing is asked for).
    /// Nothing is forwarded unsigned.
    #[error("the signer returned no Authorization header; nothing is forwarded")]
    Unsigned,
}

impl EventError {
    /// A short, stable name for the kind of error, for Lambda's `errorType` and for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            EventError::Malformed { .. } => "MalformedEvent",
            EventError::RecordCount(_) => "UnexpectedRecordCount",
            EventError::WrongEventType(_) => "WrongEventType",
            EventError::AmbiguousOrigin => "AmbiguousOrigin",
            EventError::HeaderName(_) => "InvalidHeaderName",
            EventError::Body(_) => "InvalidBody",
            EventError::Signing(_) | EventError::Unsigned => "SigningFailed",
        }
    }
}

/// What the handler decided.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// Forward this (signed) request to the origin.
    Forward(Box<Request<'a>>),
    /// Answer the viewer with this generated response; `reason` is for the log.
    Respond {
        /// The response CloudFront returns (and caches per its error-caching settings).
        response: Response,
        /// Why, in words for the operator.
        reason: String,
    },
}

/// What Lambda@Edge expects back: the request object, or the response object (the reason is the
/// log's, never sent).
impl serde::Serialize for Outcome<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Forward(request) => request.serialize(serializer),
            Outcome::Respond { response, .. } => response.serialize(serializer),
        }
    }
}

impl Outcome<'_> {
    /// The JSON Lambda@Edge expects back ([`Outcome`]'s `Serialize`), as text.
    pub fn to_json(&self) -> String {
        // Room for a typical request plus the headers signing adds, so the buffer never grows.
        let mut out = Vec::with_capacity(4096);
        let written = serde_json::to_writer(&mut out, self);
        // serde_json fails only on a map key that is not a string, a failing `Serialize` impl or
        // a failing writer: every key here is a string, raw values are JSON serde_json checked, and
        // a `Vec` takes every byte. What it writes is UTF-8.
        written.unwrap_or_else(|e| unreachable!("the outcome serialises: {e}"));
        String::from_utf8(out).unwrap_or_else(|e| unreachable!("serde_json writes UTF-8: {e}"))
    }

    /// The HTTP status of a generated response; `None` when forwarding.
    pub fn status(&self) -> Option<&str> {
        match self {
            Outcome::Forward(_) => None,
            Outcome::Respond { response, .. } => Some(&response.status),
        }
    }
}

/// Everything the transformation needs besides the event.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The execution role's credentials.
    pub credentials: &'a Credentials,
    /// The signing time.
    pub now: SystemTime,
    /// Allow-list and origin table.
    pub config: &'a HandlerConfig,
    /// Signing keys, reused across invocations.
    pub keys: &'a SigningKeyCache,
    /// SigV4A's derived keys (S3 Multi-Region Access Points), reused across invocations.
    pub v4a_keys: &'a SigV4aKeyCache,
}

/// Parses an event's JSON and transforms it. Errors name the JSON path at fault.
///
/// The outcome borrows from `event` (strings without escapes and every field the handler does not
/// model are not copied) and from the context's credentials (the session token).
pub fn handle_json<'a>(event: &'a [u8], context: &Context<'a>) -> Result<Outcome<'a>, EventError> {
    handle(parse(event)?, context)
}

/// Parses an event; the whole input must be the one JSON value.
pub fn parse(event: &[u8]) -> Result<Event<'_>, EventError> {
    // One UTF-8 check of the whole input lets serde_json borrow strings without checking each.
    let Ok(text) = std::str::from_utf8(event) else {
        return Err(locate_error(event));
    };
    let deserializer = &mut serde_json::Deserializer::from_str(text);
    match Event::deserialize(&mut *deserializer).and_then(|event| deserializer.end().map(|()| event)) {
        Ok(event) => Ok(event),
        // Tracking the path costs every event; only a refused one pays for it, read again.
        Err(_) => Err(locate_error(event)),
    }
}

/// The error of an event serde_json refuses, with the JSON path where it went wrong.
fn locate_error(event: &[u8]) -> EventError {
    let deserializer = &mut serde_json::Deserializer::from_slice(event);
    let parsed: Result<Event<'_>, _> = serde_path_to_error::deserialize(&mut *deserializer);
    match parsed {
        Err(e) => EventError::Malformed {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        },
        // The event is the whole input: nothing but whitespace may follow it.
        Ok(_) => EventError::Malformed {
            path: ".".to_owned(),
            message: deserializer
                .end()
                .err()
                .map_or_else(|| "invalid JSON".to_owned(), |e| e.to_string()),
        },
    }
}

/// Transforms a parsed event.
pub fn handle<'a>(event: Event<'a>, context: &Context<'a>) -> Result<Outcome<'a>, EventError> {
    handle_with(event, context, None)
}

/// [`handle`], with the body's data given apart when `body_data` is `Some` (see
/// [`Handler::handle_detached`]).
fn handle_with<'a>(
    event: Event<'a>,
    context: &Context<'a>,
    body_data: Option<&str>,
) -> Result<Outcome<'a>, EventError> {
    let count = event.records.len();
    let Some(record) = event.records.into_iter().next().filter(|_| count == 1) else {
        return Err(EventError::RecordCount(count));
    };
    let cf = record.cf;
    if cf.config.event_type.as_str() != "origin-request" {
        return Err(EventError::WrongEventType(cf.config.event_type.to_string()));
    }
    let mut request = cf.request;
    let (origin, _) = request.origin.details().ok_or(EventError::AmbiguousOrigin)?;
    if let Some(name) = request.headers.keys().find(|name| !is_lower_token(name)) {
        return Err(EventError::HeaderName(name.to_owned()));
    }
    let domain = origin.domain_name.clone();
    let origin_path = origin.path.clone().unwrap_or_default();
    let Some(target) = recognise(&domain, &context.config.origins) else {
        return Ok(respond(
            502,
            format!(
                "origin {:?} is not a recognised origin; nothing was signed",
                domain.as_str()
            ),
        ));
    };

    // CloudFront sends `origin path + uri`, so that is what must be signed. The origin path comes
    // from the distribution's configuration, not the viewer: one we cannot sign exactly is a
    // configuration error (502), reported as such.
    if !is_signable_origin_path(&origin_path) {
        return Ok(respond(
            502,
            format!(
                "origin path {origin_path:?} of {:?} must be empty, or start but not end with '/' and \
                 need no percent-encoding (characters A-Za-z0-9-_.~/ or %XX escapes in canonical form)",
                domain.as_str()
            ),
        ));
    }
    let signing = target.kind.signing;
    // S3: the uri is the key, sent and signed in S3 canonical form. Other services: the uri goes
    // as it came, and the signer normalises and double-encodes it, as the service does.
    let uri = match signing {
        Signing::S3 | Signing::S3SigV4a => match sigv4::s3_canonical_path(&request.uri) {
            Ok(uri) => Cow::Owned(uri),
            Err(_) => {
                return Ok(respond(
                    400,
                    "the path has invalid percent-encoding or is not UTF-8".into(),
                ));
            }
        },
        Signing::Default => {
            if let Err(reason) = check_service_path(&request.uri, &origin_path) {
                return Ok(respond(400, reason.into()));
            }
            Cow::Borrowed(request.uri.as_str())
        }
    };
    let rule = match (&target.kind.query_allow_list, signing) {
        (Some(list), _) => QueryRule::AllowList(list),
        (None, Signing::S3 | Signing::S3SigV4a) => QueryRule::AllowList(&context.config.query_allow_list),
        (None, Signing::Default) => QueryRule::All,
    };
    let query = kept_query(&request.querystring, rule);
    if uri.len() + query.len() >= MAX_URI_AND_QUERY {
        return Ok(respond(
            414,
            format!(
                "uri and query are {} characters; the limit is {MAX_URI_AND_QUERY}",
                uri.len() + query.len()
            ),
        ));
    }
    let body = match &request.body {
        Some(body) if body.is_truncated() => {
            return Ok(respond(
                413,
                "the body was truncated by CloudFront, so it cannot be signed".into(),
            ));
        }
        Some(body) => Some(decode_body(body, body_data)?),
        None if !is_bodiless_method(&request.method) => {
            let mut outcome = respond(
                502,
                format!(
                    "a {} request to {:?} needs its body signed, but CloudFront did not include it: {INCLUDE_BODY}",
                    request.method.as_str(),
                    domain.as_str()
                ),
            );
            if let Outcome::Respond { response, .. } = &mut outcome {
                response.body.push_str(INCLUDE_BODY);
                response.body.push('\n');
            }
            return Ok(outcome);
        }
        None => None,
    };
    let payload_hash = body.as_deref().map(|bytes| hex::encode(Sha256::digest(bytes)));
    let payload = match (&payload_hash, signing) {
        (Some(hash), _) => SignableBody::Precomputed(hash),
        (None, Signing::S3 | Signing::S3SigV4a) => SignableBody::UnsignedPayload,
        (None, Signing::Default) => SignableBody::Empty,
    };

    let settings = signing.settings();
    let sent_path = if origin_path.is_empty() {
        Cow::Borrowed(&*uri)
    } else {
        Cow::Owned(format!("{origin_path}{uri}"))
    };
    let signed_headers = [
        ("host", domain.as_str()),
        ("x-amz-cf-id", cf.config.request_id.as_str()),
    ];
    let signable = SignableRequest {
        method: &request.method,
        path: &sent_path,
        query: &query,
        headers: &signed_headers,
        body: payload,
    };
    let params = SigningParams {
        credentials: context.credentials,
        region: target.region,
        service: target.service,
        time: context.now,
        settings: &settings,
    };
    let signature = match signing {
        Signing::S3SigV4a => sigv4::sign_v4a(&signable, &params, context.v4a_keys)?,
        Signing::S3 | Signing::Default => sigv4::sign(&signable, &params, context.keys)?,
    };

    request
        .headers
        .retain(|name| name != "authorization" && !name.starts_with("x-amz-"));
    request.headers.set(
        "host",
        HeaderField::new(const { Text::from_static("Host") }, domain.clone()),
    );
    for (name, value) in signature.headers() {
        if name != "authorization" {
            request.headers.set(
                name,
                HeaderField::new(display_name(name), signing_value(value, context.credentials)),
            );
        }
    }
    // Last, as `headers()` lists it; moved, not copied.
    let authorization = signature.into_authorization().ok_or(EventError::Unsigned)?;
    request.headers.set(
        "authorization",
        HeaderField::new(const { Text::from_static("Authorization") }, text(authorization)),
    );
    if let Cow::Owned(uri) = uri {
        request.uri = text(uri);
    }
    if let Cow::Owned(query) = query {
        request.querystring = text(query);
    }
    Ok(Outcome::Forward(request))
}

/// A header name as CloudFront sends it: HTTP token characters (RFC 9110 `tchar`), lower case.
fn is_lower_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| is_token_byte(b) && !b.is_ascii_uppercase())
}

/// Values we write are ASCII without CR/LF by construction (encoded paths, hex, the token checked
/// by the signer).
fn text<'a>(value: impl Into<Cow<'a, str>>) -> Text<'a> {
    Text::new(value).unwrap_or_default()
}

/// The `key` CloudFront shows for a header signing adds.
fn display_name(name: &str) -> Text<'static> {
    match name {
        "x-amz-date" => const { Text::from_static("X-Amz-Date") },
        "x-amz-security-token" => const { Text::from_static("X-Amz-Security-Token") },
        "x-amz-content-sha256" => const { Text::from_static("X-Amz-Content-SHA256") },
        "x-amz-region-set" => const { Text::from_static("X-Amz-Region-Set") },
        "authorization" => const { Text::from_static("Authorization") },
        _ => const { Text::from_static("X-Unknown") },
    }
}

/// A value signing adds. The session token (a kilobyte) is borrowed from the credentials it came
/// from and `UNSIGNED-PAYLOAD` is a literal; the others (the date, a payload hash) are copied.
fn signing_value<'a>(value: &str, credentials: &'a Credentials) -> Text<'a> {
    const UNSIGNED_PAYLOAD: Text<'static> = Text::from_static("UNSIGNED-PAYLOAD");
    match credentials.session_token() {
        // The signer checked the token it signed; checked again here, as every value is.
        Some(token) if std::ptr::eq(token, value) => text(token),
        _ if value == UNSIGNED_PAYLOAD.as_str() => UNSIGNED_PAYLOAD,
        _ => text(value.to_owned()),
    }
}

/// A generated response: plain text, never stored by caches in between.
fn respond(status: u16, reason: String) -> Outcome<'static> {
    let description = match status {
        400 => "Bad Request",
        413 => "Content Too Large",
        414 => "URI Too Long",
        _ => "Bad Gateway",
    };
    let mut headers = Headers::new();
    headers.set(
        "content-type",
        HeaderField::new(
            const { Text::from_static("Content-Type") },
            const { Text::from_static("text/plain; charset=utf-8") },
        ),
    );
    headers.set(
        "cache-control",
        HeaderField::new(
            const { Text::from_static("Cache-Control") },
            const { Text::from_static("no-store") },
        ),
    );
    let response = Response {
        status: status.to_string(),
        status_description: description.into(),
        headers,
        body: format!("{status} {description}\n"),
        body_encoding: "text".into(),
    };
    Outcome::Respond { response, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handlers_debug_shows_neither_the_secret_nor_the_token() {
        let credentials = Credentials::new(
            "AKIDEXAMPLE",
            "secret-key-x",
            Some("session-token-y".into()),
            None,
            "test",
        );
        let shown = format!("{:?}", Handler::new(HandlerConfig::default(), credentials));
        assert!(
            shown.contains("AKIDEXAMPLE") && shown.contains("showExif"),
            "{shown}"
        );
        assert!(
            !shown.contains("secret-key-x") && !shown.contains("session-token-y"),
            "{shown}"
        );
    }

    #[test]
    fn a_detached_body_is_hashed_and_the_placeholder_comes_back() {
        let handler = Handler::new(
            HandlerConfig::default(),
            Credentials::new("AKIDEXAMPLE", "secret", None, None, "test"),
        );
        let event = |data: &str| {
            format!(
                r#"{{"Records":[{{"cf":{{"config":{{"distributionDomainName":"d","distributionId":"E","eventType":"origin-request","requestId":"r"}},
                "request":{{"clientIp":"1","method":"POST","uri":"/x","querystring":"","headers":{{}},
                "origin":{{"custom":{{"domainName":"a.lambda-url.us-east-1.on.aws","path":""}}}},
                "body":{{"inputTruncated":false,"action":"read-only","encoding":"base64","data":"{data}"}}}}}}}}]}}"#
            )
        };
        let now = SystemTime::UNIX_EPOCH;
        let whole = event("aGVsbG8=");
        let placeholder = event("");
        let inline = handler.handle(whole.as_bytes(), now).unwrap().to_json();
        let detached = handler
            .handle_detached(placeholder.as_bytes(), "aGVsbG8=", now)
            .unwrap()
            .to_json();
        assert!(detached.contains(r#""data":"""#), "{detached}");
        assert_eq!(detached.replace(r#""data":"""#, r#""data":"aGVsbG8=""#), inline);
        let bad = handler.handle_detached(placeholder.as_bytes(), "!!", now);
        assert_eq!(
            bad.unwrap_err(),
            handler.handle(event("!!").as_bytes(), now).unwrap_err()
        );
    }
}
