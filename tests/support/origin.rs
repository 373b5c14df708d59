//! Shared by `tests/origin_request.rs` and `tests/origin_request_props.rs`: the fixed clock and
//! credentials of the shipped vectors, event builders, and an independent check of what the
//! origin-request handler forwards.
//!
//! The check does not use the crate's signer or its canonicalisation. It rebuilds the request as it
//! reaches the origin (the returned uri and query, `host` from the returned headers, the returned
//! `x-amz-*` headers, and `x-amz-cf-id: <config.requestId>` added as CloudFront adds it after the
//! function), signs it with aws-sigv4 configured as S3 verifies (single encoding, no
//! normalisation, `x-amz-content-sha256`), with `excluded_headers` so that exactly `host`,
//! `x-amz-cf-id`, `x-amz-content-sha256`, `x-amz-date` and `x-amz-security-token` are signed, and
//! compares what aws-sigv4 would add with what the handler returned.

#![allow(dead_code)] // each test crate uses its own part of this module

use aws_credential_types::Credentials;
use aws_sigv4::http_request as aws;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine;
use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{EventError, Handler, Outcome};
use serde_json::{Value, json};
use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The AWS SigV4 test suite's clock: 2015-08-30T12:36:00Z.
pub const AT: &str = "2015-08-30T12:36:00Z";
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// From `vectors/aws-sig-v4-test-suite/v4/get-vanilla-with-session-token/context.json`.
pub const TOKEN: &str = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
pub const REQUEST_ID: &str = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==";
pub const DOMAIN: &str = "myap-123456789012.s3-object-lambda.us-west-2.amazonaws.com";

/// The signed-headers list every forwarded request must carry (with a session token).
pub const SIGNED_WITH_TOKEN: &str = "host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-security-token";
/// The same without a session token.
pub const SIGNED_WITHOUT_TOKEN: &str = "host;x-amz-cf-id;x-amz-content-sha256;x-amz-date";
/// SigV4A's (S3 Multi-Region Access Points): the region set is signed too.
pub const SIGNED_V4A_WITH_TOKEN: &str =
    "host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-region-set;x-amz-security-token";
pub const SIGNED_V4A_WITHOUT_TOKEN: &str =
    "host;x-amz-cf-id;x-amz-content-sha256;x-amz-date;x-amz-region-set";

/// Headers CloudFront refuses in a function's output ("Restrictions on all edge functions").
pub const DISALLOWED: &[&str] = &[
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "trailer",
    "upgrade",
    "x-amzn-auth",
    "x-amzn-cf-billing",
    "x-amzn-cf-id",
    "x-amzn-cf-xff",
    "x-amzn-errortype",
    "x-amzn-fle-profile",
    "x-amzn-header-count",
    "x-amzn-header-order",
    "x-amzn-lambda-integration-tag",
    "x-amzn-requestid",
    "x-cache",
    "x-forwarded-proto",
    "x-real-ip",
];
/// Prefixes of disallowed headers.
pub const DISALLOWED_PREFIXES: &[&str] = &["x-accel-", "x-amz-cf-", "x-edge-"];
/// Headers an origin-request function must not change.
pub const READ_ONLY: &[&str] = &[
    "accept-encoding",
    "cdn-loop",
    "content-length",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "transfer-encoding",
    "via",
];

