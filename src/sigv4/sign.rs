//! Step 2 and 4 of SigV4: the string to sign and the signature, and what to add to the request.

use super::canonical::{Added, Canonical, Credential, Sink, encode_component};
use super::key::{SigningKeyCache, check_params};
use super::sha::{HmacKey, Sha256};
use super::{
    ALGORITHM, AmzDate, EMPTY_PAYLOAD_SHA256, PayloadChecksumKind, SessionTokenMode, SignableBody,
    SignableRequest, SignatureLocation, SigningError, SigningParams, UNSIGNED_PAYLOAD,
};
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

/// Whether `bytes` holds an ASCII control character other than tab, in vector blocks (see
/// [`crate::scan::any_byte`]).
///
/// A first pass screens with one signed comparison per byte: `(b + 1) as i8 < 0x21` holds for every
/// control byte (and DEL), but also for tab, space's neighbours below it and every non-ASCII byte,
/// so only input that has one of those pays for the exact test.
pub(crate) fn has_control(bytes: &[u8]) -> bool {
    crate::scan::any_byte(bytes, |b| (b.wrapping_add(1) as i8) < 0x21)
        && crate::scan::any_byte(bytes, |b| ((b < 0x20) & (b != b'\t')) | (b == 0x7f))
}

/// A SHA-256 output in lower-case hex, as arithmetic on all 32 bytes at once, which vectorises:
/// about half the instructions of one table load per byte (callgrind, hot_loop), and far fewer
/// than `hex::encode_to_slice`. Each byte becomes a little-endian `u16` whose low byte is the high
/// digit.
pub(crate) fn hex_sha256(digest: [u8; 32]) -> [u8; 64] {
    // '0' + n, and 39 more ('a' - '0' - 10) for n above 9.
    let digit = |n: u8| n + b'0' + u8::from(n > 9) * 39;
    let high: [u8; 32] = std::array::from_fn(|i| digit(digest[i] >> 4));
    let low: [u8; 32] = std::array::from_fn(|i| digit(digest[i] & 0xf));
    let mut out = [0u8; 64];
    for ((pair, high), low) in out.chunks_exact_mut(2).zip(high).zip(low) {
        pair.copy_from_slice(&[high, low]);
    }
    out
}

/// The payload hash of `body` as the canonical request ends with it; borrowed unless computed.
fn payload_hash<'r>(body: &SignableBody<'r>) -> Result<Cow<'r, str>, SigningError> {
    Ok(match *body {
        SignableBody::Empty => Cow::Borrowed(EMPTY_PAYLOAD_SHA256),
        SignableBody::Bytes(bytes) => Cow::Owned(hex::encode(Sha256::digest(bytes))),
        SignableBody::UnsignedPayload => Cow::Borrowed(UNSIGNED_PAYLOAD),
        SignableBody::Precomputed(hash) => {
            if hash.bytes().any(|b| !b.is_ascii_graphic()) {
                return Err(SigningError::InvalidHeaderValue(
                    "x-amz-content-sha256".to_owned(),
                ));
            }
            Cow::Borrowed(hash)
        }
    })
}

/// What both entry points check and work out before the canonical request: the time, the scope
/// and the token (checked with the key, see [`SigningKeyCache::checked_key`]), and the payload
/// hash.
pub(super) struct Checked<'r, 'p> {
    pub date: AmzDate,
    /// The signing key, when cached; else [`Checked::key`] derives it once the request is checked.
    pub cached_key: Option<HmacKey>,
    /// The session token to add to the request, if any.
    pub token: Option<&'p str>,
    /// The session token to sign, if any.
    pub signed_token: Option<&'p str>,
    pub payload_hash: Cow<'r, str>,
}

pub(super) fn check<'r, 'p>(
    request: &SignableRequest<'r>,
    params: &SigningParams<'p>,
    keys: &SigningKeyCache,
) -> Result<Checked<'r, 'p>, SigningError> {
    let settings = params.settings;
    let token = params
        .credentials
        .session_token()
        .filter(|_| settings.session_token_mode != SessionTokenMode::Omit);
    let date = match AmzDate::new(params.time) {
        Ok(date) => date,
        Err(time) => {
            // The scope and the token are reported first, as when they were checked before the
            // time; the cache cannot be asked without a day.
            check_params(params, token)?;
            return Err(time);
        }
    };
    Ok(Checked {
        cached_key: keys.checked_key(params, date.date_bytes(), token)?,
        date,
        token,
        signed_token: token.filter(|_| settings.session_token_mode == SessionTokenMode::Include),
        payload_hash: payload_hash(&request.body)?,
    })
}

