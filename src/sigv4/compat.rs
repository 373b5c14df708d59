//! Compatibility with the signer's old paths, for callers outside `sigv4/` not yet moved:
//!
//! | old                                         | new                                                   |
//! |---------------------------------------------|-------------------------------------------------------|
//! | `sigv4::canonical::encode_query_component`  | `sigv4::encode_query_component`                       |
//! | `sigv4::canonical::form_decode`             | `sigv4::form_decode`                                  |
//! | `sigv4::canonical::is_canonical_component`  | `sigv4::is_canonical_query_component`                 |
//! | `sigv4::canonical::encode_component`        | `sigv4::uri_encode`                                   |
//! | `sigv4::canonical::byte_table(..)`          | `sigv4::bytes::is_token_byte(b) && !b.is_ascii_uppercase()` (the only use) |
//! | `sigv4::sign_headers(r, p, k)`              | `sigv4::sign(r, p, k)` (settings in header mode)      |
//! | `HeaderSignature::into_authorization()`     | `SigningOutput::into_authorization()` (an `Option`)   |
//!
//! Nothing here is a second implementation: each item forwards to the one above.

use super::error::SigningError;
use super::key::SigningKeyCache;
use super::output::SigningOutput;
use super::params::SigningParams;
use super::request::SignableRequest;
use super::settings::{SignatureLocation, SigningSettings};

pub use super::canonical_request::query::{
    encode_query_component, form_decode, is_canonical_query_component as is_canonical_component,
    uri_encode as encode_component,
};

/// A 256-entry membership table of the ASCII alphanumerics (if `alphanumeric`) and `extra`.
pub const fn byte_table(extra: &[u8], alphanumeric: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = alphanumeric && (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
}

/// [`sign`](super::sign::sign()) in header mode, whatever `params.settings` says of the location.
pub fn sign_headers<'a>(
    request: &SignableRequest<'_>,
    params: &SigningParams<'a>,
    keys: &SigningKeyCache,
) -> Result<HeaderSignature<'a>, SigningError> {
    let settings = SigningSettings {
        signature_location: SignatureLocation::Headers,
        ..*params.settings
    };
    let out = super::sign::sign(
        request,
        &SigningParams {
            settings: &settings,
            ..*params
        },
        keys,
    )?;
    // The same token, borrowed from the caller's credentials rather than the local parameters.
    let token = out.token.and(params.credentials.session_token());
    Ok(HeaderSignature(SigningOutput {
        date: out.date,
        signature: out.signature,
        token,
        added: out.added,
        texts: out.texts,
    }))
}

/// A header-mode [`SigningOutput`], whose `Authorization` value is always there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderSignature<'a>(SigningOutput<'a>);

impl<'a> HeaderSignature<'a> {
    /// See [`SigningOutput::headers`].
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.headers()
    }

    /// See [`SigningOutput::signature`].
    pub fn signature(&self) -> &str {
        self.0.signature()
    }

    /// The `authorization` value.
    pub fn authorization(&self) -> &str {
        self.0.authorization().unwrap_or_default()
    }

    /// The `authorization` value, without copying it.
    pub fn into_authorization(self) -> String {
        self.0.into_authorization().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::SignableBody;
    use aws_credential_types::Credentials;
    use std::time::{Duration, UNIX_EPOCH};

    const TOKEN: &str = "IQoJb3JpZ2luX2VjE+/session=token";

    #[test]
    fn the_old_header_entry_point_redacts_too() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", Some(TOKEN.into()), None, "test");
        let settings = SigningSettings::s3();
        let params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "s3",
            time: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
            settings: &settings,
        };
        let headers = [("host", "example.com")];
        let request = SignableRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: SignableBody::Empty,
        };
        let signed = sign_headers(&request, &params, &SigningKeyCache::new()).unwrap();
        let debug = format!("{signed:?}");
        assert!(
            !debug.contains(TOKEN) && !debug.contains(signed.signature()),
            "{debug}"
        );
        assert_eq!(signed.headers().nth(1), Some(("x-amz-security-token", TOKEN)));
    }
}
