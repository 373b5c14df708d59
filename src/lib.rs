//! edge-signer: AWS SigV4 signing for a CloudFront origin-request handler (Lambda@Edge) in front of
//! an S3 Object Lambda access point.
//!
//! - [`sigv4`]: the one SigV4 signer every path uses.
//! - [`vectors`]: runs test suites in the AWS CRT layout against it.

pub mod sigv4;
pub mod vectors;
