//! Raw signer input -> `edge_signer::sigv4::sign`, keeping the intermediate texts and discarding
//! them (as the handler signs; both must agree), under the generic (`default`) and the S3
//! settings, each in header mode and presigned: it must never panic, and whatever it signs must
//! be self-consistent (see fuzz/README.md).

#![no_main]

use arbitrary::Arbitrary;
use aws_credential_types::Credentials;
use edge_signer::sigv4::{
    self, IntermediateTexts, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation, SigningKeyCache, SigningOutput,
    SigningParams, SigningSettings, UriPathNormalizationMode,
};
use hmac::{Hmac, KeyInit, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z.
const NOW_SECS: u64 = 1_440_938_160;

#[derive(Arbitrary, Debug)]
enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    UnsignedPayload,
    Precomputed(&'a str),
}

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: Body<'a>,
    /// `None`: `us-east-1` / `service`, so that most inputs get past the scope check.
    region: Option<&'a str>,
    service: Option<&'a str>,
    /// `None`: `AKIDEXAMPLE`.
    access_key: Option<&'a str>,
    /// `None`: the example secret.
    secret: Option<&'a str>,
    token: Option<&'a str>,
    /// `None`: the fixed time; else seconds since the epoch.
    time: Option<u64>,
    expires_in: u64,
    token_mode: u8,
}

static KEYS: LazyLock<SigningKeyCache> = LazyLock::new(SigningKeyCache::new);

fuzz_target!(|input: Input<'_>| {
    let access_key = input.access_key.unwrap_or("AKIDEXAMPLE");
    let secret = input.secret.unwrap_or(SECRET);
    let credentials = Credentials::new(access_key, secret, input.token.map(str::to_owned), None, "fuzz");
    let time = match input.time {
        None => UNIX_EPOCH + Duration::from_secs(NOW_SECS),
        Some(secs) => match UNIX_EPOCH.checked_add(Duration::from_secs(secs)) {
            Some(t) => t,
            None => return,
        },
    };
    let token_mode = match input.token_mode % 3 {
        0 => SessionTokenMode::Include,
        1 => SessionTokenMode::AddAfterSigning,
        _ => SessionTokenMode::Omit,
    };
    let body = match input.body {
        Body::Empty => SignableBody::Empty,
        Body::Bytes(b) => SignableBody::Bytes(b),
        Body::UnsignedPayload => SignableBody::UnsignedPayload,
        Body::Precomputed(h) => SignableBody::Precomputed(h),
    };
    let request = SignableRequest {
        method: input.method,
        path: input.path,
        query: input.query,
        headers: &input.headers,
        body,
    };
    let expires = Duration::from_secs(input.expires_in);
    for base in [SigningSettings::default(), SigningSettings::s3()] {
        for settings in [base, base.presigned(expires)] {
            let settings = SigningSettings {
                session_token_mode: token_mode,
                ..settings.keeping_texts()
            };
            let params = SigningParams {
                credentials: &credentials,
                region: input.region.unwrap_or("us-east-1"),
                service: input.service.unwrap_or("service"),
                time,
                settings: &settings,
            };
            let full = sigv4::sign(&request, &params, &KEYS);
            match &full {
                Ok(output) => check(&request, &params, output),
                Err(error) => assert!(!error.to_string().is_empty()),
            }
            // As the handler signs, without the texts: the same output or the same error.
            let discarding = SigningSettings {
                intermediate_texts: IntermediateTexts::Discard,
                ..settings
            };
            let lean = sigv4::sign(&request, &SigningParams { settings: &discarding, ..params }, &KEYS);
            match (&full, lean) {
                (Ok(output), Ok(lean)) => {
                    assert!(lean.headers().eq(output.headers()), "header modes disagree");
                    assert!(lean.query_params().eq(output.query_params()), "query modes disagree");
                    assert_eq!(lean.signature(), output.signature());
                    assert_eq!(lean.canonical_request(), None);
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("keeping the texts gave {a:?}, discarding them {b:?}"),
            }
        }
    }
});

fn check(request: &SignableRequest<'_>, params: &SigningParams<'_>, output: &SigningOutput<'_>) {
    let settings = params.settings;
    let is_hex = |s: &str| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let signature = output.signature();
    assert!(is_hex(signature), "signature {signature:?}");
    let string_to_sign = output.string_to_sign().expect("kept");
    let canonical = output.canonical_request().expect("kept");

    // The string to sign ends with the canonical request's hash, and the signature is its HMAC
    // under the freshly derived key (so the cache returned the right key).
    let (_, hash) = string_to_sign.rsplit_once('\n').expect("string to sign lines");
    assert_eq!(hash, hex::encode(Sha256::digest(canonical.as_bytes())));
    let mut lines = string_to_sign.split('\n');
    assert_eq!(lines.next(), Some(sigv4::ALGORITHM));
    let date_time = lines.next().expect("date line");
    let scope = lines.next().expect("scope line");
    assert_eq!(
        scope,
        format!(
            "{}/{}/{}/aws4_request",
            &date_time[..8],
            params.region,
            params.service
        )
    );
    let key = sigv4::key::signing_key(
        params.credentials.secret_access_key(),
        &date_time[..8],
        params.region,
        params.service,
    );
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("any key length");
    mac.update(string_to_sign.as_bytes());
    assert_eq!(signature, hex::encode(mac.finalize().into_bytes()));

    // The canonical request: one line per part, nothing that could break a line.
    assert!(!canonical.contains('\r'), "CR in canonical request");
    let mut parts = canonical.split('\n');
    assert_eq!(parts.next(), Some(request.method));
    let canonical_path = parts.next().expect("path line");
    if settings.uri_path_normalization_mode == UriPathNormalizationMode::Disabled
        && settings.percent_encoding_mode == sigv4::PercentEncodingMode::Single
    {
        assert_eq!(canonical_path, request.path, "S3 signs the path as sent");
    }
    assert!(canonical_path.starts_with('/'));

    // What signing adds is safe to put on the wire.
    let wire_safe = |s: &str| !s.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f);
    match settings.signature_location {
        SignatureLocation::Headers => {
            assert_eq!(output.query_params().count(), 0);
            let auth = output.authorization().expect("authorization header");
            assert!(auth.ends_with(&format!("Signature={signature}")));
            for (name, value) in output.headers() {
                assert!(wire_safe(value), "control character in {name}");
            }
            let token = params.credentials.session_token();
            let has_token = output.headers().any(|(n, _)| n == "x-amz-security-token");
            assert_eq!(
                has_token,
                token.is_some() && settings.session_token_mode != SessionTokenMode::Omit
            );
        }
        SignatureLocation::QueryParams { .. } => {
            assert_eq!(output.headers().count(), 0);
            let query = output.encoded_query();
            assert!(
                query
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.~%=&".contains(&b)),
                "presigned query {query:?}"
            );
        }
    }
}
