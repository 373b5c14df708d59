//! The Lambda@Edge event and result shapes for CloudFront requests (aws_lambda_events has none).
//!
//! The types borrow from the event's bytes: a string without escapes is not copied, and every
//! field we do not model is kept as raw JSON in `extra`, so that whatever the handler does not
//! change goes back to CloudFront exactly as it came. Strings that end up in an HTTP request are
//! [`Text`], which cannot hold CR or LF: a malformed event is rejected at the entry, once.

mod headers;
pub(crate) mod json;

pub use headers::{HeaderField, Headers};
pub use json::{Extra, Raw, Str};

use json::object;
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

/// A string without CR or LF, as every value of an HTTP request line or header must be.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<'a>(Cow<'a, str>);

impl<'a> Text<'a> {
    /// Checks `value`; `None` if it holds CR or LF.
    ///
    /// ```
    /// use edge_signer::cloudfront::Text;
    /// assert!(Text::new("image/jpeg").is_some());
    /// assert!(Text::new("a\r\nInjected: yes").is_none());
    /// ```
    pub fn new(value: impl Into<Cow<'a, str>>) -> Option<Self> {
        let value = value.into();
        // A fold without an early exit compiles to vector compares; these strings are short, and
        // memchr's per-call dispatch cost more than the search.
        let has_cr_or_lf = (value.as_bytes().iter()).fold(false, |any, &b| any | (b == b'\r') | (b == b'\n'));
        (!has_cr_or_lf).then_some(Self(value))
    }

    /// A literal, checked where it is written: in a `const`, a CR or LF fails the build.
    ///
    /// ```
    /// use edge_signer::cloudfront::Text;
    /// const HOST: Text<'static> = Text::from_static("Host");
    /// assert_eq!(HOST.as_str(), "Host");
    /// ```
    ///
    /// # Panics
    ///
    /// If `value` holds CR or LF (at compile time in a `const`).
    pub const fn from_static(value: &'static str) -> Text<'static> {
        let bytes = value.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            assert!(
                bytes[at] != b'\r' && bytes[at] != b'\n',
                "a CR or LF character is not allowed in a Text"
            );
            at += 1;
        }
        Text(Cow::Borrowed(value))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An owned copy, free of the event's lifetime.
    pub fn into_owned(self) -> Text<'static> {
        Text(Cow::Owned(self.0.into_owned()))
    }
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Str(value) = Str::deserialize(deserializer)?;
        Text::new(value)
            .ok_or_else(|| serde::de::Error::custom("a CR or LF character is not allowed in this value"))
    }
}

object! {
    /// The event CloudFront sends to a Lambda@Edge function.
    pub struct Event<'a>("a CloudFront event object") {
        /// Always exactly one record for CloudFront.
        "Records" => records: required Vec<Record<'a>>,
    }
}

object! {
    /// One record of the event.
    pub struct Record<'a>("a record object") {
        /// The CloudFront part.
        "cf" => cf: required Cf<'a>,
    }
}

object! {
    /// `config` and `request` of a record.
    pub struct Cf<'a>("a cf object") {
        /// The distribution and the trigger.
        "config" => config: required Config<'a>,
        /// The request on its way to the origin; boxed, so that the handler returns it without
        /// moving its 400 bytes again (and the record is small to move while it is read).
        "request" => request: required Box<Request<'a>>,
    }
}

object! {
    /// Read-only facts about the distribution and this request.
    pub struct Config<'a>("a config object") {
        /// Such as `d111111abcdef8.cloudfront.net`.
        "distributionDomainName" => distribution_domain_name: required Text<'a>,
        /// Such as `EDFDVBD6EXAMPLE`.
        "distributionId" => distribution_id: required Text<'a>,
        /// `origin-request` for this handler.
        "eventType" => event_type: required Text<'a>,
        /// The request id; CloudFront sends it to the origin as `X-Amz-Cf-Id`.
        "requestId" => request_id: required Text<'a>,
    }
}

object! {
    /// The request CloudFront is about to send to the origin.
    pub struct Request<'a>("a request object") {
        /// The viewer's IP address (read-only).
        "clientIp" => client_ip: required Text<'a>,
        /// The method (read-only).
        "method" => method: required Text<'a>,
        /// The path, percent-encoded as the viewer sent it.
        "uri" => uri: required Text<'a>,
        /// The raw query string without `?`.
        "querystring" => querystring: required Text<'a>,
        /// The headers.
        "headers" => headers: required Headers<'a>,
        /// Where the request goes.
        "origin" => origin: required Origin<'a>,
        /// The body, when the distribution includes it.
        "body" => body: optional Body<'a>,
    }
}

object! {
    /// The origin: exactly one of `custom` or `s3` (see [`Origin::details`]).
    pub struct Origin<'a>("an origin object") {
        /// A custom (HTTP) origin.
        "custom" => custom: optional OriginDetails<'a>,
        /// An S3 origin.
        "s3" => s3: optional OriginDetails<'a>,
    }
}

object! {
    /// The part of an origin we read; ports, timeouts, protocols and the rest pass through.
    pub struct OriginDetails<'a>("an origin details object") {
        /// The origin's host name.
        "domainName" => domain_name: required Text<'a>,
        /// The origin path: CloudFront puts it in front of `uri` when it sends the request
        /// (`/images` + `/cat.jpg` → `/images/cat.jpg`). Empty or absent for most origins.
        "path" => path: optional Text<'a>,
    }
}

object! {
    /// The request body, when the distribution's "include body" option is on. Absent fields stay
    /// absent when the body goes back to CloudFront.
    pub struct Body<'a>("a body object") {
        /// True when CloudFront cut the body at its size limit (1 MB for origin requests).
        "inputTruncated" => input_truncated: optional bool,
        /// `read-only` or `replace`.
        "action" => action: optional Str<'a>,
        /// `base64` or `text`.
        "encoding" => encoding: optional Str<'a>,
        /// The body itself.
        "data" => data: optional Str<'a>,
    }
}

/// A response generated by the function instead of forwarding the request.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The status code as a string, such as `"502"`.
    pub status: String,
    /// The reason phrase.
    pub status_description: String,
    /// Response headers.
    pub headers: Headers<'static>,
    /// The body text.
    pub body: String,
    /// `text` or `base64`.
    pub body_encoding: String,
}

impl Body<'_> {
    /// Whether CloudFront cut the body at its size limit.
    pub fn is_truncated(&self) -> bool {
        self.input_truncated == Some(true)
    }
}

impl<'a> Origin<'a> {
    /// The origin's details and which kind it is, if exactly one of `custom`/`s3` is present.
    pub fn details(&self) -> Option<(&OriginDetails<'a>, &'static str)> {
        match (&self.custom, &self.s3) {
            (Some(custom), None) => Some((custom, "custom")),
            (None, Some(s3)) => Some((s3, "s3")),
            _ => None,
        }
    }
}
