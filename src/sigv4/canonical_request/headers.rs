//! The canonical headers and the signed-headers list: names lower-cased and sorted, values trimmed
//! with inner runs of spaces collapsed, a repeated name's values joined with `,` in order.

use super::Added;
use crate::sigv4::bytes::{is_header_value_control, is_token};
use crate::sigv4::error::SigningError;
use crate::sigv4::params::SigningParams;
use crate::sigv4::request::SignableRequest;
use crate::sigv4::settings::{PayloadChecksumKind, SessionTokenMode, SignatureLocation};
use crate::sigv4::sink::Sink;
use smallvec::SmallVec;
use std::borrow::Cow;

/// One header as signed.
pub(super) struct Header<'a> {
    pub name: Cow<'a, str>,
    pub value: Cow<'a, str>,
}

/// Most requests sign a handful of headers (the handler: two, and the three signing adds): these
/// are kept inline, without allocating; more spill to the heap.
pub(super) type Headers<'a> = SmallVec<[Header<'a>; 6]>;

/// The headers to sign: the request's, minus those signing manages, plus what signing adds (in
/// header mode: the payload hash if the settings ask for it, the date, SigV4A's region set, the
/// token if signed); sorted by lower-cased name, repeated names in their original order.
pub(super) fn canonical_headers<'a>(
    request: &SignableRequest<'a>,
    params: &SigningParams<'_>,
    added: &Added<'a>,
) -> Result<Headers<'a>, SigningError> {
    let Added {
        date_time,
        payload_hash,
        signed_token,
        region_set,
    } = *added;
    let settings = params.settings;
    let header_mode = settings.signature_location == SignatureLocation::Headers;
    let adds_token = header_mode
        && params.credentials.session_token().is_some()
        && settings.session_token_mode != SessionTokenMode::Omit;
    let adds_checksum = header_mode && settings.payload_checksum_kind == PayloadChecksumKind::XAmzSha256;

    let mut headers = Headers::with_capacity(request.headers.len() + 3);
    let mut has_host = false;
    for &(name, value) in request.headers {
        let Some(name) = header_name(name) else {
            return Err(SigningError::InvalidHeaderName(name.to_owned()));
        };
        let Some(value) = header_value(value) else {
            return Err(SigningError::InvalidHeaderValue(name.into_owned()));
        };
        // Signing writes these itself; a stale copy in the input is replaced, never signed twice.
        let replaced = match &*name {
            "authorization" => true,
            "x-amz-date" => header_mode,
            "x-amz-region-set" => header_mode && region_set.is_some(),
            "x-amz-security-token" => adds_token,
            "x-amz-content-sha256" => adds_checksum,
            _ => false,
        };
        if !replaced {
            has_host |= name == "host";
            headers.push(Header { name, value });
        }
    }
    if !has_host {
        return Err(SigningError::MissingHost);
    }
    let mut add = |name: &'static str, value: &'a str| {
        headers.push(Header {
            name: Cow::Borrowed(name),
            value: Cow::Borrowed(value),
        });
    };
    if adds_checksum {
        add("x-amz-content-sha256", payload_hash);
    }
    if header_mode {
        add("x-amz-date", date_time);
        if let Some(region_set) = region_set {
            add("x-amz-region-set", region_set);
        }
        if let Some(token) = signed_token {
            add("x-amz-security-token", token);
        }
    }
    // Stable: repeated names keep their order.
    headers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(headers)
}

/// A header name as signed: lower-cased (borrowed when it already is); `None` if it is not an
/// HTTP token.
fn header_name(name: &str) -> Option<Cow<'_, str>> {
    if !is_token(name) {
        None
    } else if name
        .bytes()
        .fold(false, |upper, b| upper | b.is_ascii_uppercase())
    {
        Some(Cow::Owned(name.to_ascii_lowercase()))
    } else {
        Some(Cow::Borrowed(name))
    }
}

/// A header value as signed (see [`normalize_value`]); `None` if it holds a control character.
fn header_value(value: &str) -> Option<Cow<'_, str>> {
    // Most values (hosts, ids, dates) are visible ASCII only: nothing to refuse, trim or collapse.
    // Folded without an early exit, so that it compiles to vector compares (the rest of this
    // function costs about ten instructions a byte).
    if value.bytes().fold(true, |plain, b| plain & b.is_ascii_graphic()) {
        Some(Cow::Borrowed(value))
    } else if value.bytes().any(is_header_value_control) {
        None
    } else {
        Some(normalize_value(value))
    }
}

/// Trims spaces and tabs at both ends (an HTTP parser drops them before the server sees the value)
/// and collapses each inner run of spaces to one, as the specification's `Trimall`.
fn normalize_value(value: &str) -> Cow<'_, str> {
    let value = value.trim_matches([' ', '\t']);
    if !value.contains("  ") {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut previous_space = false;
    for c in value.chars() {
        if !(c == ' ' && previous_space) {
            out.push(c);
        }
        previous_space = c == ' ';
    }
    Cow::Owned(out)
}

/// Writes one `name:value\n` line per name, the values of a repeated name joined with `,`.
pub(super) fn write_canonical_headers(headers: &[Header<'_>], out: &mut impl Sink) {
    for (i, header) in headers.iter().enumerate() {
        let continues = i > 0 && headers[i - 1].name == header.name;
        if continues {
            out.put(",");
        } else {
            if i > 0 {
                out.put("\n");
            }
            out.put(&header.name);
            out.put(":");
        }
        out.put(&header.value);
    }
    // `host` is always signed, so there is a line to end.
    out.put("\n");
}

/// Writes the sorted, de-duplicated header names joined with `;`.
pub(super) fn write_signed_headers(headers: &[Header<'_>], out: &mut impl Sink) {
    for (i, header) in headers.iter().enumerate() {
        if i > 0 && headers[i - 1].name == header.name {
            continue;
        }
        if i > 0 {
            out.put(";");
        }
        out.put(&header.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_trimmed_and_space_runs_collapsed() {
        assert_eq!(normalize_value("\t a   b  c \t"), "a b c");
        assert_eq!(normalize_value("a\t\tb"), "a\t\tb");
        assert_eq!(header_value(" a  b "), Some(Cow::Borrowed("a b")));
        assert_eq!(header_value("tab\tand é"), Some(Cow::Borrowed("tab\tand é")));
        for bad in ["a\rb", "a\nb", "\0", "a\x7f"] {
            assert_eq!(header_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn header_names_are_tokens_lower_cased() {
        assert_eq!(header_name("X-Amz-Date").as_deref(), Some("x-amz-date"));
        assert!(matches!(header_name("host"), Some(Cow::Borrowed("host"))));
        for bad in ["", "a b", "a:b", "é"] {
            assert_eq!(header_name(bad), None, "{bad:?}");
        }
    }
}
