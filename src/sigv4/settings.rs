//! What can vary between services when signing: encoding, normalisation, the session token, the
//! payload checksum header and where the signature goes.

use std::time::Duration;

/// How the request path becomes the canonical URI.
///
/// Most AWS services decode the path they receive and percent-encode it again before checking a
/// signature, so the client must encode the (already encoded) path a second time. S3 and S3 Object
/// Lambda do not: for them the path as sent *is* the canonical URI, and the caller must send it in
/// S3's canonical form (see [`s3_canonical_path`](crate::sigv4::s3_canonical_path)).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PercentEncodingMode {
    /// Percent-encode every byte of the path outside `A-Za-z0-9-_.~` and `/` (a `%` becomes `%25`).
    Double,
    /// Use the path verbatim; it must already be percent-encoded.
    Single,
}

/// Whether `.`/`..` segments and empty segments are removed from the path before encoding.
///
/// S3 object keys may contain `.`, `..` and `//`, which are part of the key, so S3 needs this off.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum UriPathNormalizationMode {
    /// Remove dot segments and collapse empty segments (RFC 3986 §5.2.4 plus `//` → `/`).
    Enabled,
    /// Leave the path as it is.
    Disabled,
}

/// What happens to the session token of temporary credentials.
///
/// Most services want `X-Amz-Security-Token` signed; a few (IoT, some STS flows) verify the
/// signature without it, so it must be added only after signing.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SessionTokenMode {
    /// Add the token and include it in the signature.
    Include,
    /// Sign without the token, then add it to the request.
    AddAfterSigning,
    /// Neither sign nor add the token (the caller conveys it some other way, or not at all).
    Omit,
}

/// Whether the payload hash is also sent as the `x-amz-content-sha256` header (header mode only).
///
/// S3 requires this header on every request signed in the `Authorization` header.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum PayloadChecksumKind {
    /// Add and sign `x-amz-content-sha256: <payload hash>`.
    XAmzSha256,
    /// Do not add the header; the payload hash only ends the canonical request.
    NoHeader,
}

/// Where the signature goes.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SignatureLocation {
    /// In the `Authorization` header, with `X-Amz-Date` (and the token) as headers.
    Headers,
    /// In the query string (a presigned URL), valid for `expires_in` (whole seconds, 1 s to 7 days).
    QueryParams {
        /// How long the presigned request stays valid.
        expires_in: Duration,
    },
}

/// Whether [`sign`](super::sign()) keeps the canonical request and the string to sign.
///
/// Signing needs only their hashes: by default they are hashed as they are written and never
/// kept. Tests, the vectors runner and debugging keep them, to compare or show them (see
/// [`SigningOutput::canonical_request`](super::SigningOutput::canonical_request)).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum IntermediateTexts {
    /// Hash them as they are written; keep nothing.
    Discard,
    /// Keep both texts in the output, as they were hashed.
    Keep,
}

/// The settings of one signature. [`SigningSettings::default`] is the generic AWS behaviour (the
/// CRT test suite's); [`SigningSettings::s3`] is what S3 and S3 Object Lambda expect.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct SigningSettings {
    /// How the path is encoded into the canonical URI.
    pub percent_encoding_mode: PercentEncodingMode,
    /// Whether the path is normalised first.
    pub uri_path_normalization_mode: UriPathNormalizationMode,
    /// What happens to a session token.
    pub session_token_mode: SessionTokenMode,
    /// Whether `x-amz-content-sha256` is added in header mode.
    pub payload_checksum_kind: PayloadChecksumKind,
    /// Header signing or query presigning.
    pub signature_location: SignatureLocation,
    /// Whether the output keeps the intermediate texts; they do not change the signature.
    pub intermediate_texts: IntermediateTexts,
}

impl Default for SigningSettings {
    fn default() -> Self {
        Self {
            percent_encoding_mode: PercentEncodingMode::Double,
            uri_path_normalization_mode: UriPathNormalizationMode::Enabled,
            session_token_mode: SessionTokenMode::Include,
            payload_checksum_kind: PayloadChecksumKind::NoHeader,
            signature_location: SignatureLocation::Headers,
            intermediate_texts: IntermediateTexts::Discard,
        }
    }
}

impl SigningSettings {
    /// S3 and S3 Object Lambda: single encoding, no normalisation, `x-amz-content-sha256` signed.
    ///
    /// ```
    /// use edge_signer::sigv4::{PercentEncodingMode, SigningSettings};
    /// assert_eq!(SigningSettings::s3().percent_encoding_mode, PercentEncodingMode::Single);
    /// ```
    pub fn s3() -> Self {
        Self {
            percent_encoding_mode: PercentEncodingMode::Single,
            uri_path_normalization_mode: UriPathNormalizationMode::Disabled,
            session_token_mode: SessionTokenMode::Include,
            payload_checksum_kind: PayloadChecksumKind::XAmzSha256,
            signature_location: SignatureLocation::Headers,
            intermediate_texts: IntermediateTexts::Discard,
        }
    }

    /// The same settings, presigning in the query string for `expires_in`.
    pub fn presigned(self, expires_in: Duration) -> Self {
        Self {
            signature_location: SignatureLocation::QueryParams { expires_in },
            ..self
        }
    }

    /// The same settings, keeping the canonical request and the string to sign in the output.
    pub fn keeping_texts(self) -> Self {
        Self {
            intermediate_texts: IntermediateTexts::Keep,
            ..self
        }
    }
}
