//! What can go wrong while signing. Every variant says which part of the input is at fault.

use thiserror::Error;

/// A request that cannot be signed as given.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningError {
    /// The method is empty or holds a character outside the HTTP token set.
    #[error("invalid HTTP method {0:?}: expected a token such as GET")]
    InvalidMethod(String),
    /// The path does not start with `/`, or holds a byte that cannot appear in a request path.
    #[error("invalid request path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The query string holds a byte that cannot appear in a request target.
    #[error("invalid query string: {0}")]
    InvalidQuery(&'static str),
    /// A header name is empty or holds a character outside the HTTP token set.
    #[error("invalid header name {0:?}: expected an HTTP token")]
    InvalidHeaderName(String),
    /// A header value holds a control character (CR, LF, NUL…), which would break the request.
    #[error("invalid value for header {0:?}: control characters are not allowed")]
    InvalidHeaderValue(String),
    /// No `host` header: SigV4 always signs the host.
    #[error("the request has no host header; SigV4 signs the host, so one is required")]
    MissingHost,
    /// The region or service is empty or holds a character that cannot be in a credential scope.
    #[error(
        "invalid {what} {value:?} for the credential scope: expected non-empty printable ASCII without '/'"
    )]
    InvalidScope {
        /// `region` or `service`.
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// The signing time is before 1970 or after year 9999.
    #[error("the signing time is outside the years 1970 to 9999")]
    InvalidTime,
    /// A presigned URL must be valid for 1 second to 7 days.
    #[error("presigned expiry of {0} seconds is outside 1 to 604800")]
    InvalidExpiry(u64),
    /// SigV4A: no P-256 key could be derived from the secret access key.
    #[error("no SigV4A key could be derived from the secret access key")]
    KeyDerivation,
    /// SigV4A: the operating system's random number generator failed, so no ECDSA nonce could be
    /// drawn.
    #[error("the system's random number generator failed; no SigV4A signature could be made")]
    Random,
}
