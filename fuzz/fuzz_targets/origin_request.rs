//! Event bytes -> outcome: `edge_signer::origin_request::Handler::handle` on arbitrary bytes.
//!
//! Beyond "no panic", every outcome is checked against the handler's rules (see fuzz/README.md):
//! a forwarded request carries the canonical path and the allow-listed query exactly as signed,
//! the five signed headers, no viewer `authorization`/`x-amz-*`, no CR/LF anywhere in a header,
//! and round-trips through JSON; a generated response is one of the four statuses.

#![no_main]

use aws_credential_types::Credentials;
use base64::Engine;
use edge_signer::cloudfront::{Event, HeaderField, Headers, Request};
use edge_signer::config::HandlerConfig;
use edge_signer::origin::{OriginKind, recognise};
use edge_signer::origin_request::{Context, EventError, Handler, MAX_URI_AND_QUERY, Outcome};
use edge_signer::sigv4::{
    self, SignableBody, SignableRequest, SigningParams, SigningSettings,
};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
/// 2015-08-30T12:36:00Z.
const NOW_SECS: u64 = 1_440_938_160;
const AMZ_DATE: &str = "20150830T123600Z";
const SIGNED_HEADERS: &str =
    "SignedHeaders=host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-security-token";

static HANDLER: LazyLock<Handler> = LazyLock::new(|| {
    let credentials = Credentials::new(ACCESS_KEY, SECRET, Some(TOKEN.to_owned()), None, "fuzz");
    // The checks below are S3 Object Lambda's rules; the other origin kinds (API Gateway, function
    // URLs, Multi-Region Access Points) are checked by tests/origin_kinds.rs and
    // tests/origin_request_props.rs.
    let config = HandlerConfig {
        origins: vec![OriginKind::s3_object_lambda()],
        ..HandlerConfig::default()
    };
    Handler::new(config, credentials)
});

/// `EDGE_SIGNER_FUZZ_STRICT=1`: also fail on `EventError::Signing` (see `check_error`).
static STRICT: LazyLock<bool> = LazyLock::new(|| std::env::var_os("EDGE_SIGNER_FUZZ_STRICT").is_some());

fuzz_target!(|data: &[u8]| {
    let now: SystemTime = UNIX_EPOCH + Duration::from_secs(NOW_SECS);
    let context = HANDLER.context(now);
    match HANDLER.handle(data, now) {
        Ok(Outcome::Forward(request)) => check_forward(data, &request, &context),
        Ok(outcome @ Outcome::Respond { .. }) => check_respond(&outcome),
        Err(error) => check_error(&error),
    }
});

fn header<'h>(headers: &'h Headers<'_>, name: &str) -> &'h str {
    match headers.get(name) {
        Some([field]) => field.value.as_str(),
        other => panic!("expected exactly one {name:?} header, found {other:?}"),
    }
}

fn is_managed(name: &str) -> bool {
    name == "host" || name == "authorization" || name.starts_with("x-amz-")
}

