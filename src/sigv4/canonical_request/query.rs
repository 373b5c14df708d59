//! The canonical query string: parameters form-decoded, encoded again with only unreserved
//! characters kept, sorted by encoded name then value, `name=` when empty; and the parameters
//! presigning adds.

use crate::sigv4::bytes::{URI_ENCODE, is_control, is_unreserved};
use crate::sigv4::error::SigningError;
use crate::sigv4::scope::Credential;
use crate::sigv4::sink::Sink;
use percent_encoding::{percent_decode, percent_decode_str, percent_encode};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::time::Duration;

/// An encoded `(name, value)` pair.
pub(super) type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);
/// A request's few query parameters are kept inline; presigning adds six, and spills.
pub(super) type Query<'a> = SmallVec<[Pair<'a>; 4]>;

/// Splits a raw query into encoded `(name, value)` pairs: on `&`, then on the first `=`; empty
/// parts are skipped; each side is form-decoded and URI-encoded again.
pub(super) fn query_pairs(query: &str) -> Result<Query<'_>, SigningError> {
    if query.bytes().any(is_control) {
        return Err(SigningError::InvalidQuery("it holds a control character"));
    }
    Ok(query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            (encode_query_component(name), encode_query_component(value))
        })
        .collect())
}

/// Writes the pairs as `name=value` joined with `&`.
pub(super) fn write_query(pairs: &[Pair<'_>], out: &mut impl Sink) {
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.put("&");
        }
        out.put(name);
        out.put("=");
        out.put(value);
    }
}

/// One side of a query parameter in canonical form: form-decoded (see [`form_decode`]), then
/// URI-encoded ([`uri_encode`]); borrowed when that changes nothing.
///
/// ```
/// use edge_signer::sigv4::encode_query_component;
/// assert_eq!(encode_query_component("a+b%2Fc"), "a%20b%2Fc");
/// assert_eq!(encode_query_component("%7e"), "~");
/// ```
pub fn encode_query_component(raw: &str) -> Cow<'_, str> {
    if is_canonical_query_component(raw.as_bytes()) {
        return Cow::Borrowed(raw); // nothing to decode or encode
    }
    Cow::Owned(uri_encode(&form_decode(raw)).into_owned())
}

/// Whether `bytes` are a query component in canonical form: unreserved characters only, so that
/// [`encode_query_component`] (and form decoding) leaves them as they are.
///
/// ```
/// use edge_signer::sigv4::is_canonical_query_component;
/// assert!(is_canonical_query_component(b"showExif"));
/// assert!(!is_canonical_query_component(b"a%20b"));
/// ```
pub fn is_canonical_query_component(bytes: &[u8]) -> bool {
    bytes.iter().copied().all(is_unreserved)
}

/// Query decoding as servers do it: `+` is a space, `%XX` a byte, a stray `%` itself. The bytes
/// may not be UTF-8 (`%FF`): they are kept, not replaced.
///
/// ```
/// use edge_signer::sigv4::form_decode;
/// assert_eq!(&*form_decode("a+b%2B%"), b"a b+%");
/// ```
pub fn form_decode(raw: &str) -> Cow<'_, [u8]> {
    if raw.contains('+') {
        Cow::Owned(percent_decode(raw.replace('+', " ").as_bytes()).collect())
    } else {
        percent_decode_str(raw).into()
    }
}

/// SigV4's `UriEncode()`: every byte but the unreserved characters percent-encoded, with
/// upper-case hex digits.
///
/// ```
/// use edge_signer::sigv4::uri_encode;
/// assert_eq!(uri_encode(b"a b/c~"), "a%20b%2Fc~");
/// ```
pub fn uri_encode(bytes: &[u8]) -> Cow<'_, str> {
    percent_encode(bytes, URI_ENCODE).into()
}

/// The `X-Amz-*` parameters a presigned request carries besides the signature, unencoded, in the
/// order they are sent; `signed_token` is the session token when it is signed, `region_set`
/// SigV4A's `X-Amz-Region-Set`.
pub(super) fn presign_params(
    expires_in: Duration,
    signed_headers: String,
    credential: &Credential<'_>,
    date_time: &str,
    signed_token: Option<&str>,
    region_set: Option<&str>,
) -> Result<Vec<(&'static str, String)>, SigningError> {
    let seconds = expires_in.as_secs();
    if !(1..=604_800).contains(&seconds) {
        return Err(SigningError::InvalidExpiry(seconds));
    }
    let mut credential_text = String::new();
    credential.write(&mut credential_text);
    let mut params = vec![
        ("X-Amz-Algorithm", credential.algorithm.to_owned()),
        ("X-Amz-Credential", credential_text),
        ("X-Amz-Date", date_time.to_owned()),
        ("X-Amz-Expires", seconds.to_string()),
        ("X-Amz-SignedHeaders", signed_headers),
    ];
    if let Some(region_set) = region_set {
        params.push(("X-Amz-Region-Set", region_set.to_owned()));
    }
    if let Some(token) = signed_token {
        params.push(("X-Amz-Security-Token", token.to_owned()));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(query: &str) -> Vec<String> {
        let pairs = query_pairs(query).unwrap();
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    #[test]
    fn query_plus_is_a_space_and_encoded_plus_is_a_plus() {
        assert_eq!(flat("a=b+c&d=%2B&e&&"), ["a=b%20c", "d=%2B", "e="]);
    }

    #[test]
    fn query_keeps_invalid_utf8_bytes_instead_of_replacing_them() {
        // aws-sigv4 decodes lossily (U+FFFD); a server re-encoding the bytes gets %FF.
        assert_eq!(flat("k=%FF"), ["k=%FF"]);
    }

    #[test]
    fn query_refuses_control_characters() {
        assert!(query_pairs("a=\n").is_err());
        assert!(query_pairs("a=\x7f").is_err());
    }
}
