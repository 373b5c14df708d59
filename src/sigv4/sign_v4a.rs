//! SigV4A's entry point: the same checks and canonical request as SigV4 (`sign.rs`), with the
//! algorithm `AWS4-ECDSA-P256-SHA256`, a credential scope without region, the region set signed
//! (`x-amz-region-set` or `X-Amz-Region-Set`), and an ECDSA P-256 signature made with the key
//! derived from the secret (`key_v4a.rs`).

use super::error::SigningError;
use super::key_v4a::SigV4aKeyCache;
use super::output::SigningOutput;
use super::params::SigningParams;
use super::request::SignableRequest;
use super::sign::{Scheme, sign_with};

/// Signs `request` with SigV4A for the region set `params.region` (`*`, or regions joined with
/// `,`), using (and filling) the key cache `keys`.
///
/// The output is read as SigV4's: in header mode [`SigningOutput::headers`] lists `x-amz-date`,
/// `x-amz-region-set`, the token and content hash when they apply, and `authorization`; in query
/// mode [`SigningOutput::query_params`] adds `X-Amz-Region-Set` too. The signature is the hex of a
/// DER-encoded ECDSA signature, different on every call (the nonce is random): check it with
/// [`verify_v4a`](super::verify_v4a) and the key's public key, not by comparing bytes.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use aws_credential_types::Credentials;
/// use edge_signer::sigv4::{sign_v4a, verify_v4a, SigV4aKeyCache, SignableBody, SignableRequest, SigningParams, SigningSettings};
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "example");
/// let settings = SigningSettings::default().keeping_texts();
/// let params = SigningParams {
///     credentials: &credentials,
///     region: "us-east-1", // the region set
///     service: "service",
///     time: UNIX_EPOCH + Duration::from_secs(1_440_938_160), // 2015-08-30T12:36:00Z
///     settings: &settings,
/// };
/// let headers = [("Host", "example.amazonaws.com")];
/// let request = SignableRequest { method: "GET", path: "/", query: "", headers: &headers, body: SignableBody::Empty };
/// let keys = SigV4aKeyCache::new();
/// let output = sign_v4a(&request, &params, &keys).unwrap();
/// // The "get-vanilla" case of the AWS SigV4A test suite.
/// assert_eq!(
///     output.string_to_sign().unwrap(),
///     "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n\
///      cf59db423e841c8b7e3444158185aa261b724a5c27cbe762676f3eed19f4dc02"
/// );
/// let names: Vec<_> = output.headers().map(|(name, _)| name).collect();
/// assert_eq!(names, ["x-amz-date", "x-amz-region-set", "authorization"]);
/// let public = keys.key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap().verifying_key();
/// assert!(verify_v4a(&public, output.string_to_sign().unwrap(), output.signature()));
/// ```
///
/// # Errors
/// As [`sign`](super::sign()), plus [`SigningError::KeyDerivation`] and
/// [`SigningError::Random`], which no real input causes. A request that fails adds nothing to the
/// cache.
pub fn sign_v4a<'a>(
    request: &SignableRequest<'_>,
    params: &SigningParams<'a>,
    keys: &SigV4aKeyCache,
) -> Result<SigningOutput<'a>, SigningError> {
    sign_with(request, params, Scheme::V4a(keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::{SignableBody, SigningSettings, verify_v4a};
    use aws_credential_types::Credentials;
    use std::time::{Duration, UNIX_EPOCH};

    fn sign_s3(
        keys: &SigV4aKeyCache,
        headers: &[(&str, &str)],
        region_set: &str,
        settings: SigningSettings,
    ) -> Result<(String, String, String), SigningError> {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "t");
        let settings = settings.keeping_texts();
        let params = SigningParams {
            credentials: &credentials,
            region: region_set,
            service: "s3",
            time: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
            settings: &settings,
        };
        let request = SignableRequest {
            method: "GET",
            path: "/photo.jpg",
            query: "",
            headers,
            body: SignableBody::UnsignedPayload,
        };
        let out = sign_v4a(&request, &params, keys)?;
        let names: Vec<String> = out
            .headers()
            .chain(out.query_params())
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        let public = keys.key("AKIDEXAMPLE", "secret")?.verifying_key();
        assert!(verify_v4a(
            &public,
            out.string_to_sign().unwrap_or_default(),
            out.signature()
        ));
        Ok((
            out.canonical_request().unwrap_or_default().to_owned(),
            names.join("\n"),
            out.authorization().unwrap_or_default().to_owned(),
        ))
    }

    #[test]
    fn mrap_header_mode_signs_the_region_set_and_replaces_a_stale_one() {
        let keys = SigV4aKeyCache::new();
        let headers = [
            ("host", "alias.mrap.accesspoint.s3-global.amazonaws.com"),
            ("x-amz-region-set", "us-east-1"),
        ];
        let (canonical, added, authorization) = sign_s3(&keys, &headers, "*", SigningSettings::s3()).unwrap();
        assert!(canonical.contains("\nx-amz-region-set:*\n"), "{canonical}");
        assert!(!canonical.contains("us-east-1"), "{canonical}");
        assert!(
            canonical.ends_with(
                "\nhost;x-amz-content-sha256;x-amz-date;x-amz-region-set;x-amz-security-token\nUNSIGNED-PAYLOAD"
            ),
            "{canonical}"
        );
        assert!(added.contains("x-amz-region-set=*"), "{added}");
        assert!(
            authorization
                .starts_with("AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/s3/aws4_request, "),
            "{authorization}"
        );
        assert_eq!(keys.len(), 1);
    }

    #[test]
    fn query_mode_adds_the_region_set_parameter() {
        let keys = SigV4aKeyCache::new();
        let headers = [("host", "example.com")];
        let settings = SigningSettings::default().presigned(Duration::from_secs(60));
        let (canonical, added, _) = sign_s3(&keys, &headers, "us-east-1,us-west-2", settings).unwrap();
        assert!(
            canonical.contains("&X-Amz-Region-Set=us-east-1%2Cus-west-2&"),
            "{canonical}"
        );
        assert!(added.contains("X-Amz-Region-Set=us-east-1,us-west-2"), "{added}");
        assert!(
            added.contains("X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"),
            "{added}"
        );
    }

    #[test]
    fn a_bad_region_set_or_request_is_refused_and_caches_nothing() {
        let keys = SigV4aKeyCache::new();
        let refused = sign_s3(&keys, &[("host", "h")], "us/east", SigningSettings::s3());
        assert!(matches!(
            refused,
            Err(SigningError::InvalidScope { what: "region", .. })
        ));
        let refused = sign_s3(&keys, &[("x", "1")], "*", SigningSettings::s3());
        assert_eq!(refused.err(), Some(SigningError::MissingHost));
        assert!(keys.is_empty());
    }
}
