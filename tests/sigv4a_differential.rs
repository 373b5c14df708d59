//! Differential test of our SigV4A (`edge_signer::sigv4::sign_v4a`) against aws-sigv4's `sigv4a`
//! feature (the AWS SDK for Rust's signer), on random requests.
//!
//! Both sign the same request with the same settings (mapped as in `tests/differential.rs`:
//! aws-sigv4 told to sign every header but `authorization`). ECDSA signatures differ on every call,
//! so for each case:
//!
//! - the canonical requests are compared as text: aws-sigv4's is read from its trace event
//!   (`canonical_request`, which shows the session token as `** redacted (length=N) **`; ours is
//!   redacted the same way before comparing);
//! - the strings to sign are compared exactly: aws-sigv4's signature is deterministic (RFC 6979),
//!   so it must equal aws-sigv4's `calculate_signature` of *our* string to sign under aws-sigv4's
//!   key; in query mode aws-sigv4 also traces its string to sign, compared as text;
//! - the public keys derived from the secret are the same point;
//! - aws-sigv4's signature verifies with our public key, and ours with aws-sigv4's (computed by
//!   p256 from its private scalar);
//! - what each adds to the request (headers or query parameters) is the same set, signatures left
//!   out.
//!
//! The input domain is `tests/differential.rs`'s shared one, smaller: headers signing manages,
//! tabs at the ends of a header value and query escapes that decode to invalid UTF-8 are left out
//! (the two documented divergences). Each run asserts that nearly all cases were compared and
//! that tokens, region sets of several regions, dot segments, `%` and `+` occur.

use aws_credential_types::Credentials;
use aws_sigv4::http_request as aws;
use aws_sigv4::sign::v4a;
use aws_smithy_runtime_api::client::identity::Identity;
use edge_signer::sigv4 as ours;
use edge_signer::sigv4::SigV4aKeyCache;
use p256::ecdsa::VerifyingKey;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use std::cell::Cell;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

const UNRESERVED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
const SUB_DELIMS: &str = "!$&'()*+,;=:@";
const QUERY_EXTRA: &str = "!$'()*,;:@/?";
const TCHAR: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~";
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
const VISIBLE: &str =
    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
const SCOPE_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789-";

// ---------------------------------------------------------------------------------------------
// aws-sigv4's texts, read from its trace events
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Traced {
    canonical_request: Option<String>,
    string_to_sign: Option<String>,
}

/// A subscriber that keeps the `canonical_request` and `string_to_sign` fields of events.
struct Capture(Arc<Mutex<Traced>>);