impl Checked<'_, '_> {
    /// The signing key: the cached one, or derived and cached now. Call it once the whole request
    /// has been checked, so that a request that fails adds nothing to the cache.
    pub(super) fn key(&self, params: &SigningParams<'_>, keys: &SigningKeyCache) -> HmacKey {
        match self.cached_key {
            Some(key) => key,
            None => keys.derive_key(params, self.date.date(), self.token),
        }
    }

    /// The date-time, the credential and what signing adds to the canonical request; the date is
    /// turned into text once.
    pub(super) fn parts<'c>(&'c self, params: &SigningParams<'c>) -> (&'c str, Credential<'c>, Added<'c>) {
        let date_time = self.date.date_time();
        let credential = Credential {
            access_key: params.credentials.access_key_id(),
            day: date_time.get(..8).unwrap_or_default(),
            region: params.region,
            service: params.service,
        };
        let added = Added {
            date_time,
            payload_hash: &self.payload_hash,
            signed_token: self.signed_token,
        };
        (date_time, credential, added)
    }
}

/// Writes the string to sign: `ALGORITHM\nDATE-TIME\nSCOPE\nHEX(SHA-256(canonical request))`.
pub(super) fn write_string_to_sign(
    out: &mut impl Sink,
    date_time: &str,
    credential: &Credential<'_>,
    hashed: &[u8; 64],
) {
    for part in [ALGORITHM, "\n", date_time, "\n"] {
        out.put(part);
    }
    credential.write_scope(out);
    out.put("\n");
    out.put_hex(hashed);
}

/// The `Authorization` header: `ALGORITHM Credential=KEY/SCOPE, SignedHeaders=..., Signature=...`.
pub(super) fn authorization(
    credential: &Credential<'_>,
    canonical: &Canonical<'_>,
    signature: &str,
) -> String {
    let mut out = String::with_capacity(
        ALGORITHM.len()
            + credential.access_key.len()
            + credential.scope_len()
            + canonical.signed_headers_len()
            + 105,
    );
    for part in [ALGORITHM, " Credential=", credential.access_key, "/"] {
        out.put(part);
    }
    credential.write_scope(&mut out);
    out.put(", SignedHeaders=");
    canonical.write_signed_headers(&mut out);
    out.put(", Signature=");
    out.put(signature);
    out
}

/// Hex digits as text: they are ASCII, so this never falls back to the empty string.
pub(super) fn hex_str(hex: &[u8; 64]) -> &str {
    std::str::from_utf8(hex).unwrap_or_default()
}

/// Signs `request`: builds the canonical request, hashes it into the string to sign, and signs
/// that with the (cached) signing key. Keeps every intermediate text; the handler's hot path uses
/// [`sign_headers`], which computes the same signature without them.
///
/// Fails, without panicking, on input that cannot be signed or sent: see [`SigningError`].
pub fn sign<'a>(
    request: &SignableRequest<'_>,
    params: &SigningParams<'a>,
    keys: &SigningKeyCache,
) -> Result<SigningOutput<'a>, SigningError> {
    let settings = params.settings;
    let checked = check(request, params, keys)?;
    let (date_time, credential, added) = checked.parts(params);
    let canonical = Canonical::new(request, params, &added, &credential)?;
    let mut canonical_request = String::with_capacity(canonical.len());
    canonical.write(&mut canonical_request);

    let hashed = hex_sha256(Sha256::digest(canonical_request.as_bytes()));
    let mut string_to_sign = String::with_capacity(ALGORITHM.len() + 19 + credential.scope_len() + 64);
    write_string_to_sign(&mut string_to_sign, date_time, &credential, &hashed);

    let key = checked.key(params, keys);
    let mut mac = key.start();
    mac.update(string_to_sign.as_bytes());
    let signature = hex_sha256(key.finish(&mut mac));
    let signature = hex_str(&signature).to_owned();

    let mut headers = Vec::new();
    let mut query_params = Vec::new();
    let token = checked.token;
    match settings.signature_location {
        SignatureLocation::Headers => {
            headers.reserve_exact(4);
            headers.push(("x-amz-date", Cow::Owned(date_time.to_owned())));
            if let Some(token) = token {
                headers.push(("x-amz-security-token", Cow::Borrowed(token)));
            }
            if settings.payload_checksum_kind == PayloadChecksumKind::XAmzSha256 {
                headers.push(("x-amz-content-sha256", owned_hash(request, &checked.payload_hash)));
            }
            let authorization = authorization(&credential, &canonical, &signature);
            headers.push(("authorization", Cow::Owned(authorization)));
        }
        SignatureLocation::QueryParams { expires_in } => {
            let mut scope = String::with_capacity(credential.scope_len());
            credential.write_scope(&mut scope);
            let mut signed_headers = String::with_capacity(canonical.signed_headers_len());
            canonical.write_signed_headers(&mut signed_headers);
            query_params.reserve_exact(7);
            query_params.push(("X-Amz-Algorithm", Cow::Borrowed(ALGORITHM)));
            query_params.push((
                "X-Amz-Credential",
                Cow::Owned(format!("{}/{scope}", credential.access_key)),
            ));
            query_params.push(("X-Amz-Date", Cow::Owned(date_time.to_owned())));
            query_params.push(("X-Amz-Expires", Cow::Owned(expires_in.as_secs().to_string())));
            query_params.push(("X-Amz-SignedHeaders", Cow::Owned(signed_headers)));
            if let Some(token) = token {
                query_params.push(("X-Amz-Security-Token", Cow::Borrowed(token)));
            }
            query_params.push(("X-Amz-Signature", Cow::Owned(signature.clone())));
        }
    }
    Ok(SigningOutput {
        signature,
        canonical_request,
        string_to_sign,
        headers,
        query_params,
    })
}

