//! Step 2 and 4 of SigV4: the string to sign and the signature, and what to add to the request.

use super::canonical::{Added, canonical_request, encode_component, hex_table};
use super::key::SigningKeyCache;
use super::{
    ALGORITHM, AmzDate, EMPTY_PAYLOAD_SHA256, PayloadChecksumKind, SessionTokenMode, SignableBody,
    SignableRequest, SignatureLocation, SigningError, SigningParams, UNSIGNED_PAYLOAD,
};
use hmac::Mac;
use sha2::{Digest, Sha256};
use std::borrow::Cow;

/// The result of signing: the signature, the intermediate texts (for tests and debugging; the
/// canonical request may contain the session token, so do not log it), and what to add to the
/// request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningOutput<'a> {
    /// The signature, 64 lowercase hex digits.
    pub signature: String,
    /// The canonical request that was hashed.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// Header mode: headers to set, replacing any of the same name (`x-amz-date`, the token,
    /// `x-amz-content-sha256` and `authorization`, in that order). Empty in query mode.
    pub headers: Vec<(&'static str, Cow<'a, str>)>,
    /// Query mode: parameters to append to the query string, unencoded, in this order (see
    /// [`SigningOutput::encoded_query`]). Empty in header mode.
    pub query_params: Vec<(&'static str, Cow<'a, str>)>,
}

impl SigningOutput<'_> {
    /// The query parameters of a presigned request, URI-encoded and joined with `&`.
    pub fn encoded_query(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.query_params {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(name);
            out.push('=');
            out.push_str(&encode_component(value.as_bytes()));
        }
        out
    }
}

/// Whether `bytes` holds an ASCII control character other than tab. Written without an early exit
/// so that it vectorises: session tokens are a kilobyte and checked on every signature.
///
/// A first pass screens with one signed comparison per byte: `(b + 1) as i8 < 0x21` holds for every
/// control byte (and DEL), but also for tab, space's neighbours below it and every non-ASCII byte,
/// so only input that has one of those pays for the exact test.
pub(crate) fn has_control(bytes: &[u8]) -> bool {
    let suspect = bytes
        .iter()
        .fold(false, |suspect, &b| suspect | ((b.wrapping_add(1) as i8) < 0x21));
    suspect
        && bytes.iter().fold(false, |found, &b| {
            found | ((b < 0x20 && b != b'\t') | (b == 0x7f))
        })
}

/// Each byte's two lower-case hex digits.
static HEX_PAIRS: [[u8; 2]; 256] = hex_table(b"0123456789abcdef");

/// A SHA-256 output in lower-case hex: one table load per byte, about a quarter of the
/// instructions of `hex::encode_to_slice`, which looks each nibble up on its own.
pub(crate) fn hex_sha256(digest: [u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
    }
    out
}

