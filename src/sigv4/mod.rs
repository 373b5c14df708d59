//! AWS Signature Version 4: one conformant signer for every request this project makes.
//!
//! The steps are kept apart as in the specification: [`canonical`] builds the canonical request,
//! [`key`] derives (and caches) the signing key, and [`sign()`] hashes, writes the string to sign,
//! computes the HMAC and says what to add to the request, keeping every intermediate text.
//! [`sign_headers`] is the hot path's entry point: the same checks and the same canonical request
//! (one writer serves both), hashed as it is written, and only the four header values returned.
//! Nothing here reads the clock or the environment: credentials and time come in as arguments.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use aws_credential_types::Credentials;
//! use edge_signer::sigv4::{sign, SignableBody, SignableRequest, SigningKeyCache, SigningParams, SigningSettings};
//!
//! let credentials = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "example");
//! let settings = SigningSettings::default();
//! let params = SigningParams {
//!     credentials: &credentials,
//!     region: "us-east-1",
//!     service: "service",
//!     time: UNIX_EPOCH + Duration::from_secs(1_440_938_160), // 2015-08-30T12:36:00Z
//!     settings: &settings,
//! };
//! let headers = [("Host", "example.amazonaws.com")];
//! let request = SignableRequest { method: "GET", path: "/", query: "", headers: &headers, body: SignableBody::Empty };
//! let output = sign(&request, &params, &SigningKeyCache::new()).unwrap();
//! // The "get-vanilla" case of the AWS SigV4 test suite.
//! assert_eq!(output.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
//! ```

pub mod canonical;
mod error;
pub mod key;
mod lean;
mod request;
mod settings;
mod sha;
mod sign;
mod time;

pub use canonical::s3_canonical_path;
pub use error::SigningError;
pub use key::SigningKeyCache;
pub use lean::{HeaderSignature, sign_headers};
pub use request::{SignableBody, SignableRequest};
pub use settings::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignatureLocation, SigningSettings,
    UriPathNormalizationMode,
};
pub use sign::{SigningOutput, sign};
pub use time::AmzDate;

use aws_credential_types::Credentials;
use std::time::SystemTime;

/// The algorithm name that starts the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The payload hash that says the body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string, in lowercase hex.
pub const EMPTY_PAYLOAD_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Who signs, for which scope, when, and how.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// The access key, secret key and optional session token.
    pub credentials: &'a Credentials,
    /// The region of the credential scope, such as `us-east-1`.
    pub region: &'a str,
    /// The service of the credential scope, such as `s3-object-lambda`.
    pub service: &'a str,
    /// The signing time; the core never reads the clock itself.
    pub time: SystemTime,
    /// How to sign.
    pub settings: &'a SigningSettings,
}
