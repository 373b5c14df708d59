//! Properties of the origin-request handler over random events: object keys (unicode, reserved
//! characters, `+`, `%` in valid and invalid escapes, `//`, `..`, spaces, lengths near the limit),
//! query strings (allow-listed and other parameters, repeats, `+`, escapes) and hostile viewer
//! headers (`authorization`, `x-amz-*` with any spelling in `key`, `x-amz-cf-id`, host spoofing,
//! long values), with and without a session token, bodies and methods, several regions, both
//! `custom` and `s3` origin objects and every built-in origin kind.
//!
//! Origins: three S3 Object Lambda access points, an S3 Multi-Region Access Point (S3's rules,
//! SigV4A, checked by `support::check_sigv4a`) and three API Gateway and Lambda function URL
//! hosts, which verify another way (the path as sent, normalised and double-encoded; the whole
//! query; the empty body's hash); the `service_origins_*` and `mrap_*` properties draw from those
//! kinds only.
//!
//! For every case the outcome is decided first by a model written here (not the crate's code):
//! a header name that is not a lower-case token is an error; for S3, an invalid `%` escape, a key
//! that is not UTF-8 or holds a control character is a generated 400; for the services, a path
//! that is not percent-encoded or whose `..` climbs above the root is a 400; a uri + query of 8192
//! characters or more is a 414; a truncated body is a 413; a POST, PUT or PATCH without an
//! included body is a 502; anything else is forwarded. A forwarded
//! request must then pass `support::verify_forwarded`, which
//!
//! 1. percent-decodes the returned uri to the key bytes, re-encodes them as S3 does (every byte
//!    outside `A-Za-z0-9-_.~` as `%XX`, `/` kept) and requires the result to be the returned uri,
//!    and the key to be the input's; then recomputes the signature with aws-sigv4 (S3 settings,
//!    exactly `host;x-amz-cf-id;x-amz-content-sha256;x-amz-date[;x-amz-security-token]` signed,
//!    `x-amz-cf-id` added as CloudFront adds it) and compares every signing header;
//! 2. requires that no viewer `authorization` or `x-amz-*` header is left (only ours);
//! 3. requires the query to be exactly the allow-listed parameters, canonical and sorted;
//! 4. requires every other field and header to be unchanged (read-only ones included).
//!
//! Each property runs at least 2,048 cases (more with `PROPTEST_CASES`) and asserts that its
//! generator produced every outcome it is meant to exercise. Failures are shrunk and saved to
//! `tests/origin_request_props.proptest-regressions`, replayed first on later runs.
//!
//! Not generated (tested in `tests/origin_request.rs`): query escapes that decode to invalid UTF-8
//! in an allow-listed parameter (aws-sigv4 decodes them lossily, the handler keeps the bytes).

#[path = "support/origin.rs"]
mod support;

use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{EventError, MAX_URI_AND_QUERY, Outcome};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use serde_json::{Map, Value, json};
use std::cell::Cell;
use support::*;

const UNRESERVED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
/// Reserved and other ASCII characters that may appear raw in CloudFront's `uri`.
const PATH_PUNCT: &str = "+()!*':@,=$&; ?#[]\"<>^`{|}\\";
const QUERY_PUNCT: &str = "!*'()/?:@,;$=[]^`{|}\\\" ";
const TOKEN_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~";
const VISIBLE: &str =
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
const NON_ASCII: &[char] = &[
    'é',
    'ü',
    'ß',
    'ሴ',
    '€',
    '\u{a0}',
    '\u{85}',
    '\u{2003}',
    '😀',
    '\u{10ffff}',
];

// ---------------------------------------------------------------------------------------------
// The generated case
// ---------------------------------------------------------------------------------------------

