//! The three signing workloads `hot_path` (criterion) and `hot_loop` (a profiling loop) measure, on
//! the request the origin-request handler signs: GET of an object through an S3 Object Lambda
//! access point, `showExif=true`, `x-amz-cf-id` signed, `UNSIGNED-PAYLOAD`, a 1,000-character
//! session token.
//!
//! - `sign`: our signer as the handler calls it (`sign()`, S3 settings, the key cached);
//! - `floor`: what no signer can skip: SHA-256 of the same canonical request and one HMAC-SHA256
//!   of the same string to sign, with sha2 and hmac, the key keyed beforehand;
//! - `aws_sigv4`: aws-sigv4's `sign()` on the identical request, its `Authorization` value taken.

use super::event::{ACCESS_KEY_ID, CF_ID, HOST, SECRET_ACCESS_KEY, session_token};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;
use edge_signer::sigv4::{
    self, SignableBody, SignableRequest, SigningKeyCache, SigningOutput, SigningParams, SigningSettings,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The path the handler signs for the event's uri.
const PATH: &str = "/photos/2024/summer%20trip/IMG_0042.jpg";
const QUERY: &str = "showExif=true";
const REGION: &str = "us-west-2";
const SERVICE: &str = "s3-object-lambda";
/// The headers the handler signs.
static HEADERS: [(&str, &str); 2] = [("host", HOST), ("x-amz-cf-id", CF_ID)];

/// Everything the three workloads need, made once.
pub struct Workloads {
    credentials: Credentials,
    identity: Identity,
    settings: SigningSettings,
    keys: SigningKeyCache,
    /// The floor's inputs: our canonical request and string to sign, and the keyed HMAC.
    canonical_request: String,
    string_to_sign: String,
    key: [u8; 32],
    keyed: Hmac<Sha256>,
}

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

impl Workloads {
    /// Makes the inputs, and checks that both signers agree and that the floor hashes what we sign.
    pub fn new() -> Self {
        let credentials = Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            Some(session_token()),
            None,
            "bench",
        );
        let settings = SigningSettings::s3();
        let mut workloads = Self {
            identity: credentials.clone().into(),
            credentials,
            settings,
            keys: SigningKeyCache::new(),
            canonical_request: String::new(),
            string_to_sign: String::new(),
            key: sigv4::key::signing_key(SECRET_ACCESS_KEY, "20251123", REGION, SERVICE),
            keyed: Hmac::<Sha256>::new_from_slice(&[]).expect("any key length"),
        };
        workloads.keyed = Hmac::<Sha256>::new_from_slice(&workloads.key).expect("any key length");
        let kept_settings = settings.keeping_texts();
        let kept =
            sigv4::sign(&request(), &workloads.params(&kept_settings), &workloads.keys).expect("signs");
        let texts = (kept.canonical_request(), kept.string_to_sign());
        let (Some(canonical_request), Some(string_to_sign)) = texts else {
            panic!("the texts are kept");
        };
        let (canonical_request, string_to_sign) = (canonical_request.into(), string_to_sign.into());
        let kept_signature = kept.signature().to_owned();
        workloads.canonical_request = canonical_request;
        workloads.string_to_sign = string_to_sign;
        let ours = workloads.sign();
        assert_eq!(
            ours.authorization(),
            Some(workloads.aws_sigv4().as_str()),
            "both signers agree"
        );
        assert_eq!(
            kept_signature,
            ours.signature(),
            "keeping the texts changes nothing"
        );
        let (_, mac) = workloads.floor();
        assert_eq!(
            hex::encode(mac),
            ours.signature(),
            "the floor hashes what we sign"
        );
        workloads
    }

    fn params<'a>(&'a self, settings: &'a SigningSettings) -> SigningParams<'a> {
        SigningParams {
            credentials: &self.credentials,
            region: REGION,
            service: SERVICE,
            time: now(),
            settings,
        }
    }

    /// Our signer, as the handler calls it.
    pub fn sign(&self) -> SigningOutput<'_> {
        sigv4::sign(&request(), &self.params(&self.settings), &self.keys).expect("the bench request signs")
    }

    /// SHA-256 of the canonical request and the HMAC of the string to sign.
    pub fn floor(&self) -> ([u8; 32], [u8; 32]) {
        let digest = Sha256::digest(std::hint::black_box(self.canonical_request.as_bytes()));
        let mut mac = self.keyed.clone();
        mac.update(std::hint::black_box(self.string_to_sign.as_bytes()));
        (digest.into(), mac.finalize().into_bytes().into())
    }

    /// [`Workloads::floor`] with the HMAC keyed from the key's bytes each time: what caching the
    /// derived key as bytes, rather than the keyed HMAC, would add to every signature.
    pub fn floor_rekeyed(&self) -> ([u8; 32], [u8; 32]) {
        let digest = Sha256::digest(std::hint::black_box(self.canonical_request.as_bytes()));
        let mut mac =
            Hmac::<Sha256>::new_from_slice(std::hint::black_box(&self.key)).expect("any key length");
        mac.update(std::hint::black_box(self.string_to_sign.as_bytes()));
        (digest.into(), mac.finalize().into_bytes().into())
    }

    /// aws-sigv4's `sign()` with the settings S3 needs, on the same request; its `Authorization`.
    pub fn aws_sigv4(&self) -> String {
        use aws_sigv4::http_request as h;
        let mut settings = h::SigningSettings::default();
        settings.percent_encoding_mode = h::PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = h::UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = h::PayloadChecksumKind::XAmzSha256;
        settings.excluded_headers = Some(vec!["authorization".into()]);
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
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