pub fn is_disallowed(name: &str) -> bool {
    DISALLOWED.contains(&name) || DISALLOWED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// 2015-08-30T12:36:00Z.
pub fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

pub fn credentials(with_token: bool) -> Credentials {
    Credentials::new(
        ACCESS_KEY,
        SECRET,
        with_token.then(|| TOKEN.to_owned()),
        None,
        "tests",
    )
}

/// Runs the handler as the shells do. The outcome borrows from the event and the handler, so the
/// test's copies of both are leaked (a few KB per case).
pub fn run(
    event: &[u8],
    config: &HandlerConfig,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<Outcome<'static>, EventError> {
    let event: &'static [u8] = Box::leak(event.to_vec().into_boxed_slice());
    let handler: &'static Handler = Box::leak(Box::new(Handler::new(config.clone(), credentials.clone())));
    handler.handle(event, now)
}

/// A CloudFront-like origin-request `request` object (the documentation's example, our origin).
pub fn base_request() -> Value {
    json!({
        "clientIp": "203.0.113.178",
        "method": "GET",
        "uri": "/photos/cat.jpg",
        "querystring": "showExif=true",
        "headers": {
            "host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}],
            "user-agent": [{"key": "User-Agent", "value": "Amazon CloudFront"}],
            "via": [{"key": "Via", "value": "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)"}],
            "x-forwarded-for": [{"key": "X-Forwarded-For", "value": "203.0.113.178"}]
        },
        "origin": {
            "custom": {
                "customHeaders": {},
                "domainName": DOMAIN,
                "keepaliveTimeout": 5,
                "path": "",
                "port": 443,
                "protocol": "https",
                "readTimeout": 30,
                "sslProtocols": ["TLSv1.2"]
            }
        }
    })
}

/// Wraps a `request` object in an origin-request event.
pub fn event(request: Value) -> Value {
    json!({"Records": [{"cf": {
        "config": {
            "distributionDomainName": "d111111abcdef8.cloudfront.net",
            "distributionId": "EDFDVBD6EXAMPLE",
            "eventType": "origin-request",
            "requestId": REQUEST_ID
        },
        "request": request
    }}]})
}

/// The `request` object of an event.
pub fn request_of(event: &Value) -> &Value {
    &event["Records"][0]["cf"]["request"]
}

/// The origin's domain: `origin.custom.domainName` or `origin.s3.domainName`.
pub fn origin_domain(request: &Value) -> Option<&str> {
    let origin = &request["origin"];
    origin["custom"]["domainName"]
        .as_str()
        .or_else(|| origin["s3"]["domainName"].as_str())
}

/// How an origin's service verifies a signature, as AWS documents it: S3 signs the path as sent
/// and accepts `UNSIGNED-PAYLOAD`; every other service normalises and double-encodes the path and
/// hashes the body (the empty one when there is none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verifies {
    S3,
    /// S3 Multi-Region Access Points: S3's rules, signed with SigV4A for the region set `*`.
    S3V4a,
    Service,
}

/// Region, service and how it verifies, parsed here without the crate's origin table:
/// `<name>.s3-object-lambda.<region>.amazonaws.com(.cn)`,
/// `<api-id>.execute-api.<region>.amazonaws.com(.cn)`, `<url-id>.lambda-url.<region>.on.aws`,
/// `<alias>.mrap.accesspoint.s3-global.amazonaws.com` (region set `*`).
pub fn scope_of(host: &str) -> Option<(String, &'static str, Verifies)> {
    if let Some(alias) = host.strip_suffix(".mrap.accesspoint.s3-global.amazonaws.com") {
        return (!alias.is_empty()).then(|| ("*".to_owned(), "s3", Verifies::S3V4a));
    }
    if let Some(rest) = host.strip_suffix(".on.aws") {
        let (rest, region) = rest.rsplit_once('.')?;
        let name = rest.strip_suffix(".lambda-url")?;
        return (!name.is_empty()).then(|| (region.to_owned(), "lambda", Verifies::Service));
    }
    let rest = host
        .strip_suffix(".amazonaws.com.cn")
        .or_else(|| host.strip_suffix(".amazonaws.com"))?;
    let (rest, region) = rest.rsplit_once('.')?;
    let (name, service, verifies) = if let Some(name) = rest.strip_suffix(".s3-object-lambda") {
        (name, "s3-object-lambda", Verifies::S3)
    } else {
        (
            rest.strip_suffix(".execute-api")?,
            "execute-api",
            Verifies::Service,
        )
    };
    (!name.is_empty()).then(|| (region.to_owned(), service, verifies))
}

/// The single value of header `name`, if the header is there with exactly one value.
pub fn single_value<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    match headers.get(name)?.as_array()?.as_slice() {
        [field] => field["value"].as_str(),
        _ => None,
    }
}

/// The body bytes as CloudFront will send them to the origin, decoded independently.
pub fn body_bytes(request: &Value) -> Option<Vec<u8>> {
    let body = request.get("body")?;
    let data = body["data"].as_str().unwrap_or_default();
    Some(match body["encoding"].as_str() {
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("test bodies are valid base64"),
        _ => data.as_bytes().to_vec(),
    })
}

/// What aws-sigv4 adds to the request as it reaches the origin, by lower-case header name.
pub struct Expected {
    pub headers: Vec<(String, String)>,
    /// The signature alone (for SigV4A, aws-sigv4's deterministic RFC 6979 one).
    pub signature: String,
}

