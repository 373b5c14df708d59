//! A SigV4A signature with the key cached, side by side with aws-sigv4's `sigv4a` on the identical
//! request: a GET through an S3 Multi-Region Access Point as the origin-request handler signs it
//! (`showExif=true`, `x-amz-cf-id` signed, `UNSIGNED-PAYLOAD`, region set `*`, S3 settings, a
//! 1,000-character session token).
//!
//! - `sign_v4a`: `sign_v4a()`, the key cached (as the handler calls it);
//! - `aws_sigv4`: aws-sigv4's `sign()` with SigV4A params, its `Authorization` value taken;
//! - `sign_v4a_uncached`: `sign_v4a()` with an empty cache, so the key is derived each time;
//! - `ring_ecdsa`: ring's ECDSA P-256 signature of the same string to sign, nothing else (our floor);
//! - `p256_ecdsa`: p256's RFC 6979 signature of it through `SigningKey` (what signing with p256
//!   instead would cost);
//! - `aws_sigv4_ecdsa`: aws-sigv4's `calculate_signature` of it (p256 again, from the bare scalar):
//!   the part of `aws_sigv4` that is the signature itself.
//!
//! Run: `cargo bench --bench sigv4a`. Goal: `aws_sigv4` >= 3x `sign_v4a`. On a loaded machine,
//! `cargo bench --bench sigv4a -- --fastest-batches` is steadier: the workloads interleaved, 60
//! rounds of a batch each, the fastest batch of each kept (per call).

use criterion::{Criterion, criterion_group};
use std::hint::black_box;

#[path = "support/event.rs"]
#[allow(dead_code)] // shared with the other benches
mod event;

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;
use edge_signer::sigv4::{
    SigV4aKeyCache, SignableBody, SignableRequest, SigningOutput, SigningParams, SigningSettings, sign_v4a,
    verify_v4a,
};
use event::{ACCESS_KEY_ID, CF_ID, SECRET_ACCESS_KEY, session_token};
use p256::ecdsa::signature::hazmat::PrehashSigner;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HOST: &str = "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com";
const PATH: &str = "/photos/2024/summer%20trip/IMG_0042.jpg";
const QUERY: &str = "showExif=true";
const REGION_SET: &str = "*";
const SERVICE: &str = "s3";
static HEADERS: [(&str, &str); 2] = [("host", HOST), ("x-amz-cf-id", CF_ID)];

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_763_900_000)
}

fn request() -> SignableRequest<'static> {
    SignableRequest {
        method: "GET",
        path: PATH,
        query: QUERY,
        headers: &HEADERS,
        body: SignableBody::UnsignedPayload,
    }
}

struct Workloads {
    credentials: Credentials,
    identity: Identity,
    settings: SigningSettings,
    keys: SigV4aKeyCache,
    string_to_sign: String,
    ring_key: EcdsaKeyPair,
    p256_key: p256::ecdsa::SigningKey,
    /// aws-sigv4's derived private scalar, big-endian.
    their_key: [u8; 32],
}

