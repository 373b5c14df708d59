//! SigV4 verification as S3 does it, recomputed with aws-sigv4 — independent of our signer, so
//! the local chain catches a signature our signer got wrong.
//!
//! Checked, in S3's order: an `Authorization` header (or presigned query) is present and well
//! formed; the access key is the one we know; the scope is `date/region/service/aws4_request` with
//! the request's date; the time is within 15 minutes (a presigned URL: not expired); `host` and
//! every `x-amz-*` header on the request are signed; the session token matches; a body matches
//! `x-amz-content-sha256`; and finally the signature itself.

use crate::sigv4::{ALGORITHM, form_decode};
use aws_credential_types::Credentials;
use aws_sigv4::http_request as aws;
use aws_smithy_runtime_api::client::identity::Identity;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// How far a request's time may be from ours, as S3 allows.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// A request as it arrived: names of `headers` in lower case, values as received.
#[derive(Debug)]
pub struct Received<'a> {
    /// The method, such as `GET`.
    pub method: &'a str,
    /// The request target as received: the path, then `?` and the query when there is one.
    pub target: &'a str,
    /// Every header, name in lower case.
    pub headers: &'a [(String, String)],
    /// The body.
    pub body: &'a [u8],
}

impl<'a> From<&'a super::http::Message> for Received<'a> {
    fn from(message: &'a super::http::Message) -> Self {
        Self {
            method: &message.method,
            target: &message.target,
            headers: &message.headers,
            body: &message.body,
        }
    }
}

impl Received<'_> {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// Why a request was refused, with S3's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No `Authorization` header and no presigned query.
    #[error("the request is not signed")]
    NotSigned,
    /// The `Authorization` header or presigned query cannot be read.
    #[error("{0}")]
    Malformed(String),
    /// An access key we do not know.
    #[error("the access key {0:?} does not exist in our records")]
    UnknownAccessKey(String),
    /// The credential scope names another date, region or service.
    #[error("the credential scope {found:?} should be {expected:?}")]
    WrongScope {
        /// The scope on the request.
        found: String,
        /// The scope we accept.
        expected: String,
    },
    /// More than 15 minutes between the request's time and ours.
    #[error("the request time {0} is more than 15 minutes from the server's")]
    TimeTooSkewed(String),
    /// A presigned URL past its expiry.
    #[error("request has expired")]
    Expired,
    /// Headers that must be signed but are not.
    #[error("there were headers present in the request which were not signed: {0}")]
    UnsignedHeaders(String),
    /// The session token is missing or not ours.
    #[error("the provided token is malformed or otherwise invalid")]
    InvalidToken,
    /// The body does not hash to `x-amz-content-sha256`.
    #[error("the provided x-amz-content-sha256 does not match the body")]
    ContentSha256Mismatch,
    /// The signature differs from the one we computed.
    #[error(
        "SignatureDoesNotMatch: the request signature we calculated does not match the signature you provided"
    )]
    SignatureDoesNotMatch,
}

impl Denied {
    /// The S3 error code (`AccessDenied`, `SignatureDoesNotMatch`…).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotSigned | Self::Expired | Self::UnsignedHeaders(_) => "AccessDenied",
            Self::Malformed(_) | Self::WrongScope { .. } => "AuthorizationHeaderMalformed",
            Self::UnknownAccessKey(_) => "InvalidAccessKeyId",
            Self::TimeTooSkewed(_) => "RequestTimeTooSkewed",
            Self::InvalidToken => "InvalidToken",
            Self::ContentSha256Mismatch => "XAmzContentSHA256Mismatch",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) | Self::WrongScope { .. } | Self::ContentSha256Mismatch => 400,
            _ => 403,
        }
    }
}

/// Verifies requests signed for one region and service with one set of credentials.
#[derive(Debug, Clone)]
pub struct Verifier {
    credentials: Credentials,
    region: String,
    service: String,
}

/// What an `Authorization` header (or a presigned query) says.
struct Claimed {
    access_key: String,
    scope: String,
    signed_headers: Vec<String>,
    signature: String,
}

