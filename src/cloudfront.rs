//! The Lambda@Edge event and result shapes for CloudFront requests (aws_lambda_events has none).
//!
//! Every object keeps the fields we do not model in `extra`, so whatever the handler does not
//! change goes back to CloudFront exactly as it came. Strings that end up in an HTTP request are
//! [`Text`], which cannot hold CR or LF: a malformed event is rejected at the entry, once.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::ops::Deref;

/// Fields we pass through untouched.
pub type Extra = Map<String, Value>;

/// A string without CR or LF, as every value of an HTTP request line or header must be.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// Checks `value`; `None` if it holds CR or LF.
    ///
    /// ```
    /// use edge_signer::cloudfront::Text;
    /// assert!(Text::new("image/jpeg").is_some());
    /// assert!(Text::new("a\r\nInjected: yes").is_none());
    /// ```
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        (!value.contains(['\r', '\n'])).then_some(Self(value))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Text::new(value)
            .ok_or_else(|| serde::de::Error::custom("a CR or LF character is not allowed in this value"))
    }
}

/// One header value as CloudFront writes it: the original-case name and the value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderField {
    /// The header name as the viewer sent it (optional in CloudFront's schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Text>,
    /// The value.
    pub value: Text,
}

/// Headers by lower-case name, each with one entry per value, in the order CloudFront gave them.
pub type Headers = IndexMap<String, Vec<HeaderField>>;

/// The event CloudFront sends to a Lambda@Edge function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Always exactly one record for CloudFront.
    #[serde(rename = "Records")]
    pub records: Vec<Record>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One record of the event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The CloudFront part.
    pub cf: Cf,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `config` and `request` of a record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cf {
    /// The distribution and the trigger.
    pub config: Config,
    /// The request on its way to the origin.
    pub request: Request,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Read-only facts about the distribution and this request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// Such as `d111111abcdef8.cloudfront.net`.
    pub distribution_domain_name: Text,
    /// Such as `EDFDVBD6EXAMPLE`.
    pub distribution_id: Text,
    /// `origin-request` for this handler.
    pub event_type: Text,
    /// The request id; CloudFront sends it to the origin as `X-Amz-Cf-Id`.
    pub request_id: Text,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The request CloudFront is about to send to the origin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The viewer's IP address (read-only).
    pub client_ip: Text,
    /// The method (read-only).
    pub method: Text,
    /// The path, percent-encoded as the viewer sent it.
    pub uri: Text,
    /// The raw query string without `?`.
    pub querystring: Text,
    /// The headers.
    pub headers: Headers,
    /// Where the request goes.
    pub origin: Origin,
    /// The body, when the distribution includes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The origin: exactly one of `custom` or `s3`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// A custom (HTTP) origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<OriginDetails>,
    /// An S3 origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<OriginDetails>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The part of an origin we read; ports, timeouts, protocols and the rest pass through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OriginDetails {
    /// The origin's host name.
    pub domain_name: Text,
    /// The origin path: CloudFront puts it in front of `uri` when it sends the request
    /// (`/images` + `/cat.jpg` → `/images/cat.jpg`). Empty or absent for most origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Text>,
    /// Anything else (`customHeaders`, `port`, `region`, …).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The request body, when the distribution's "include body" option is on. Absent fields stay
/// absent when the body goes back to CloudFront.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    /// True when CloudFront cut the body at its size limit (1 MB for origin requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_truncated: Option<bool>,
    /// `read-only` or `replace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `base64` or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// The body itself.
    #[serde(default)]
    pub data: String,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A response generated by the function instead of forwarding the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    /// The status code as a string, such as `"502"`.
    pub status: String,
    /// The reason phrase.
    pub status_description: String,
    /// Response headers.
    pub headers: Headers,
    /// The body text.
    pub body: String,
    /// `text` or `base64`.
    pub body_encoding: String,
}

impl Body {
    /// Whether CloudFront cut the body at its size limit.
    pub fn is_truncated(&self) -> bool {
        self.input_truncated == Some(true)
    }
}

impl Origin {
    /// The origin's details and which kind it is, if exactly one of `custom`/`s3` is present.
    pub fn details(&self) -> Option<(&OriginDetails, &'static str)> {
        match (&self.custom, &self.s3) {
            (Some(custom), None) => Some((custom, "custom")),
            (None, Some(s3)) => Some((s3, "s3")),
            _ => None,
        }
    }
}