fn check_scope(what: &'static str, value: &str) -> Result<(), SigningError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic() && b != b'/') {
        return Err(SigningError::InvalidScope {
            what,
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// Signs `request`: builds the canonical request, hashes it into the string to sign, and signs
/// that with the (cached) signing key.
///
/// Fails, without panicking, on input that cannot be signed or sent: see [`SigningError`].
pub fn sign<'a>(
    request: &SignableRequest<'_>,
    params: &SigningParams<'a>,
    keys: &SigningKeyCache,
) -> Result<SigningOutput<'a>, SigningError> {
    let settings = params.settings;
    let credentials = params.credentials;
    check_scope("region", params.region)?;
    check_scope("service", params.service)?;
    check_scope("access key id", credentials.access_key_id())?;
    let token = credentials
        .session_token()
        .filter(|_| settings.session_token_mode != SessionTokenMode::Omit);
    if token.is_some_and(|t| has_control(t.as_bytes())) {
        return Err(SigningError::InvalidHeaderValue(
            "x-amz-security-token".to_owned(),
        ));
    }
    let date = AmzDate::new(params.time)?;
    let (date_time, day) = (date.date_time(), date.date());

    let payload_hash: Cow<'static, str> = match request.body {
        SignableBody::Empty => Cow::Borrowed(EMPTY_PAYLOAD_SHA256),
        SignableBody::Bytes(bytes) => Cow::Owned(hex::encode(Sha256::digest(bytes))),
        SignableBody::UnsignedPayload => Cow::Borrowed(UNSIGNED_PAYLOAD),
        SignableBody::Precomputed(hash) => {
            if hash.bytes().any(|b| !b.is_ascii_graphic()) {
                return Err(SigningError::InvalidHeaderValue(
                    "x-amz-content-sha256".to_owned(),
                ));
            }
            Cow::Owned(hash.to_owned())
        }
    };

    // The string to sign holds the credential scope; the header and query reuse that slice.
    let mut string_to_sign = String::with_capacity(
        ALGORITHM.len() + 16 + 8 + params.region.len() + params.service.len() + 15 + 64 + 3,
    );
    for part in [
        ALGORITHM,
        "\n",
        date_time,
        "\n",
        day,
        "/",
        params.region,
        "/",
        params.service,
        "/aws4_request\n",
    ] {
        string_to_sign.push_str(part);
    }
    let scope_range = ALGORITHM.len() + 18..string_to_sign.len() - 1;

    let signed_token = token.filter(|_| settings.session_token_mode == SessionTokenMode::Include);
    let canonical = {
        let scope = string_to_sign.get(scope_range.clone()).unwrap_or_default();
        let added = Added {
            date_time,
            payload_hash: &payload_hash,
            credential: (credentials.access_key_id(), scope),
            signed_token,
        };
        canonical_request(request, params, &added)?
    };

    let hashed = hex_sha256(Sha256::digest(canonical.text.as_bytes()).into());
    string_to_sign.push_str(std::str::from_utf8(&hashed).unwrap_or_default());
    let scope = string_to_sign.get(scope_range).unwrap_or_default();

    let mut mac = keys.keyed_mac(
        credentials.secret_access_key(),
        day,
        params.region,
        params.service,
    );
    mac.update(string_to_sign.as_bytes());
    let signature = hex_sha256(mac.finalize().into_bytes().into());
    let signature = std::str::from_utf8(&signature).unwrap_or_default().to_owned();

    let mut headers = Vec::new();
    let mut query_params = Vec::new();
    match settings.signature_location {
        SignatureLocation::Headers => {
            headers.reserve_exact(4);
            headers.push(("x-amz-date", Cow::Owned(date_time.to_owned())));
            if let Some(token) = token {
                headers.push(("x-amz-security-token", Cow::Borrowed(token)));
            }
            if settings.payload_checksum_kind == PayloadChecksumKind::XAmzSha256 {
                headers.push(("x-amz-content-sha256", payload_hash.clone()));
            }
            let signed_headers = canonical.signed_headers();
            let mut authorization = String::with_capacity(
                ALGORITHM.len()
                    + credentials.access_key_id().len()
                    + scope.len()
                    + signed_headers.len()
                    + 107,
            );
            for part in [
                ALGORITHM,
                " Credential=",
                credentials.access_key_id(),
                "/",
                scope,
                ", SignedHeaders=",
                signed_headers,
                ", Signature=",
                &signature,
            ] {
                authorization.push_str(part);
            }
            headers.push(("authorization", Cow::Owned(authorization)));
        }
        SignatureLocation::QueryParams { expires_in } => {
            query_params.reserve_exact(7);
            query_params.push(("X-Amz-Algorithm", Cow::Borrowed(ALGORITHM)));
            query_params.push((
                "X-Amz-Credential",
                Cow::Owned(format!("{}/{scope}", credentials.access_key_id())),
            ));
            query_params.push(("X-Amz-Date", Cow::Owned(date_time.to_owned())));
            query_params.push(("X-Amz-Expires", Cow::Owned(expires_in.as_secs().to_string())));
            query_params.push((
                "X-Amz-SignedHeaders",
                Cow::Owned(canonical.signed_headers().to_owned()),
            ));
            if let Some(token) = token {
                query_params.push(("X-Amz-Security-Token", Cow::Borrowed(token)));
            }
            query_params.push(("X-Amz-Signature", Cow::Owned(signature.clone())));
        }
    }
    Ok(SigningOutput {
        signature,
        canonical_request: canonical.text,
        string_to_sign,
        headers,
        query_params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_and_nothing_else() {
        for b in 0..=255u8 {
            let control = (b < 0x20 && b != b'\t') || b == 0x7f;
            for at in [0, 7, 16, 40] {
                let mut bytes = vec![b'A'; 41];
                bytes[at] = b;
                assert_eq!(has_control(&bytes), control, "{b:#04x} at {at}");
            }
        }
        assert!(!has_control(b""));
        assert!(!has_control("tab\tand é and \u{80}".as_bytes()));
    }

    #[test]
    fn hex_digits_are_the_hex_crates() {
        for seed in 0..=255u8 {
            let digest: [u8; 32] = std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 8));
            assert_eq!(hex_sha256(digest).as_slice(), hex::encode(digest).as_bytes());
        }
    }
}
