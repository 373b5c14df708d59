//! AWS Signature Version 4: one conformant signer for every request this project makes.
//!
//! [`sign()`] is the one entry point. The steps are kept apart as in the specification
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>), one file each,
//! and no file imports one that imports it:
//!
//! - [`bytes`]: the byte classes (unreserved, path byte, control, token, scope byte), each once;
//! - `canonical_request/`: step 1, one file per part (`path`, `query`, `headers`);
//! - `scope`: the credential scope and the checks of what the credentials put in the request;
//! - [`key`]: step 3, the signing key and its cache (a key is derived once a day per scope);
//! - `sign`: steps 2 and 4, the string to sign and the signature, and what to add to the request
//!   (`output`: [`SigningOutput`]);
//! - SigV4A ([`sign_v4a()`]), beside SigV4 and through the same canonical request: `key_v4a`, the
//!   ECDSA P-256 key derived from the secret and its cache per access key id ([`SigV4aKeyCache`]);
//!   `sign_v4a`, its entry point.
//!
//! Nothing here reads the clock or the environment: credentials and time come in as arguments.
//! The public helpers below ([`s3_canonical_path`], [`encode_query_component`], [`form_decode`],
//! [`is_canonical_query_component`], [`uri_encode`]) state rules the origin-request handler and
//! the local verifier must apply exactly as the signer does.

pub mod bytes;
mod canonical_request;
mod entries;
mod error;
pub mod key;
mod key_v4a;
mod output;
mod params;
mod request;
mod scope;
mod settings;
mod sign;
mod sign_v4a;
mod sink;
mod time;

pub use canonical_request::path::s3_canonical_path;
pub use canonical_request::query::{
    encode_query_component, form_decode, is_canonical_query_component, uri_encode,
};
pub use error::SigningError;
pub use key::SigningKeyCache;
pub use key_v4a::{SigV4aKey, SigV4aKeyCache, verify_v4a};
pub use output::SigningOutput;
pub use params::{ALGORITHM, ALGORITHM_V4A, SigningParams};
pub use request::{EMPTY_PAYLOAD_SHA256, SignableBody, SignableRequest, UNSIGNED_PAYLOAD};
pub use settings::{
    IntermediateTexts, PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignatureLocation,
    SigningSettings, UriPathNormalizationMode,
};
pub use sign::sign;
pub use sign_v4a::sign_v4a;
pub use time::AmzDate;
