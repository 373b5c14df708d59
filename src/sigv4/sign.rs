//! The one entry point: checks, builds the canonical request (step 1), hashes it into the string
//! to sign (step 2), signs that with the cached signing key (steps 3 and 4), and says what to add
//! to the request.

use super::canonical_request::{Added as CanonicalAdded, Canonical};
use super::error::SigningError;
use super::key::{SigningKeyCache, SigningMac};
use super::key_v4a::{SigV4aKey, SigV4aKeyCache};
use super::output::{Added, IntermediateTexts as Texts, Signature, SigningOutput};
use super::params::{ALGORITHM, ALGORITHM_V4A, SigningParams};
use super::request::{EMPTY_PAYLOAD_SHA256, SignableBody, SignableRequest, UNSIGNED_PAYLOAD};
use super::scope::{Credential, check_params};
use super::settings::{IntermediateTexts, PayloadChecksumKind, SessionTokenMode, SignatureLocation};
use super::sink::{Sink, hex, hex_str};
use super::time::AmzDate;
use hmac::Mac;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::Arc;

/// Signs `request` with `params`, using (and filling) the signing key cache `keys`.
///
/// The canonical request and the string to sign are hashed as they are written; they are kept in
/// the output only when `params.settings.intermediate_texts` asks for them. In header mode nothing
/// but the `Authorization` value is allocated for a request with up to six headers and four query
/// parameters.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use aws_credential_types::Credentials;
/// use edge_signer::sigv4::{sign, SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings};
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "example");
/// let settings = SigningSettings::default();
/// let params = SigningParams {
///     credentials: &credentials,
///     region: "us-east-1",
///     service: "service",
///     time: UNIX_EPOCH + Duration::from_secs(1_440_938_160), // 2015-08-30T12:36:00Z
///     settings: &settings,
/// };
/// let headers = [("Host", "example.amazonaws.com")];
/// let request = SignableRequest { method: "GET", path: "/", query: "", headers: &headers, body: SignableBody::Empty };
/// let keys = SigningKeyCache::new();
/// let output = sign(&request, &params, &keys).unwrap();
/// // The "get-vanilla" case of the AWS SigV4 test suite.
/// assert_eq!(output.signature(), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
/// let names: Vec<_> = output.headers().map(|(name, _)| name).collect();
/// assert_eq!(names, ["x-amz-date", "authorization"]);
/// assert_eq!(output.canonical_request(), None); // not kept unless asked
///
/// let keeping = settings.keeping_texts();
/// let kept = sign(&request, &SigningParams { settings: &keeping, ..params }, &keys).unwrap();
/// assert!(kept.canonical_request().unwrap().starts_with("GET\n/\n\nhost:example.amazonaws.com\n"));
/// assert_eq!(kept.signature(), output.signature());
/// ```
///
/// # Errors
/// Input that cannot be signed or sent, without panicking: see [`SigningError`]. A request that
/// fails adds nothing to the cache.
pub fn sign<'a>(
    request: &SignableRequest<'_>,
    params: &SigningParams<'a>,
    keys: &SigningKeyCache,
) -> Result<SigningOutput<'a>, SigningError> {
    sign_with(request, params, Scheme::V4(keys))
}

