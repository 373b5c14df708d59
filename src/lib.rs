//! edge-signer: AWS SigV4 signing for a CloudFront origin-request handler (Lambda@Edge) in front of
//! an S3 Object Lambda access point.
//!
//! - [`sigv4`]: the one SigV4 signer every path uses.
//! - [`cloudfront`]: the Lambda@Edge event and response types.
//! - [`origin_request`]: the pure transformation CloudFront runs on every cache miss.
//! - [`origin`], [`config`]: which origins are signed, and the handler's settings.
//! - [`vectors`]: runs test suites in the AWS CRT layout against the signer.
//! - [`transform`]: the Object Lambda transform: strip image metadata, or report EXIF as JSON.
//! - [`object_lambda`]: the Object Lambda function around it: fetch, transform, and answer with a
//!   signed `WriteGetObjectResponse`.
//! - [`s3`]: the one S3 client (GetObject, HeadObject, PutObject) and the HTTP transport every
//!   Lambda function shares.
//! - [`local`]: the whole chain on 127.0.0.1 (`edge-signer local`).
//! - [`bootstrap`]: what the Lambda bootstraps share around lambda_runtime (logs, panics, a
//!   failed start).
//! - [`triggers`]: the S3 event notification trigger's pure core: events, keys, settings, plan.
//! - [`backfill`]: `edge-signer backfill`, S3 Batch Operations' tasks run locally over a manifest.

#[cfg(feature = "backfill")]
pub mod backfill;
#[cfg(feature = "lambda")]
pub mod bootstrap;
pub mod cloudfront;
pub mod config;
pub mod credentials;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "object-lambda")]
pub mod object_lambda;
pub mod origin;
pub mod origin_request;
pub mod panic;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sigv4;
#[cfg(test)]
mod test_env;
#[cfg(feature = "transform")]
pub mod transform;
pub mod triggers;
pub mod vectors;