impl Expected {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Signs with aws-sigv4 the request the origin receives when the handler returned `output` for
/// `input` (both `request` objects). `with_cf_id`: whether CloudFront's `X-Amz-Cf-Id` is on the
/// request (it always is; `false` shows the signature depends on it).
pub fn aws_sign(
    input: &Value,
    output: &Value,
    request_id: &str,
    credentials: &Credentials,
    now: SystemTime,
    with_cf_id: bool,
) -> Result<Expected, String> {
    let headers = output["headers"].as_object().ok_or("no headers")?;
    let host = single_value(&output["headers"], "host").ok_or("no single host header")?;
    let (region, service, verifies) =
        scope_of(host).ok_or_else(|| format!("host {host:?} is not an origin the handler signs for"))?;
    let uri = output["uri"].as_str().ok_or("no uri")?;
    let query = output["querystring"].as_str().ok_or("no querystring")?;
    let method = output["method"].as_str().ok_or("no method")?;

    // Every header on the way to the origin, then CloudFront's X-Amz-Cf-Id.
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let mut excluded: Vec<Cow<'static, str>> = vec![Cow::Borrowed("authorization")];
    const SIGNED: [&str; 6] = [
        "host",
        "x-amz-cf-id",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-region-set",
        "x-amz-security-token",
    ];
    for (name, fields) in headers {
        if name == "authorization" {
            continue;
        }
        if !SIGNED.contains(&name.as_str()) {
            excluded.push(Cow::Owned(name.clone()));
        }
        for field in fields.as_array().ok_or("header is not an array")? {
            pairs.push((name, field["value"].as_str().ok_or("value is not a string")?));
        }
    }
    if with_cf_id {
        pairs.push(("x-amz-cf-id", request_id));
    }

    let mut settings = aws::SigningSettings::default();
    if verifies != Verifies::Service {
        settings.percent_encoding_mode = aws::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = aws::UriPathNormalizationMode::Disabled;
    } else {
        settings.percent_encoding_mode = aws::PercentEncodingMode::Double;
        settings.uri_path_normalization_mode = aws::UriPathNormalizationMode::Enabled;
    }
    settings.payload_checksum_kind = aws::PayloadChecksumKind::XAmzSha256;
    settings.session_token_mode = aws::SessionTokenMode::Include;
    settings.signature_location = aws::SignatureLocation::Headers;
    settings.excluded_headers = Some(excluded);

    let identity: Identity = credentials.clone().into();
    let params: aws::SigningParams<'_> = if verifies == Verifies::S3V4a {
        aws_sigv4::sign::v4a::SigningParams::builder()
            .identity(&identity)
            .region_set(&region)
            .name(service)
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| format!("params: {e}"))?
            .into()
    } else {
        aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&region)
            .name(service)
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| format!("params: {e}"))?
            .into()
    };
    // CloudFront sends the origin path in front of the uri.
    let origin = &output["origin"];
    let origin_path = ["custom", "s3"]
        .iter()
        .find_map(|kind| origin[kind]["path"].as_str())
        .unwrap_or_default();
    let target = if query.is_empty() {
        format!("https://{host}{origin_path}{uri}")
    } else {
        format!("https://{host}{origin_path}{uri}?{query}")
    };
    let body = body_bytes(input);
    let signable_body = match (&body, verifies) {
        (Some(bytes), _) => aws::SignableBody::Bytes(bytes),
        (None, Verifies::S3 | Verifies::S3V4a) => aws::SignableBody::UnsignedPayload,
        (None, Verifies::Service) => aws::SignableBody::Bytes(&[]),
    };
    let request = aws::SignableRequest::new(method, target, pairs.into_iter(), signable_body)
        .map_err(|e| format!("aws-sigv4 request: {e}"))?;
    let (instructions, signature) = aws::sign(request, &params)
        .map_err(|e| format!("aws-sigv4 sign: {e}"))?
        .into_parts();
    Ok(Expected {
        headers: instructions
            .headers()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
            .collect(),
        signature,
    })
}

