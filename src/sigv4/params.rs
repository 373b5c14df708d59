//! Who signs, for which scope, when and how: everything but the request.

use super::settings::SigningSettings;
use aws_credential_types::Credentials;
use std::time::SystemTime;

/// The algorithm name that starts the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// SigV4A's algorithm name: ECDSA over P-256 with SHA-256.
pub const ALGORITHM_V4A: &str = "AWS4-ECDSA-P256-SHA256";

/// Who signs, for which scope, when, and how.
#[derive(Clone, Copy, Debug)]
pub struct SigningParams<'a> {
    /// The access key, secret key and optional session token (their `Debug` hides the secrets).
    pub credentials: &'a Credentials,
    /// The region of the credential scope, such as `us-east-1`; for SigV4A
    /// ([`sign_v4a`](super::sign_v4a())), the region set, such as `*` or `us-east-1,us-west-2`.
    pub region: &'a str,
    /// The service of the credential scope, such as `s3-object-lambda`.
    pub service: &'a str,
    /// The signing time; the core never reads the clock itself.
    pub time: SystemTime,
    /// How to sign.
    pub settings: &'a SigningSettings,
}