fn check_forward(data: &[u8], request: &Request<'_>, context: &Context<'_>) {
    // The event that produced this request (the handler accepted it, so this parse must too).
    // Parsed as a prefix, then checked to be the whole input.
    let mut deserializer = serde_json::Deserializer::from_slice(data);
    let event = Event::deserialize(&mut deserializer).expect("the handler accepted the event");
    if *STRICT {
        assert!(
            deserializer.end().is_ok(),
            "the handler accepted bytes after the event's JSON value"
        );
    }
    let record = &event.records[0];
    let before = &record.cf.request;
    let (origin, _) = before.origin.details().expect("one origin");
    let domain = origin.domain_name.as_str();

    // The path is in S3 canonical form, and that form is a fixed point.
    let uri = request.uri.as_str();
    assert_eq!(
        sigv4::s3_canonical_path(uri).as_deref(),
        Ok(uri),
        "uri is not in idempotent S3 canonical form"
    );
    assert_eq!(
        sigv4::s3_canonical_path(&before.uri).as_deref(),
        Ok(uri),
        "uri is not the canonical form of the viewer's uri"
    );
    // CloudFront's limit.
    let query = request.querystring.as_str();
    assert!(
        uri.len() + query.len() < MAX_URI_AND_QUERY,
        "uri + querystring is {} bytes",
        uri.len() + query.len()
    );
    // Only allow-listed parameters, each in canonical encoding.
    for part in query.split('&').filter(|p| !query.is_empty() || !p.is_empty()) {
        let (name, value) = part.split_once('=').expect("name=value");
        assert_eq!(
            name, "showExif",
            "querystring {query:?} holds a parameter not allowed"
        );
        assert_eq!(
            sigv4::uri_encode(&percent_decode(value)),
            value,
            "value not in canonical encoding"
        );
    }

    // Headers: no CR/LF anywhere, lower-case names.
    for (name, fields) in request.headers.iter() {
        assert!(!name.contains(['\r', '\n']), "CR/LF in header name {name:?}");
        assert_eq!(name.to_ascii_lowercase(), name, "header name not lower-case");
        assert!(
            !fields.is_empty() || !is_managed(name),
            "empty managed header {name:?}"
        );
        for field in fields {
            assert!(!field.value.contains(['\r', '\n']), "CR/LF in {name:?}");
            if let Some(key) = &field.key {
                assert!(!key.contains(['\r', '\n']), "CR/LF in key of {name:?}");
                // Viewer headers pass through as they came; the ones the handler sets must have
                // a key naming them.
                if is_managed(name) {
                    assert_eq!(key.to_ascii_lowercase(), name, "key does not name {name:?}");
                }
            }
        }
    }
    assert!(
        !request.headers.contains_key("x-amz-cf-id"),
        "x-amz-cf-id must be left to CloudFront"
    );
    for name in request.headers.keys().filter(|n| n.starts_with("x-amz-")) {
        assert!(
            matches!(
                name,
                "x-amz-date" | "x-amz-security-token" | "x-amz-content-sha256"
            ),
            "viewer header {name:?} was forwarded"
        );
    }
    let target = recognise(domain, &context.config.origins).expect("a recognised origin");
    let authorization = header(&request.headers, "authorization");
    let credential = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/{}/{}/aws4_request, ",
        &AMZ_DATE[..8],
        target.region,
        target.service
    );
    assert!(
        authorization.starts_with(&credential),
        "authorization {authorization:?}"
    );
    assert!(
        authorization.contains(&format!(", {SIGNED_HEADERS}, ")),
        "authorization {authorization:?} does not sign the five headers"
    );
    assert_eq!(header(&request.headers, "host"), domain);
    assert_eq!(header(&request.headers, "x-amz-date"), AMZ_DATE);
    assert_eq!(header(&request.headers, "x-amz-security-token"), TOKEN);
    let payload_hash = header(&request.headers, "x-amz-content-sha256");
    let expected_hash = match &request.body {
        None => sigv4::UNSIGNED_PAYLOAD.to_owned(),
        Some(body) => {
            assert!(!body.is_truncated(), "a truncated body was signed");
            let data = body.data.as_deref().unwrap_or_default();
            let bytes = match body.encoding.as_deref() {
                Some("base64") => base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .expect("base64 body that was signed"),
                Some("text") | None => data.as_bytes().to_vec(),
                Some(other) => panic!("body with encoding {other:?} was signed"),
            };
            hex::encode(Sha256::digest(bytes))
        }
    };
    assert_eq!(payload_hash, expected_hash, "x-amz-content-sha256");

    // What is sent is what was signed: sign the outgoing request independently and compare.
    let settings = SigningSettings::s3();
    let signed_headers = [
        ("host", domain),
        ("x-amz-cf-id", record.cf.config.request_id.as_str()),
    ];
    let body = if payload_hash == sigv4::UNSIGNED_PAYLOAD {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Precomputed(payload_hash)
    };
    // CloudFront sends the origin path in front of the uri.
    let sent_path = format!("{}{uri}", origin.path.as_deref().unwrap_or_default());
    let resign = sigv4::sign(
        &SignableRequest {
            method: &request.method,
            path: &sent_path,
            query,
            headers: &signed_headers,
            body,
        },
        &SigningParams {
            credentials: context.credentials,
            region: target.region,
            service: target.service,
            time: context.now,
            settings: &settings,
        },
        context.keys,
    )
    .expect("the forwarded request signs");
    let resigned_auth = resign.authorization();
    assert_eq!(
        resigned_auth,
        Some(authorization),
        "sent request differs from signed one"
    );

    // Everything else passes through untouched, in order.
    assert_eq!(request.method, before.method);
    assert_eq!(request.client_ip, before.client_ip);
    assert_eq!(request.origin, before.origin);
    assert_eq!(request.body, before.body);
    assert_eq!(request.extra, before.extra);
    fn kept<'h>(h: &'h Headers<'_>) -> Vec<(&'h str, &'h [HeaderField<'h>])> {
        h.iter().filter(|(n, _)| !is_managed(n)).collect()
    }
    assert_eq!(
        kept(&request.headers),
        kept(&before.headers),
        "viewer headers changed"
    );

    // The JSON returned to CloudFront parses, and parses back to the same request. Fields we do
    // not model are copied verbatim, so the output is as strict as the input: when serde_json's
    // strict parser (which refuses, say, a lone surrogate escape `\ud800`) accepts the input, it
    // accepts the output too.
    let outcome = Outcome::Forward(Box::new(request.clone()));
    let json = outcome.to_json();
    if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        let value: serde_json::Value = serde_json::from_str(&json).expect("to_json is JSON");
        assert!(value.is_object());
    }
    let back: Request<'_> = serde_json::from_str(&json).expect("to_json is a request");
    assert_eq!(&back, request, "request does not round-trip through to_json");
}

fn check_respond(outcome: &Outcome<'_>) {
    let Outcome::Respond { response, reason } = outcome else {
        unreachable!()
    };
    assert!(
        matches!(response.status.as_str(), "400" | "413" | "414" | "502"),
        "unexpected status {}",
        response.status
    );
    assert!(!reason.is_empty());
    assert_eq!(header(&response.headers, "cache-control"), "no-store");
    assert!(!response.headers.contains_key("authorization"));
    let json = outcome.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).expect("to_json is JSON");
    assert_eq!(value["status"], response.status.as_str());
}

fn check_error(error: &EventError) {
    // Display must not panic, and errors stay small.
    let text = error.to_string();
    assert!(!text.is_empty());
    if *STRICT {
        // The handler documents a signing error as a bug ("the event was checked before").
        assert!(
            !matches!(error, EventError::Signing(_)),
            "signing refused an accepted event: {error}"
        );
    }
}

fn percent_decode(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