/// Checks a forwarded request (`output`) against the event's request (`input`): the signature
/// (recomputed by aws-sigv4), the signed set, no viewer `authorization`/`x-amz-*` left, no
/// disallowed header added, read-only headers and fields unchanged, every field the handler does
/// not own unchanged. Returns a description of the first problem.
pub fn verify_forwarded(
    input: &Value,
    output: &Value,
    allow_list: &[String],
    request_id: &str,
    credentials: &Credentials,
    now: SystemTime,
) -> Result<(), String> {
    let in_headers = input["headers"].as_object().ok_or("input headers")?;
    let out_headers = output["headers"].as_object().ok_or("output headers")?;

    let domain = origin_domain(output).ok_or("no origin domain")?;
    let (_, _, verifies) = scope_of(domain).ok_or_else(|| format!("{domain:?} is not signed for"))?;
    let uri = output["uri"].as_str().ok_or("no uri")?;
    let input_uri = input["uri"].as_str().ok_or("no input uri")?;
    if verifies != Verifies::Service {
        // The uri is the same key, in S3's canonical form.
        let key = percent_decode_strict(uri).ok_or_else(|| format!("uri {uri:?} has a bad escape"))?;
        if s3_encode_key(&key) != uri {
            return Err(format!(
                "uri {uri:?} is not in S3 canonical form ({:?})",
                s3_encode_key(&key)
            ));
        }
        if percent_decode_strict(input_uri).as_deref() != Some(key.as_slice()) {
            return Err(format!("the key changed: {input_uri:?} -> {uri:?}"));
        }
    } else if uri != input_uri {
        // Other services: the uri goes as it came (the signature covers its normalised,
        // double-encoded form).
        return Err(format!("the uri changed: {input_uri:?} -> {uri:?}"));
    }
    // The query: for S3, the allow-listed parameters of the input; for other services, all of
    // them in the viewer's order; canonical, viewer X-Amz-* parameters dropped.
    let query = output["querystring"].as_str().ok_or("no querystring")?;
    let raw_query = input["querystring"].as_str().ok_or("no input querystring")?;
    let expected_query = match verifies {
        Verifies::S3 | Verifies::S3V4a => expected_query(raw_query, allow_list),
        Verifies::Service => expected_whole_query(raw_query),
    };
    if query != expected_query {
        return Err(format!("querystring {query:?}, expected {expected_query:?}"));
    }

    // host := the origin's domain.
    if origin_domain(input) != Some(domain) {
        return Err("the origin changed".into());
    }
    if single_value(&output["headers"], "host") != Some(domain) {
        return Err(format!("host is {:?}, not {domain:?}", out_headers.get("host")));
    }

    // The signature, recomputed independently (SigV4A: checked with the public key; see
    // `check_sigv4a`).
    let expected = aws_sign(input, output, request_id, credentials, now, true)?;
    let ours: &[&str] = if verifies == Verifies::S3V4a {
        check_sigv4a(input, output, request_id, credentials, &expected)?;
        &[
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
            "x-amz-region-set",
        ]
    } else {
        &[
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
            "authorization",
        ]
    };
    for &name in ours {
        let got = match out_headers.get(name) {
            None => None,
            Some(_) => Some(
                single_value(&output["headers"], name)
                    .ok_or_else(|| format!("{name} has more than one value"))?,
            ),
        };
        if got != expected.get(name) {
            return Err(format!(
                "{name}: handler returned {got:?}, aws-sigv4 computes {:?}",
                expected.get(name)
            ));
        }
    }
    let signed = match (credentials.session_token().is_some(), verifies) {
        (true, Verifies::S3V4a) => SIGNED_V4A_WITH_TOKEN,
        (false, Verifies::S3V4a) => SIGNED_V4A_WITHOUT_TOKEN,
        (true, _) => SIGNED_WITH_TOKEN,
        (false, _) => SIGNED_WITHOUT_TOKEN,
    };
    let authorization = single_value(&output["headers"], "authorization").unwrap_or_default();
    if !authorization.contains(&format!(", SignedHeaders={signed}, ")) {
        return Err(format!(
            "signed headers are not exactly {signed}: {authorization}"
        ));
    }
    // CloudFront adds X-Amz-Cf-Id itself: adding it is a disallowed header.
    if out_headers.contains_key("x-amz-cf-id") {
        return Err("x-amz-cf-id was added".into());
    }

    // No viewer authorization or x-amz-* left: every such header is one of ours (checked above
    // to hold exactly aws-sigv4's value).
    for name in out_headers.keys() {
        // (`authorization` is ours too: compared above, or verified by `check_sigv4a`.)
        if name.starts_with("x-amz-") && !ours.contains(&name.as_str()) {
            return Err(format!("viewer header {name} reached the origin"));
        }
    }
    // Nothing disallowed added or changed; read-only headers untouched.
    for (name, fields) in out_headers {
        if is_disallowed(name) && in_headers.get(name) != Some(fields) {
            return Err(format!("disallowed header {name} added or changed"));
        }
    }
    for name in READ_ONLY {
        if in_headers.get(*name) != out_headers.get(*name) {
            return Err(format!("read-only header {name} changed"));
        }
    }
    // Every other header exactly as it came, in the same order.
    let owned = |name: &str| name == "host" || name == "authorization" || name.starts_with("x-amz-");
    let kept_in: Vec<(&String, &Value)> = in_headers.iter().filter(|(n, _)| !owned(n)).collect();
    let kept_out: Vec<(&String, &Value)> = out_headers.iter().filter(|(n, _)| !owned(n)).collect();
    if kept_in != kept_out {
        return Err(format!("other headers changed: {kept_in:?} -> {kept_out:?}"));
    }

    // Every field but uri, querystring and headers unchanged (read-only clientIp and method,
    // origin with everything the handler does not model, body, unknown fields).
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(object) = v.as_object_mut() {
            for field in ["uri", "querystring", "headers"] {
                object.remove(field);
            }
        }
        v
    };
    if strip(input) != strip(output) {
        return Err(format!(
            "fields other than uri/querystring/headers changed:\n  in:  {}\n  out: {}",
            strip(input),
            strip(output)
        ));
    }
    Ok(())
}