/// Which signature: SigV4 (HMAC) with its key cache, or SigV4A (ECDSA) with its own.
#[derive(Clone, Copy)]
pub(super) enum Scheme<'k> {
    V4(&'k SigningKeyCache),
    V4a(&'k SigV4aKeyCache),
}

/// A key found in (or derived into) a cache.
enum Key {
    V4(SigningMac),
    V4a(Arc<SigV4aKey>),
}

/// The steps both versions share: checks, the canonical request, the string to sign, the output.
/// SigV4A differs only in the algorithm name, a scope without region, the region set it signs
/// (`params.region`), and the key and signature.
pub(super) fn sign_with<'a>(
    request: &SignableRequest<'_>,
    params: &SigningParams<'a>,
    scheme: Scheme<'_>,
) -> Result<SigningOutput<'a>, SigningError> {
    let settings = params.settings;
    let token = params
        .credentials
        .session_token()
        .filter(|_| settings.session_token_mode != SessionTokenMode::Omit);
    let signed_token = token.filter(|_| settings.session_token_mode == SessionTokenMode::Include);
    let date = match AmzDate::new(params.time) {
        Ok(date) => date,
        Err(time) => {
            // The scope and the token are reported first, as when they were checked before the
            // time; the cache cannot be asked without a day.
            check_params(params, token)?;
            return Err(time);
        }
    };
    let cached_key = match scheme {
        Scheme::V4(keys) => keys.checked_key(params, date.date_bytes(), token)?.map(Key::V4),
        Scheme::V4a(keys) => keys.checked_key(params, token)?.map(Key::V4a),
    };
    let (algorithm, region, region_set) = match scheme {
        Scheme::V4(_) => (ALGORITHM, Some(params.region), None),
        Scheme::V4a(_) => (ALGORITHM_V4A, None, Some(params.region)),
    };
    let payload_hash = request.body.payload_hash()?;
    let date_time = date.date_time();
    let credential = Credential {
        algorithm,
        access_key: params.credentials.access_key_id(),
        day: date.date(),
        region,
        service: params.service,
    };
    let added = CanonicalAdded {
        date_time,
        payload_hash: &payload_hash,
        signed_token,
        region_set,
    };
    let canonical = Canonical::new(request, params, &added, &credential)?;

    // The whole request is checked: only now may a new key be cached.
    let key = match (cached_key, scheme) {
        (Some(key), _) => key,
        (None, Scheme::V4(keys)) => Key::V4(keys.derive_key(params, date.date(), token)),
        (None, Scheme::V4a(keys)) => Key::V4a(keys.derive_key(
            params.credentials.access_key_id(),
            params.credentials.secret_access_key(),
        )?),
    };
    let keep = settings.intermediate_texts == IntermediateTexts::Keep;
    let (signature, texts) = match key {
        Key::V4(mut mac) if !keep => {
            let mut hash = Sha256::new();
            canonical.write(&mut hash);
            let hashed = hex(hash.finalize().into());
            write_string_to_sign(&mut mac, date_time, &credential, &hashed);
            (
                Signature::from_hex64(&hex(mac.finalize().into_bytes().into())),
                None,
            )
        }
        key => {
            // SigV4A's ECDSA takes the whole message; it is short.
            let mut canonical_request = String::with_capacity(if keep { canonical.len() } else { 0 });
            let hashed = if keep {
                canonical.write(&mut canonical_request);
                hex(Sha256::digest(&canonical_request).into())
            } else {
                let mut hash = Sha256::new();
                canonical.write(&mut hash);
                hex(hash.finalize().into())
            };
            let mut string_to_sign = String::with_capacity(200);
            write_string_to_sign(&mut string_to_sign, date_time, &credential, &hashed);
            let signature = match key {
                Key::V4(mut mac) => {
                    mac.update(string_to_sign.as_bytes());
                    Signature::from_hex64(&hex(mac.finalize().into_bytes().into()))
                }
                Key::V4a(key) => Signature::from_bytes(key.sign(string_to_sign.as_bytes())?.as_ref()),
            };
            let texts = keep.then_some(Texts {
                canonical_request,
                string_to_sign,
            });
            (signature, texts)
        }
    };

    let added = match settings.signature_location {
        SignatureLocation::Headers => Added::Headers {
            content_sha256: (settings.payload_checksum_kind == PayloadChecksumKind::XAmzSha256)
                .then(|| owned_hash(&request.body, &payload_hash)),
            authorization: authorization(&credential, &canonical, signature.as_str()),
        },
        SignatureLocation::QueryParams { .. } => {
            let mut params = canonical.presigned;
            if let Some(token) = token.filter(|_| signed_token.is_none()) {
                params.push(("X-Amz-Security-Token", token.to_owned()));
            }
            params.push(("X-Amz-Signature", signature.as_str().to_owned()));
            Added::QueryParams(params)
        }
    };
    Ok(SigningOutput {
        date,
        signature,
        token,
        region_set,
        added,
        texts,
    })
}