impl Verifier {
    /// A verifier for `service` in `region`, accepting requests signed with `credentials`.
    pub fn new(credentials: Credentials, region: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            credentials,
            region: region.into(),
            service: service.into(),
        }
    }

    /// Verifies a request signed in its `Authorization` header.
    ///
    /// # Errors
    /// The first check that fails, as S3 would report it.
    pub fn verify_header(&self, request: &Received<'_>, now: SystemTime) -> Result<(), Denied> {
        let authorization = request.header("authorization").ok_or(Denied::NotSigned)?;
        let claimed = parse_authorization(authorization)?;
        let amz_date = request
            .header("x-amz-date")
            .ok_or_else(|| Denied::Malformed("no x-amz-date header".into()))?;
        let time = parse_amz_date(amz_date)?;
        self.check_scope(&claimed, amz_date)?;
        let skew = now
            .duration_since(time)
            .or_else(|e| Ok::<_, Denied>(e.duration()))?;
        if skew > MAX_SKEW {
            return Err(Denied::TimeTooSkewed(amz_date.to_owned()));
        }
        check_signed_set(request, &claimed.signed_headers)?;
        self.check_token(request.header("x-amz-security-token"))?;
        let payload = request
            .header("x-amz-content-sha256")
            .ok_or_else(|| Denied::Malformed("no x-amz-content-sha256 header".into()))?;
        if payload != "UNSIGNED-PAYLOAD" && payload != hex::encode(Sha256::digest(request.body)) {
            return Err(Denied::ContentSha256Mismatch);
        }

        let mut settings = self.settings();
        settings.payload_checksum_kind = aws::PayloadChecksumKind::XAmzSha256;
        settings.signature_location = aws::SignatureLocation::Headers;
        let headers = signed_pairs(request, &claimed.signed_headers);
        let body = aws::SignableBody::Precomputed(payload.to_owned());
        let expected = self.sign(request.method, request.target, headers, body, settings, time)?;
        let computed = expected
            .headers()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.to_owned())
            .ok_or(Denied::SignatureDoesNotMatch)?;
        if computed == authorization {
            Ok(())
        } else {
            Err(Denied::SignatureDoesNotMatch)
        }
    }

    /// Verifies a presigned request (the signature in the query), as the local store's GET needs.
    ///
    /// # Errors
    /// The first check that fails, as S3 would report it.
    pub fn verify_presigned(&self, request: &Received<'_>, now: SystemTime) -> Result<(), Denied> {
        let mut params: Vec<(String, String)> = Vec::new();
        for pair in request.query().split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| String::from_utf8_lossy(&form_decode(s)).into_owned();
            params.push((decode(name), decode(value)));
        }
        let param = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        if param("X-Amz-Signature").is_none() {
            return Err(Denied::NotSigned);
        }
        let missing = |name: &str| Denied::Malformed(format!("the presigned query has no {name}"));
        if param("X-Amz-Algorithm") != Some(ALGORITHM) {
            return Err(missing("X-Amz-Algorithm=AWS4-HMAC-SHA256"));
        }
        let credential = param("X-Amz-Credential").ok_or_else(|| missing("X-Amz-Credential"))?;
        let amz_date = param("X-Amz-Date").ok_or_else(|| missing("X-Amz-Date"))?;
        let expires: u64 = param("X-Amz-Expires")
            .and_then(|v| v.parse().ok())
            .filter(|&s| s <= 7 * 24 * 3600)
            .ok_or_else(|| missing("X-Amz-Expires (seconds, at most 604800)"))?;
        let (access_key, scope) = credential
            .split_once('/')
            .ok_or_else(|| missing("X-Amz-Credential"))?;
        let claimed = Claimed {
            access_key: access_key.to_owned(),
            scope: scope.to_owned(),
            signed_headers: param("X-Amz-SignedHeaders")
                .ok_or_else(|| missing("X-Amz-SignedHeaders"))?
                .split(';')
                .map(str::to_owned)
                .collect(),
            signature: param("X-Amz-Signature").unwrap_or_default().to_owned(),
        };
        let time = parse_amz_date(amz_date)?;
        self.check_scope(&claimed, amz_date)?;
        if now > time + Duration::from_secs(expires) {
            return Err(Denied::Expired);
        }
        if time > now + MAX_SKEW {
            return Err(Denied::TimeTooSkewed(amz_date.to_owned()));
        }
        check_signed_set(request, &claimed.signed_headers)?;
        self.check_token(param("X-Amz-Security-Token"))?;

        // aws-sigv4 adds the X-Amz-* parameters itself: give it the query without them.
        let path = request.target.split_once('?').map_or(request.target, |(p, _)| p);
        let rest = request
            .query()
            .split('&')
            .filter(|pair| !pair.is_empty() && !is_presign_param(pair.split('=').next().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("&");
        let target = if rest.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{rest}")
        };
        let mut settings = self.settings();
        settings.signature_location = aws::SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires));
        let headers = signed_pairs(request, &claimed.signed_headers);
        let expected = self.sign(
            request.method,
            &target,
            headers,
            aws::SignableBody::UnsignedPayload,
            settings,
            time,
        )?;
        let computed = expected
            .params()
            .iter()
            .find(|(n, _)| *n == "X-Amz-Signature")
            .map(|(_, v)| v.to_string())
            .ok_or(Denied::SignatureDoesNotMatch)?;
        if computed == claimed.signature {
            Ok(())
        } else {
            Err(Denied::SignatureDoesNotMatch)
        }
    }

    fn check_scope(&self, claimed: &Claimed, amz_date: &str) -> Result<(), Denied> {
        if claimed.access_key != self.credentials.access_key_id() {
            return Err(Denied::UnknownAccessKey(claimed.access_key.clone()));
        }
        let date = amz_date.get(..8).unwrap_or_default();
        let expected = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        if claimed.scope != expected {
            return Err(Denied::WrongScope {
                found: claimed.scope.clone(),
                expected,
            });
        }
        Ok(())
    }

    fn check_token(&self, token: Option<&str>) -> Result<(), Denied> {
        match (self.credentials.session_token(), token) {
            (None, None) => Ok(()),
            (Some(ours), Some(theirs)) if ours == theirs => Ok(()),
            _ => Err(Denied::InvalidToken),
        }
    }

    fn settings(&self) -> aws::SigningSettings {
        let mut settings = aws::SigningSettings::default();
        settings.percent_encoding_mode = aws::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = aws::UriPathNormalizationMode::Disabled;
        settings.session_token_mode = aws::SessionTokenMode::Include;
        // Only the signed headers are passed in; exclude none of them.
        settings.excluded_headers = Some(Vec::new());
        settings
    }

    fn sign(
        &self,
        method: &str,
        target: &str,
        headers: Vec<(&str, &str)>,
        body: aws::SignableBody<'_>,
        settings: aws::SigningSettings,
        time: SystemTime,
    ) -> Result<aws::SigningInstructions, Denied> {
        let identity: Identity = self.credentials.clone().into();
        let params: aws::SigningParams<'_> = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| Denied::Malformed(e.to_string()))?
            .into();
        // The host is a signed header; the URL's authority only has to parse.
        let url = format!("http://verifier{target}");
        let request = aws::SignableRequest::new(method, url, headers.into_iter(), body)
            .map_err(|e| Denied::Malformed(e.to_string()))?;
        let (instructions, _) = aws::sign(request, &params)
            .map_err(|_| Denied::SignatureDoesNotMatch)?
            .into_parts();
        Ok(instructions)
    }
}