/// One header value: `(key, value)`.
type Field = (Option<String>, String);
/// A header: its name in the map and its values.
type Header = (String, Vec<Field>);
/// A counter a run must reach: its name, how to read it, the minimum share of cases in percent.
type Minimum = (&'static str, fn(&Stats) -> usize, usize);

#[derive(Clone, Debug)]
struct Case {
    uri: String,
    query: String,
    /// `(map name, fields)`: each field is `(key, value)`.
    headers: Vec<Header>,
    body: Option<(bool, &'static str, String)>,
    method: &'static str,
    origin: (&'static str, &'static str),
    request_id: String,
    with_token: bool,
    custom_allow_list: bool,
}

impl Case {
    fn allow_list(&self) -> Vec<String> {
        if self.custom_allow_list {
            ["showExif", "w", "a b", "ü"].map(String::from).to_vec()
        } else {
            HandlerConfig::default().query_allow_list
        }
    }

    fn config(&self) -> HandlerConfig {
        HandlerConfig {
            query_allow_list: self.allow_list(),
            ..HandlerConfig::default()
        }
    }

    fn request(&self) -> Value {
        let mut headers = Map::new();
        for (name, fields) in &self.headers {
            let fields: Vec<Value> = fields
                .iter()
                .map(|(key, value)| match key {
                    Some(key) => json!({"key": key, "value": value}),
                    None => json!({"value": value}),
                })
                .collect();
            headers.insert(name.clone(), Value::Array(fields));
        }
        let (kind, domain) = self.origin;
        let origin = match kind {
            "custom" => json!({"custom": {
                "customHeaders": {"x-origin-secret": [{"key": "X-Origin-Secret", "value": "s"}]},
                "domainName": domain, "keepaliveTimeout": 5, "path": "", "port": 443,
                "protocol": "https", "readTimeout": 30, "sslProtocols": ["TLSv1.2"]
            }}),
            _ => json!({"s3": {
                "authMethod": "none", "customHeaders": {}, "domainName": domain, "path": "", "region": "us-east-1"
            }}),
        };
        let mut request = json!({
            "clientIp": "203.0.113.178",
            "method": self.method,
            "uri": self.uri,
            "querystring": self.query,
            "headers": headers,
            "origin": origin,
            "futureField": {"kept": [1, "x"]}
        });
        if let Some((truncated, encoding, data)) = &self.body {
            request["body"] = json!({"inputTruncated": truncated, "action": "read-only", "encoding": encoding, "data": data});
        }
        request
    }

    fn event(&self) -> Value {
        let mut event = event(self.request());
        event["Records"][0]["cf"]["config"]["requestId"] = json!(self.request_id);
        event
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

fn string_of(set: &'static str, len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    prop::collection::vec(select(set.chars().collect::<Vec<_>>()), len)
        .prop_map(|v| v.into_iter().collect())
        .boxed()
}

fn one_of(set: &'static str) -> BoxedStrategy<String> {
    select(set.chars().collect::<Vec<_>>())
        .prop_map(String::from)
        .boxed()
}

fn non_ascii() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(NON_ASCII).prop_map(String::from),
        1 => any::<char>().prop_filter("non-ASCII", |c| !c.is_ascii()).prop_map(String::from),
    ]
    .boxed()
}

/// `%XX` for each byte, each hex digit upper- or lowercase as `mask` says.
fn escape(bytes: &[u8], mask: u64) -> String {
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        out.push('%');
        for (j, digit) in format!("{b:02X}").chars().enumerate() {
            out.push(if mask >> ((2 * i + j) % 64) & 1 == 1 {
                digit.to_ascii_lowercase()
            } else {
                digit
            });
        }
    }
    out
}

/// A character (any, or non-ASCII) percent-encoded as UTF-8.
fn escaped_char(ascii_too: bool) -> BoxedStrategy<String> {
    let c = if ascii_too {
        prop_oneof![any::<char>(), select(NON_ASCII)].boxed()
    } else {
        select(NON_ASCII).boxed()
    };
    (c, any::<u64>())
        .prop_map(|(c, mask)| escape(c.encode_utf8(&mut [0; 4]).as_bytes(), mask))
        .boxed()
}

fn escaped_byte() -> BoxedStrategy<String> {
    (any::<u8>(), any::<u64>())
        .prop_map(|(b, mask)| escape(&[b], mask))
        .boxed()
}

fn key_unit() -> BoxedStrategy<String> {
    prop_oneof![
        30 => string_of(UNRESERVED, 1..6),
        12 => one_of(PATH_PUNCT),
        6 => Just(" ".to_owned()),
        8 => non_ascii(),
        8 => escaped_char(true),
        3 => select(vec!["%2B", "%2b", "%20", "%2F", "%2f", "%25", "%2E", "%7e", "%41"]).prop_map(String::from),
        // Rarer, so that most keys are valid: bytes that may not be UTF-8, broken escapes, controls.
        1 => escaped_byte(),
        1 => select(vec!["%", "%z", "%4", "%G0", "%%", "%-1"]).prop_map(String::from),
        1 => select(vec!["\t", "\u{7f}", "\u{1}", "%00", "%0A", "%0d", "%7F"]).prop_map(String::from),
    ]
    .boxed()
}

fn key_uri() -> BoxedStrategy<String> {
    let segment = prop_oneof![
        8 => prop::collection::vec(key_unit(), 1..5).prop_map(|u| u.concat()),
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(String::new()),
    ];
    // Sometimes a long run that brings uri + query near the 8,192 limit (spaces triple).
    let pad = prop_oneof![
        12 => Just(String::new()),
        1 => (8_120usize..8_200).prop_map(|n| "k".repeat(n)),
        1 => (2_690usize..2_740).prop_map(|n| " ".repeat(n)),
    ];
    (prop::collection::vec(segment, 0..7), any::<bool>(), pad)
        .prop_map(|(segments, trailing_slash, pad)| {
            let mut uri = format!("/{}", segments.join("/"));
            if trailing_slash && !segments.is_empty() {
                uri.push('/');
            }
            if !pad.is_empty() {
                uri = format!("/{pad}{uri}");
            }
            uri
        })
        .boxed()
}

/// A query value (or the name of a kept parameter): escapes always decode to valid UTF-8 (see the
/// module doc), a stray `%` is never followed by two hex digits.
fn query_text() -> BoxedStrategy<String> {
    let unit = prop_oneof![
        8 => string_of(UNRESERVED, 1..6),
        3 => Just("+".to_owned()),
        3 => one_of(QUERY_PUNCT),
        3 => escaped_char(true),
        2 => select(vec!["%2B", "%2b", "%26", "%3D", "%3d", "%20", "%25", "%2F", "%7E", "%41"]).prop_map(String::from),
        2 => non_ascii(),
        // A stray '%' always comes with the non-hex character after it, so that it never pairs
        // with the next unit into an escape (which could decode to a lone byte).
        1 => select(vec!["%z", "%-", "%~", "%G", "%%z"]).prop_map(String::from),
    ];
    prop::collection::vec(unit, 0..4).prop_map(|u| u.concat()).boxed()
}

fn query_param() -> BoxedStrategy<String> {
    let name = prop_oneof![
        10 => Just("showExif".to_owned()),
        2 => select(vec!["showexif", "SHOWEXIF", "ShowExif", "showExif_", "xshowExif", "showExif+", "showExif%20"]).prop_map(String::from),
        2 => select(vec!["show%45xif", "show%45%78if", "%73howExif"]).prop_map(String::from),
        3 => select(vec!["w", "W", "a+b", "a%20b", "a b", "%C3%BC", "%c3%bc", "ü", "u%CC%88"]).prop_map(String::from),
        3 => select(vec!["utm_source", "X-Amz-Signature", "x-amz-date", "X-Amz-Credential", "response-content-type", "versionId"]).prop_map(String::from),
        2 => string_of(UNRESERVED, 1..8),
        1 => Just(String::new()),
    ];
    // `(value, junk)`: junk may decode to anything, so it only ever goes to a parameter the
    // handler drops.
    let value = prop_oneof![
        6 => query_text().prop_map(|v| (v, false)),
        1 => prop::collection::vec(escaped_byte(), 1..4).prop_map(|v| (v.concat(), true)),
    ];
    (name, value, 0u8..8)
        .prop_map(|(name, (value, junk), shape)| {
            // An `X-Amz-*` parameter is dropped for every origin kind, the whole-query ones included.
            let name = if junk { "X-Amz-Dropped".to_owned() } else { name };
            match shape {
                0 => name,               // no '='
                1 => format!("{name}="), // empty value
                _ => format!("{name}={value}"),
            }
        })
        .boxed()
}

fn query() -> BoxedStrategy<String> {
    (prop::collection::vec(query_param(), 0..7), 0u8..6)
        .prop_map(|(params, shape)| {
            let mut q = params.join("&");
            if shape == 0 {
                q = format!("&{q}&&");
            }
            q
        })
        .boxed()
}

/// A name, with random ASCII case.
fn case_variant(name: String) -> BoxedStrategy<String> {
    any::<u64>()
        .prop_map(move |mask| {
            name.chars()
                .enumerate()
                .map(|(i, c)| {
                    if mask >> (i % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect()
        })
        .boxed()
}

fn header_name() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just("authorization".to_owned()),
        8 => select(vec![
            "x-amz-date", "x-amz-security-token", "x-amz-content-sha256", "x-amz-cf-id",
            "x-amz-server-side-encryption", "x-amz-acl", "x-amz-request-payer", "x-amz-checksum-mode",
            "x-amz-expected-bucket-owner", "x-amz-",
        ]).prop_map(String::from),
        3 => string_of("abcdefghijklmnopqrstuvwxyz-", 1..12).prop_map(|s| format!("x-amz-{s}")),
        3 => Just("host".to_owned()),
        4 => select(vec![
            "x-amzn-trace-id", "x-amz", "x-forwarded-host", "accept", "cookie", "range", "via",
            "content-length", "if-none-match", "accept-encoding", "user-agent", "x-authorization",
            "cloudfront-viewer-country",
        ]).prop_map(String::from),
        3 => string_of(TOKEN_CHARS, 1..20),
    ]
    .boxed()
}

fn header_value() -> BoxedStrategy<String> {
    prop_oneof![
        6 => string_of(VISIBLE, 0..40),
        2 => Just(format!(
            "AWS4-HMAC-SHA256 Credential=AKIDVIEWER/20150830/us-west-2/s3-object-lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature={}", "0".repeat(64)
        )),
        2 => select(vec![
            DOMAIN, "evil.example", "myap-999999999999.s3-object-lambda.us-east-1.amazonaws.com",
            "20150830T123600Z", "UNSIGNED-PAYLOAD", REQUEST_ID, TOKEN,
        ]).prop_map(String::from),
        1 => (500usize..3_000, one_of(UNRESERVED)).prop_map(|(n, c)| c.repeat(n)),
        1 => prop::collection::vec(prop_oneof![string_of(VISIBLE, 1..4), non_ascii(), Just("\t".to_owned())], 1..8)
            .prop_map(|v| v.concat()),
    ]
    .boxed()
}

fn header_field(name: String) -> BoxedStrategy<Field> {
    let key = prop_oneof![
        1 => Just(None),
        3 => Just(Some(name.clone())),
        4 => case_variant(name).prop_map(Some),
        1 => string_of(TOKEN_CHARS, 1..10).prop_map(Some),
    ];
    (key, header_value()).boxed()
}

/// Hostile headers; with `upper`, sometimes a map name that is not lower case (CloudFront never
/// sends one; the handler must refuse it rather than let `X-Amz-*` slip past the removal).
fn headers(upper: bool) -> BoxedStrategy<Vec<Header>> {
    let one = header_name()
        .prop_flat_map(move |name| {
            let name_strategy = if upper {
                prop_oneof![19 => Just(name.clone()), 1 => case_variant(name.clone())].boxed()
            } else {
                Just(name.clone()).boxed()
            };
            (name_strategy, prop::collection::vec(header_field(name), 1..4))
        })
        .boxed();
    (prop::collection::vec(one, 0..10), simple_headers())
        .prop_map(|(hostile, mut base)| {
            base.extend(hostile);
            base
        })
        .boxed()
}

fn simple_headers() -> BoxedStrategy<Vec<Header>> {
    Just(vec![
        (
            "host".to_owned(),
            vec![(
                Some("Host".to_owned()),
                "d111111abcdef8.cloudfront.net".to_owned(),
            )],
        ),
        (
            "user-agent".to_owned(),
            vec![(Some("User-Agent".to_owned()), "Amazon CloudFront".to_owned())],
        ),
        (
            "via".to_owned(),
            vec![(
                Some("Via".to_owned()),
                "2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)".to_owned(),
            )],
        ),
        (
            "x-forwarded-for".to_owned(),
            vec![(Some("X-Forwarded-For".to_owned()), "203.0.113.178".to_owned())],
        ),
    ])
    .boxed()
}

fn body() -> BoxedStrategy<Option<(bool, &'static str, String)>> {
    use base64::Engine;
    prop_oneof![
        6 => Just(None),
        2 => prop::collection::vec(any::<u8>(), 0..200)
            .prop_map(|b| Some((false, "base64", base64::engine::general_purpose::STANDARD.encode(b)))),
        1 => string_of(VISIBLE, 0..60).prop_map(|s| Some((false, "text", s))),
        1 => prop::collection::vec(any::<u8>(), 0..60)
            .prop_map(|b| Some((true, "base64", base64::engine::general_purpose::STANDARD.encode(b)))),
    ]
    .boxed()
}

const S3_ORIGINS: &[&str] = &[
    DOMAIN,
    "ap-1-111122223333.s3-object-lambda.eu-central-1.amazonaws.com",
    "myap-123456789012.s3-object-lambda.cn-north-1.amazonaws.com.cn",
    MRAP,
];
const MRAP: &str = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com";
const SERVICE_ORIGINS: &[&str] = &[
    "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
    "z9y8x7w6v5.execute-api.cn-northwest-1.amazonaws.com.cn",
    "abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws",
];

/// Which origin kinds a property draws from.
#[derive(Clone, Copy)]
enum Kinds {
    All,
    Services,
    MultiRegionAccessPoints,
}

fn origin(kinds: Kinds) -> BoxedStrategy<(&'static str, &'static str)> {
    let domains = match kinds {
        Kinds::All => [S3_ORIGINS, SERVICE_ORIGINS].concat(),
        Kinds::Services => SERVICE_ORIGINS.to_vec(),
        Kinds::MultiRegionAccessPoints => vec![MRAP],
    };
    (select(vec!["custom", "s3"]), select(domains)).boxed()
}

/// A method for a request with or without an included body: mostly what such a request uses,
/// sometimes a POST, PUT or PATCH whose body CloudFront did not include.
fn method(with_body: bool) -> BoxedStrategy<&'static str> {
    if with_body {
        select(vec!["POST", "PUT", "PATCH", "GET", "DELETE"]).boxed()
    } else {
        prop_oneof![
            12 => select(vec!["GET", "GET", "HEAD", "DELETE", "OPTIONS"]),
            1 => select(vec!["POST", "PUT", "PATCH"]),
        ]
        .boxed()
    }
}

fn request_id() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(REQUEST_ID.to_owned()),
        1 => string_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", 40..60).prop_map(|s| format!("{s}==")),
    ]
    .boxed()
}