struct Fields<'a>(&'a mut Traced);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // aws-sigv4 records both with `%`: Debug of the field value is the text's Display.
        match field.name() {
            "canonical_request" => self.0.canonical_request = Some(format!("{value:?}")),
            "string_to_sign" => self.0.string_to_sign = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut traced = self.0.lock().unwrap_or_else(|e| e.into_inner());
        event.record(&mut Fields(&mut traced));
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

// ---------------------------------------------------------------------------------------------
// The generated case
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenMode {
    Include,
    AddAfterSigning,
    Omit,
}

#[derive(Clone, Debug)]
enum Body {
    Empty,
    Bytes(Vec<u8>),
    Unsigned,
    Precomputed(String),
}

#[derive(Clone, Copy, Debug)]
struct Settings {
    double: bool,
    normalize: bool,
    checksum: bool,
    expires_in: Option<u64>,
    token_mode: TokenMode,
}

#[derive(Clone, Debug)]
struct Case {
    settings: Settings,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Body,
    access_key: String,
    secret: String,
    token: Option<String>,
    region_set: String,
    service: String,
    time: SystemTime,
}

fn string_of(set: &'static str, len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    prop::collection::vec(select(set.chars().collect::<Vec<_>>()), len)
        .prop_map(|v| v.into_iter().collect())
        .boxed()
}

fn one_of(set: &'static str) -> BoxedStrategy<String> {
    string_of(set, 1..2)
}

/// `%XX` of a character's UTF-8 bytes, in either case.
fn percent_char() -> BoxedStrategy<String> {
    (any::<char>(), any::<bool>())
        .prop_map(|(c, lower)| {
            let escaped: String = c
                .encode_utf8(&mut [0; 4])
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect();
            if lower { escaped.to_lowercase() } else { escaped }
        })
        .boxed()
}

/// A path: RFC 3986 pchars, `%XX` and dot segments (valid in both encoding modes).
fn path() -> BoxedStrategy<String> {
    let unit = prop_oneof![
        4 => string_of(UNRESERVED, 1..6),
        2 => one_of(SUB_DELIMS),
        2 => percent_char(),
        1 => select(vec!["%2F", "%25", "%20", "%2B"]).prop_map(String::from),
    ];
    let segment = prop_oneof![
        6 => prop::collection::vec(unit, 1..4).prop_map(|u| u.concat()),
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(String::new()),
    ];
    (prop::collection::vec(segment, 0..5), any::<bool>())
        .prop_map(|(segments, trailing)| {
            let mut path = format!("/{}", segments.join("/"));
            if trailing && !segments.is_empty() {
                path.push('/');
            }
            path
        })
        .boxed()
}

fn query_component() -> BoxedStrategy<String> {
    let unit = prop_oneof![
        4 => string_of(UNRESERVED, 1..6),
        1 => Just("+".to_owned()),
        2 => one_of(QUERY_EXTRA),
        2 => percent_char(),
        1 => select(vec!["%2B", "%26", "%3D", "%20", "%25", "%7e"]).prop_map(String::from),
    ];
    prop::collection::vec(unit, 0..4).prop_map(|u| u.concat()).boxed()
}

fn query() -> BoxedStrategy<String> {
    let key = prop_oneof![
        1 => select(vec!["a", "A", "showExif", "versionId", "b"]).prop_map(String::from),
        1 => query_component(),
    ];
    let param = prop_oneof![
        3 => (key.clone(), query_component()).prop_map(|(k, v)| format!("{k}={v}")),
        1 => key.clone(),
        1 => key.prop_map(|k| format!("{k}=")),
    ];
    prop::collection::vec(param, 0..5)
        .prop_map(|p| p.join("&"))
        .boxed()
}

fn headers() -> BoxedStrategy<Vec<(String, String)>> {
    let name = prop_oneof![
        2 => select(vec!["Content-Type", "range", "X-Custom", "x-custom", "Accept", "x-amz-cf-id-not"])
            .prop_map(String::from),
        1 => string_of(TCHAR, 1..12).prop_filter("not managed or redacted", |n| {
            let n = n.to_ascii_lowercase();
            n != "authorization"
                && !n.starts_with("x-amz-")
                && !["cookie", "proxy-authorization"].contains(&n.as_str())
        }),
    ];
    let value = prop_oneof![
        3 => string_of(VISIBLE, 1..12),
        1 => (string_of(" ", 0..3), string_of(VISIBLE, 1..4), string_of(" \t", 0..4), string_of(VISIBLE, 1..4), string_of(" ", 0..3))
            .prop_map(|(a, b, c, d, e)| format!("{a}{b}{c}{d}{e}")),
    ];
    let host = select(vec![
        "alias.mrap.accesspoint.s3-global.amazonaws.com",
        "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com",
        "example.amazonaws.com",
    ]);
    (
        prop::collection::vec((name, value), 0..5),
        host,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut headers, host, at)| {
            let at = at.index(headers.len() + 1);
            headers.insert(at, ("host".to_owned(), host.to_owned()));
            headers
        })
        .boxed()
}

fn body() -> BoxedStrategy<Body> {
    prop_oneof![
        Just(Body::Empty),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Bytes),
        Just(Body::Unsigned),
        string_of("0123456789abcdef", 64..65).prop_map(Body::Precomputed),
    ]
    .boxed()
}

fn region_set() -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just("*".to_owned()),
        1 => select(vec!["us-east-1", "us-east-1,us-west-2", "eu-*", "us-east-1,eu-west-3,ap-southeast-2"])
            .prop_map(String::from),
        1 => string_of(SCOPE_CHARS, 1..12),
    ]
    .boxed()
}