impl Workloads {
    /// Makes the inputs and checks that both signers sign the same string to sign.
    fn new() -> Self {
        let credentials = Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            Some(session_token()),
            None,
            "bench",
        );
        let their_key = aws_sigv4::sign::v4a::generate_signing_key(ACCESS_KEY_ID, SECRET_ACCESS_KEY);
        let p256_key = p256::ecdsa::SigningKey::from_slice(their_key.as_ref()).expect("a P-256 key");
        let public = p256_key.verifying_key().to_sec1_point(false);
        let ring_key = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_ASN1_SIGNING,
            their_key.as_ref(),
            public.as_bytes(),
            &SystemRandom::new(),
        )
        .expect("a key pair");
        let mut workloads = Self {
            identity: credentials.clone().into(),
            credentials,
            settings: SigningSettings::s3(),
            keys: SigV4aKeyCache::new(),
            string_to_sign: String::new(),
            ring_key,
            p256_key,
            their_key: their_key.as_ref().try_into().expect("32 bytes"),
        };
        let kept = workloads.settings.keeping_texts();
        let params = workloads.params(&kept);
        let ours = sign_v4a(&request(), &params, &workloads.keys).expect("signs");
        workloads.string_to_sign = ours.string_to_sign().expect("kept").to_owned();
        let public = *workloads.p256_key.verifying_key();
        let their_authorization = workloads.aws_sigv4();
        let their_signature = their_authorization
            .rsplit("Signature=")
            .next()
            .expect("signature");
        assert!(
            verify_v4a(&public, &workloads.string_to_sign, their_signature),
            "aws-sigv4 signs our string to sign"
        );
        let ours = workloads.sign_v4a();
        assert!(verify_v4a(&public, &workloads.string_to_sign, ours.signature()));
        assert_eq!(
            their_authorization.split("Signature=").next(),
            ours.authorization().and_then(|a| a.split("Signature=").next()),
            "the same Authorization but for the signature"
        );
        workloads
    }

    fn params<'a>(&'a self, settings: &'a SigningSettings) -> SigningParams<'a> {
        SigningParams {
            credentials: &self.credentials,
            region: REGION_SET,
            service: SERVICE,
            time: now(),
            settings,
        }
    }

    fn sign_v4a(&self) -> SigningOutput<'_> {
        sign_v4a(&request(), &self.params(&self.settings), &self.keys).expect("signs")
    }

    fn sign_v4a_uncached(&self) -> String {
        let keys = SigV4aKeyCache::new();
        let out = sign_v4a(&request(), &self.params(&self.settings), &keys).expect("signs");
        out.signature().to_owned()
    }

    fn ring_ecdsa(&self) -> ring::signature::Signature {
        let message = black_box(self.string_to_sign.as_bytes());
        self.ring_key.sign(&SystemRandom::new(), message).expect("signs")
    }

    fn p256_ecdsa(&self) -> p256::ecdsa::DerSignature {
        let digest = Sha256::digest(black_box(self.string_to_sign.as_bytes()));
        let signature: p256::ecdsa::Signature = self.p256_key.sign_prehash(&digest).expect("signs");
        signature.to_der()
    }

    fn aws_sigv4_ecdsa(&self) -> String {
        let message = black_box(self.string_to_sign.as_bytes());
        aws_sigv4::sign::v4a::calculate_signature(self.their_key, message)
    }

    /// aws-sigv4's `sign()` with SigV4A params and the settings S3 needs; its `Authorization`.
    fn aws_sigv4(&self) -> String {
        use aws_sigv4::http_request as h;
        let mut settings = h::SigningSettings::default();
        settings.percent_encoding_mode = h::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = h::UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = h::PayloadChecksumKind::XAmzSha256;
        settings.excluded_headers = Some(vec!["authorization".into()]);
        let params = aws_sigv4::sign::v4a::SigningParams::builder()
            .identity(&self.identity)
            .region_set(REGION_SET)
            .name(SERVICE)
            .time(now())
            .settings(settings)
            .build()
            .expect("params")
            .into();
        let uri = format!("https://{HOST}{PATH}?{QUERY}");
        let request =
            h::SignableRequest::new("GET", uri, HEADERS.into_iter(), h::SignableBody::UnsignedPayload)
                .expect("request");
        let (instructions, _signature) = h::sign(request, &params).expect("signs").into_parts();
        instructions
            .headers()
            .find(|(name, _)| *name == "authorization")
            .map(|(_, v)| v.to_owned())
            .expect("authorization")
    }
}

fn sigv4a(c: &mut Criterion) {
    let workloads = Workloads::new();
    let mut group = c.benchmark_group("sigv4a");
    group.bench_function("sign_v4a", |b| b.iter(|| black_box(&workloads).sign_v4a()));
    group.bench_function("aws_sigv4", |b| b.iter(|| black_box(&workloads).aws_sigv4()));
    group.bench_function("sign_v4a_uncached", |b| {
        b.iter(|| black_box(&workloads).sign_v4a_uncached())
    });
    group.bench_function("ring_ecdsa", |b| b.iter(|| black_box(&workloads).ring_ecdsa()));
    group.bench_function("p256_ecdsa", |b| b.iter(|| black_box(&workloads).p256_ecdsa()));
    group.bench_function("aws_sigv4_ecdsa", |b| {
        b.iter(|| black_box(&workloads).aws_sigv4_ecdsa())
    });
    group.finish();
}

/// Each workload's fastest batch of `BATCH` calls over `ROUNDS` interleaved rounds, per call.
fn fastest_batches() {
    const ROUNDS: usize = 60;
    const BATCH: u32 = 200;
    let workloads = Workloads::new();
    type Run = fn(&Workloads);
    let runs: [(&str, Run); 4] = [
        ("sign_v4a", |w| {
            black_box(w.sign_v4a());
        }),
        ("aws_sigv4", |w| {
            black_box(w.aws_sigv4());
        }),
        ("ring_ecdsa", |w| {
            black_box(w.ring_ecdsa());
        }),
        ("aws_sigv4_ecdsa", |w| {
            black_box(w.aws_sigv4_ecdsa());
        }),
    ];
    let mut fastest = [Duration::MAX; 4];
    for _ in 0..ROUNDS {
        for ((_, run), best) in runs.iter().zip(&mut fastest) {
            let start = std::time::Instant::now();
            for _ in 0..BATCH {
                run(black_box(&workloads));
            }
            *best = (*best).min(start.elapsed() / BATCH);
        }
    }
    for ((name, _), best) in runs.iter().zip(fastest) {
        println!("{name}: {:.2} us", best.as_secs_f64() * 1e6);
    }
    let ratio = fastest[1].as_secs_f64() / fastest[0].as_secs_f64();
    println!("aws_sigv4 / sign_v4a: {ratio:.2}");
}

criterion_group!(benches, sigv4a);

fn main() {
    if std::env::args().any(|arg| arg == "--fastest-batches") {
        fastest_batches();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