/// The query an S3-style origin should receive: the parameters whose form-decoded name is
/// allow-listed, each side form-decoded and URI-encoded, sorted by encoded name then value.
pub fn expected_query(raw: &str, allow_list: &[String]) -> String {
    query_where(raw, true, |name| {
        allow_list.iter().any(|allowed| allowed.as_bytes() == name)
    })
}

/// The query any other origin should receive: every parameter but `X-Amz-*` ones (any case),
/// canonical, in the viewer's order (a service reads repeated names as a list).
pub fn expected_whole_query(raw: &str) -> String {
    query_where(raw, false, |_| true)
}

/// The parameters whose form-decoded name `keep` accepts and that are not `X-Amz-*`, each side
/// form-decoded and URI-encoded, sorted by encoded name then value when `sort`.
pub fn query_where(raw: &str, sort: bool, keep: impl Fn(&[u8]) -> bool) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|part| !part.is_empty())
        .filter_map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = form_decode(name);
            let x_amz = name.len() >= 6 && name[..6].eq_ignore_ascii_case(b"x-amz-");
            (!x_amz && keep(&name)).then(|| (uri_encode(&name), uri_encode(&form_decode(value))))
        })
        .collect();
    if sort {
        pairs.sort();
    }
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Checks a generated response: the status (a string), `cache-control: no-store`, a text body,
/// and nothing signed.
pub fn verify_response(response: &Value, status: &str) -> Result<(), String> {
    if response["status"] != json!(status) {
        return Err(format!("status {} is not {status:?}", response["status"]));
    }
    if single_value(&response["headers"], "cache-control") != Some("no-store") {
        return Err("no cache-control: no-store".into());
    }
    if response["statusDescription"].as_str().is_none_or(str::is_empty) {
        return Err("no statusDescription".into());
    }
    if response["bodyEncoding"] != json!("text")
        || !response["body"].as_str().is_some_and(|b| b.starts_with(status))
    {
        return Err("body is not the status text".into());
    }
    let text = response.to_string();
    if text.contains("AWS4-HMAC-SHA256") || text.contains("x-amz-") || text.contains(TOKEN) {
        return Err(format!("a generated response carries signing material: {text}"));
    }
    let names: Vec<&String> = response["headers"].as_object().ok_or("headers")?.keys().collect();
    if names != ["content-type", "cache-control"] {
        return Err(format!("unexpected response headers {names:?}"));
    }
    Ok(())
}

/// The outcome as JSON, and whether it is a forwarded request.
pub fn outcome_value(outcome: &Outcome) -> Value {
    serde_json::from_str(&outcome.to_json()).expect("the outcome is JSON")
}