fn settings(query_mode: bool) -> BoxedStrategy<Settings> {
    let token_mode = prop_oneof![
        2 => Just(TokenMode::Include),
        1 => Just(TokenMode::AddAfterSigning),
        1 => Just(TokenMode::Omit),
    ];
    let expiry = if query_mode {
        (1u64..=604_800).prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    // S3 (single encoding, no normalisation, checksum header) or generic (double, normalised).
    (any::<bool>(), any::<bool>(), expiry, token_mode)
        .prop_map(|(s3, checksum, expires_in, token_mode)| Settings {
            double: !s3,
            normalize: !s3,
            checksum: s3 || checksum,
            expires_in,
            token_mode,
        })
        .boxed()
}

fn case(query_mode: bool) -> BoxedStrategy<Case> {
    let token = prop_oneof![
        1 => Just(None),
        1 => string_of(BASE64, 1..40).prop_map(Some),
        1 => string_of(BASE64, 600..900).prop_map(Some),
    ];
    let service = select(vec!["s3", "service", "execute-api"]).prop_map(String::from);
    let time = (946_684_800u64..2_082_758_400).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s));
    let credentials = (
        string_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16..21),
        string_of(BASE64, 40..41),
    );
    settings(query_mode)
        .prop_flat_map(move |s| {
            (
                Just(s),
                select(vec!["GET", "HEAD", "PUT", "POST", "DELETE"]),
                path(),
                query(),
                headers(),
                body(),
                credentials.clone(),
                token.clone(),
                (region_set(), service.clone(), time.clone()),
            )
        })
        .prop_map(
            |(settings, method, path, query, headers, body, (ak, sk), token, (rs, svc, time))| Case {
                settings,
                method: method.to_owned(),
                path,
                query,
                headers,
                body,
                access_key: ak,
                secret: sk,
                token,
                region_set: rs,
                service: svc,
                time,
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Signing with both
// ---------------------------------------------------------------------------------------------

static KEYS: SigV4aKeyCache = SigV4aKeyCache::new();

/// What one signer produced: its texts (ours) and what it adds, signatures left out.
struct Signed {
    canonical_request: Option<String>,
    string_to_sign: Option<String>,
    signature: String,
    /// Sorted `(name, value)` pairs; `authorization` cut before `Signature=`.
    added: Vec<(String, String)>,
}

fn without_signature(name: &str, value: &str) -> Option<(String, String)> {
    match name {
        "X-Amz-Signature" => None,
        "authorization" => Some((
            name.to_owned(),
            value.split("Signature=").next().unwrap_or(value).to_owned(),
        )),
        _ => Some((name.to_owned(), value.to_owned())),
    }
}

fn sign_ours(case: &Case) -> Result<Signed, ours::SigningError> {
    let credentials = Credentials::new(&case.access_key, &case.secret, case.token.clone(), None, "d");
    let s = case.settings;
    let settings = ours::SigningSettings {
        percent_encoding_mode: if s.double {
            ours::PercentEncodingMode::Double
        } else {
            ours::PercentEncodingMode::Single
        },
        uri_path_normalization_mode: if s.normalize {
            ours::UriPathNormalizationMode::Enabled
        } else {
            ours::UriPathNormalizationMode::Disabled
        },
        session_token_mode: match s.token_mode {
            TokenMode::Include => ours::SessionTokenMode::Include,
            TokenMode::AddAfterSigning => ours::SessionTokenMode::AddAfterSigning,
            TokenMode::Omit => ours::SessionTokenMode::Omit,
        },
        payload_checksum_kind: if s.checksum {
            ours::PayloadChecksumKind::XAmzSha256
        } else {
            ours::PayloadChecksumKind::NoHeader
        },
        signature_location: match s.expires_in {
            None => ours::SignatureLocation::Headers,
            Some(seconds) => ours::SignatureLocation::QueryParams {
                expires_in: Duration::from_secs(seconds),
            },
        },
        intermediate_texts: ours::IntermediateTexts::Keep,
    };
    let params = ours::SigningParams {
        credentials: &credentials,
        region: &case.region_set,
        service: &case.service,
        time: case.time,
        settings: &settings,
    };
    let headers: Vec<(&str, &str)> = case
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = ours::SignableRequest {
        method: &case.method,
        path: &case.path,
        query: &case.query,
        headers: &headers,
        body: match &case.body {
            Body::Empty => ours::SignableBody::Empty,
            Body::Bytes(b) => ours::SignableBody::Bytes(b),
            Body::Unsigned => ours::SignableBody::UnsignedPayload,
            Body::Precomputed(h) => ours::SignableBody::Precomputed(h),
        },
    };
    let out = ours::sign_v4a(&request, &params, &KEYS)?;
    let mut added: Vec<_> = out
        .headers()
        .chain(out.query_params())
        .filter_map(|(n, v)| without_signature(n, v))
        .collect();
    added.sort();
    Ok(Signed {
        canonical_request: out.canonical_request().map(str::to_owned),
        string_to_sign: out.string_to_sign().map(str::to_owned),
        signature: out.signature().to_owned(),
        added,
    })
}

fn sign_theirs(case: &Case) -> Result<Signed, String> {
    let token = case
        .token
        .clone()
        .filter(|_| case.settings.token_mode != TokenMode::Omit);
    let identity: Identity = Credentials::new(&case.access_key, &case.secret, token, None, "d").into();
    let s = case.settings;
    let mut settings = aws::SigningSettings::default();
    settings.percent_encoding_mode = if s.double {
        aws::PercentEncodingMode::Double
    } else {
        aws::PercentEncodingMode::Single
    };
    settings.uri_path_normalization_mode = if s.normalize {
        aws::UriPathNormalizationMode::Enabled
    } else {
        aws::UriPathNormalizationMode::Disabled
    };
    settings.session_token_mode = match s.token_mode {
        TokenMode::Include | TokenMode::Omit => aws::SessionTokenMode::Include,
        TokenMode::AddAfterSigning => aws::SessionTokenMode::Exclude,
    };
    settings.payload_checksum_kind = if s.checksum {
        aws::PayloadChecksumKind::XAmzSha256
    } else {
        aws::PayloadChecksumKind::NoHeader
    };
    if let Some(seconds) = s.expires_in {
        settings.signature_location = aws::SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(seconds));
    }
    settings.excluded_headers = Some(vec!["authorization".into()]);
    let params: aws::SigningParams<'_> = v4a::SigningParams::builder()
        .identity(&identity)
        .region_set(&case.region_set)
        .name(&case.service)
        .time(case.time)
        .settings(settings)
        .build()
        .map_err(|e| format!("params: {e}"))?
        .into();
    let uri = if case.query.is_empty() {
        format!("https://example.amazonaws.com{}", case.path)
    } else {
        format!("https://example.amazonaws.com{}?{}", case.path, case.query)
    };
    let body = match &case.body {
        Body::Empty => aws::SignableBody::Bytes(&[]),
        Body::Bytes(b) => aws::SignableBody::Bytes(b),
        Body::Unsigned => aws::SignableBody::UnsignedPayload,
        Body::Precomputed(h) => aws::SignableBody::Precomputed(h.clone()),
    };
    let request = aws::SignableRequest::new(
        &case.method,
        uri,
        case.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .map_err(|e| format!("request: {e}"))?;
    let traced = Arc::new(Mutex::new(Traced::default()));
    let signed =
        tracing::subscriber::with_default(Capture(Arc::clone(&traced)), || aws::sign(request, &params));
    let (instructions, signature) = signed.map_err(|e| format!("sign: {e}"))?.into_parts();
    let mut added: Vec<_> = instructions
        .headers()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .chain(
            instructions
                .params()
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.to_string())),
        )
        .filter_map(|(n, v)| without_signature(&n, &v))
        .collect();
    added.sort();
    let traced = std::mem::take(&mut *traced.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(Signed {
        canonical_request: traced.canonical_request,
        string_to_sign: traced.string_to_sign,
        signature,
        added,
    })
}

/// `canonical_request` with the session token's header value shown as aws-sigv4's trace shows it.
fn redacted(canonical_request: &str, token: Option<&str>) -> String {
    let line = |value: &str| format!("\nx-amz-security-token:{value}\n");
    match token {
        Some(token) => canonical_request.replace(
            &line(token),
            &line(&format!("** redacted (length={}) **", token.len())),
        ),
        None => canonical_request.to_owned(),
    }
}

#[derive(Default)]
struct Stats {
    cases: Cell<usize>,
    compared: Cell<usize>,
    with_token: Cell<usize>,
    several_regions: Cell<usize>,
    dot_segments: Cell<usize>,
    percent_in_path: Cell<usize>,
    plus_in_query: Cell<usize>,
}

fn bump(c: &Cell<usize>, yes: bool) {
    c.set(c.get() + usize::from(yes));
}

fn check(case: &Case, stats: &Stats) -> Result<(), TestCaseError> {
    bump(&stats.cases, true);
    bump(&stats.with_token, case.token.is_some());
    bump(&stats.several_regions, case.region_set.contains(','));
    bump(
        &stats.dot_segments,
        case.path.split('/').any(|s| s == "." || s == ".."),
    );
    bump(&stats.percent_in_path, case.path.contains('%'));
    bump(&stats.plus_in_query, case.query.contains('+'));
    let ours = sign_ours(case);
    let theirs = match sign_theirs(case) {
        Ok(theirs) => theirs,
        Err(reason) => {
            // Not a mismatch (aws-sigv4 cannot take this input), but counted.
            eprintln!("aws-sigv4 refused {case:?}: {reason}; ours: {:?}", ours.is_ok());
            return Ok(());
        }
    };
    let ours = ours.map_err(|e| TestCaseError::fail(format!("aws-sigv4 signs but ours fails: {e}")))?;
    bump(&stats.compared, true);
    let our_creq = ours.canonical_request.as_deref().unwrap_or_default();
    let our_sts = ours.string_to_sign.as_deref().unwrap_or_default();
    let signed_token = case
        .token
        .as_deref()
        .filter(|_| case.settings.token_mode == TokenMode::Include);

    // Canonical requests, as text.
    let their_creq = theirs.canonical_request.as_deref();
    prop_assert!(their_creq.is_some(), "aws-sigv4 traced no canonical request");
    prop_assert_eq!(
        redacted(
            our_creq,
            signed_token.filter(|_| case.settings.expires_in.is_none())
        ),
        their_creq.unwrap_or_default(),
        "canonical requests differ"
    );
    // Strings to sign: aws-sigv4's deterministic signature is that of our string to sign.
    let their_key = v4a::generate_signing_key(&case.access_key, &case.secret);
    prop_assert_eq!(
        &theirs.signature,
        &v4a::calculate_signature(&their_key, our_sts.as_bytes()),
        "aws-sigv4 signed another string to sign than ours:\n{}",
        our_sts
    );
    if let Some(their_sts) = &theirs.string_to_sign {
        prop_assert_eq!(our_sts, their_sts.as_str());
    }
    // The keys, and each side's signature under the other's key.
    let their_public = *p256::SecretKey::from_slice(their_key.as_ref())
        .map_err(|e| TestCaseError::fail(format!("aws-sigv4's key: {e}")))?
        .public_key()
        .as_affine();
    let our_public = KEYS
        .key(&case.access_key, &case.secret)
        .map_err(|e| TestCaseError::fail(e.to_string()))?
        .verifying_key();
    prop_assert_eq!(our_public, VerifyingKey::from_affine(their_public).unwrap());
    let their_public = VerifyingKey::from_affine(their_public).unwrap();
    prop_assert!(
        ours::verify_v4a(&our_public, our_sts, &theirs.signature),
        "theirs under our key"
    );
    prop_assert!(
        ours::verify_v4a(&their_public, our_sts, &ours.signature),
        "ours under their key"
    );
    // What each adds to the request.
    prop_assert_eq!(&ours.added, &theirs.added);
    Ok(())
}

fn run(name: &str, cases: u32, strategy: BoxedStrategy<Case>) {
    let stats = Stats::default();
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
            panic!("{name}: mismatch with aws-sigv4: {reason}\nminimal input: {minimal:#?}")
        }
        Err(e) => panic!("{name}: {e}"),
    }
    let n = stats.cases.get();
    let fields = [
        ("with session token", stats.with_token.get()),
        ("region set of several regions", stats.several_regions.get()),
        ("'.'/'..' path segment", stats.dot_segments.get()),
        ("'%' in path", stats.percent_in_path.get()),
        ("'+' in query", stats.plus_in_query.get()),
    ];
    eprintln!("{name}: {n} cases, {} compared, {fields:?}", stats.compared.get());
    assert!(n >= cases as usize, "{name}: only {n} cases ran");
    assert!(
        stats.compared.get() * 100 >= n * 95,
        "{name}: only {} of {n} cases were compared",
        stats.compared.get()
    );
    for (what, count) in fields {
        assert!(
            count * 100 >= n * 3,
            "{name}: the generator rarely produces {what} ({count} of {n})"
        );
    }
}

#[test]
fn header_mode() {
    run("SigV4A, header mode", 300, case(false));
}

#[test]
fn query_mode() {
    run("SigV4A, query mode", 300, case(true));
}

/// The suite's credentials, fixed: both derive the key of the suite's `public-key.json`.
#[test]
fn both_derive_the_suite_public_key() {
    let their_key = v4a::generate_signing_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    let theirs = p256::SecretKey::from_slice(their_key.as_ref())
        .unwrap()
        .public_key();
    let ours = SigV4aKeyCache::new()
        .key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        .unwrap()
        .verifying_key();
    assert_eq!(VerifyingKey::from(theirs), ours);
    let (x, _) = SigV4aKeyCache::new()
        .key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        .unwrap()
        .public_key_xy();
    assert_eq!(
        hex::encode(x),
        "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
    );
}
