//! Step 1 of SigV4: the canonical request.
//!
//! ```text
//! METHOD \n CANONICAL-URI \n CANONICAL-QUERY \n CANONICAL-HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
//! ```
//!
//! Each part's rules live in the file named for it ([`path`], [`query`], [`headers`]); they are
//! the specification's
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>), checked
//! against the AWS test suite and, differentially, against aws-sigv4.

pub(crate) mod headers;
pub(crate) mod path;
pub(crate) mod query;

use super::bytes::is_token;
use super::error::SigningError;
use super::params::SigningParams;
use super::request::SignableRequest;
use super::scope::Credential;
use super::settings::SignatureLocation;
use super::sink::Sink;
use headers::{Headers, canonical_headers, write_canonical_headers, write_signed_headers};
use query::{Query, presign_params, query_pairs, uri_encode, write_query};
use std::borrow::Cow;

/// The values signing adds to the canonical request.
#[derive(Clone, Copy)]
pub(crate) struct Added<'a> {
    pub date_time: &'a str,
    pub payload_hash: &'a str,
    /// The session token, when it is signed.
    pub signed_token: Option<&'a str>,
    /// SigV4A's region set: the `x-amz-region-set` header (header mode) or the
    /// `X-Amz-Region-Set` parameter (query mode).
    pub region_set: Option<&'a str>,
}

/// A request checked and put in canonical form, ready to be written.
pub(crate) struct Canonical<'a> {
    method: &'a str,
    path: Cow<'a, str>,
    /// Encoded `(name, value)` pairs, sorted.
    query: Query<'a>,
    /// Lower-cased names and normalised values, sorted by name (repeated names in order).
    headers: Headers<'a>,
    payload_hash: &'a str,
    /// Presigning: the `X-Amz-*` parameters in `query`, unencoded, in the order they are sent.
    pub presigned: Vec<(&'static str, String)>,
}

impl<'a> Canonical<'a> {
    /// Checks and canonicalises `request` under `params`, with the values signing adds.
    pub fn new(
        request: &SignableRequest<'a>,
        params: &SigningParams<'_>,
        added: &Added<'a>,
        credential: &Credential<'_>,
    ) -> Result<Self, SigningError> {
        let settings = params.settings;
        if !is_token(request.method) {
            return Err(SigningError::InvalidMethod(request.method.to_owned()));
        }
        let path = path::canonical_path(
            request.path,
            settings.percent_encoding_mode,
            settings.uri_path_normalization_mode,
        )?;
        let headers = canonical_headers(request, params, added)?;
        let mut query = query_pairs(request.query)?;
        let mut presigned = Vec::new();
        if let SignatureLocation::QueryParams { expires_in } = settings.signature_location {
            let mut signed_headers = String::new();
            write_signed_headers(&headers, &mut signed_headers);
            presigned = presign_params(
                expires_in,
                signed_headers,
                credential,
                added.date_time,
                added.signed_token,
                added.region_set,
            )?;
            for (name, value) in &presigned {
                query.push((
                    Cow::Borrowed(name),
                    Cow::Owned(uri_encode(value.as_bytes()).into_owned()),
                ));
            }
        }
        query.sort_unstable();
        Ok(Self {
            method: request.method,
            path,
            query,
            headers,
            payload_hash: added.payload_hash,
            presigned,
        })
    }

    /// The length of the canonical request, to allocate it once.
    pub fn len(&self) -> usize {
        let query: usize = self.query.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let headers: usize = self
            .headers
            .iter()
            .map(|h| 2 * h.name.len() + h.value.len() + 3)
            .sum();
        self.method.len() + self.path.len() + query + headers + self.payload_hash.len() + 8
    }

    /// Writes the canonical request.
    pub fn write(&self, out: &mut impl Sink) {
        for part in [self.method, "\n", &self.path, "\n"] {
            out.put(part);
        }
        write_query(&self.query, out);
        out.put("\n");
        write_canonical_headers(&self.headers, out);
        out.put("\n");
        self.write_signed_headers(out);
        out.put("\n");
        out.put(self.payload_hash);
    }

    /// Writes the sorted, de-duplicated header names joined with `;`.
    pub fn write_signed_headers(&self, out: &mut impl Sink) {
        write_signed_headers(&self.headers, out);
    }

    /// At least the length of the signed-headers list.
    pub fn signed_headers_len(&self) -> usize {
        self.headers.iter().map(|h| h.name.len() + 1).sum()
    }
}
