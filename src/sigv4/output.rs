//! What signing returns: the signature, what to add to the request, and (when asked) the
//! intermediate texts. Its `Debug` never shows the session token or the signature.

use super::canonical_request::query::uri_encode;
use super::time::AmzDate;
use std::borrow::Cow;
use std::fmt;

/// What [`sign`](super::sign()) adds to a request, with the signature.
///
/// In header mode ([`SignatureLocation::Headers`](super::SignatureLocation::Headers)),
/// [`headers`](Self::headers) lists the headers to set; in query mode, [`query_params`](Self::query_params)
/// the parameters to append. Only the `Authorization` value (or the query parameters) is
/// allocated; the date is inline, the token borrowed from the credentials.
///
/// Its `Debug` redacts the session token and the signature wherever they appear (headers,
/// `Authorization`, query parameters, canonical request).
#[derive(Clone, PartialEq, Eq)]
pub struct SigningOutput<'a> {
    pub(super) date: AmzDate,
    pub(super) signature: Signature,
    /// The session token added to the request, if any.
    pub(super) token: Option<&'a str>,
    /// SigV4A: the region set, sent as `x-amz-region-set` in header mode.
    pub(super) region_set: Option<&'a str>,
    pub(super) added: Added,
    pub(super) texts: Option<IntermediateTexts>,
}

/// A signature as sent, in lower-case hex: SigV4's HMAC (64 digits) or SigV4A's DER-encoded ECDSA
/// signature (at most 72 bytes, 144 digits). Inline, so that SigV4 allocates nothing for it.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Signature {
    hex: [u8; 144],
    len: u8,
}

impl Signature {
    /// SigV4's 64 hex digits.
    pub fn from_hex64(digits: &[u8; 64]) -> Self {
        let mut hex = [0; 144];
        hex[..64].copy_from_slice(digits);
        Self { hex, len: 64 }
    }

    /// The hex of `bytes` (at most 72; more are cut, which a DER P-256 signature never is).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let bytes = &bytes[..bytes.len().min(72)];
        let mut hex = [0; 144];
        let len = 2 * bytes.len();
        hex::encode_to_slice(bytes, &mut hex[..len]).unwrap_or_else(|_| unreachable!("two digits per byte"));
        Self { hex, len: len as u8 }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.hex[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// Where the signature goes, and what goes with it.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum Added {
    Headers {
        /// The `x-amz-content-sha256` value, when the settings ask for that header.
        content_sha256: Option<Cow<'static, str>>,
        authorization: String,
    },
    /// Unencoded, in the order they are appended; the token's value is the token.
    QueryParams(Vec<(&'static str, String)>),
}

/// The texts that were hashed, kept when the settings ask for them.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct IntermediateTexts {
    pub canonical_request: String,
    pub string_to_sign: String,
}

impl<'a> SigningOutput<'a> {
    /// The signature in lower-case hex: 64 digits (SigV4), or a DER-encoded ECDSA signature
    /// (SigV4A, up to 144 digits).
    pub fn signature(&self) -> &str {
        self.signature.as_str()
    }

    /// SigV4A: the region set signed; `None` for SigV4.
    pub fn region_set(&self) -> Option<&'a str> {
        self.region_set
    }

    /// The signing time as `x-amz-date` holds it, `YYYYMMDDTHHMMSSZ`.
    pub fn date_time(&self) -> &str {
        self.date.date_time()
    }

    /// The session token added to the request (as a header or a query parameter), if any.
    pub fn security_token(&self) -> Option<&'a str> {
        self.token
    }

