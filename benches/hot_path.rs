//! The signing hot path, side by side with aws-sigv4 and with the work no signer can skip.
//!
//! Run: `cargo bench --bench hot_path`. Every benchmark works on the request the origin-request
//! handler signs: GET of an object through an S3 Object Lambda access point, `showExif=true`,
//! `x-amz-cf-id` signed, `UNSIGNED-PAYLOAD`, and a 1,000-character session token.

use aws_credential_types::Credentials;
use criterion::{Criterion, criterion_group, criterion_main};
use edge_signer::config::HandlerConfig;
use edge_signer::origin_request::{Context, Outcome, handle_json};
use edge_signer::sigv4::{
    self, SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[path = "support/event.rs"]
mod event;
use event::{ACCESS_KEY_ID, CF_ID, HOST, SECRET_ACCESS_KEY, realistic_event, session_token};

/// The path the handler signs for the event's uri.
const PATH: &str = "/photos/2024/summer%20trip/IMG_0042.jpg";
/// The headers the handler signs.
static HEADERS: [(&str, &str); 2] = [("host", HOST), ("x-amz-cf-id", CF_ID)];

fn credentials() -> Credentials {
    Credentials::new(
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        Some(session_token()),
        None,
        "bench",
    )
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_763_900_000)
}

fn request<'a>(headers: &'a [(&'a str, &'a str)]) -> SignableRequest<'a> {
    SignableRequest {
        method: "GET",
        path: PATH,
        query: "showExif=true",
        headers,
        body: SignableBody::UnsignedPayload,
    }
}

fn params<'a>(creds: &'a Credentials, settings: &'a SigningSettings) -> SigningParams<'a> {
    SigningParams {
        credentials: creds,
        region: "us-west-2",
        service: "s3-object-lambda",
        time: now(),
        settings,
    }
}

/// Our signer, as the handler calls it: the headers only.
fn ours<'a>(
    creds: &'a Credentials,
    settings: &'a SigningSettings,
    cache: &SigningKeyCache,
) -> sigv4::HeaderSignature<'a> {
    sigv4::sign_headers(&request(&HEADERS), &params(creds, settings), cache).expect("the bench request signs")
}

/// Our signer with every intermediate text, for the floor's inputs.
fn ours_full<'a>(
    creds: &'a Credentials,
    settings: &'a SigningSettings,
    cache: &SigningKeyCache,
) -> sigv4::SigningOutput<'a> {
    sigv4::sign(&request(&HEADERS), &params(creds, settings), cache).expect("the bench request signs")
}

fn theirs(identity: &aws_smithy_runtime_api::client::identity::Identity) -> String {
    use aws_sigv4::http_request as h;
    let mut settings = h::SigningSettings::default();
    settings.percent_encoding_mode = h::PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = h::UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = h::PayloadChecksumKind::XAmzSha256;
    settings.excluded_headers = Some(vec!["authorization".into()]);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region("us-west-2")
        .name("s3-object-lambda")
        .time(now())
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let uri = format!("https://{HOST}{PATH}?showExif=true");
    let headers = [("host", HOST), ("x-amz-cf-id", CF_ID)];
    let request = h::SignableRequest::new("GET", uri, headers.into_iter(), h::SignableBody::UnsignedPayload)
        .expect("request");
    let (instructions, _signature) = h::sign(request, &params).expect("signs").into_parts();
    instructions
        .headers()
        .find(|(name, _)| *name == "authorization")
        .map(|(_, v)| v.to_owned())
        .expect("authorization")
}

fn hot_path(c: &mut Criterion) {
    let creds = credentials();
    let identity = creds.clone().into();
    let settings = SigningSettings::s3();
    let cache = SigningKeyCache::new();

    let reference = ours_full(&creds, &settings, &cache);
    let lean = ours(&creds, &settings, &cache);
    assert_eq!(
        lean.authorization(),
        theirs(&identity).as_str(),
        "both signers must agree"
    );
    assert!(
        lean.headers()
            .eq(reference.headers.iter().map(|(n, v)| (*n, v.as_ref()))),
        "the lean entry point adds what sign() adds"
    );

    let mut group = c.benchmark_group("hot_path");
    let event = realistic_event();
    let config = HandlerConfig::default();
    let handler_keys = SigningKeyCache::new();
    let context = Context {
        credentials: &creds,
        now: now(),
        config: &config,
        keys: &handler_keys,
    };
    let outcome = handle_json(&event, &context).expect("the bench event is valid");
    assert!(
        matches!(outcome, Outcome::Forward(_)),
        "the bench event is forwarded"
    );
    group.bench_function("handler", |b| {
        b.iter(|| {
            handle_json(black_box(&event), &context)
                .map(|o| o.to_json())
                .expect("valid")
        })
    });
    group.bench_function("sign", |b| b.iter(|| ours(black_box(&creds), &settings, &cache)));
    group.bench_function("aws_sigv4", |b| b.iter(|| theirs(black_box(&identity))));

    // The floor: hash the same canonical-request bytes, HMAC a string to sign of the same length
    // with a key derived beforehand. Everything else a signer does is overhead on this.
    let canonical = reference.canonical_request.clone().into_bytes();
    let string_to_sign = reference.string_to_sign.clone().into_bytes();
    let key = sigv4::key::signing_key(
        creds.secret_access_key(),
        "20251123",
        "us-west-2",
        "s3-object-lambda",
    );
    let keyed = Hmac::<Sha256>::new_from_slice(&key).expect("key");
    group.bench_function("floor", |b| {
        b.iter(|| {
            let digest = Sha256::digest(black_box(&canonical));
            let mut mac = keyed.clone();
            mac.update(black_box(&string_to_sign));
            (digest, mac.finalize().into_bytes())
        })
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