struct Parts {
    keys: bool,
    queries: bool,
    headers: bool,
    kinds: Kinds,
}

fn case(parts: Parts) -> BoxedStrategy<Case> {
    let uri = if parts.keys {
        key_uri()
    } else {
        Just("/photos/cat.jpg".to_owned()).boxed()
    };
    let query = if parts.queries {
        query()
    } else {
        Just("showExif=true&utm_source=x".to_owned()).boxed()
    };
    let headers = if parts.headers {
        headers(true)
    } else {
        simple_headers()
    };
    let body = if parts.headers { body() } else { Just(None).boxed() };
    let body_and_method = body.prop_flat_map(|body| {
        let with_body = body.is_some();
        (Just(body), method(with_body))
    });
    (
        uri,
        query,
        headers,
        body_and_method,
        origin(parts.kinds),
        request_id(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(uri, query, headers, (body, method), origin, request_id, with_token, custom_allow_list)| Case {
                uri,
                query,
                headers,
                body,
                method,
                origin,
                request_id,
                with_token,
                custom_allow_list,
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// The model and the check
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq)]
enum Expect {
    HeaderNameError,
    Status(&'static str),
    Forward,
}

fn lower_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| TOKEN_CHARS.as_bytes().contains(&b))
}

/// What the handler must do with `case`, decided without the crate.
fn expect(case: &Case) -> Expect {
    if case.headers.iter().any(|(name, _)| !lower_token(name)) {
        return Expect::HeaderNameError;
    }
    let length = match scope_of(case.origin.1).map(|(_, _, verifies)| verifies) {
        Some(Verifies::S3 | Verifies::S3V4a) => {
            let key = match percent_decode_strict(&case.uri) {
                Some(key) if case.uri.starts_with('/') => key,
                _ => return Expect::Status("400"),
            };
            if std::str::from_utf8(&key).is_err() || key.iter().any(|&b| b < 0x20 || b == 0x7f) {
                return Expect::Status("400");
            }
            s3_encode_key(&key).len() + expected_query(&case.query, &case.allow_list()).len()
        }
        _ => {
            // Sent as it is: it must be a percent-encoded path that stays under its root.
            let encoded = case.uri.starts_with('/')
                && percent_decode_strict(&case.uri).is_some()
                && case
                    .uri
                    .bytes()
                    .all(|b| b == b'%' || PATH_BYTES.as_bytes().contains(&b));
            if !encoded || climbs_above_root(&case.uri) {
                return Expect::Status("400");
            }
            case.uri.len() + expected_whole_query(&case.query).len()
        }
    };
    if length >= MAX_URI_AND_QUERY {
        return Expect::Status("414");
    }
    match &case.body {
        Some((true, _, _)) => Expect::Status("413"),
        None if !["GET", "HEAD", "DELETE", "OPTIONS"].contains(&case.method) => Expect::Status("502"),
        _ => Expect::Forward,
    }
}

/// What a percent-encoded path holds besides escapes (RFC 3986 `pchar` and `/`).
const PATH_BYTES: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/";

/// Whether the path's `..` segments (however their dots are escaped) go above its root.
fn climbs_above_root(uri: &str) -> bool {
    let mut depth: i64 = 0;
    for segment in uri.split('/').skip(1) {
        match percent_decode_strict(segment).as_deref() {
            Some(b"..") => depth -= 1,
            Some(b"" | b".") => {}
            _ => depth += 1,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

#[derive(Default)]
struct Stats {
    cases: Cell<usize>,
    forwarded: Cell<usize>,
    s400: Cell<usize>,
    s413: Cell<usize>,
    s414: Cell<usize>,
    s502: Cell<usize>,
    service_forwarded: Cell<usize>,
    header_name_error: Cell<usize>,
    kept_params: Cell<usize>,
    dropped_params: Cell<usize>,
    viewer_x_amz: Cell<usize>,
    no_token: Cell<usize>,
    with_body: Cell<usize>,
}

fn bump(cell: &Cell<usize>, yes: bool) {
    if yes {
        cell.set(cell.get() + 1);
    }
}

fn check(case: &Case, stats: &Stats) -> Result<(), TestCaseError> {
    bump(&stats.cases, true);
    let event = case.event();
    let credentials = credentials(case.with_token);
    let result = run(event.to_string().as_bytes(), &case.config(), &credentials, at());
    let expected = expect(case);
    match (&expected, &result) {
        (Expect::HeaderNameError, Err(EventError::HeaderName(_))) => bump(&stats.header_name_error, true),
        (Expect::Status(status), Ok(outcome @ Outcome::Respond { .. })) => {
            prop_assert_eq!(outcome.status(), Some(*status));
            verify_response(&outcome_value(outcome), status).map_err(TestCaseError::fail)?;
            bump(
                match *status {
                    "400" => &stats.s400,
                    "413" => &stats.s413,
                    "502" => &stats.s502,
                    _ => &stats.s414,
                },
                true,
            );
        }
        (Expect::Forward, Ok(outcome @ Outcome::Forward(_))) => {
            let input = request_of(&event);
            let output = outcome_value(outcome);
            verify_forwarded(
                input,
                &output,
                &case.allow_list(),
                &case.request_id,
                &credentials,
                at(),
            )
            .map_err(|e| TestCaseError::fail(format!("{e}\n  output: {output}")))?;
            bump(&stats.forwarded, true);
            bump(
                &stats.service_forwarded,
                scope_of(case.origin.1).is_some_and(|(_, _, v)| v == Verifies::Service),
            );
            bump(
                &stats.kept_params,
                !output["querystring"].as_str().unwrap_or_default().is_empty(),
            );
            let kept = output["querystring"]
                .as_str()
                .unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty())
                .count();
            bump(
                &stats.dropped_params,
                case.query.split('&').filter(|p| !p.is_empty()).count() > kept,
            );
            bump(
                &stats.viewer_x_amz,
                case.headers
                    .iter()
                    .any(|(n, _)| n == "authorization" || n.starts_with("x-amz-")),
            );
            bump(&stats.no_token, !case.with_token);
            bump(&stats.with_body, case.body.is_some());
        }
        _ => {
            let got = match &result {
                Ok(outcome) => outcome.to_json(),
                Err(e) => format!("error: {e}"),
            };
            return Err(TestCaseError::fail(format!("expected {expected:?}, got {got}")));
        }
    }
    Ok(())
}

fn cases() -> u32 {
    let from_env = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok());
    from_env.unwrap_or(0).max(2_048)
}

/// Runs `strategy`, then requires each named counter to reach `min_percent` of the cases.
fn run_property(name: &str, strategy: BoxedStrategy<Case>, minimums: &[Minimum]) {
    let stats = Stats::default();
    let cases = cases();
    let config = Config {
        cases,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    match runner.run(&strategy, |case| check(&case, &stats)) {
        Ok(()) => {}
        Err(TestError::Fail(reason, minimal)) => {
            panic!(
                "{name}: {reason}\nminimal input: {minimal:#?}\nevent: {}",
                minimal.event()
            )
        }
        Err(e) => panic!("{name}: {e}"),
    }
    let n = stats.cases.get();
    eprintln!(
        "{name}: {n} cases: {} forwarded ({} to API Gateway or function URLs), {} 400, {} 413, {} 414, \
         {} 502, {} header-name errors; \
         forwarded with kept params {}, with dropped params {}, with viewer authorization/x-amz-* {}, \
         without token {}, with body {}",
        stats.forwarded.get(),
        stats.service_forwarded.get(),
        stats.s400.get(),
        stats.s413.get(),
        stats.s414.get(),
        stats.s502.get(),
        stats.header_name_error.get(),
        stats.kept_params.get(),
        stats.dropped_params.get(),
        stats.viewer_x_amz.get(),
        stats.no_token.get(),
        stats.with_body.get(),
    );
    assert!(n >= cases as usize, "{name}: only {n} cases ran");
    for (what, count, min_percent) in minimums {
        let count = count(&stats);
        assert!(
            count * 100 >= n * min_percent,
            "{name}: the generator rarely produces '{what}' ({count} of {n}, want {min_percent}%)"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

#[test]
fn random_object_keys() {
    run_property(
        "random object keys",
        case(Parts {
            keys: true,
            queries: false,
            headers: false,
            kinds: Kinds::All,
        }),
        &[
            ("forwarded", |s| s.forwarded.get(), 40),
            ("400", |s| s.s400.get(), 5),
            ("414", |s| s.s414.get(), 2),
        ],
    );
}

#[test]
fn random_query_strings() {
    run_property(
        "random query strings",
        case(Parts {
            keys: false,
            queries: true,
            headers: false,
            kinds: Kinds::All,
        }),
        &[
            ("forwarded", |s| s.forwarded.get(), 90),
            ("kept parameters", |s| s.kept_params.get(), 40),
            ("dropped parameters", |s| s.dropped_params.get(), 40),
        ],
    );
}

#[test]
fn hostile_viewer_headers() {
    run_property(
        "hostile viewer headers",
        case(Parts {
            keys: false,
            queries: false,
            headers: true,
            kinds: Kinds::All,
        }),
        &[
            ("forwarded", |s| s.forwarded.get(), 40),
            ("viewer authorization/x-amz-*", |s| s.viewer_x_amz.get(), 30),
            ("413", |s| s.s413.get(), 3),
            ("header-name error", |s| s.header_name_error.get(), 3),
            ("with body", |s| s.with_body.get(), 10),
            ("without token", |s| s.no_token.get(), 15),
        ],
    );
}

#[test]
fn everything_random_at_once() {
    run_property(
        "everything random",
        case(Parts {
            keys: true,
            queries: true,
            headers: true,
            kinds: Kinds::All,
        }),
        &[
            ("forwarded", |s| s.forwarded.get(), 25),
            ("400", |s| s.s400.get(), 3),
            ("414", |s| s.s414.get(), 1),
            ("413", |s| s.s413.get(), 2),
            ("header-name error", |s| s.header_name_error.get(), 2),
        ],
    );
}

#[test]
fn service_origins_everything_random() {
    run_property(
        "API Gateway and function URLs, everything random",
        case(Parts {
            keys: true,
            queries: true,
            headers: true,
            kinds: Kinds::Services,
        }),
        &[
            ("forwarded", |s| s.forwarded.get(), 15),
            ("400", |s| s.s400.get(), 10),
            ("413", |s| s.s413.get(), 1),
            ("header-name error", |s| s.header_name_error.get(), 2),
        ],
    );
}

#[test]
fn service_origins_random_queries_and_headers() {
    run_property(
        "API Gateway and function URLs, random queries and headers",
        case(Parts {
            keys: false,
            queries: true,
            headers: true,
            kinds: Kinds::Services,
        }),
        &[
            ("forwarded", |s| s.forwarded.get(), 40),
            ("kept parameters", |s| s.kept_params.get(), 30),
            ("viewer authorization/x-amz-*", |s| s.viewer_x_amz.get(), 30),
            ("with body", |s| s.with_body.get(), 10),
            ("502", |s| s.s502.get(), 2),
        ],
    );
}

#[test]
fn mrap_everything_random() {
    run_property(
        "S3 Multi-Region Access Points, everything random",
        case(Parts {
            keys: true,
            queries: true,
            headers: true,
            kinds: Kinds::MultiRegionAccessPoints,
        }),
        &[
            ("forwarded", |s| s.forwarded.get(), 25),
            ("400", |s| s.s400.get(), 3),
            ("413", |s| s.s413.get(), 1),
            ("header-name error", |s| s.header_name_error.get(), 2),
        ],
    );
}
