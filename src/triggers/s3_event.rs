//! S3 event notifications, as real emitters send them
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>).
//!
//! Our own types rather than `aws_lambda_events`' (kept as the oracle in tests): that crate
//! requires `userIdentity` and `requestParameters` and parses `eventTime` strictly, so events from
//! local emulators (no `userIdentity`, `eventTime` without a zone) fail there. Here only what the
//! function needs is required; unknown fields are ignored, as AWS asks of minor versions.

use serde::{Deserialize, Deserializer};
use thiserror::Error;

/// An S3 event notification: one or more records.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct S3Event {
    /// Every record must be handled: one event may carry several.
    #[serde(rename = "Records")]
    pub records: Vec<EventRecord>,
}

/// One record: what happened to which object.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// Any `2.x`: S3 adds fields in minor versions only, and sends 2.1 to 2.6 today.
    #[serde(deserialize_with = "version_2")]
    pub event_version: String,
    /// `aws:s3`.
    pub event_source: String,
    pub aws_region: String,
    /// Kept as sent: emulators omit the zone, and nothing here depends on the time.
    pub event_time: String,
    /// Without the `s3:` prefix, such as `ObjectCreated:Put` or `ObjectRemoved:Delete`.
    pub event_name: String,
    pub user_identity: Option<UserIdentity>,
    pub request_parameters: Option<RequestParameters>,
    pub response_elements: Option<ResponseElements>,
    pub s3: S3Entity,
}

/// Who caused the event (absent from emulators' events).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    pub principal_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParameters {
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
}

/// The ids of the request that caused the event, for AWS Support.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ResponseElements {
    #[serde(rename = "x-amz-request-id")]
    pub request_id: Option<String>,
    #[serde(rename = "x-amz-id-2")]
    pub id_2: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Entity {
    pub configuration_id: Option<String>,
    pub bucket: Bucket,
    pub object: Object,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Bucket {
    pub name: String,
    pub arn: Option<String>,
}

/// The object. `size` and `eTag` are absent on deletes, `versionId` on unversioned buckets.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    /// Form-encoded (`red flower.jpg` is `red+flower.jpg`): decode it with
    /// [`decode_key`](super::decode_key) before use.
    pub key: String,
    pub size: Option<u64>,
    pub e_tag: Option<String>,
    pub version_id: Option<String>,
    /// Orders events for the same key only.
    pub sequencer: Option<String>,
}

/// An event this function cannot read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EventError {
    /// Not an S3 event notification's shape.
    #[error("malformed S3 event at {path}: {message}")]
    Malformed {
        /// Where in the event, such as `Records[0].s3.object.key`.
        path: String,
        /// What is wrong there.
        message: String,
    },
}

impl EventError {
    /// A short, stable name for Lambda's `errorType` and for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            EventError::Malformed { .. } => "MalformedEvent",
        }
    }
}

/// Parses an S3 event notification; the error names the JSON path at fault.
///
/// ```
/// use edge_signer::triggers::parse_event;
/// let error = parse_event(br#"{"Records": [{"eventVersion": "3.0"}]}"#).unwrap_err();
/// assert!(error.to_string().contains("Records[0].eventVersion"));
/// ```
pub fn parse_event(json: &[u8]) -> Result<S3Event, EventError> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let event = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| EventError::Malformed {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    // The event is the whole input: nothing but whitespace may follow it.
    deserializer.end().map_err(|e| EventError::Malformed {
        path: ".".to_owned(),
        message: e.to_string(),
    })?;
    Ok(event)
}

/// Accepts `2.<digits>`: a new major version may change what fields mean, so it is refused.
fn version_2<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let version = String::deserialize(deserializer)?;
    let minor = version.strip_prefix("2.").unwrap_or("");
    if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(serde::de::Error::custom(format!(
            "eventVersion {version:?} is not supported: expected 2.x"
        )));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: &str) -> String {
        format!(
            r#"{{"Records":[{{"eventVersion":"{version}","eventSource":"aws:s3","awsRegion":"us-east-1",
            "eventTime":"2026-01-01T00:00:00","eventName":"ObjectCreated:Put",
            "s3":{{"bucket":{{"name":"b"}},"object":{{"key":"k"}}}}}}]}}"#
        )
    }

    #[test]
    fn any_2_x_version_is_accepted() {
        for version in ["2.0", "2.1", "2.3", "2.6", "2.10"] {
            assert!(parse_event(record(version).as_bytes()).is_ok(), "{version}");
        }
    }

    #[test]
    fn other_versions_are_refused_naming_the_field() {
        for version in ["3.0", "1.0", "2", "2.", "2.x", "20.1", ""] {
            let error = parse_event(record(version).as_bytes()).unwrap_err();
            let text = error.to_string();
            assert!(text.contains("Records[0].eventVersion"), "{text}");
            assert!(text.contains("expected 2.x"), "{text}");
        }
    }

    #[test]
    fn missing_records_and_missing_key_name_their_path() {
        let error = parse_event(br#"{"Service":"Amazon S3","Event":"s3:TestEvent"}"#).unwrap_err();
        assert!(error.to_string().contains("Records"), "{error}");
        let json = record("2.1").replace(r#""key":"k""#, r#""size":1"#);
        let error = parse_event(json.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("Records[0].s3.object"), "{error}");
        assert!(error.to_string().contains("key"), "{error}");
    }

    #[test]
    fn trailing_data_is_refused() {
        let json = record("2.1") + "{}";
        assert_eq!(parse_event(json.as_bytes()).unwrap_err().kind(), "MalformedEvent");
    }
}