/// Writes the string to sign: `ALGORITHM\nDATE-TIME\nSCOPE\nHEX(SHA-256(canonical request))`.
fn write_string_to_sign(
    out: &mut impl Sink,
    date_time: &str,
    credential: &Credential<'_>,
    hashed: &[u8; 64],
) {
    for part in [credential.algorithm, "\n", date_time, "\n"] {
        out.put(part);
    }
    credential.write_scope(out);
    out.put("\n");
    out.put(hex_str(hashed));
}

/// The `Authorization` header: `ALGORITHM Credential=KEY/SCOPE, SignedHeaders=..., Signature=...`.
fn authorization(credential: &Credential<'_>, canonical: &Canonical<'_>, signature: &str) -> String {
    let mut out = String::with_capacity(
        credential.algorithm.len()
            + credential.access_key.len()
            + credential.scope_len()
            + canonical.signed_headers_len()
            + 41
            + signature.len(),
    );
    for part in [credential.algorithm, " Credential="] {
        out.put(part);
    }
    credential.write(&mut out);
    out.put(", SignedHeaders=");
    canonical.write_signed_headers(&mut out);
    out.put(", Signature=");
    out.put(signature);
    out
}

/// The payload hash for the output, which outlives the request: the constants stay borrowed.
fn owned_hash(body: &SignableBody<'_>, hash: &str) -> Cow<'static, str> {
    match body {
        SignableBody::Empty => Cow::Borrowed(EMPTY_PAYLOAD_SHA256),
        SignableBody::UnsignedPayload => Cow::Borrowed(UNSIGNED_PAYLOAD),
        SignableBody::Bytes(_) | SignableBody::Precomputed(_) => Cow::Owned(hash.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::SigningSettings;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// Signs a GET of `/` with `headers`, for `service`, at `time`, discarding and keeping the
    /// texts (which must agree).
    fn try_sign(
        keys: &SigningKeyCache,
        headers: &[(&str, &str)],
        region: &str,
        service: &str,
        time: SystemTime,
    ) -> Result<String, SigningError> {
        let credentials =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "t");
        let request = SignableRequest {
            method: "GET",
            path: "/",
            query: "",
            headers,
            body: SignableBody::Empty,
        };
        let mut results = [
            SigningSettings::default(),
            SigningSettings::default().keeping_texts(),
        ]
        .map(|settings| {
            let params = SigningParams {
                credentials: &credentials,
                region,
                service,
                time,
                settings: &settings,
            };
            sign(&request, &params, keys).map(|out| out.signature().to_owned())
        });
        assert_eq!(results[0], results[1]);
        std::mem::replace(&mut results[0], Err(SigningError::MissingHost))
    }

    #[test]
    fn a_request_that_fails_adds_no_key_and_pushes_none_out() {
        let keys = SigningKeyCache::new();
        let now = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        try_sign(&keys, &[("host", "example.com")], "us-east-1", "kept", now).unwrap();
        for service in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            let refused = try_sign(&keys, &[("x-no-host", "1")], "us-east-1", service, now);
            assert_eq!(refused, Err(SigningError::MissingHost));
        }
        assert_eq!(keys.len(), 1, "only the key of the request that was signed");
        // The cached key signs as a fresh one does.
        let again = try_sign(&keys, &[("host", "example.com")], "us-east-1", "kept", now);
        let fresh = try_sign(
            &SigningKeyCache::new(),
            &[("host", "example.com")],
            "us-east-1",
            "kept",
            now,
        );
        assert_eq!(again, fresh);
    }

    #[test]
    fn a_bad_scope_is_reported_before_a_bad_time() {
        let before_1970 = UNIX_EPOCH - Duration::from_secs(1);
        let keys = SigningKeyCache::new();
        let refused = try_sign(&keys, &[("host", "example.com")], "us/east", "s3", before_1970);
        assert!(
            matches!(refused, Err(SigningError::InvalidScope { what: "region", .. })),
            "{refused:?}"
        );
        let refused = try_sign(&keys, &[("host", "example.com")], "us-east-1", "s3", before_1970);
        assert_eq!(refused, Err(SigningError::InvalidTime));
    }
}