fn parse_authorization(value: &str) -> Result<Claimed, Denied> {
    let malformed = || Denied::Malformed(format!("cannot read the Authorization header {value:?}"));
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or_else(malformed)?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (name, v) = part.trim().split_once('=').ok_or_else(malformed)?;
        match name {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => return Err(malformed()),
        }
    }
    let (access_key, scope) = credential.and_then(|c| c.split_once('/')).ok_or_else(malformed)?;
    Ok(Claimed {
        access_key: access_key.to_owned(),
        scope: scope.to_owned(),
        signed_headers: signed
            .ok_or_else(malformed)?
            .split(';')
            .map(str::to_owned)
            .collect(),
        signature: signature.ok_or_else(malformed)?.to_owned(),
    })
}

fn parse_amz_date(value: &str) -> Result<SystemTime, Denied> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(value, format)
        .map(|t| SystemTime::from(t.assume_utc()))
        .map_err(|_| Denied::Malformed(format!("x-amz-date {value:?} is not YYYYMMDDTHHMMSSZ")))
        .and_then(|t| {
            // A year before 1970 cannot be signed for.
            if OffsetDateTime::from(t).year() < 1970 {
                Err(Denied::Malformed(value.into()))
            } else {
                Ok(t)
            }
        })
}

/// `host` and every `x-amz-*` header on the request must be in the signed set, as S3 requires.
fn check_signed_set(request: &Received<'_>, signed: &[String]) -> Result<(), Denied> {
    let is_signed = |name: &str| signed.iter().any(|s| s == name);
    if !is_signed("host") {
        return Err(Denied::UnsignedHeaders("host".into()));
    }
    let unsigned: Vec<&str> = request
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.starts_with("x-amz-") && !is_signed(n))
        .collect();
    if unsigned.is_empty() {
        Ok(())
    } else {
        Err(Denied::UnsignedHeaders(unsigned.join(", ")))
    }
}

/// The request's headers that the client says it signed, as aws-sigv4 wants them.
fn signed_pairs<'a>(request: &'a Received<'_>, signed: &[String]) -> Vec<(&'a str, &'a str)> {
    request
        .headers
        .iter()
        .filter(|(n, _)| signed.iter().any(|s| s == n))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

fn is_presign_param(name: &str) -> bool {
    matches!(
        name,
        "X-Amz-Algorithm"
            | "X-Amz-Credential"
            | "X-Amz-Date"
            | "X-Amz-Expires"
            | "X-Amz-SignedHeaders"
            | "X-Amz-Security-Token"
            | "X-Amz-Signature"
    )
}

/// An S3 error document.
pub fn error_xml(code: &str, message: &str, request_id: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
        escape(code),
        escape(message),
        escape(request_id)
    )
}