    /// Header mode: the headers to set, replacing any of the same name, in this order:
    /// `x-amz-date`, `x-amz-region-set` (SigV4A), `x-amz-security-token` (with a session token
    /// that is not omitted),
    /// `x-amz-content-sha256` (when the settings ask for it), `authorization`. Empty in query mode.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let (content_sha256, authorization) = match &self.added {
            Added::Headers {
                content_sha256,
                authorization,
            } => (content_sha256.as_deref(), Some(authorization.as_str())),
            Added::QueryParams(_) => (None, None),
        };
        let header_mode = authorization.is_some();
        [
            header_mode.then(|| ("x-amz-date", self.date_time())),
            self.region_set
                .filter(|_| header_mode)
                .map(|r| ("x-amz-region-set", r)),
            self.token
                .filter(|_| header_mode)
                .map(|t| ("x-amz-security-token", t)),
            content_sha256.map(|h| ("x-amz-content-sha256", h)),
            authorization.map(|a| ("authorization", a)),
        ]
        .into_iter()
        .flatten()
    }

    /// Header mode: the `authorization` value; `None` in query mode.
    pub fn authorization(&self) -> Option<&str> {
        match &self.added {
            Added::Headers { authorization, .. } => Some(authorization),
            Added::QueryParams(_) => None,
        }
    }

    /// Header mode: the `authorization` value, without copying it; `None` in query mode.
    pub fn into_authorization(self) -> Option<String> {
        match self.added {
            Added::Headers { authorization, .. } => Some(authorization),
            Added::QueryParams(_) => None,
        }
    }

    /// Query mode: the parameters to append to the query string, unencoded, in this order:
    /// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
    /// `X-Amz-SignedHeaders`, `X-Amz-Region-Set` (SigV4A), `X-Amz-Security-Token` (with a session token that is not omitted),
    /// `X-Amz-Signature`. Empty in header mode.
    pub fn query_params(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let params = match &self.added {
            Added::QueryParams(params) => params.as_slice(),
            Added::Headers { .. } => &[],
        };
        params.iter().map(|(name, value)| (*name, value.as_str()))
    }

    /// The query parameters of a presigned request, URI-encoded and joined with `&`.
    pub fn encoded_query(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.query_params() {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
            out.push_str(&uri_encode(value.as_bytes()));
        }
        out
    }

    /// The canonical request that was hashed, when the settings keep it
    /// ([`IntermediateTexts::Keep`](super::IntermediateTexts::Keep)). It may hold the session
    /// token: do not log it.
    pub fn canonical_request(&self) -> Option<&str> {
        self.texts.as_ref().map(|t| t.canonical_request.as_str())
    }

    /// The string to sign, when the settings keep it.
    pub fn string_to_sign(&self) -> Option<&str> {
        self.texts.as_ref().map(|t| t.string_to_sign.as_str())
    }

    /// `text` with the session token (as it is, and URI-encoded) replaced by `<redacted>`.
    fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(token) = self.token.filter(|t| !t.is_empty()) else {
            return Cow::Borrowed(text);
        };
        let mut text = Cow::Borrowed(text);
        for form in [Cow::Borrowed(token), uri_encode(token.as_bytes())] {
            if text.contains(&*form) {
                text = Cow::Owned(text.replace(&*form, REDACTED));
            }
        }
        text
    }
}

const REDACTED: &str = "<redacted>";

/// What `Debug` shows of an added header or query parameter.
fn shown<'v>(name: &str, value: &'v str) -> Cow<'v, str> {
    match name {
        "x-amz-security-token" | "X-Amz-Security-Token" | "X-Amz-Signature" => Cow::Borrowed(REDACTED),
        // The credential and signed headers are kept, to debug with; the signature goes.
        "authorization" => match value.rsplit_once("Signature=") {
            Some((before, _)) => Cow::Owned(format!("{before}Signature={REDACTED}")),
            None => Cow::Borrowed(REDACTED),
        },
        _ => Cow::Borrowed(value),
    }
}

impl fmt::Debug for SigningOutput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs = |pairs: &mut dyn Iterator<Item = (&'static str, &str)>| -> Vec<(&str, String)> {
            pairs.map(|(n, v)| (n, shown(n, v).into_owned())).collect()
        };
        f.debug_struct("SigningOutput")
            .field("date_time", &self.date_time())
            .field("signature", &REDACTED)
            .field("headers", &pairs(&mut self.headers()))
            .field("query_params", &pairs(&mut self.query_params()))
            .field(
                "canonical_request",
                &self.canonical_request().map(|t| self.redact(t)),
            )
            .field("string_to_sign", &self.string_to_sign())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::sigv4::{
        SessionTokenMode, SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings,
        sign,
    };
    use aws_credential_types::Credentials;
    use std::time::{Duration, UNIX_EPOCH};

    /// A token with bytes that URI encoding changes, so that its encoded form (in a presigned
    /// canonical query) must be found too.
    const TOKEN: &str = "IQoJb3JpZ2luX2VjE+/session=token";

    fn debug_of(settings: SigningSettings) -> (String, String) {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some(TOKEN.into()), None, "test");
        let params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "s3",
            time: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
            settings: &settings,
        };
        let headers = [("host", "example.com")];
        let request = SignableRequest {
            method: "GET",
            path: "/key",
            query: "a=b",
            headers: &headers,
            body: SignableBody::UnsignedPayload,
        };
        let keys = SigningKeyCache::new();
        let output = sign(&request, &params, &keys).unwrap();
        (format!("{output:?}{output:#?}"), output.signature().to_owned())
    }

    #[test]
    fn debug_hides_the_token_and_the_signature_in_every_mode() {
        let s3 = SigningSettings::s3();
        let expiring = Duration::from_secs(60);
        for settings in [
            s3,
            s3.keeping_texts(),
            s3.presigned(expiring).keeping_texts(),
            SigningSettings {
                session_token_mode: SessionTokenMode::AddAfterSigning,
                ..s3.presigned(expiring).keeping_texts()
            },
        ] {
            let (debug, signature) = debug_of(settings);
            let encoded = crate::sigv4::uri_encode(TOKEN.as_bytes());
            for secret in [TOKEN, &encoded, &signature, &signature[..16]] {
                assert!(!debug.contains(secret), "{secret} in {debug}");
            }
            assert!(debug.contains("<redacted>"), "{debug}");
        }
    }

    #[test]
    fn debug_keeps_what_helps_and_is_not_secret() {
        let (debug, _) = debug_of(SigningSettings::s3().keeping_texts());
        for shown in [
            "20150830T123600Z",
            "Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request",
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token",
            "UNSIGNED-PAYLOAD",
            "x-amz-security-token:<redacted>",
        ] {
            assert!(debug.contains(shown), "{shown} not in {debug}");
        }
    }
}
