//! The pure builder of the signed `WriteGetObjectResponse` request.

use super::Error;
use super::reply::Reply;
use super::settings::Settings;
use crate::sigv4::{SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings, sign};
use aws_credential_types::Credentials;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use std::time::SystemTime;

/// The signing name of S3 Object Lambda.
pub const SERVICE: &str = "s3-object-lambda";
/// The operation's path (`POST`, no query).
pub const PATH: &str = "/WriteGetObjectResponse";
/// The prefix of forwarded response headers: `x-amz-fwd-header-Content-Type` and so on.
pub const FORWARDED_HEADER_PREFIX: &str = "x-amz-fwd-header-";

/// Builds `POST /WriteGetObjectResponse` for `reply`, signed with our signer for
/// `s3-object-lambda` in `settings.region` at `now`.
///
/// - Host: `<route>.s3-object-lambda.<region>.amazonaws.com` (the operation's host prefix is the
///   route), or the override's `host[:port]` ([`Settings::endpoint`]).
/// - Headers: `x-amz-request-route`, `x-amz-request-token`, `x-amz-fwd-status`, and for an error
///   `x-amz-fwd-error-code` and `x-amz-fwd-error-message`; each forwarded header as
///   `x-amz-fwd-header-<Name>`; `content-length`. The signer adds `x-amz-date`,
///   `x-amz-content-sha256`, `x-amz-security-token` and `authorization`. Every header on the
///   request is signed (so every `x-amz-*` one), except `authorization`.
/// - Payload: `UNSIGNED-PAYLOAD`. The S3 model marks the operation so (`aws.auth#unsignedPayload`;
///   the SDKs all send it so), which makes it the value the service is known to accept; the body
///   travels over TLS, and hashing it would be a second full pass over up to
///   [`Settings::max_object_bytes`] on the way out. `content-length` is signed, so the length at
///   least is bound to the signature.
///
/// # Errors
/// [`Error::InvalidEvent`] when the route is not a DNS label or the token is not a valid header
/// value; [`Error::Signing`] when the signer refuses (a control character in the credentials).
pub fn write_get_object_response(
    route: &str,
    token: &str,
    reply: &Reply,
    settings: &Settings,
    credentials: &Credentials,
    now: SystemTime,
    keys: &SigningKeyCache,
) -> Result<Request<Bytes>, Error> {
    check_context(route, token)?;
    let host = settings.write_host(route);
    let status = reply.status.to_string();
    let length = reply.body.len().to_string();

    let mut headers: Vec<(String, &str)> = vec![
        ("host".into(), &host),
        ("content-length".into(), &length),
        ("x-amz-request-route".into(), route),
        ("x-amz-request-token".into(), token),
        ("x-amz-fwd-status".into(), &status),
    ];
    if let Some(error) = &reply.error {
        headers.push(("x-amz-fwd-error-code".into(), error.code));
        headers.push(("x-amz-fwd-error-message".into(), &error.message));
    }
    for (name, value) in &reply.headers {
        // Forwarded values were checked to be text when they were chosen.
        let value = value.to_str().unwrap_or_default();
        headers.push((format!("{FORWARDED_HEADER_PREFIX}{name}"), value));
    }

    let signing_settings = SigningSettings::s3();
    let params = SigningParams {
        credentials,
        region: &settings.region,
        service: SERVICE,
        time: now,
        settings: &signing_settings,
    };
    let signable: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let request = SignableRequest {
        method: "POST",
        path: PATH,
        query: "",
        headers: &signable,
        body: SignableBody::UnsignedPayload,
    };
    let signed = sign(&request, &params, keys)?;

    let uri = format!("{}://{host}{PATH}", settings.write_scheme().as_str());
    let mut builder = Request::builder().method(Method::POST).uri(uri);
    let added = signed.headers().map(|(name, value)| (name as &str, value));
    for (name, value) in signable.iter().copied().chain(added) {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| Error::invalid("header name", e))?;
        let value = HeaderValue::from_str(value).map_err(|e| Error::invalid("header value", e))?;
        builder = builder.header(name, value);
    }
    builder
        .body(reply.body.clone())
        .map_err(|e| Error::invalid("request", e))
}

/// Whether `WriteGetObjectResponse` can carry this route and token at all.
pub(crate) fn check_context(route: &str, token: &str) -> Result<(), Error> {
    check_route(route)?;
    check_header_value("getObjectContext.outputToken", token)
}

/// `outputRoute` becomes the first label of a host name: one DNS label, nothing more.
fn check_route(route: &str) -> Result<(), Error> {
    let label = !route.is_empty()
        && route.len() <= 63
        && route.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !route.starts_with('-')
        && !route.ends_with('-');
    if label {
        Ok(())
    } else {
        Err(Error::invalid(
            "getObjectContext.outputRoute",
            "not a DNS label (letters, digits and '-', at most 63)",
        ))
    }
}

fn check_header_value(field: &'static str, value: &str) -> Result<(), Error> {
    let text = !value.is_empty() && value.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    if text {
        Ok(())
    } else {
        Err(Error::invalid(field, "empty, or not printable ASCII"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn credentials() -> Credentials {
        Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test")
    }

    fn build(route: &str, token: &str, settings: &Settings) -> Result<Request<Bytes>, Error> {
        let reply = Reply::error(404, "NoSuchKey", "The specified key does not exist.");
        let now = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        write_get_object_response(
            route,
            token,
            &reply,
            settings,
            &credentials(),
            now,
            &SigningKeyCache::new(),
        )
    }

    #[test]
    fn host_from_route_and_region() {
        let request = build("io-use1-001", "tok", &Settings::new("us-east-1")).unwrap();
        assert_eq!(
            request.uri().to_string(),
            "https://io-use1-001.s3-object-lambda.us-east-1.amazonaws.com/WriteGetObjectResponse"
        );
        assert_eq!(
            request.headers()["host"],
            "io-use1-001.s3-object-lambda.us-east-1.amazonaws.com"
        );
        assert_eq!(request.headers()["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        assert_eq!(request.headers()["x-amz-fwd-error-code"], "NoSuchKey");
        let authorization = request.headers()["authorization"].to_str().unwrap();
        assert!(
            authorization.contains("/20150830/us-east-1/s3-object-lambda/aws4_request, SignedHeaders=content-length;host;x-amz-content-sha256;x-amz-date;x-amz-fwd-error-code;x-amz-fwd-error-message;x-amz-fwd-status;x-amz-request-route;x-amz-request-token;x-amz-security-token, "),
            "{authorization}"
        );
    }

    #[test]
    fn routes_and_tokens_that_could_escape_are_refused() {
        let settings = Settings::new("us-east-1");
        for route in ["", "evil.com/x", "a.b", "-a", "a-", "a b", &"a".repeat(64)] {
            assert!(
                matches!(build(route, "tok", &settings), Err(Error::InvalidEvent { .. })),
                "{route:?}"
            );
        }
        for token in ["", "a\r\nx-amz-evil: 1", "\u{e9}"] {
            assert!(
                matches!(build("r", token, &settings), Err(Error::InvalidEvent { .. })),
                "{token:?}"
            );
        }
    }
}
