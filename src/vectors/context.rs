//! The suite's `context.json` (the AWS CRT format) and how it maps to [`SigningSettings`].
//!
//! Required, as in aws-c-auth's harness: `credentials.access_key_id`,
//! `credentials.secret_access_key`, `region`, `service`, `timestamp` (RFC 3339), `normalize`,
//! `sign_body`, `expiration_in_seconds`. Optional: `credentials.token`, `omit_session_token`
//! (default false). Extension keys mirroring aws-c-auth's signing config, for suites of our own:
//! `double_uri_encode` (default true), `signed_body_value` (a literal payload hash such as
//! `UNSIGNED-PAYLOAD`) and `signed_body_header` (add and sign `x-amz-content-sha256`). Unknown keys
//! are ignored.

use crate::sigv4::{
    IntermediateTexts, PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use serde::Deserialize;
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The parsed `context.json` of one case.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
pub struct Context {
    /// Who signs.
    pub credentials: ContextCredentials,
    /// The region of the credential scope.
    pub region: String,
    /// The service of the credential scope.
    pub service: String,
    /// The signing time, RFC 3339 (see [`Context::signing_time`]).
    pub timestamp: String,
    /// Whether the path is normalised.
    pub normalize: bool,
    /// Whether the payload hash is SHA-256 of the body (else of the empty string).
    pub sign_body: bool,
    /// How long a presigned (query-mode) request stays valid.
    pub expiration_in_seconds: u64,
    /// Sign without the session token, then add it.
    #[serde(default)]
    pub omit_session_token: bool,
    /// Extension: percent-encode the path again (default true, as the suite always does).
    #[serde(default = "default_true")]
    pub double_uri_encode: bool,
    /// Extension: a literal payload hash used instead of hashing anything.
    #[serde(default)]
    pub signed_body_value: Option<String>,
    /// Extension: whether `x-amz-content-sha256` is added and signed in header mode (default:
    /// `sign_body`).
    #[serde(default)]
    pub signed_body_header: Option<bool>,
}

/// `credentials` in `context.json`.
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
pub struct ContextCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token of temporary credentials.
    #[serde(default)]
    pub token: Option<String>,
}

fn default_true() -> bool {
    true
}

/// Where the signature goes in one run of a case.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Ord, PartialOrd)]
pub enum Mode {
    /// The `Authorization` header (`header-*.txt`).
    Header,
    /// A presigned query string (`query-*.txt`).
    Query,
}

impl Mode {
    /// `header` or `query`: the prefix of the expected files and the word in reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Header => "header",
            Mode::Query => "query",
        }
    }
}

impl Context {
    /// Parses the text of a `context.json`.
    pub fn from_json(text: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(text).map_err(|e| format!("context.json: {e}"))
    }

    /// The `timestamp` as a [`SystemTime`].
    pub fn signing_time(&self) -> Result<SystemTime, String> {
        OffsetDateTime::parse(&self.timestamp, &Rfc3339)
            .map(SystemTime::from)
            .map_err(|e| {
                format!(
                    "context.json: timestamp {:?} is not RFC 3339: {e}",
                    self.timestamp
                )
            })
    }

    /// The settings the suite's harness (aws-c-auth) uses for this case in `mode`.
    pub fn settings(&self, mode: Mode) -> SigningSettings {
        let checksum = self.signed_body_header.unwrap_or(self.sign_body);
        SigningSettings {
            percent_encoding_mode: if self.double_uri_encode {
                PercentEncodingMode::Double
            } else {
                PercentEncodingMode::Single
            },
            uri_path_normalization_mode: if self.normalize {
                UriPathNormalizationMode::Enabled
            } else {
                UriPathNormalizationMode::Disabled
            },
            session_token_mode: if self.omit_session_token {
                SessionTokenMode::AddAfterSigning
            } else {
                SessionTokenMode::Include
            },
            // The signer adds the header in header mode only, as the suite expects.
            payload_checksum_kind: if checksum {
                PayloadChecksumKind::XAmzSha256
            } else {
                PayloadChecksumKind::NoHeader
            },
            signature_location: match mode {
                Mode::Header => SignatureLocation::Headers,
                Mode::Query => SignatureLocation::QueryParams {
                    expires_in: Duration::from_secs(self.expiration_in_seconds),
                },
            },
            // The runner compares them with the expected files.
            intermediate_texts: IntermediateTexts::Keep,
        }
    }

    /// What stands for the payload: a given literal hash, the body, or (suite rule for
    /// `sign_body: false`) the empty payload whatever the body is.
    pub fn body<'a>(&'a self, body: &'a [u8]) -> SignableBody<'a> {
        match (&self.signed_body_value, self.sign_body) {
            (Some(value), _) => SignableBody::Precomputed(value),
            (None, true) => SignableBody::Bytes(body),
            (None, false) => SignableBody::Empty,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"{"credentials":{"access_key_id":"AKID","secret_access_key":"s"},
        "region":"us-east-1","service":"service","timestamp":"2015-08-30T12:36:00Z",
        "normalize":false,"sign_body":true,"expiration_in_seconds":3600,"future_key":[1]}"#;

    #[test]
    fn defaults_and_mapping() {
        let c = Context::from_json(BASE.as_bytes()).unwrap();
        assert_eq!(c.credentials.token, None);
        let s = c.settings(Mode::Header);
        assert_eq!(s.percent_encoding_mode, PercentEncodingMode::Double);
        assert_eq!(s.uri_path_normalization_mode, UriPathNormalizationMode::Disabled);
        assert_eq!(s.session_token_mode, SessionTokenMode::Include);
        assert_eq!(s.payload_checksum_kind, PayloadChecksumKind::XAmzSha256);
        assert_eq!(
            c.settings(Mode::Query).signature_location,
            SignatureLocation::QueryParams {
                expires_in: Duration::from_secs(3600)
            }
        );
        assert_eq!(c.body(b"x"), SignableBody::Bytes(b"x"));
        let t = c.signing_time().unwrap();
        let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        assert_eq!(secs, 1_440_938_160);
    }

    #[test]
    fn extension_keys() {
        let json = BASE.replace(
            "\"future_key\"",
            "\"double_uri_encode\":false,\"signed_body_value\":\"UNSIGNED-PAYLOAD\",\
             \"signed_body_header\":false,\"omit_session_token\":true,\"x\"",
        );
        let c = Context::from_json(json.as_bytes()).unwrap();
        let s = c.settings(Mode::Header);
        assert_eq!(s.percent_encoding_mode, PercentEncodingMode::Single);
        assert_eq!(s.payload_checksum_kind, PayloadChecksumKind::NoHeader);
        assert_eq!(s.session_token_mode, SessionTokenMode::AddAfterSigning);
        assert_eq!(c.body(b"x"), SignableBody::Precomputed("UNSIGNED-PAYLOAD"));
    }

    #[test]
    fn errors_name_the_problem() {
        let err = Context::from_json(br#"{"region":"r"}"#).unwrap_err();
        assert!(err.contains("missing field"), "{err}");
        let c = Context::from_json(BASE.replace("2015-08-30T12:36:00Z", "yesterday").as_bytes()).unwrap();
        assert!(c.signing_time().unwrap_err().contains("RFC 3339"));
    }
}
