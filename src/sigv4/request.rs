//! The request to sign, borrowed from the caller: nothing is copied until the canonical request is
//! written.

use super::error::SigningError;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// The payload hash that says the body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string, in lowercase hex.
pub const EMPTY_PAYLOAD_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The payload, or what stands for it in the canonical request.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SignableBody<'a> {
    /// No body: the payload hash is SHA-256 of the empty string (a constant, not recomputed).
    Empty,
    /// The body's bytes: the payload hash is their SHA-256.
    Bytes(&'a [u8]),
    /// The literal `UNSIGNED-PAYLOAD` (S3 over HTTPS, when the body is not read before signing).
    UnsignedPayload,
    /// A payload hash the caller already has (lowercase hex SHA-256, or a literal such as
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`); used verbatim.
    Precomputed(&'a str),
}

impl<'a> SignableBody<'a> {
    /// The payload hash that ends the canonical request (and is sent as `x-amz-content-sha256`
    /// when the settings ask for it); borrowed unless computed.
    pub(crate) fn payload_hash(&self) -> Result<Cow<'a, str>, SigningError> {
        Ok(match *self {
            SignableBody::Empty => Cow::Borrowed(EMPTY_PAYLOAD_SHA256),
            SignableBody::Bytes(bytes) => Cow::Owned(hex::encode(Sha256::digest(bytes))),
            SignableBody::UnsignedPayload => Cow::Borrowed(UNSIGNED_PAYLOAD),
            SignableBody::Precomputed(hash) => {
                // It becomes a header value: printable ASCII, no space.
                if !hash.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(SigningError::InvalidHeaderValue(
                        "x-amz-content-sha256".to_owned(),
                    ));
                }
                Cow::Borrowed(hash)
            }
        })
    }
}

/// An HTTP request as it will be sent, minus what signing adds.
///
/// `path` and `query` are the request target split at the first `?`, exactly as they go on the
/// wire (percent-encoded). Headers are `(name, value)` pairs in the order they are sent; a name may
/// repeat. Every header given is signed, so leave out what a proxy may change on the way. The
/// headers that signing manages (`authorization`, `x-amz-date`, and in header mode
/// `x-amz-security-token` and `x-amz-content-sha256`) are replaced by the signer's values.
///
/// ```
/// use edge_signer::sigv4::{SignableBody, SignableRequest};
/// let headers = [("host", "example.amazonaws.com")];
/// let request = SignableRequest {
///     method: "GET",
///     path: "/photos/cat.jpg",
///     query: "showExif=true",
///     headers: &headers,
///     body: SignableBody::UnsignedPayload,
/// };
/// assert_eq!(request.method, "GET");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SignableRequest<'a> {
    /// The method, such as `GET`.
    pub method: &'a str,
    /// The path, starting with `/`, percent-encoded as sent.
    pub path: &'a str,
    /// The raw query string without `?` (may be empty).
    pub query: &'a str,
    /// The headers to sign, in order.
    pub headers: &'a [(&'a str, &'a str)],
    /// The payload.
    pub body: SignableBody<'a>,
}
