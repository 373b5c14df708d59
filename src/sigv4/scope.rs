//! The credential scope, `DATE/REGION/SERVICE/aws4_request` (SigV4A: `DATE/SERVICE/aws4_request`,
//! the regions being in the region set), with the access key id before it, and the checks of what
//! signing copies into the request from the credentials and the scope.

use super::bytes::{is_header_value_control, is_scope_byte};
use super::error::SigningError;
use super::params::SigningParams;
use super::sink::Sink;

/// The access key id and the parts of the credential scope.
#[derive(Clone, Copy)]
pub(crate) struct Credential<'a> {
    /// `AWS4-HMAC-SHA256` or `AWS4-ECDSA-P256-SHA256`.
    pub algorithm: &'static str,
    pub access_key: &'a str,
    /// `YYYYMMDD`.
    pub day: &'a str,
    /// `None` for SigV4A, whose scope has no region.
    pub region: Option<&'a str>,
    pub service: &'a str,
}

impl Credential<'_> {
    /// Writes the credential scope, `DATE/REGION/SERVICE/aws4_request` (or without the region).
    pub fn write_scope(&self, out: &mut impl Sink) {
        out.put(self.day);
        out.put("/");
        if let Some(region) = self.region {
            out.put(region);
            out.put("/");
        }
        for part in [self.service, "/aws4_request"] {
            out.put(part);
        }
    }

    /// The length of the credential scope.
    pub fn scope_len(&self) -> usize {
        self.day.len() + self.region.map_or(0, |r| r.len() + 1) + self.service.len() + 14
    }

    /// `ACCESS-KEY/SCOPE`, as `X-Amz-Credential` and the `Authorization` header hold it.
    pub fn write(&self, out: &mut impl Sink) {
        out.put(self.access_key);
        out.put("/");
        self.write_scope(out);
    }
}

/// A part of the credential scope (or the access key id before it): non-empty, and only
/// [`is_scope_byte`], since a `/` would change the scope's meaning.
fn check_scope(what: &'static str, value: &str) -> Result<(), SigningError> {
    if value.is_empty() || !value.bytes().all(is_scope_byte) {
        return Err(SigningError::InvalidScope {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// The access key id, and the session token that goes into a header.
pub(crate) fn check_credentials(access_key: &str, token: Option<&str>) -> Result<(), SigningError> {
    check_scope("access key id", access_key)?;
    if token.is_some_and(|t| t.bytes().any(is_header_value_control)) {
        return Err(SigningError::InvalidHeaderValue(
            "x-amz-security-token".to_owned(),
        ));
    }
    Ok(())
}

/// Everything signing copies from `params` into the request: region, service, access key id and
/// `token`, checked in that order.
pub(crate) fn check_params(params: &SigningParams<'_>, token: Option<&str>) -> Result<(), SigningError> {
    check_scope("region", params.region)?;
    check_scope("service", params.service)?;
    check_credentials(params.credentials.access_key_id(), token)
}