/// The payload hash for [`SigningOutput`], which outlives the request: the constants stay borrowed.
fn owned_hash(request: &SignableRequest<'_>, hash: &str) -> Cow<'static, str> {
    match request.body {
        SignableBody::Empty => Cow::Borrowed(EMPTY_PAYLOAD_SHA256),
        SignableBody::UnsignedPayload => Cow::Borrowed(UNSIGNED_PAYLOAD),
        SignableBody::Bytes(_) | SignableBody::Precomputed(_) => Cow::Owned(hash.to_owned()),
    }
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

    /// Signs a GET of `/` with `headers`, for `service`, at `time`.
    fn try_sign(
        keys: &SigningKeyCache,
        headers: &[(&str, &str)],
        region: &str,
        service: &str,
        time: std::time::SystemTime,
    ) -> Result<String, SigningError> {
        let credentials =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "t");
        let settings = super::super::SigningSettings::default();
        let params = SigningParams {
            credentials: &credentials,
            region,
            service,
            time,
            settings: &settings,
        };
        let request = SignableRequest {
            method: "GET",
            path: "/",
            query: "",
            headers,
            body: SignableBody::Empty,
        };
        let lean = super::super::sign_headers(&request, &params, keys).map(|s| s.signature().to_owned());
        let full = sign(&request, &params, keys).map(|s| s.signature);
        assert_eq!(lean, full);
        full
    }

    #[test]
    fn a_request_that_fails_adds_no_key_and_pushes_none_out() {
        let keys = SigningKeyCache::new();
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        try_sign(&keys, &[("host", "example.com")], "us-east-1", "kept", now).unwrap();
        for service in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
            let refused = try_sign(&keys, &[("x-no-host", "1")], "us-east-1", service, now);
            assert_eq!(refused, Err(SigningError::MissingHost));
        }
        assert_eq!(keys.len(), 1, "only the key of the request that was signed");
        // The cached key signs as a fresh one does.
        let again = try_sign(&keys, &[("host", "example.com")], "us-east-1", "kept", now);
        let fresh = try_sign(
            &SigningKeyCache::new(),
            &[("host", "example.com")],
            "us-east-1",
            "kept",
            now,
        );
        assert_eq!(again, fresh);
    }

    #[test]
    fn a_bad_scope_is_reported_before_a_bad_time() {
        let before_1970 = std::time::UNIX_EPOCH - std::time::Duration::from_secs(1);
        let keys = SigningKeyCache::new();
        let refused = try_sign(&keys, &[("host", "example.com")], "us/east", "s3", before_1970);
        assert!(
            matches!(refused, Err(SigningError::InvalidScope { what: "region", .. })),
            "{refused:?}"
        );
        let refused = try_sign(&keys, &[("host", "example.com")], "us-east-1", "s3", before_1970);
        assert_eq!(refused, Err(SigningError::InvalidTime));
    }

    #[test]
    fn hex_digits_are_the_hex_crates() {
        for seed in 0..=255u8 {
            let digest: [u8; 32] = std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 8));
            assert_eq!(hex_sha256(digest).as_slice(), hex::encode(digest).as_bytes());
        }
    }
}
