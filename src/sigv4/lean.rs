//! Header signing for the hot path: the signature of [`sign()`](super::sign()), computed on the
//! same canonical request, but hashed as it is written instead of kept as text, and returned as the
//! four header values alone.

use super::canonical::Canonical;
use super::sha::Sha256;
use super::sign::{authorization, check, hex_sha256, hex_str, write_string_to_sign};
use super::{
    AmzDate, PayloadChecksumKind, SignableRequest, SignatureLocation, SigningError, SigningKeyCache,
    SigningParams, SigningSettings,
};
use std::borrow::Cow;

/// What header signing adds to a request: the headers of [`SigningOutput::headers`](super::SigningOutput),
/// in fixed fields instead of a vector. Only the `Authorization` value is allocated; the date is
/// inline, the token and the payload hash are borrowed where they can be.
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderSignature<'a> {
    date: AmzDate,
    security_token: Option<&'a str>,
    content_sha256: Option<Cow<'a, str>>,
    authorization: String,
}

impl<'a> HeaderSignature<'a> {
    /// The `x-amz-date` value, `YYYYMMDDTHHMMSSZ`.
    pub fn date_time(&self) -> &str {
        self.date.date_time()
    }

    /// The `x-amz-security-token` value, when the credentials have a token that is not omitted.
    pub fn security_token(&self) -> Option<&'a str> {
        self.security_token
    }

    /// The `x-amz-content-sha256` value, when the settings ask for that header.
    pub fn content_sha256(&self) -> Option<&str> {
        self.content_sha256.as_deref()
    }

    /// The `authorization` value.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    /// The `authorization` value, without copying it.
    pub fn into_authorization(self) -> String {
        self.authorization
    }

    /// The signature: the 64 hex digits that end the `authorization` value.
    pub fn signature(&self) -> &str {
        let at = self.authorization.len().saturating_sub(64);
        self.authorization.get(at..).unwrap_or_default()
    }

    /// The headers to set, replacing any of the same name, as [`sign()`](super::sign()) lists
    /// them: `x-amz-date`, the token, `x-amz-content-sha256` and `authorization`, in that order.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            Some(("x-amz-date", self.date_time())),
            self.security_token.map(|t| ("x-amz-security-token", t)),
            self.content_sha256().map(|h| ("x-amz-content-sha256", h)),
            Some(("authorization", self.authorization())),
        ]
        .into_iter()
        .flatten()
    }
}

impl std::fmt::Debug for HeaderSignature<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The session token is a credential: never printed.
        f.debug_struct("HeaderSignature")
            .field("date_time", &self.date_time())
            .field("security_token", &self.security_token.map(|_| "<redacted>"))
            .field("content_sha256", &self.content_sha256)
            .field("authorization", &self.authorization)
            .finish()
    }
}

/// Signs `request` in the `Authorization` header, as [`sign()`](super::sign()) does with
/// `SignatureLocation::Headers` (`params.settings.signature_location` is not read: this always
/// signs in headers). Same checks, same errors, same headers; but the canonical request and the
/// string to sign are hashed as they are written, never kept, and nothing but the `Authorization`
/// value is allocated for a request with up to eight headers and query parameters.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use aws_credential_types::Credentials;
/// use edge_signer::sigv4::{sign, sign_headers, SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings};
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "example");
/// let settings = SigningSettings::default();
/// let params = SigningParams {
///     credentials: &credentials,
///     region: "us-east-1",
///     service: "service",
///     time: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
///     settings: &settings,
/// };
/// let headers = [("Host", "example.amazonaws.com")];
/// let request = SignableRequest { method: "GET", path: "/", query: "", headers: &headers, body: SignableBody::Empty };
/// let keys = SigningKeyCache::new();
/// let lean = sign_headers(&request, &params, &keys).unwrap();
/// assert_eq!(lean.signature(), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
/// let full = sign(&request, &params, &keys).unwrap();
/// assert!(lean.headers().eq(full.headers.iter().map(|(n, v)| (*n, v.as_ref()))));
/// ```
pub fn sign_headers<'a>(
    request: &SignableRequest<'a>,
    params: &SigningParams<'a>,
    keys: &SigningKeyCache,
) -> Result<HeaderSignature<'a>, SigningError> {
    // The token and the payload hash live as long as the request and the credentials.
    let checked = check(request, params, keys)?;
    let settings = SigningSettings {
        signature_location: SignatureLocation::Headers,
        ..*params.settings
    };
    let params = &SigningParams {
        settings: &settings,
        ..*params
    };
    let (date_time, credential, added) = checked.parts(params);
    let mut canonical = Canonical::empty();
    canonical.fill(request, params, &added, &credential)?;

    let mut hash = Sha256::default();
    canonical.write(&mut hash);
    let hashed = hex_sha256(hash.finish());

    let key = checked.key(params, keys);
    key.restart(&mut hash); // the same buffer, for the string to sign
    write_string_to_sign(&mut hash, date_time, &credential, &hashed);
    let signature = hex_sha256(key.finish(&mut hash));

    let authorization = authorization(&credential, &canonical, hex_str(&signature));
    drop(canonical); // it borrows the payload hash, which the result takes
    Ok(HeaderSignature {
        date: checked.date,
        security_token: checked.token,
        content_sha256: (settings.payload_checksum_kind == PayloadChecksumKind::XAmzSha256)
            .then_some(checked.payload_hash),
        authorization,
    })
}