/// Percent-decodes `%XX` escapes (which must all be well formed). Written here, not taken from the
/// crate.
pub fn percent_decode_strict(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Form decoding as a server does it: `+` is a space, a well-formed `%XX` a byte, any other `%`
/// itself.
pub fn form_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if bytes.len() >= i + 3
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// S3's encoding of an object key into a path: every byte outside `A-Za-z0-9-_.~` as `%XX`
/// (uppercase), `/` kept.
pub fn s3_encode_key(key: &[u8]) -> String {
    let mut out = String::with_capacity(key.len() * 3);
    for &b in key {
        if unreserved(b) || b == b'/' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SigV4's encoding of a query name or value: every byte outside `A-Za-z0-9-_.~` as `%XX`.
pub fn uri_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A SigV4A request as the origin checks it. ECDSA signatures differ on every call, so the
/// handler's cannot be compared with aws-sigv4's; instead:
/// 1. the string to sign is rebuilt here from the request as it reaches the origin (S3 rules: the
///    path and query as sent, the six headers, the payload hash), and shown to be aws-sigv4's:
///    aws-sigv4's signature is deterministic (RFC 6979), so signing this string with the key
///    aws-sigv4 derives must give exactly the signature aws-sigv4 put on the request;
/// 2. the handler's `Authorization` names the algorithm, the scope without region and the signed
///    headers, and its signature verifies over that string with the public key of aws-sigv4's
///    derived key (p256's ECDSA verification).
pub fn check_sigv4a(
    input: &Value,
    output: &Value,
    request_id: &str,
    credentials: &Credentials,
    aws: &Expected,
) -> Result<(), String> {
    use aws_sigv4::sign::v4a::{calculate_signature, generate_signing_key};
    use p256::ecdsa::signature::Verifier;
    use sha2::{Digest, Sha256};

    let value =
        |name: &str| single_value(&output["headers"], name).ok_or_else(|| format!("no single {name}"));
    let date = value("x-amz-date")?;
    let payload = value("x-amz-content-sha256")?;
    let expected_payload = match body_bytes(input) {
        Some(body) => hex::encode(Sha256::digest(body)),
        None => "UNSIGNED-PAYLOAD".to_owned(),
    };
    if payload != expected_payload {
        return Err(format!(
            "x-amz-content-sha256 {payload:?}, expected {expected_payload:?}"
        ));
    }
    if value("x-amz-region-set")? != "*" {
        return Err("x-amz-region-set is not *".into());
    }
    let mut headers = vec![
        ("host", value("host")?),
        ("x-amz-cf-id", request_id),
        ("x-amz-content-sha256", payload),
        ("x-amz-date", date),
        ("x-amz-region-set", "*"),
    ];
    if credentials.session_token().is_some() {
        headers.push(("x-amz-security-token", value("x-amz-security-token")?));
    }
    let origin_path = ["custom", "s3"]
        .iter()
        .find_map(|kind| output["origin"][kind]["path"].as_str())
        .unwrap_or_default();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let mut canonical = format!(
        "{}\n{origin_path}{}\n{}\n",
        output["method"].as_str().ok_or("no method")?,
        output["uri"].as_str().ok_or("no uri")?,
        output["querystring"].as_str().ok_or("no querystring")?,
    );
    for (name, value) in &headers {
        canonical.push_str(&format!("{name}:{}\n", value.trim()));
    }
    canonical.push_str(&format!("\n{}\n{payload}", signed.join(";")));
    let string_to_sign = format!(
        "AWS4-ECDSA-P256-SHA256\n{date}\n{}/s3/aws4_request\n{}",
        &date[..8],
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );

    let key = generate_signing_key(credentials.access_key_id(), credentials.secret_access_key());
    if calculate_signature(&key, string_to_sign.as_bytes()) != aws.signature {
        return Err(format!(
            "aws-sigv4 signs another string than\n{string_to_sign}\nof\n{canonical}"
        ));
    }
    let authorization = value("authorization")?;
    let prefix = format!(
        "AWS4-ECDSA-P256-SHA256 Credential={}/{}/s3/aws4_request, SignedHeaders={}, Signature=",
        credentials.access_key_id(),
        &date[..8],
        signed.join(";")
    );
    let signature = authorization
        .strip_prefix(&prefix)
        .ok_or_else(|| format!("authorization {authorization:?} does not start with {prefix:?}"))?;
    let der = hex::decode(signature).map_err(|e| format!("signature is not hex: {e}"))?;
    let signature =
        p256::ecdsa::Signature::from_der(&der).map_err(|e| format!("signature is not DER: {e}"))?;
    let secret = p256::SecretKey::from_slice(key.as_ref()).map_err(|e| format!("derived key: {e}"))?;
    let public = p256::ecdsa::VerifyingKey::from(secret.public_key());
    public
        .verify(string_to_sign.as_bytes(), &signature)
        .map_err(|e| format!("the signature does not verify with aws-sigv4's derived public key: {e}"))
}
